//! Client proxies, sans-IO: HTTP `CONNECT` (with Basic authentication) and
//! SOCKS5 (RFC 1928; no authentication or username/password, RFC 1929).
//!
//! A [`Proxy`] says where the proxy is and how to speak to it; a
//! [`Tunnel`] is the conversation that asks it for a connection to the
//! destination: bytes to send out ([`Tunnel::transmit`]), bytes received in
//! ([`Tunnel::receive`]) until it says [`Progress::Done`] or fails with a
//! typed [`ProxyError`]. Nothing here touches a socket; the adapters'
//! `connect` drives it, within the handshake timeout, and then runs TLS
//! (for `wss://`) and the WebSocket handshake inside the tunnel.
//!
//! Which proxy a connection uses is [`ClientOptions::proxy`]: by default
//! the environment's, read as curl reads it ([`from_env`]); or one given
//! explicitly; or none.
//!
//! ```
//! use rfc6455::handshake::ClientOptions;
//! use rfc6455::proxy::{Proxy, ProxySetting};
//!
//! let through_corp = ClientOptions::new().proxy(Proxy::parse("http://user:pw@proxy.corp:3128")?);
//! let direct = ClientOptions::new().proxy(ProxySetting::Direct);
//! # Ok::<(), rfc6455::proxy::ProxyError>(())
//! ```
//!
//! [`ClientOptions::proxy`]: crate::handshake::ClientOptions::proxy

mod env;
mod error;
mod http_connect;
mod socks5;
mod tunnel;

use std::fmt;

pub use env::{from_env, from_env_with};
pub use error::ProxyError;
pub use http_connect::HttpConnect;
pub use socks5::Socks5;
pub use tunnel::{Progress, Tunnel};

use crate::handshake::Target;

/// How to speak to a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyScheme {
    /// `http://`: an HTTP proxy asked with `CONNECT host:port`; it resolves
    /// the destination's name itself.
    Http,
    /// `socks5://`: a SOCKS5 proxy, given the destination's address
    /// resolved here (local DNS, as curl does for `socks5://`).
    Socks5,
    /// `socks5h://`: a SOCKS5 proxy given the destination's host name, to
    /// resolve itself (for names only the proxy's side can resolve).
    Socks5h,
}

impl ProxyScheme {
    /// The scheme as written in a proxy URL.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyScheme::Http => "http",
            ProxyScheme::Socks5 => "socks5",
            ProxyScheme::Socks5h => "socks5h",
        }
    }

    /// The port a URL without one means: 80 for `http`, 1080 for SOCKS.
    pub fn default_port(self) -> u16 {
        match self {
            ProxyScheme::Http => 80,
            ProxyScheme::Socks5 | ProxyScheme::Socks5h => 1080,
        }
    }
}

/// A user name and password for a proxy: HTTP Basic or SOCKS5
/// username/password. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Credentials as given (not percent-decoded).
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// A proxy: its scheme, address and credentials.
///
/// ```
/// use rfc6455::proxy::{Proxy, ProxyScheme};
///
/// let proxy = Proxy::parse("socks5h://alice:s%3Acret@[::1]:1080")?;
/// assert_eq!(proxy.scheme(), ProxyScheme::Socks5h);
/// assert_eq!((proxy.host(), proxy.port()), ("[::1]", 1080));
/// assert_eq!(proxy.credentials().map(|c| c.password()), Some("s:cret"));
/// # Ok::<(), rfc6455::proxy::ProxyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    scheme: ProxyScheme,
    host: String,
    port: u16,
    credentials: Option<Credentials>,
}

impl Proxy {
    /// A proxy of `scheme` at `host:port`, without credentials. An IPv6
    /// address may be given with or without brackets.
    pub fn new(scheme: ProxyScheme, host: impl Into<String>, port: u16) -> Self {
        let host = host.into();
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host
        };
        Proxy {
            scheme,
            host,
            port,
            credentials: None,
        }
    }

    /// An HTTP `CONNECT` proxy at `host:port`.
    pub fn http(host: impl Into<String>, port: u16) -> Self {
        Proxy::new(ProxyScheme::Http, host, port)
    }

    /// A SOCKS5 proxy at `host:port` that is given resolved addresses
    /// (`socks5://`).
    pub fn socks5(host: impl Into<String>, port: u16) -> Self {
        Proxy::new(ProxyScheme::Socks5, host, port)
    }

    /// A SOCKS5 proxy at `host:port` that resolves host names itself
    /// (`socks5h://`).
    pub fn socks5h(host: impl Into<String>, port: u16) -> Self {
        Proxy::new(ProxyScheme::Socks5h, host, port)
    }

    /// Sends these credentials: HTTP Basic, or SOCKS5 username/password.
    #[must_use]
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Credentials::new(username, password));
        self
    }

    /// Reads a proxy URL: `[SCHEME://][USER[:PASSWORD]@]HOST[:PORT][/]`.
    ///
    /// The scheme is `http` (the default when there is none, as curl reads
    /// a bare `host:port`), `socks5` or `socks5h`, in any case; `https://`
    /// proxies (TLS to the proxy) and SOCKS4 are not supported. The port
    /// defaults to the scheme's ([`ProxyScheme::default_port`]). User and
    /// password are percent-decoded. A path is ignored, as curl does.
    pub fn parse(url: &str) -> Result<Proxy, ProxyError> {
        let invalid = |reason| ProxyError::InvalidUrl {
            url: redact(url),
            reason,
        };
        if !url.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("contains a space, control or non-ASCII character"));
        }
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (scheme, rest),
            None => ("http", url),
        };
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => ProxyScheme::Http,
            "socks5" => ProxyScheme::Socks5,
            "socks5h" => ProxyScheme::Socks5h,
            _ => {
                return Err(ProxyError::UnsupportedScheme {
                    scheme: scheme.to_owned(),
                })
            }
        };
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let credentials = match userinfo {
            None => None,
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let user = percent_decode(user).ok_or_else(|| invalid("bad percent-encoding"))?;
                let password =
                    percent_decode(password).ok_or_else(|| invalid("bad percent-encoding"))?;
                Some(Credentials::new(user, password))
            }
        };
        let (host, port) = split_host_port(hostport).map_err(invalid)?;
        let port = match port {
            None => scheme.default_port(),
            Some(port) => port,
        };
        Ok(Proxy {
            scheme,
            host: host.to_owned(),
            port,
            credentials,
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> ProxyScheme {
        self.scheme
    }

    /// The host, an IPv6 address in brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The credentials, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The conversation that asks this proxy for a tunnel to `host:port`
    /// (an IPv6 address with or without brackets). For
    /// [`ProxyScheme::Socks5`], `host` should be an address already
    /// resolved: a name is passed on to the proxy as `socks5h` would.
    pub fn tunnel(&self, host: &str, port: u16) -> Result<Tunnel, ProxyError> {
        Tunnel::new(self, host, port)
    }
}

impl fmt::Display for Proxy {
    /// The proxy as a URL, without its credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
    }
}

impl std::str::FromStr for Proxy {
    type Err = ProxyError;

    fn from_str(url: &str) -> Result<Proxy, ProxyError> {
        Proxy::parse(url)
    }
}

/// Which proxy a client connection goes through: the field
/// [`ClientOptions::proxy`](crate::handshake::ClientOptions::proxy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxySetting {
    /// The one the environment names for the destination ([`from_env`]:
    /// `https_proxy` for `wss://`, `http_proxy` for `ws://`, `all_proxy`,
    /// `no_proxy`, as curl reads them), or none. The default, as in curl,
    /// python-websockets and Go's HTTP client: a program behind a proxy
    /// works without code for it. Loopback destinations (`localhost`,
    /// `127.0.0.0/8`, `::1`) never go through it.
    #[default]
    Environment,
    /// No proxy, whatever the environment says.
    Direct,
    /// This proxy, whatever the environment says, for every destination.
    Proxy(Proxy),
}

impl From<Proxy> for ProxySetting {
    fn from(proxy: Proxy) -> Self {
        ProxySetting::Proxy(proxy)
    }
}

impl ProxySetting {
    /// The proxy to reach `target` through, if any; reads the process
    /// environment for [`ProxySetting::Environment`].
    pub fn resolve(&self, target: &Target) -> Result<Option<Proxy>, ProxyError> {
        self.resolve_with(target, |name| std::env::var(name).ok())
    }

    /// [`resolve`](Self::resolve), with the environment read through
    /// `lookup` (a variable's value, or `None` when unset).
    pub fn resolve_with(
        &self,
        target: &Target,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Proxy>, ProxyError> {
        match self {
            ProxySetting::Environment => from_env_with(target, lookup),
            ProxySetting::Direct => Ok(None),
            ProxySetting::Proxy(proxy) => Ok(Some(proxy.clone())),
        }
    }
}

/// `host[:port]`, the host an IPv6 address in brackets.
fn split_host_port(hostport: &str) -> Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if let Some(after_bracket) = hostport.strip_prefix('[') {
        let (inner, after) = after_bracket
            .split_once(']')
            .ok_or("IPv6 address has no closing `]`")?;
        if inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("invalid IPv6 address");
        }
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or("unexpected text after IPv6 address")?,
            ),
        };
        (&hostport[..inner.len() + 2], port)
    } else {
        match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("host is empty");
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
    {
        return Err("host contains an invalid character");
    }
    let port = match port {
        None | Some("") => None,
        Some(digits) => {
            if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 5 {
                return Err("port is not a number");
            }
            match digits.parse::<u16>() {
                Ok(port) if port != 0 => Some(port),
                _ => return Err("port is not between 1 and 65535"),
            }
        }
    };
    Ok((host, port))
}

/// Decodes `%XX` escapes; `None` if one is malformed or the result is not
/// UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL with the password of its user information replaced by `***`,
/// for error messages.
fn redact(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => {
            let userinfo = &url[start..start + at];
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{}{user}:***{}", &url[..start], &url[start + at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(url: &str) -> &'static str {
        match Proxy::parse(url) {
            Err(ProxyError::InvalidUrl { reason, .. }) => reason,
            other => panic!("expected InvalidUrl for {url}, got {other:?}"),
        }
    }

    #[test]
    fn parses_each_scheme_with_its_default_port() {
        assert_eq!(
            Proxy::parse("http://proxy.corp").unwrap(),
            Proxy::http("proxy.corp", 80)
        );
        assert_eq!(
            Proxy::parse("SOCKS5://10.0.0.1").unwrap(),
            Proxy::socks5("10.0.0.1", 1080)
        );
        assert_eq!(
            Proxy::parse("socks5h://p:9050/").unwrap(),
            Proxy::socks5h("p", 9050)
        );
    }

    #[test]
    fn a_url_without_scheme_is_http() {
        assert_eq!(
            Proxy::parse("proxy.corp:3128").unwrap(),
            Proxy::http("proxy.corp", 3128)
        );
    }

    #[test]
    fn credentials_are_percent_decoded_and_not_shown() {
        let proxy = Proxy::parse("http://al%40ice:p%3Aw@proxy:3128").unwrap();
        assert_eq!(
            proxy,
            Proxy::http("proxy", 3128).with_credentials("al@ice", "p:w")
        );
        assert!(!format!("{proxy:?}").contains("p:w"));
        assert_eq!(proxy.to_string(), "http://proxy:3128");
        let user_only = Proxy::parse("http://bob@proxy").unwrap();
        assert_eq!(user_only.credentials(), Some(&Credentials::new("bob", "")));
    }

    #[test]
    fn ipv6_hosts_keep_brackets() {
        let proxy = Proxy::parse("http://[::1]:8080").unwrap();
        assert_eq!((proxy.host(), proxy.port()), ("[::1]", 8080));
        assert_eq!(Proxy::http("::1", 8080), proxy);
    }

    #[test]
    fn unsupported_schemes_and_bad_urls_are_refused() {
        assert_eq!(
            Proxy::parse("https://proxy:443"),
            Err(ProxyError::UnsupportedScheme {
                scheme: "https".into()
            })
        );
        assert!(matches!(
            Proxy::parse("socks4://p"),
            Err(ProxyError::UnsupportedScheme { .. })
        ));
        assert_eq!(reason("http://"), "host is empty");
        assert_eq!(reason("http://p:0"), "port is not between 1 and 65535");
        assert_eq!(reason("http://p:x"), "port is not a number");
        assert_eq!(reason("http://[::1"), "IPv6 address has no closing `]`");
        assert_eq!(
            reason("http://a b"),
            "contains a space, control or non-ASCII character"
        );
        assert_eq!(reason("http://u:%zz@p"), "bad percent-encoding");
    }

    #[test]
    fn errors_do_not_show_the_password() {
        let Err(ProxyError::InvalidUrl { url, .. }) = Proxy::parse("http://u:secret@p:0/") else {
            panic!("expected InvalidUrl");
        };
        assert_eq!(url, "http://u:***@p:0/");
    }

    #[test]
    fn settings_resolve_without_the_environment_when_explicit() {
        let target = Target::parse("wss://example.com/").unwrap();
        let env = |_: &str| Some("http://env-proxy:1".to_owned());
        assert_eq!(ProxySetting::Direct.resolve_with(&target, env), Ok(None));
        let explicit = ProxySetting::from(Proxy::socks5h("p", 1));
        assert_eq!(
            explicit.resolve_with(&target, env),
            Ok(Some(Proxy::socks5h("p", 1)))
        );
        assert_eq!(
            ProxySetting::default().resolve_with(&target, env),
            Ok(Some(Proxy::http("env-proxy", 1)))
        );
    }
}
