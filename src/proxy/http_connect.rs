//! An HTTP proxy tunnel: `CONNECT host:port` (RFC 9110 §9.3.6), with
//! Basic credentials (RFC 7617) when given, and the proxy's answer read
//! with a bounded, linear-time head reader.

use base64::Engine as _;

use super::{Credentials, Progress, ProxyError};
use crate::handshake::head::{parse_response, HeadError, HeadReader};

/// The `CONNECT` exchange with an HTTP proxy, sans-IO.
///
/// Send [`transmit`](Self::transmit) (advancing with
/// [`advance_transmit`](Self::advance_transmit)), then feed what the proxy
/// answers to [`receive`](Self::receive) until it returns
/// [`Progress::Done`]: the connection is then a tunnel to the destination.
/// A status other than 2xx is an error: [`ProxyError::AuthRequired`] or
/// [`ProxyError::AuthRejected`] for 407, [`ProxyError::Refused`] for the
/// rest.
///
/// ```
/// use rfc6455::proxy::{HttpConnect, Progress};
///
/// let mut connect = HttpConnect::new("example.com", 443, None)?;
/// assert!(connect.transmit().starts_with(b"CONNECT example.com:443 HTTP/1.1\r\n"));
/// let n = connect.transmit().len();
/// connect.advance_transmit(n);
/// assert_eq!(connect.receive(b"HTTP/1.1 200 Connection established\r\n")?, Progress::NeedMore);
/// assert_eq!(connect.receive(b"\r\n")?, Progress::Done);
/// # Ok::<(), rfc6455::proxy::ProxyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct HttpConnect {
    request: Vec<u8>,
    sent: usize,
    reader: HeadReader,
    with_credentials: bool,
    state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Reading,
    Done,
    Failed(ProxyError),
}

impl HttpConnect {
    /// The largest response head accepted from the proxy: 16 KiB, twice
    /// what nginx or Squid send at most, so a proxy that never ends its
    /// head cannot make the client buffer more.
    pub const MAX_HEAD_SIZE: usize = 16 * 1024;

    /// Header fields accepted in the proxy's response.
    const MAX_HEADERS: usize = 100;

    /// A `CONNECT` for `host:port` (an IPv6 address with or without
    /// brackets), with `Proxy-Authorization: Basic` when `credentials` are
    /// given.
    pub fn new(
        host: &str,
        port: u16,
        credentials: Option<&Credentials>,
    ) -> Result<HttpConnect, ProxyError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
            return Err(ProxyError::InvalidTarget {
                reason: "the host is empty or has a character a request line cannot carry",
            });
        }
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(credentials) = credentials {
            if credentials.username().contains(':') {
                return Err(ProxyError::InvalidCredentials {
                    reason: "a Basic user name cannot contain `:`",
                });
            }
            if credentials
                .username()
                .chars()
                .chain(credentials.password().chars())
                .any(char::is_control)
            {
                return Err(ProxyError::InvalidCredentials {
                    reason: "user name or password contains a control character",
                });
            }
            let token = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                credentials.username(),
                credentials.password()
            ));
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        Ok(HttpConnect {
            request: request.into_bytes(),
            sent: 0,
            reader: HeadReader::new(Self::MAX_HEAD_SIZE),
            with_credentials: credentials.is_some(),
            state: State::Reading,
        })
    }

    /// The bytes still to send: the request until all of it was
    /// [advanced](Self::advance_transmit) past, then nothing.
    pub fn transmit(&self) -> &[u8] {
        &self.request[self.sent..]
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as sent.
    pub fn advance_transmit(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.request.len());
    }

    /// Feeds bytes from the proxy: [`Progress::NeedMore`] until the head
    /// of its response is complete, then [`Progress::Done`] for 2xx or the
    /// error. Once done or failed, the same answer again.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Progress, ProxyError> {
        match &self.state {
            State::Done => return Ok(Progress::Done),
            State::Failed(error) => return Err(error.clone()),
            State::Reading => {}
        }
        let outcome = self.read(bytes);
        match &outcome {
            Ok(Progress::Done) => self.state = State::Done,
            Err(error) => self.state = State::Failed(error.clone()),
            Ok(Progress::NeedMore) => {}
        }
        outcome
    }

    fn read(&mut self, bytes: &[u8]) -> Result<Progress, ProxyError> {
        let len = match self.reader.feed(bytes) {
            Ok(None) => return Ok(Progress::NeedMore),
            Ok(Some(len)) => len,
            Err(error) => return Err(head_error(error)),
        };
        let buffer = self.reader.take_buffer();
        let head = parse_response(&buffer[..len], Self::MAX_HEADERS).map_err(head_error)?;
        match head.status {
            200..=299 if buffer.len() > len => Err(ProxyError::UnexpectedData),
            200..=299 => Ok(Progress::Done),
            407 => {
                let challenge = head
                    .headers
                    .get_str("proxy-authenticate")
                    .map(str::to_owned);
                Err(if self.with_credentials {
                    ProxyError::AuthRejected { challenge }
                } else {
                    ProxyError::AuthRequired { challenge }
                })
            }
            status => Err(ProxyError::Refused {
                status,
                reason: head.reason,
            }),
        }
    }

    /// The proxy closed the connection: the error to report (the last one
    /// if the exchange had failed, [`ProxyError::Closed`] if it was still
    /// waiting for the answer).
    pub fn receive_eof(&mut self) -> ProxyError {
        match &self.state {
            State::Failed(error) => error.clone(),
            _ => ProxyError::Closed,
        }
    }
}

fn head_error(error: HeadError) -> ProxyError {
    match error {
        HeadError::LineTooLong | HeadError::TooLarge => ProxyError::HeadTooLarge {
            limit: HttpConnect::MAX_HEAD_SIZE,
        },
        HeadError::TooManyHeaders => ProxyError::Malformed {
            reason: format!("more than {} header fields", HttpConnect::MAX_HEADERS),
        },
        HeadError::Malformed(reason) => ProxyError::Malformed { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(response: &[u8], credentials: Option<&Credentials>) -> Result<Progress, ProxyError> {
        HttpConnect::new("example.com", 443, credentials)
            .unwrap()
            .receive(response)
    }

    #[test]
    fn the_request_names_the_destination_in_both_places() {
        let connect = HttpConnect::new("example.com", 443, None).unwrap();
        assert_eq!(
            connect.transmit(),
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        );
        let v6 = HttpConnect::new("[2001:db8::1]", 8443, None).unwrap();
        assert!(v6
            .transmit()
            .starts_with(b"CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n"));
        let bare_v6 = HttpConnect::new("::1", 80, None).unwrap();
        assert!(bare_v6.transmit().starts_with(b"CONNECT [::1]:80 "));
    }

    #[test]
    fn credentials_go_in_a_basic_proxy_authorization() {
        // RFC 7617 §2's example: Aladdin / open sesame.
        let credentials = Credentials::new("Aladdin", "open sesame");
        let connect = HttpConnect::new("h", 1, Some(&credentials)).unwrap();
        let request = String::from_utf8(connect.transmit().to_vec()).unwrap();
        assert!(
            request.contains("\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"),
            "{request}"
        );
    }

    #[test]
    fn unsendable_destinations_and_credentials_are_refused() {
        assert!(matches!(
            HttpConnect::new("a b", 1, None),
            Err(ProxyError::InvalidTarget { .. })
        ));
        assert!(matches!(
            HttpConnect::new("a\r\nX: y", 1, None),
            Err(ProxyError::InvalidTarget { .. })
        ));
        assert!(matches!(
            HttpConnect::new("h", 1, Some(&Credentials::new("a:b", "c"))),
            Err(ProxyError::InvalidCredentials { .. })
        ));
        assert!(matches!(
            HttpConnect::new("h", 1, Some(&Credentials::new("a", "b\r\n"))),
            Err(ProxyError::InvalidCredentials { .. })
        ));
    }

    #[test]
    fn transmit_advances() {
        let mut connect = HttpConnect::new("h", 1, None).unwrap();
        let whole = connect.transmit().to_vec();
        connect.advance_transmit(3);
        assert_eq!(connect.transmit(), &whole[3..]);
        connect.advance_transmit(usize::MAX / 2);
        assert!(connect.transmit().is_empty());
    }

    #[test]
    fn any_2xx_opens_the_tunnel_in_any_chunking() {
        let response = b"HTTP/1.0 200 Connection established\r\nProxy-Agent: x\r\n\r\n";
        for chunk in 1..response.len() {
            let mut connect = HttpConnect::new("h", 1, None).unwrap();
            let mut last = Progress::NeedMore;
            for piece in response.chunks(chunk) {
                assert_eq!(last, Progress::NeedMore);
                last = connect.receive(piece).unwrap();
            }
            assert_eq!(last, Progress::Done, "chunks of {chunk}");
        }
        assert_eq!(answer(b"HTTP/1.1 204 OK\r\n\r\n", None), Ok(Progress::Done));
    }

    #[test]
    fn status_407_asks_for_credentials_or_rejects_them() {
        let response =
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n\r\n";
        let challenge = Some("Basic realm=\"corp\"".to_owned());
        assert_eq!(
            answer(response, None),
            Err(ProxyError::AuthRequired {
                challenge: challenge.clone()
            })
        );
        assert_eq!(
            answer(response, Some(&Credentials::new("u", "wrong"))),
            Err(ProxyError::AuthRejected { challenge })
        );
    }

    #[test]
    fn other_statuses_are_refusals() {
        assert_eq!(
            answer(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!",
                None
            ),
            Err(ProxyError::Refused {
                status: 403,
                reason: "Forbidden".into()
            })
        );
        assert!(matches!(
            answer(b"HTTP/1.1 502 Bad Gateway\r\n\r\n", None),
            Err(ProxyError::Refused { status: 502, .. })
        ));
    }

    #[test]
    fn bytes_after_a_2xx_head_are_an_error() {
        assert_eq!(
            answer(b"HTTP/1.1 200 OK\r\n\r\nhello", None),
            Err(ProxyError::UnexpectedData)
        );
    }

    #[test]
    fn a_head_past_the_limit_fails_without_buffering_more() {
        let mut connect = HttpConnect::new("h", 1, None).unwrap();
        assert_eq!(
            connect.receive(b"HTTP/1.1 200 OK\r\n"),
            Ok(Progress::NeedMore)
        );
        let filler = vec![b'a'; HttpConnect::MAX_HEAD_SIZE];
        let error = ProxyError::HeadTooLarge {
            limit: HttpConnect::MAX_HEAD_SIZE,
        };
        assert_eq!(connect.receive(&filler), Err(error.clone()));
        // Failed for good: the same error, whatever comes next.
        assert_eq!(connect.receive(b"\r\n\r\n"), Err(error.clone()));
        assert_eq!(connect.receive_eof(), error);
    }

    #[test]
    fn not_http_is_malformed() {
        assert!(matches!(
            answer(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", None),
            Err(ProxyError::Malformed { .. })
        ));
    }

    #[test]
    fn eof_before_the_answer_is_closed() {
        let mut connect = HttpConnect::new("h", 1, None).unwrap();
        assert_eq!(connect.receive(b"HTTP/1.1 200"), Ok(Progress::NeedMore));
        assert_eq!(connect.receive_eof(), ProxyError::Closed);
    }
}
