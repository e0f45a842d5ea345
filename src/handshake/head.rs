//! Incremental reading of an HTTP/1.x head (request or status line plus
//! header fields), shared by both roles.
//!
//! The reader accumulates the bytes it is fed and looks for the empty line
//! that ends the head by scanning **only the newly fed bytes**, carrying a
//! three-state matcher across calls so a terminator split between feeds is
//! still found. Feeding a head one byte at a time therefore costs the same as
//! feeding it whole: each byte is examined once, and `httparse` runs exactly
//! once, over the complete head. Re-scanning a growing buffer on every read
//! is what made tungstenite quadratic (CVE-2023-43669).
//!
//! Lines may end in `\r\n` or a bare `\n` (as `httparse` accepts), so the
//! head ends at `\n` followed by an optional `\r` and another `\n`.

use super::headers::Headers;

/// What went wrong reading a head, before the role maps it to its own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// No line break within the size limit: the first line alone is too long.
    LineTooLong,
    /// No end of head within the size limit.
    TooLarge,
    /// More header fields than the configured maximum.
    TooManyHeaders,
    /// Not valid HTTP/1.x; the text says what the parser objected to.
    Malformed(String),
}

/// Where the end-of-head matcher stands after the last byte scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matcher {
    /// In the middle of a line.
    InLine,
    /// Just after a `\n`.
    AfterNewline,
    /// Just after `\n\r`.
    AfterNewlineCr,
}

/// Accumulates bytes until a complete head has arrived.
#[derive(Debug, Clone)]
pub(crate) struct HeadReader {
    buf: Vec<u8>,
    matcher: Matcher,
    seen_newline: bool,
    max_head_size: usize,
    /// Total bytes examined by the terminator scan, for the linearity test.
    #[cfg(test)]
    pub(crate) scanned: usize,
}

impl HeadReader {
    /// A reader that fails once the head would exceed `max_head_size` bytes.
    pub(crate) fn new(max_head_size: usize) -> Self {
        Self {
            buf: Vec::new(),
            matcher: Matcher::InLine,
            seen_newline: false,
            max_head_size,
            #[cfg(test)]
            scanned: 0,
        }
    }

    /// Feeds more bytes. Returns `Ok(Some(len))` once the head is complete,
    /// where `len` is the length of the head; the buffer then holds the head
    /// followed by every byte fed after it. `Ok(None)` means more bytes are
    /// needed. At most `max_head_size` bytes are ever scanned, and bytes are
    /// only buffered while the head can still fit.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Option<usize>, HeadError> {
        let room = self.max_head_size.saturating_sub(self.buf.len());
        let window = bytes.get(..room).unwrap_or(bytes);
        let mut end = None;
        for (i, &b) in window.iter().enumerate() {
            #[cfg(test)]
            {
                self.scanned += 1;
            }
            self.matcher = match (self.matcher, b) {
                (Matcher::AfterNewline | Matcher::AfterNewlineCr, b'\n') => {
                    end = Some(self.buf.len() + i + 1);
                    break;
                }
                (_, b'\n') => {
                    self.seen_newline = true;
                    Matcher::AfterNewline
                }
                (Matcher::AfterNewline, b'\r') => Matcher::AfterNewlineCr,
                _ => Matcher::InLine,
            };
        }
        if end.is_none() && bytes.len() > window.len() {
            return Err(if self.seen_newline {
                HeadError::TooLarge
            } else {
                HeadError::LineTooLong
            });
        }
        self.buf.extend_from_slice(bytes);
        Ok(end)
    }

    /// Everything buffered so far (the head, then any bytes after it).
    #[cfg(test)]
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the buffer, leaving the reader empty.
    pub(crate) fn take_buffer(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// A parsed request head, with owned data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) minor_version: u8,
    pub(crate) headers: Headers,
    /// Length of the head in the buffer given to [`parse_request`].
    pub(crate) len: usize,
}

/// A parsed response head, with owned data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    pub(crate) minor_version: u8,
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Headers,
    /// Length of the head in the buffer given to [`parse_response`].
    pub(crate) len: usize,
}

fn map_error(error: httparse::Error) -> HeadError {
    match error {
        httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
        other => HeadError::Malformed(other.to_string()),
    }
}

fn collect_headers(parsed: &[httparse::Header<'_>]) -> Headers {
    let mut headers = Headers::default();
    for h in parsed {
        headers.push(h.name, h.value);
    }
    headers
}

const INCOMPLETE: &str = "head ends before the request or status line is complete";

/// Header slots for parsing `head` with at most `max_headers` fields.
///
/// A field takes at least three bytes (`a:` and a line feed), so a head
/// never needs more than a third of its length in slots: the memory a
/// parse takes stays bounded by the head size, whatever `max_headers` is
/// set to, and a head with too many fields still fills every slot and is
/// reported as such.
fn header_slots(head: &[u8], max_headers: usize) -> Vec<httparse::Header<'static>> {
    vec![httparse::EMPTY_HEADER; max_headers.min(head.len() / 3 + 1)]
}

/// Parses a complete request head (one that [`HeadReader`] found the end
/// of) with room for `max_headers` header fields.
pub(crate) fn parse_request(head: &[u8], max_headers: usize) -> Result<RequestHead, HeadError> {
    let mut slots = header_slots(head, max_headers);
    let mut req = httparse::Request::new(&mut slots);
    match req.parse(head).map_err(map_error)? {
        httparse::Status::Complete(len) => Ok(RequestHead {
            method: req.method.unwrap_or_default().to_owned(),
            target: req.path.unwrap_or_default().to_owned(),
            minor_version: req.version.unwrap_or_default(),
            headers: collect_headers(req.headers),
            len,
        }),
        httparse::Status::Partial => Err(HeadError::Malformed(INCOMPLETE.to_owned())),
    }
}

/// Parses a complete response head with room for `max_headers` fields.
pub(crate) fn parse_response(head: &[u8], max_headers: usize) -> Result<ResponseHead, HeadError> {
    let mut slots = header_slots(head, max_headers);
    let mut res = httparse::Response::new(&mut slots);
    match res.parse(head).map_err(map_error)? {
        httparse::Status::Complete(len) => Ok(ResponseHead {
            minor_version: res.version.unwrap_or_default(),
            status: res.code.unwrap_or_default(),
            reason: res.reason.unwrap_or_default().to_owned(),
            headers: collect_headers(res.headers),
            len,
        }),
        httparse::Status::Partial => Err(HeadError::Malformed(INCOMPLETE.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_terminator_is_found_in_one_feed() {
        let mut r = HeadReader::new(1024);
        let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        assert_eq!(r.feed(input), Ok(Some(input.len() - 4)));
        assert_eq!(r.buffer(), input);
    }

    #[test]
    fn terminator_split_across_feeds_is_found() {
        let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for split in 0..input.len() {
            let mut r = HeadReader::new(1024);
            let (a, b) = input.split_at(split);
            let first = r.feed(a).unwrap();
            if split == input.len() {
                assert_eq!(first, Some(input.len()));
            } else {
                assert_eq!(first, None, "split at {split}");
                assert_eq!(r.feed(b), Ok(Some(input.len())), "split at {split}");
            }
        }
    }

    #[test]
    fn bare_lf_terminator_is_accepted() {
        let mut r = HeadReader::new(1024);
        assert_eq!(r.feed(b"GET / HTTP/1.1\nHost: a\n\nx"), Ok(Some(24)));
        let mut r = HeadReader::new(1024);
        assert_eq!(r.feed(b"GET / HTTP/1.1\nHost: a\n\r\n"), Ok(Some(25)));
    }

    #[test]
    fn lone_cr_does_not_end_a_line() {
        let mut r = HeadReader::new(1024);
        assert_eq!(r.feed(b"GET / HTTP/1.1\r\r\r\r"), Ok(None));
        assert_eq!(r.feed(b"\n\r\r\n"), Ok(None));
    }

    #[test]
    fn head_exactly_at_limit_is_accepted() {
        let input = b"GET / HTTP/1.1\r\n\r\n";
        let mut r = HeadReader::new(input.len());
        assert_eq!(r.feed(input), Ok(Some(input.len())));
    }

    #[test]
    fn head_past_limit_without_terminator_is_too_large() {
        let mut r = HeadReader::new(20);
        assert_eq!(r.feed(b"GET / HTTP/1.1\r\nX: "), Ok(None));
        assert_eq!(r.feed(b"a"), Ok(None));
        assert_eq!(r.feed(b"b"), Err(HeadError::TooLarge));
    }

    #[test]
    fn terminator_beyond_limit_is_too_large() {
        let mut r = HeadReader::new(16);
        assert_eq!(
            r.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            Err(HeadError::TooLarge)
        );
    }

    #[test]
    fn first_line_past_limit_is_line_too_long() {
        let mut r = HeadReader::new(10);
        assert_eq!(r.feed(b"GET /aaaaaaaaaa"), Err(HeadError::LineTooLong));
    }

    #[test]
    fn scan_is_linear_when_fed_byte_by_byte() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        while head.len() < 8 * 1024 {
            head.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        head.extend_from_slice(b"\r\n");
        let mut r = HeadReader::new(16 * 1024);
        let mut result = None;
        for b in &head {
            assert_eq!(result, None);
            result = r.feed(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(result, Some(head.len()));
        assert!(
            r.scanned <= 2 * head.len(),
            "scanned {} of {}",
            r.scanned,
            head.len()
        );
    }

    #[test]
    fn parse_request_reads_line_and_headers() {
        let head = parse_request(b"GET /a?b HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n", 8).unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/a?b");
        assert_eq!(head.minor_version, 1);
        assert_eq!(head.headers.get_str("host"), Some("x"));
        assert_eq!(head.len, 36);
    }

    #[test]
    fn parse_maps_too_many_headers_and_malformed() {
        let input = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
        assert_eq!(parse_request(input, 1), Err(HeadError::TooManyHeaders));
        assert!(matches!(
            parse_request(b"GET / HTTP/9.9\r\n\r\n", 4),
            Err(HeadError::Malformed(_))
        ));
        assert!(matches!(
            parse_request(b"\r\n\r\n", 4),
            Err(HeadError::Malformed(_))
        ));
    }

    #[test]
    fn parse_response_reads_status_and_reason() {
        let head = parse_response(b"HTTP/1.1 404 Not Found\r\nA: 1\r\n\r\n", 4).unwrap();
        assert_eq!((head.status, head.reason.as_str()), (404, "Not Found"));
        assert_eq!(head.minor_version, 1);
        assert_eq!(head.headers.get("a"), Some(&b"1"[..]));
    }
}
