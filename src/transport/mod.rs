//! How `connect` reaches the server a URL names: TCP to the server or to a
//! proxy, the proxy's tunnel, then TLS for `wss://`. The plan is here; the
//! I/O is in `blocking.rs` and `tokio.rs`, one thin driver each, and every
//! step runs within the handshake's deadline.

pub(crate) mod blocking;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;

use crate::adapter::Error;
use crate::handshake::{ClientOptions, Target};
use crate::proxy::{Proxy, ProxyError, ProxyScheme, ProxySetting};

/// What the options say about the transport, taken before the handshake
/// takes the options.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    proxy: ProxySetting,
    #[cfg(feature = "rustls")]
    tls: crate::tls::ClientTls,
}

/// The plan for one target: the proxy, if any, and TLS, if `wss://`.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) proxy: Option<Proxy>,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Tls>,
}

/// The TLS half of a route: the config, and the name the certificate must
/// carry (the URL's host, also sent as SNI unless it is an address).
#[cfg(feature = "rustls")]
#[derive(Debug)]
pub(crate) struct Tls {
    pub(crate) config: std::sync::Arc<rustls::ClientConfig>,
    pub(crate) name: rustls::pki_types::ServerName<'static>,
    /// The host as written, for errors.
    pub(crate) host: String,
}

impl Plan {
    pub(crate) fn of(options: &ClientOptions) -> Plan {
        Plan {
            proxy: options.proxy.clone(),
            #[cfg(feature = "rustls")]
            tls: options.tls.clone(),
        }
    }

    /// Resolves the proxy (the environment's, by default) and the TLS
    /// config for `target`.
    pub(crate) fn route(&self, target: &Target) -> Result<Route, Error> {
        #[cfg(not(feature = "rustls"))]
        if target.secure {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "wss:// needs the `rustls` feature of rfc6455 (or open a TLS stream \
                 yourself and run the handshake over it with `client`)",
            )));
        }
        Ok(Route {
            proxy: self.proxy.resolve(target)?,
            #[cfg(feature = "rustls")]
            tls: self.tls(target)?,
        })
    }

    /// The TLS config and server name for a `wss://` target.
    #[cfg(feature = "rustls")]
    fn tls(&self, target: &Target) -> Result<Option<Tls>, Error> {
        if !target.secure {
            return Ok(None);
        }
        let host = bare_host(target);
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|_| {
            crate::tls::TlsError::InvalidServerName {
                host: host.to_owned(),
            }
        })?;
        Ok(Some(Tls {
            config: self.tls.config()?,
            name,
            host: host.to_owned(),
        }))
    }
}

/// The target's host without IPv6 brackets.
pub(crate) fn bare_host(target: &Target) -> &str {
    target.host.trim_start_matches('[').trim_end_matches(']')
}

/// The name to resolve here before asking `proxy` for the tunnel: the
/// target's host for `socks5://` (local DNS, as curl does), unless it is
/// an address already. The other schemes pass the name on.
pub(crate) fn resolve_here<'t>(proxy: &Proxy, target: &'t Target) -> Option<&'t str> {
    let host = bare_host(target);
    (proxy.scheme() == ProxyScheme::Socks5 && host.parse::<std::net::IpAddr>().is_err())
        .then_some(host)
}

/// The error for a name that resolved to no address.
pub(crate) fn no_address(host: &str) -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("{host} has no address"),
    ))
}

/// A deadline `timeout` from now (far in the future for a timeout too
/// large to add).
pub(crate) fn deadline(timeout: std::time::Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(365 * 24 * 3600))
}

/// The error for a TCP connection to `proxy` that failed.
pub(crate) fn unreachable(proxy: &Proxy, error: Error) -> Error {
    match error {
        Error::Io(error) => ProxyError::Connect {
            proxy: format!("{}:{}", proxy.host(), proxy.port()),
            kind: error.kind(),
            message: error.to_string(),
        }
        .into(),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(url: &str, options: &ClientOptions) -> Result<Route, Error> {
        Plan::of(options).route(&Target::parse(url).unwrap())
    }

    #[test]
    fn explicit_proxies_are_routed_through() {
        let proxy = Proxy::socks5h("p", 1080);
        let options = ClientOptions::new().proxy(proxy.clone());
        assert_eq!(
            route("ws://localhost/", &options).unwrap().proxy,
            Some(proxy)
        );
        let direct = ClientOptions::new().proxy(ProxySetting::Direct);
        assert_eq!(route("ws://example.com/", &direct).unwrap().proxy, None);
    }

    #[test]
    fn socks5_resolves_names_here_and_the_others_do_not() {
        let target = Target::parse("ws://example.com:81/").unwrap();
        assert_eq!(
            resolve_here(&Proxy::socks5("p", 1), &target),
            Some("example.com")
        );
        assert_eq!(resolve_here(&Proxy::socks5h("p", 1), &target), None);
        assert_eq!(resolve_here(&Proxy::http("p", 1), &target), None);
        let address = Target::parse("ws://[::1]:81/").unwrap();
        assert_eq!(resolve_here(&Proxy::socks5("p", 1), &address), None);
        assert_eq!(bare_host(&address), "::1");
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn wss_routes_carry_the_server_name() {
        let direct = ClientOptions::new().proxy(ProxySetting::Direct);
        let tls = route("wss://example.com/", &direct).unwrap().tls.unwrap();
        assert_eq!(tls.host, "example.com");
        assert_eq!(tls.name.to_str(), "example.com");
        let tls = route("wss://[::1]:9443/", &direct).unwrap().tls.unwrap();
        assert_eq!(tls.host, "::1");
        assert!(route("ws://example.com/", &direct).unwrap().tls.is_none());
    }

    #[cfg(not(feature = "rustls"))]
    #[test]
    fn wss_without_the_rustls_feature_says_so() {
        let direct = ClientOptions::new().proxy(ProxySetting::Direct);
        match route("wss://example.com/", &direct) {
            Err(Error::Io(error)) => {
                assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
                assert!(error.to_string().contains("rustls"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_huge_timeout_does_not_overflow() {
        assert!(deadline(std::time::Duration::MAX) > std::time::Instant::now());
    }
}
