//! The blocking driver of the connect plan, and the stream it gives.
//!
//! Every read and write, from the TCP connect to the end of the TLS
//! handshake, first sets the socket's timeouts to what is left until the
//! deadline, so the whole of it is bounded, however the peer drips bytes.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{bare_host, no_address, resolve_here, unreachable, Route};
use crate::adapter::Error;
use crate::blocking::SocketTimeouts;
use crate::handshake::Target;
use crate::proxy::{Progress, ProxyError, Tunnel};

/// What [`connect`](crate::blocking::connect) connects over: TCP, or TLS
/// over TCP for `wss://`. Both URL schemes give this one type.
///
/// A TLS peer that closes the TCP connection without TLS's `close_notify`
/// reads as the end of the stream, not as an error: the WebSocket close
/// handshake, not TLS, tells a clean end from a truncated one.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// `ws://`: the TCP stream.
    Plain(TcpStream),
    /// `wss://`: rustls over the TCP stream (feature `rustls`). Boxed: a
    /// TLS connection's state is some kilobytes, which a plain one should
    /// not carry.
    #[cfg(feature = "rustls")]
    Rustls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl MaybeTlsStream {
    /// The TCP stream underneath, for its addresses and options.
    pub fn get_ref(&self) -> &TcpStream {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => &tls.sock,
        }
    }

    /// Whether the stream is TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, MaybeTlsStream::Plain(_))
    }

    /// Sets the socket's timeouts to what is left until `deadline`.
    pub(crate) fn arm(&self, deadline: Instant) -> Result<(), Error> {
        arm(self.get_ref(), deadline)
    }
}

impl Read for MaybeTlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.read(buf),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => match tls.read(buf) {
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

impl Write for MaybeTlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.write(buf),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.write_vectored(bufs),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.flush(),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.flush(),
        }
    }
}

impl SocketTimeouts for MaybeTlsStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.get_ref().set_read_timeout(timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.get_ref().set_write_timeout(timeout)
    }
}

/// A rustls stream (a server's `StreamOwned<ServerConnection, TcpStream>`,
/// say) times out as its socket does, so `with_timers` works over TLS.
#[cfg(feature = "rustls")]
impl<C, T> SocketTimeouts for rustls::StreamOwned<C, T>
where
    T: Read + Write + SocketTimeouts,
{
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(timeout)
    }
}

/// Sets `tcp`'s timeouts to what is left until `deadline`; a timeout error
/// if nothing is.
fn arm(tcp: &TcpStream, deadline: Instant) -> Result<(), Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::HandshakeTimeout);
    }
    tcp.set_read_timeout(Some(left))?;
    tcp.set_write_timeout(Some(left))?;
    Ok(())
}

fn timed_out(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Opens the route to `target`: TCP, the proxy's tunnel, TLS.
pub(crate) fn open(
    route: &Route,
    target: &Target,
    deadline: Instant,
) -> Result<MaybeTlsStream, Error> {
    let tcp = match &route.proxy {
        None => connect_tcp(&target.host, target.port, deadline)?,
        Some(proxy) => {
            let mut tcp = connect_tcp(proxy.host(), proxy.port(), deadline)
                .map_err(|error| unreachable(proxy, error))?;
            let host = match resolve_here(proxy, target) {
                Some(name) => match (name, target.port).to_socket_addrs()?.next() {
                    Some(address) => address.ip().to_string(),
                    None => return Err(no_address(name)),
                },
                None => bare_host(target).to_owned(),
            };
            through(&mut tcp, proxy.tunnel(&host, target.port)?, deadline)?;
            tcp
        }
    };
    tcp.set_nodelay(true)?;
    #[cfg(feature = "rustls")]
    if let Some(tls) = &route.tls {
        return handshake_tls(tls, tcp, deadline);
    }
    Ok(MaybeTlsStream::Plain(tcp))
}

/// Connects to the first of `host`'s addresses that answers, each attempt
/// bounded by what is left until `deadline`. Name resolution itself is the
/// system's and is not bounded.
fn connect_tcp(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, Error> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = None;
    for address in (host, port).to_socket_addrs()? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::HandshakeTimeout);
        }
        match TcpStream::connect_timeout(&address, left) {
            Ok(tcp) => return Ok(tcp),
            Err(error) => last = Some(error),
        }
    }
    Err(match last {
        Some(error) if timed_out(&error) => Error::HandshakeTimeout,
        Some(error) => error.into(),
        None => no_address(host),
    })
}

/// Runs the proxy's exchange on `tcp`.
fn through(tcp: &mut TcpStream, mut tunnel: Tunnel, deadline: Instant) -> Result<(), Error> {
    let proxy_timeout = |error: Error| match error {
        Error::HandshakeTimeout => ProxyError::TimedOut.into(),
        other => other,
    };
    let mut buf = [0; 1024];
    loop {
        while !tunnel.transmit().is_empty() {
            arm(tcp, deadline).map_err(proxy_timeout)?;
            match tcp.write(tunnel.transmit()) {
                Ok(0) => return Err(ProxyError::Closed.into()),
                Ok(n) => tunnel.advance_transmit(n),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if timed_out(&error) => return Err(ProxyError::TimedOut.into()),
                Err(error) => return Err(error.into()),
            }
        }
        arm(tcp, deadline).map_err(proxy_timeout)?;
        let n = match tcp.read(&mut buf) {
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) if timed_out(&error) => return Err(ProxyError::TimedOut.into()),
            Err(error) => return Err(error.into()),
        };
        if n == 0 {
            return Err(tunnel.receive_eof().into());
        }
        if tunnel.receive(&buf[..n])? == Progress::Done {
            return Ok(());
        }
    }
}

/// The TLS handshake over `tcp`, within the deadline.
#[cfg(feature = "rustls")]
fn handshake_tls(
    tls: &super::Tls,
    mut tcp: TcpStream,
    deadline: Instant,
) -> Result<MaybeTlsStream, Error> {
    use crate::tls::{classify, TlsError};

    let mut conn = rustls::ClientConnection::new(tls.config.clone(), tls.name.clone())
        .map_err(|error| TlsError::from_rustls(error, &tls.host))?;
    while conn.is_handshaking() {
        arm(&tcp, deadline)?;
        conn.complete_io(&mut tcp)
            .map_err(|error| classify(error, &tls.host))?;
    }
    Ok(MaybeTlsStream::Rustls(Box::new(rustls::StreamOwned::new(
        conn, tcp,
    ))))
}
