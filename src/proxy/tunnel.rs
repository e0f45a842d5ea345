//! One interface over both kinds of proxy, for the adapters to drive.

use super::{HttpConnect, Proxy, ProxyError, ProxyScheme, Socks5};

/// Where an exchange with a proxy stands after [`Tunnel::receive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Send what [`Tunnel::transmit`] holds (it may be empty), then read
    /// more.
    NeedMore,
    /// The tunnel is open: what follows on the connection is the
    /// destination's.
    Done,
}

/// The exchange that opens a tunnel through a [`Proxy`], whatever its
/// kind.
///
/// An adapter's loop, with a deadline around it:
///
/// ```
/// # use std::io::{Read, Write};
/// use rfc6455::proxy::{Progress, Proxy, ProxyError, Tunnel};
///
/// fn open<S: Read + Write>(stream: &mut S, proxy: &Proxy) -> Result<(), Box<dyn std::error::Error>> {
///     let mut tunnel = Tunnel::new(proxy, "example.com", 443)?;
///     let mut buf = [0; 1024];
///     loop {
///         let out = tunnel.transmit();
///         if !out.is_empty() {
///             stream.write_all(out)?;
///             let n = out.len();
///             tunnel.advance_transmit(n);
///         }
///         let n = stream.read(&mut buf)?;
///         if n == 0 {
///             return Err(tunnel.receive_eof().into());
///         }
///         if tunnel.receive(&buf[..n])? == Progress::Done {
///             return Ok(());
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Tunnel {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Http(HttpConnect),
    Socks5(Socks5),
}

impl Tunnel {
    /// The exchange asking `proxy` for a connection to `host:port`.
    ///
    /// `host` is sent as given: for [`ProxyScheme::Socks5`] the caller
    /// resolves the name first and passes an address (the adapters do).
    pub fn new(proxy: &Proxy, host: &str, port: u16) -> Result<Tunnel, ProxyError> {
        let credentials = proxy.credentials();
        let kind = match proxy.scheme() {
            ProxyScheme::Http => Kind::Http(HttpConnect::new(host, port, credentials)?),
            ProxyScheme::Socks5 | ProxyScheme::Socks5h => {
                Kind::Socks5(Socks5::new(host, port, credentials)?)
            }
        };
        Ok(Tunnel { kind })
    }

    /// The bytes to send now; empty while waiting for the proxy.
    pub fn transmit(&self) -> &[u8] {
        match &self.kind {
            Kind::Http(connect) => connect.transmit(),
            Kind::Socks5(socks) => socks.transmit(),
        }
    }

    /// Marks `n` bytes of [`transmit`](Self::transmit) as sent.
    pub fn advance_transmit(&mut self, n: usize) {
        match &mut self.kind {
            Kind::Http(connect) => connect.advance_transmit(n),
            Kind::Socks5(socks) => socks.advance_transmit(n),
        }
    }

    /// Feeds bytes read from the proxy.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Progress, ProxyError> {
        match &mut self.kind {
            Kind::Http(connect) => connect.receive(bytes),
            Kind::Socks5(socks) => socks.receive(bytes),
        }
    }

    /// The proxy closed the connection before the tunnel was open: the
    /// error to report.
    pub fn receive_eof(&mut self) -> ProxyError {
        match &mut self.kind {
            Kind::Http(connect) => connect.receive_eof(),
            Kind::Socks5(socks) => socks.receive_eof(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scheme_speaks_its_protocol() {
        let http = Tunnel::new(&Proxy::http("p", 1), "example.com", 443).unwrap();
        assert!(http.transmit().starts_with(b"CONNECT example.com:443 "));
        let socks = Tunnel::new(&Proxy::socks5h("p", 1), "example.com", 443).unwrap();
        assert_eq!(socks.transmit(), [5, 1, 0]);
        let with_auth = Proxy::socks5("p", 1).with_credentials("u", "p");
        let socks = Tunnel::new(&with_auth, "127.0.0.1", 443).unwrap();
        assert_eq!(socks.transmit(), [5, 2, 0, 2]);
    }
}
