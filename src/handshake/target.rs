//! `ws://` and `wss://` URLs (RFC 6455 §3), reduced to what the opening
//! handshake needs: where to connect and what to put in the request line and
//! `Host` header.

use super::error::BuildError;
use super::headers::excerpt;

/// A parsed `ws://` or `wss://` URL.
///
/// Only the parts the handshake uses are kept. The host is kept as written
/// (an IPv6 literal keeps its brackets, as the `Host` header needs them);
/// strip the brackets before resolving it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// `true` for `wss://` (TLS), `false` for `ws://`.
    pub secure: bool,
    /// The host name or address, IPv6 literals in brackets (`[::1]`).
    pub host: String,
    /// The port, defaulting to 80 for `ws` and 443 for `wss`.
    pub port: u16,
    /// The path and query for the request line, never empty (`/` at least).
    pub path_and_query: String,
}

fn invalid(target: &str, reason: &'static str) -> BuildError {
    BuildError::InvalidTarget {
        target: excerpt(target.as_bytes()),
        reason,
    }
}

/// Characters allowed in a registered host name: RFC 3986 `unreserved`,
/// `sub-delims` and the `%` of percent-encoding.
fn is_host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b)
}

impl Target {
    /// Parses `ws://host[:port][/path][?query]` or the `wss://` form.
    ///
    /// The scheme is case-insensitive. An empty path becomes `/`. Rejected:
    /// other schemes, fragments (RFC 6455 §3 forbids them in WebSocket
    /// URIs), user information (`user@host`), an empty host, a port that is
    /// not a number from 1 to 65535, unbracketed IPv6 addresses, and spaces,
    /// control characters or non-ASCII characters anywhere (percent-encode
    /// them instead).
    pub fn parse(url: &str) -> Result<Target, BuildError> {
        if !url.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(
                url,
                "contains a space, control or non-ASCII character",
            ));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid(url, "missing `ws://` or `wss://`"))?;
        let secure = if scheme.eq_ignore_ascii_case("ws") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") {
            true
        } else {
            return Err(invalid(url, "scheme is not `ws` or `wss`"));
        };
        if rest.contains('#') {
            return Err(invalid(url, "WebSocket URLs cannot have a fragment"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(split);
        if authority.contains('@') {
            return Err(invalid(url, "user information (`user@`) is not supported"));
        }
        let (host, port) = if let Some(after_bracket) = authority.strip_prefix('[') {
            let (inner, after) = after_bracket
                .split_once(']')
                .ok_or_else(|| invalid(url, "IPv6 address has no closing `]`"))?;
            if inner.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(invalid(url, "invalid IPv6 address"));
            }
            let port = match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| invalid(url, "unexpected text after IPv6 address"))?,
                ),
            };
            (authority.get(..inner.len() + 2).unwrap_or(authority), port)
        } else {
            let (host, port) = match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            };
            if !host.bytes().all(is_host_char) {
                return Err(invalid(url, "host contains an invalid character"));
            }
            (host, port)
        };
        if host.is_empty() {
            return Err(invalid(url, "host is empty"));
        }
        let default_port = if secure { 443 } else { 80 };
        let port = match port {
            None | Some("") => default_port,
            Some(digits) => {
                if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 5 {
                    return Err(invalid(url, "port is not a number"));
                }
                match digits.parse::<u16>() {
                    Ok(port) if port != 0 => port,
                    _ => return Err(invalid(url, "port is not between 1 and 65535")),
                }
            }
        };
        let path_and_query = if path_and_query.starts_with('/') {
            path_and_query.to_owned()
        } else {
            format!("/{path_and_query}")
        };
        Ok(Target {
            secure,
            host: host.to_owned(),
            port,
            path_and_query,
        })
    }

    /// The value for the request's `Host` header: the host, plus `:port`
    /// only when the port is not the scheme's default.
    pub fn host_header(&self) -> String {
        let default_port = if self.secure { 443 } else { 80 };
        if self.port == default_port {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(url: &str) -> &'static str {
        match Target::parse(url) {
            Err(BuildError::InvalidTarget { reason, .. }) => reason,
            other => panic!("expected InvalidTarget for {url}, got {other:?}"),
        }
    }

    #[test]
    fn ws_defaults_to_port_80_and_root_path() {
        let t = Target::parse("ws://example.com").unwrap();
        assert_eq!(
            t,
            Target {
                secure: false,
                host: "example.com".into(),
                port: 80,
                path_and_query: "/".into()
            }
        );
        assert_eq!(t.host_header(), "example.com");
    }

    #[test]
    fn wss_defaults_to_port_443() {
        let t = Target::parse("wss://example.com/chat").unwrap();
        assert!(t.secure);
        assert_eq!(t.port, 443);
        assert_eq!(t.path_and_query, "/chat");
        assert_eq!(t.host_header(), "example.com");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert!(Target::parse("WSS://a").unwrap().secure);
        assert!(!Target::parse("Ws://a").unwrap().secure);
    }

    #[test]
    fn explicit_port_appears_in_host_header_unless_default() {
        let t = Target::parse("ws://localhost:9001/x").unwrap();
        assert_eq!((t.port, t.host_header().as_str()), (9001, "localhost:9001"));
        let t = Target::parse("ws://localhost:80/x").unwrap();
        assert_eq!(t.host_header(), "localhost");
        let t = Target::parse("wss://localhost:80").unwrap();
        assert_eq!(t.host_header(), "localhost:80");
        assert_eq!(Target::parse("ws://a:/").unwrap().port, 80);
    }

    #[test]
    fn query_is_kept_and_gets_a_root_path() {
        let t = Target::parse("ws://a/p/q?x=1&y=2").unwrap();
        assert_eq!(t.path_and_query, "/p/q?x=1&y=2");
        let t = Target::parse("ws://a?x=1").unwrap();
        assert_eq!(t.path_and_query, "/?x=1");
        let t = Target::parse("ws://a:81?x").unwrap();
        assert_eq!((t.port, t.path_and_query.as_str()), (81, "/?x"));
    }

    #[test]
    fn ipv6_literal_keeps_brackets() {
        let t = Target::parse("ws://[::1]:9001/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("[::1]", 9001));
        assert_eq!(t.host_header(), "[::1]:9001");
        let t = Target::parse("wss://[2001:db8::7]").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("[2001:db8::7]", 443));
        assert_eq!(t.host_header(), "[2001:db8::7]");
    }

    #[test]
    fn bad_ipv6_literals_are_rejected() {
        assert_eq!(reason("ws://[::1/"), "IPv6 address has no closing `]`");
        assert_eq!(reason("ws://[zz]/"), "invalid IPv6 address");
        assert_eq!(reason("ws://[::1]x/"), "unexpected text after IPv6 address");
        assert_eq!(reason("ws://::1/"), "host is empty");
        assert_eq!(reason("ws://a::1/"), "port is not a number");
    }

    #[test]
    fn fragment_is_rejected() {
        assert_eq!(
            reason("ws://a/b#c"),
            "WebSocket URLs cannot have a fragment"
        );
        assert_eq!(reason("ws://a#"), "WebSocket URLs cannot have a fragment");
    }

    #[test]
    fn userinfo_is_rejected() {
        assert_eq!(
            reason("ws://user:pw@a/"),
            "user information (`user@`) is not supported"
        );
    }

    #[test]
    fn non_ws_schemes_are_rejected() {
        assert_eq!(reason("http://a/"), "scheme is not `ws` or `wss`");
        assert_eq!(reason("wsx://a/"), "scheme is not `ws` or `wss`");
        assert_eq!(reason("a/b"), "missing `ws://` or `wss://`");
        assert_eq!(reason(""), "missing `ws://` or `wss://`");
    }

    #[test]
    fn empty_host_is_rejected() {
        assert_eq!(reason("ws://"), "host is empty");
        assert_eq!(reason("ws:///path"), "host is empty");
        assert_eq!(reason("ws://:80/"), "host is empty");
    }

    #[test]
    fn bad_ports_are_rejected() {
        assert_eq!(reason("ws://a:0/"), "port is not between 1 and 65535");
        assert_eq!(reason("ws://a:65536/"), "port is not between 1 and 65535");
        assert_eq!(reason("ws://a:123456/"), "port is not a number");
        assert_eq!(reason("ws://a:+1/"), "port is not a number");
        assert_eq!(reason("ws://a:x/"), "port is not a number");
        assert_eq!(Target::parse("ws://a:65535").unwrap().port, 65535);
    }

    #[test]
    fn spaces_controls_and_non_ascii_are_rejected() {
        let expected = "contains a space, control or non-ASCII character";
        assert_eq!(reason("ws://a/b c"), expected);
        assert_eq!(reason("ws://a/\r\nX: y"), expected);
        assert_eq!(reason("ws://a/\0"), expected);
        assert_eq!(reason("ws://bücher.example/"), expected);
        assert_eq!(reason("ws://a\"b/"), "host contains an invalid character");
    }
}
