//! A SOCKS5 tunnel (RFC 1928): method negotiation, username/password
//! authentication (RFC 1929) when credentials are given, then `CONNECT`.
//! Every answer has a bounded size (at most 262 bytes), known from its
//! first bytes.

use std::net::IpAddr;

use super::{Credentials, Progress, ProxyError};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0x00;
const USER_PASS: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xFF;
const CONNECT: u8 = 0x01;
const ATYP_V4: u8 = 0x01;
const ATYP_DOMAIN: u8 = 0x03;
const ATYP_V6: u8 = 0x04;

/// The SOCKS5 exchange, sans-IO.
///
/// Send [`transmit`](Self::transmit) (advancing with
/// [`advance_transmit`](Self::advance_transmit)), feed what the proxy
/// answers to [`receive`](Self::receive), and send again what
/// `transmit` then holds, until `receive` returns [`Progress::Done`]. Each
/// message goes out only after the answer to the one before, as RFC 1928
/// has it. A destination that parses as an IP address is sent as one;
/// anything else as a host name for the proxy to resolve.
///
/// ```
/// use rfc6455::proxy::{Progress, Socks5};
///
/// let mut socks = Socks5::new("127.0.0.1", 9001, None)?;
/// assert_eq!(socks.transmit(), [5, 1, 0]); // version 5, one method: none
/// socks.advance_transmit(3);
/// assert_eq!(socks.receive(&[5, 0])?, Progress::NeedMore);
/// assert_eq!(socks.transmit(), [5, 1, 0, 1, 127, 0, 0, 1, 0x23, 0x29]);
/// socks.advance_transmit(10);
/// assert_eq!(socks.receive(&[5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90])?, Progress::Done);
/// # Ok::<(), rfc6455::proxy::ProxyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Socks5 {
    /// What is queued to send, and how much of it went.
    out: Vec<u8>,
    sent: usize,
    /// The proxy's answer so far.
    input: Vec<u8>,
    /// The `CONNECT` request, sent once a method is settled.
    request: Vec<u8>,
    /// The RFC 1929 request, when credentials were given.
    auth: Option<Vec<u8>>,
    state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Waiting for the method the proxy chose.
    Method,
    /// Waiting for the username/password verdict.
    Auth,
    /// Waiting for the answer to `CONNECT`.
    Reply,
    Done,
    Failed(ProxyError),
}

fn malformed(reason: &str) -> ProxyError {
    ProxyError::Malformed {
        reason: reason.to_owned(),
    }
}

impl Socks5 {
    /// A SOCKS5 exchange for `host:port` (an IPv6 address with or without
    /// brackets), offering username/password as well as no authentication
    /// when `credentials` are given.
    pub fn new(
        host: &str,
        port: u16,
        credentials: Option<&Credentials>,
    ) -> Result<Socks5, ProxyError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut request = vec![VERSION, CONNECT, 0];
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => {
                request.push(ATYP_V4);
                request.extend_from_slice(&ip.octets());
            }
            Ok(IpAddr::V6(ip)) => {
                request.push(ATYP_V6);
                request.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                let len = u8::try_from(host.len()).ok().filter(|&len| len > 0).ok_or(
                    ProxyError::InvalidTarget {
                        reason: "a SOCKS5 host name is 1 to 255 bytes",
                    },
                )?;
                request.push(ATYP_DOMAIN);
                request.push(len);
                request.extend_from_slice(host.as_bytes());
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        let auth = credentials.map(auth_request).transpose()?;
        let greeting = if auth.is_some() {
            vec![VERSION, 2, NO_AUTH, USER_PASS]
        } else {
            vec![VERSION, 1, NO_AUTH]
        };
        Ok(Socks5 {
            out: greeting,
            sent: 0,
            input: Vec::new(),
            request,
            auth,
            state: State::Method,
        })
    }

    /// The bytes to send now (empty while waiting for an answer).
    pub fn transmit(&self) -> &[u8] {
        &self.out[self.sent..]
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as sent.
    pub fn advance_transmit(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.out.len());
    }

    /// Feeds bytes from the proxy; [`Progress::NeedMore`] while the
    /// exchange goes on (with more to [`transmit`](Self::transmit) after
    /// each answer), [`Progress::Done`] once the tunnel is open. Once done
    /// or failed, the same answer again.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Progress, ProxyError> {
        match &self.state {
            State::Done => return Ok(Progress::Done),
            State::Failed(error) => return Err(error.clone()),
            _ => {}
        }
        self.input.extend_from_slice(bytes);
        let outcome = self.advance();
        match &outcome {
            Ok(Progress::Done) => self.state = State::Done,
            Err(error) => self.state = State::Failed(error.clone()),
            Ok(Progress::NeedMore) => {}
        }
        outcome
    }

    /// Consumes whole answers from `input`.
    fn advance(&mut self) -> Result<Progress, ProxyError> {
        loop {
            let (need, next) = match self.state {
                State::Method => (2, self.method()?),
                State::Auth => (2, self.auth()?),
                State::Reply => match self.reply_len()? {
                    Some(len) => (len, self.reply(len)?),
                    None => return Ok(Progress::NeedMore),
                },
                State::Done => return Ok(Progress::Done),
                State::Failed(ref error) => return Err(error.clone()),
            };
            let Some(next) = next else {
                return Ok(Progress::NeedMore);
            };
            self.input.drain(..need);
            self.state = next;
            if self.state == State::Done {
                if !self.input.is_empty() {
                    return Err(ProxyError::UnexpectedData);
                }
                return Ok(Progress::Done);
            }
            if self.input.is_empty() {
                return Ok(Progress::NeedMore);
            }
        }
    }

    /// Queues the next message to send.
    fn queue(&mut self, message: Vec<u8>) {
        self.out = message;
        self.sent = 0;
    }

    /// The proxy's method choice: `Some(next state)` once it arrived.
    fn method(&mut self) -> Result<Option<State>, ProxyError> {
        let [version, method] = match self.input[..] {
            [version, method, ..] => [version, method],
            [version] if version != VERSION => [version, 0],
            _ => return Ok(None),
        };
        if version != VERSION {
            return Err(ProxyError::Malformed {
                reason: format!("not a SOCKS5 proxy (version byte {version})"),
            });
        }
        match (method, self.auth.take()) {
            (NO_AUTH, _) => {
                let request = std::mem::take(&mut self.request);
                self.queue(request);
                Ok(Some(State::Reply))
            }
            (USER_PASS, Some(auth)) => {
                self.queue(auth);
                Ok(Some(State::Auth))
            }
            (NO_ACCEPTABLE, None) => Err(ProxyError::AuthRequired { challenge: None }),
            (NO_ACCEPTABLE, Some(_)) => Err(ProxyError::NoAcceptableAuth),
            _ => Err(ProxyError::Malformed {
                reason: format!("the proxy chose method {method:#04x}, which was not offered"),
            }),
        }
    }

    /// The username/password verdict (RFC 1929 §2).
    fn auth(&mut self) -> Result<Option<State>, ProxyError> {
        match self.input[..] {
            // Version 1 per RFC 1929; some proxies answer with 5.
            [1 | VERSION, 0, ..] => {
                let request = std::mem::take(&mut self.request);
                self.queue(request);
                Ok(Some(State::Reply))
            }
            [1 | VERSION, _, ..] => Err(ProxyError::AuthRejected { challenge: None }),
            [_, _, ..] => Err(malformed("bad version in the authentication answer")),
            _ => Ok(None),
        }
    }

    /// The length of the `CONNECT` answer, once its first bytes say it.
    fn reply_len(&self) -> Result<Option<usize>, ProxyError> {
        let header = match self.input[..] {
            [version, ..] if version != VERSION => {
                return Err(ProxyError::Malformed {
                    reason: format!("not a SOCKS5 reply (version byte {version})"),
                })
            }
            [_, code, ..] if code != 0 => return Err(ProxyError::Socks5Refused { code }),
            [_, _, _, atyp, ref rest @ ..] => (atyp, rest.first().copied()),
            _ => return Ok(None),
        };
        match header {
            (ATYP_V4, _) => Ok(Some(4 + 4 + 2)),
            (ATYP_V6, _) => Ok(Some(4 + 16 + 2)),
            (ATYP_DOMAIN, Some(len)) => Ok(Some(4 + 1 + usize::from(len) + 2)),
            (ATYP_DOMAIN, None) => Ok(None),
            (atyp, _) => Err(ProxyError::Malformed {
                reason: format!("unknown address type {atyp} in the SOCKS5 reply"),
            }),
        }
    }

    /// The `CONNECT` answer, `len` bytes long: success (the reply code was
    /// checked by `reply_len`) once all of it arrived.
    fn reply(&mut self, len: usize) -> Result<Option<State>, ProxyError> {
        Ok((self.input.len() >= len).then_some(State::Done))
    }

    /// The proxy closed the connection: the error to report.
    pub fn receive_eof(&mut self) -> ProxyError {
        match &self.state {
            State::Failed(error) => error.clone(),
            _ => ProxyError::Closed,
        }
    }
}

/// The RFC 1929 request: version 1, then the user name and the password,
/// each after its length byte.
fn auth_request(credentials: &Credentials) -> Result<Vec<u8>, ProxyError> {
    let (user, password) = (
        credentials.username().as_bytes(),
        credentials.password().as_bytes(),
    );
    let too_long = ProxyError::InvalidCredentials {
        reason: "a SOCKS5 user name or password is at most 255 bytes",
    };
    let user_len = u8::try_from(user.len()).map_err(|_| too_long.clone())?;
    let password_len = u8::try_from(password.len()).map_err(|_| too_long)?;
    let mut request = vec![1, user_len];
    request.extend_from_slice(user);
    request.push(password_len);
    request.extend_from_slice(password);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK_V4: [u8; 10] = [5, 0, 0, 1, 0, 0, 0, 0, 0, 0];

    /// Sends everything queued and returns it.
    fn take(socks: &mut Socks5) -> Vec<u8> {
        let out = socks.transmit().to_vec();
        socks.advance_transmit(out.len());
        out
    }

    #[test]
    fn no_auth_connect_to_an_ipv4_address() {
        let mut socks = Socks5::new("10.1.2.3", 443, None).unwrap();
        assert_eq!(take(&mut socks), [5, 1, 0]);
        assert!(socks.transmit().is_empty());
        assert_eq!(socks.receive(&[5, 0]), Ok(Progress::NeedMore));
        assert_eq!(take(&mut socks), [5, 1, 0, 1, 10, 1, 2, 3, 1, 187]);
        assert_eq!(socks.receive(&OK_V4), Ok(Progress::Done));
        assert_eq!(socks.receive(&[]), Ok(Progress::Done));
    }

    #[test]
    fn names_and_ipv6_addresses_are_sent_as_such() {
        let mut socks = Socks5::new("example.com", 80, None).unwrap();
        take(&mut socks);
        socks.receive(&[5, 0]).unwrap();
        let mut expected = vec![5, 1, 0, 3, 11];
        expected.extend_from_slice(b"example.com");
        expected.extend_from_slice(&[0, 80]);
        assert_eq!(take(&mut socks), expected);

        let mut socks = Socks5::new("[::1]", 80, None).unwrap();
        take(&mut socks);
        socks.receive(&[5, 0]).unwrap();
        let mut expected = vec![5, 1, 0, 4];
        expected.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
        expected.extend_from_slice(&[0, 80]);
        assert_eq!(take(&mut socks), expected);
    }

    #[test]
    fn username_and_password_per_rfc_1929() {
        let credentials = Credentials::new("alice", "pw");
        let mut socks = Socks5::new("10.0.0.1", 80, Some(&credentials)).unwrap();
        assert_eq!(take(&mut socks), [5, 2, 0, 2]);
        assert_eq!(socks.receive(&[5, 2]), Ok(Progress::NeedMore));
        assert_eq!(take(&mut socks), b"\x01\x05alice\x02pw");
        assert_eq!(socks.receive(&[1, 0]), Ok(Progress::NeedMore));
        assert_eq!(take(&mut socks), [5, 1, 0, 1, 10, 0, 0, 1, 0, 80]);
        assert_eq!(socks.receive(&OK_V4), Ok(Progress::Done));
    }

    #[test]
    fn a_proxy_may_skip_authentication_though_credentials_were_given() {
        let credentials = Credentials::new("alice", "pw");
        let mut socks = Socks5::new("10.0.0.1", 80, Some(&credentials)).unwrap();
        take(&mut socks);
        socks.receive(&[5, 0]).unwrap();
        assert_eq!(take(&mut socks)[..2], [5, 1]);
    }

    #[test]
    fn wrong_credentials_are_rejected() {
        let credentials = Credentials::new("alice", "wrong");
        let mut socks = Socks5::new("10.0.0.1", 80, Some(&credentials)).unwrap();
        take(&mut socks);
        socks.receive(&[5, 2]).unwrap();
        take(&mut socks);
        let rejected = Err(ProxyError::AuthRejected { challenge: None });
        assert_eq!(socks.receive(&[1, 1]), rejected);
        assert_eq!(socks.receive(&OK_V4), rejected);
    }

    #[test]
    fn no_acceptable_method_asks_for_credentials_or_another_method() {
        let mut socks = Socks5::new("h", 1, None).unwrap();
        assert_eq!(
            socks.receive(&[5, 0xFF]),
            Err(ProxyError::AuthRequired { challenge: None })
        );
        let credentials = Credentials::new("a", "b");
        let mut socks = Socks5::new("h", 1, Some(&credentials)).unwrap();
        assert_eq!(socks.receive(&[5, 0xFF]), Err(ProxyError::NoAcceptableAuth));
        // Username/password chosen though not offered.
        let mut socks = Socks5::new("h", 1, None).unwrap();
        assert!(matches!(
            socks.receive(&[5, 2]),
            Err(ProxyError::Malformed { .. })
        ));
    }

    #[test]
    fn a_refusal_carries_its_reply_code() {
        for code in 1..=8 {
            let mut socks = Socks5::new("h", 1, None).unwrap();
            socks.receive(&[5, 0]).unwrap();
            assert_eq!(
                socks.receive(&[5, code]),
                Err(ProxyError::Socks5Refused { code })
            );
        }
    }

    #[test]
    fn replies_of_every_address_type_in_any_chunking() {
        let mut domain = vec![5, 0, 0, 3, 4];
        domain.extend_from_slice(b"host");
        domain.extend_from_slice(&[0, 1]);
        let mut v6 = vec![5, 0, 0, 4];
        v6.extend_from_slice(&[0; 18]);
        for reply in [OK_V4.to_vec(), domain, v6] {
            let mut input = vec![5, 0];
            input.extend_from_slice(&reply);
            for chunk in 1..=input.len() {
                let mut socks = Socks5::new("h", 1, None).unwrap();
                let mut last = Progress::NeedMore;
                for piece in input.chunks(chunk) {
                    assert_eq!(last, Progress::NeedMore);
                    last = socks.receive(piece).unwrap();
                }
                assert_eq!(last, Progress::Done, "{reply:?} in chunks of {chunk}");
            }
        }
    }

    #[test]
    fn not_socks5_and_unknown_address_types_are_malformed() {
        let mut socks = Socks5::new("h", 1, None).unwrap();
        assert!(matches!(
            socks.receive(b"H"),
            Err(ProxyError::Malformed { .. })
        ));
        let mut socks = Socks5::new("h", 1, None).unwrap();
        socks.receive(&[5, 0]).unwrap();
        assert!(matches!(
            socks.receive(&[5, 0, 0, 9, 0]),
            Err(ProxyError::Malformed { .. })
        ));
    }

    #[test]
    fn bytes_after_the_reply_are_an_error() {
        let mut socks = Socks5::new("h", 1, None).unwrap();
        socks.receive(&[5, 0]).unwrap();
        let mut input = OK_V4.to_vec();
        input.push(0);
        assert_eq!(socks.receive(&input), Err(ProxyError::UnexpectedData));
    }

    #[test]
    fn limits_of_rfc_1928_and_1929() {
        let long = "a".repeat(256);
        assert!(matches!(
            Socks5::new(&long, 1, None),
            Err(ProxyError::InvalidTarget { .. })
        ));
        assert!(matches!(
            Socks5::new("h", 1, Some(&Credentials::new(long.as_str(), ""))),
            Err(ProxyError::InvalidCredentials { .. })
        ));
        assert!(Socks5::new(&long[..255], 1, None).is_ok());
    }

    #[test]
    fn eof_midway_is_closed() {
        let mut socks = Socks5::new("h", 1, None).unwrap();
        socks.receive(&[5]).unwrap();
        assert_eq!(socks.receive_eof(), ProxyError::Closed);
    }
}
