//! Received HTTP header fields, and the small lexical helpers (tokens,
//! comma-separated lists, header validation) the rest of the handshake uses.

use super::error::BuildError;

/// The header fields of a received HTTP head, in the order they arrived.
///
/// Names are kept as received (HTTP names are case-insensitive, so every
/// lookup ignores ASCII case). Values are bytes, because HTTP allows
/// non-UTF-8 octets in field values; [`Headers::get_str`] gives a `&str`
/// view when the value is UTF-8.
///
/// Repeated fields are kept as separate entries. List-valued fields such as
/// `Connection` or `Sec-WebSocket-Protocol` may be split over several lines,
/// so use [`Headers::get_all`] or [`Headers::contains_token`] for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// Appends one field, keeping the name as given.
    pub(crate) fn push(&mut self, name: &str, value: &[u8]) {
        self.entries.push((name.to_owned(), value.to_vec()));
    }

    /// The value of the first field called `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.get_all(name).next()
    }

    /// The value of the first field called `name`, if it is valid UTF-8,
    /// with leading and trailing spaces and tabs removed.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        let value = std::str::from_utf8(self.get(name)?).ok()?;
        Some(value.trim_matches(|c| c == ' ' || c == '\t'))
    }

    /// The values of every field called `name`, in the order received.
    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every field as `(name, value)`, in the order received.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The number of fields (repeated fields count once per line).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether any comma-separated element of any field called `name`
    /// equals `token`, ignoring ASCII case and surrounding spaces and tabs.
    ///
    /// This is how list-valued fields are checked: `Connection:
    /// keep-alive, Upgrade` contains the token `upgrade`.
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(split_list)
            .any(|element| element.eq_ignore_ascii_case(token.as_bytes()))
    }
}

/// Splits a comma-separated header value into its elements, trimming spaces
/// and tabs around each and skipping empty elements (which the HTTP list
/// rule tells recipients to ignore).
///
/// Every byte is visited a bounded number of times, so the work is linear in
/// `value.len()` however many commas or spaces it holds.
pub(crate) fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|element| !element.is_empty())
}

/// Removes leading and trailing spaces and tabs (HTTP "optional whitespace").
pub(crate) fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let rest = bytes.get(start..).unwrap_or_default();
    let end = rest.iter().rposition(|b| !is_ows(b)).map_or(0, |i| i + 1);
    rest.get(..end).unwrap_or_default()
}

/// Whether `b` may appear in an HTTP token (RFC 9110 `tchar`).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `bytes` is a non-empty HTTP token.
pub(crate) fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_tchar(b))
}

/// Whether `value` may be written as a header field value: no control
/// characters other than horizontal tab, so no CR, LF or NUL can split the
/// head or inject a header.
pub(crate) fn is_valid_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A short, printable rendering of peer- or caller-supplied bytes for error
/// messages: at most 64 bytes, lossily decoded, control characters escaped.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 64;
    let cut = bytes.get(..MAX).unwrap_or(bytes);
    let mut out = String::new();
    for c in String::from_utf8_lossy(cut).chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if bytes.len() > MAX {
        out.push_str("...");
    }
    out
}

/// Checks an application-supplied header before it is written: the name
/// must be a token, the value free of control characters (no header
/// injection), and the name not one of `reserved` (headers the handshake
/// writes itself), compared ignoring ASCII case.
pub(crate) fn check_extra_header(
    name: &str,
    value: &str,
    reserved: &[&str],
) -> Result<(), BuildError> {
    if !is_token(name.as_bytes()) {
        return Err(BuildError::InvalidHeaderName {
            name: excerpt(name.as_bytes()),
        });
    }
    if !is_valid_value(value.as_bytes()) {
        return Err(BuildError::InvalidHeaderValue {
            name: name.to_owned(),
        });
    }
    if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(BuildError::ReservedHeader {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Appends `name: value\r\n` to `out`. The caller has validated both.
pub(crate) fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Headers {
        let mut h = Headers::default();
        h.push("Host", b"example.com");
        h.push("connection", b"keep-alive, Upgrade");
        h.push("X-Bin", b"\xff\xfe");
        h.push("X-Multi", b"a");
        h.push("x-multi", b"  b \t");
        h
    }

    #[test]
    fn lookup_ignores_name_case_and_returns_first() {
        let h = sample();
        assert_eq!(h.get("HOST"), Some(&b"example.com"[..]));
        assert_eq!(h.get("x-MULTI"), Some(&b"a"[..]));
        assert_eq!(h.get("missing"), None);
        assert_eq!(h.len(), 5);
        assert!(!h.is_empty());
        assert!(Headers::default().is_empty());
    }

    #[test]
    fn get_str_trims_and_rejects_non_utf8() {
        let h = sample();
        assert_eq!(h.get_str("X-Bin"), None);
        assert_eq!(h.get_str("host"), Some("example.com"));
        let all: Vec<_> = h.get_all("X-MULTI").collect();
        assert_eq!(all, vec![&b"a"[..], &b"  b \t"[..]]);
    }

    #[test]
    fn iter_keeps_order_and_names_as_received() {
        let names: Vec<_> = sample().iter().map(|(n, _)| n.to_owned()).collect();
        assert_eq!(names, ["Host", "connection", "X-Bin", "X-Multi", "x-multi"]);
    }

    #[test]
    fn contains_token_matches_list_elements_case_insensitively() {
        let h = sample();
        assert!(h.contains_token("Connection", "upgrade"));
        assert!(h.contains_token("Connection", "KEEP-ALIVE"));
        assert!(!h.contains_token("Connection", "close"));
        assert!(h.contains_token("x-multi", "b"));
        assert!(!h.contains_token("host", "example"));
    }

    #[test]
    fn split_list_skips_empty_elements_and_trims() {
        let parts: Vec<_> = split_list(b" a ,, b\t,c ,").collect();
        assert_eq!(parts, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(split_list(b"").count(), 0);
        assert_eq!(split_list(b" , ,\t").count(), 0);
    }

    #[test]
    fn split_list_handles_ten_thousand_commas_and_spaces() {
        let commas = vec![b','; 10_000];
        assert_eq!(split_list(&commas).count(), 0);
        let spaces = vec![b' '; 10_000];
        assert_eq!(split_list(&spaces).count(), 0);
        let mut mixed = b", ".repeat(10_000);
        mixed.extend_from_slice(b"chat");
        assert_eq!(split_list(&mixed).collect::<Vec<_>>(), vec![&b"chat"[..]]);
    }

    #[test]
    fn tokens_and_values_are_validated() {
        assert!(is_token(b"permessage-deflate"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a,b"));
        assert!(is_valid_value(b"text/plain; q=1\tx"));
        assert!(!is_valid_value(b"a\r\nX-Evil: 1"));
        assert!(!is_valid_value(b"a\0"));
    }

    #[test]
    fn extra_headers_are_checked_for_injection_and_reserved_names() {
        assert_eq!(check_extra_header("X-A", "b c", &["Host"]), Ok(()));
        assert!(matches!(
            check_extra_header("X A", "b", &[]),
            Err(BuildError::InvalidHeaderName { .. })
        ));
        assert!(matches!(
            check_extra_header("X-A", "b\r\nX-Evil: 1", &[]),
            Err(BuildError::InvalidHeaderValue { .. })
        ));
        assert!(matches!(
            check_extra_header("host", "b", &["Host"]),
            Err(BuildError::ReservedHeader { .. })
        ));
    }

    #[test]
    fn excerpt_escapes_control_characters_and_truncates() {
        assert_eq!(excerpt(b"a\r\nb"), "a\\r\\nb");
        let long = excerpt(&[b'x'; 100]);
        assert_eq!(long.len(), 67);
        assert!(long.ends_with("..."));
    }
}
