//! What can go wrong on the way through a proxy.

/// Why a connection through a proxy, or the proxy settings, failed.
///
/// One variant per reason, so an application can tell a proxy that wants
/// credentials from one that refused the destination, or one that never
/// answered. The adapters return it as their `Error::Proxy`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// A proxy URL (given or from the environment) could not be read.
    #[error("invalid proxy URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, its password (if any) replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A proxy URL has a scheme other than `http`, `socks5` or `socks5h`.
    #[error("unsupported proxy scheme `{scheme}` (use http://, socks5:// or socks5h://)")]
    UnsupportedScheme {
        /// The scheme as written.
        scheme: String,
    },
    /// The destination cannot be sent to the proxy (a SOCKS5 host name
    /// over 255 bytes, a host with characters no request can carry).
    #[error("the destination cannot be sent to the proxy: {reason}")]
    InvalidTarget {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The credentials cannot be sent (a Basic user name with `:`, a SOCKS5
    /// user name or password over 255 bytes, control characters).
    #[error("the proxy credentials cannot be sent: {reason}")]
    InvalidCredentials {
        /// What is wrong with them.
        reason: &'static str,
    },
    /// The TCP connection to the proxy itself failed.
    #[error("could not connect to the proxy {proxy}: {message}")]
    Connect {
        /// The proxy's `host:port`.
        proxy: String,
        /// The kind of the I/O error.
        kind: std::io::ErrorKind,
        /// The I/O error's message.
        message: String,
    },
    /// The HTTP proxy answered `CONNECT` with a status other than 2xx or
    /// 407: it refuses to open the tunnel (403 by policy, 502 when it
    /// could not reach the destination, ...).
    #[error("the HTTP proxy refused the tunnel: {status} {reason}")]
    Refused {
        /// The status code.
        status: u16,
        /// The reason phrase as sent.
        reason: String,
    },
    /// The proxy requires credentials and none were given (HTTP 407, or a
    /// SOCKS5 proxy that accepts no method without authentication).
    #[error("the proxy requires authentication{}", challenge_suffix(.challenge))]
    AuthRequired {
        /// The HTTP proxy's `Proxy-Authenticate` challenge, e.g.
        /// `Basic realm="corp"` (`None` for SOCKS5).
        challenge: Option<String>,
    },
    /// The proxy refused the credentials given (HTTP 407 after a
    /// `Proxy-Authorization`, or a SOCKS5 username/password failure).
    #[error("the proxy rejected the credentials{}", challenge_suffix(.challenge))]
    AuthRejected {
        /// The HTTP proxy's `Proxy-Authenticate` challenge, if any.
        challenge: Option<String>,
    },
    /// The SOCKS5 proxy accepts neither of the methods offered (no
    /// authentication, username/password): it wants another kind, such
    /// as GSSAPI.
    #[error("the SOCKS5 proxy accepts none of the offered authentication methods")]
    NoAcceptableAuth,
    /// The SOCKS5 proxy answered the connect request with an error
    /// (RFC 1928 §6).
    #[error("the SOCKS5 proxy refused the connection: {} (reply {code})", socks5_reply(*.code))]
    Socks5Refused {
        /// The reply code: 1 general failure, 2 not allowed by the rule
        /// set, 3 network unreachable, 4 host unreachable, 5 connection
        /// refused, 6 TTL expired, 7 command not supported, 8 address type
        /// not supported.
        code: u8,
    },
    /// The HTTP proxy's response head did not end within the limit.
    #[error("the proxy's response head is larger than {limit} bytes")]
    HeadTooLarge {
        /// The limit, [`HttpConnect::MAX_HEAD_SIZE`](super::HttpConnect::MAX_HEAD_SIZE).
        limit: usize,
    },
    /// The proxy's answer is not valid HTTP or SOCKS5.
    #[error("malformed answer from the proxy: {reason}")]
    Malformed {
        /// What the parser objected to.
        reason: String,
    },
    /// The proxy sent bytes past its answer before the tunnel was used:
    /// nothing should come from the destination before the client speaks.
    #[error("the proxy sent data after its answer, before the tunnel was used")]
    UnexpectedData,
    /// The proxy closed the connection before it answered in full.
    #[error("the proxy closed the connection during its handshake")]
    Closed,
    /// The proxy did not answer in full within the handshake timeout.
    #[error("the proxy did not answer within the handshake timeout")]
    TimedOut,
}

fn challenge_suffix(challenge: &Option<String>) -> String {
    match challenge {
        Some(challenge) => format!(" (Proxy-Authenticate: {challenge})"),
        None => String::new(),
    }
}

/// The meaning of a SOCKS5 reply code (RFC 1928 §6).
pub(crate) fn socks5_reply(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unassigned reply code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_why() {
        let e = ProxyError::AuthRequired {
            challenge: Some("Basic realm=\"corp\"".into()),
        };
        assert_eq!(
            e.to_string(),
            "the proxy requires authentication (Proxy-Authenticate: Basic realm=\"corp\")"
        );
        assert_eq!(
            ProxyError::Socks5Refused { code: 2 }.to_string(),
            "the SOCKS5 proxy refused the connection: connection not allowed by ruleset (reply 2)"
        );
        assert_eq!(
            ProxyError::Refused {
                status: 403,
                reason: "Forbidden".into()
            }
            .to_string(),
            "the HTTP proxy refused the tunnel: 403 Forbidden"
        );
    }
}
