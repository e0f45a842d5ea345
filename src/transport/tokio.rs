//! The tokio driver of the connect plan, and the stream it gives. Each
//! step runs under `timeout_at` the one deadline.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use ::tokio::net::TcpStream;
use ::tokio::time::{timeout_at, Instant};

use super::{bare_host, no_address, resolve_here, unreachable, Route};
use crate::adapter::Error;
use crate::handshake::Target;
use crate::proxy::{Progress, ProxyError, Tunnel};

/// What [`connect`](crate::tokio::connect) connects over: TCP, or TLS over
/// TCP for `wss://`. Both URL schemes give this one type.
///
/// A TLS peer that closes the TCP connection without TLS's `close_notify`
/// reads as the end of the stream, not as an error: the WebSocket close
/// handshake, not TLS, tells a clean end from a truncated one. Shutting
/// the stream down sends `close_notify`.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// `ws://`: the TCP stream.
    Plain(TcpStream),
    /// `wss://`: rustls over the TCP stream (feature `rustls`). Boxed: a
    /// TLS connection's state is some kilobytes, which a plain one should
    /// not carry.
    #[cfg(feature = "rustls")]
    Rustls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl MaybeTlsStream {
    /// The TCP stream underneath, for its addresses and options.
    pub fn get_ref(&self) -> &TcpStream {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.get_ref().0,
        }
    }

    /// Whether the stream is TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, MaybeTlsStream::Plain(_))
    }
}

impl AsyncRead for MaybeTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => match Pin::new(tls.as_mut()).poll_read(cx, buf) {
                Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::UnexpectedEof => {
                    Poll::Ready(Ok(()))
                }
                other => other,
            },
        }
    }
}

impl AsyncWrite for MaybeTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.is_write_vectored(),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// `step` before `deadline`, or `on_timeout`.
async fn before<T>(
    deadline: Instant,
    on_timeout: impl FnOnce() -> Error,
    step: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    timeout_at(deadline, step)
        .await
        .unwrap_or_else(|_| Err(on_timeout()))
}

/// Opens the route to `target`: TCP, the proxy's tunnel, TLS.
pub(crate) async fn open(
    route: &Route,
    target: &Target,
    deadline: Instant,
) -> Result<MaybeTlsStream, Error> {
    let timeout = || Error::HandshakeTimeout;
    let tcp = match &route.proxy {
        None => before(deadline, timeout, connect_tcp(&target.host, target.port)).await?,
        Some(proxy) => {
            let mut tcp = before(deadline, timeout, connect_tcp(proxy.host(), proxy.port()))
                .await
                .map_err(|error| unreachable(proxy, error))?;
            let host = match resolve_here(proxy, target) {
                Some(name) => {
                    let lookup = async {
                        let mut addresses = ::tokio::net::lookup_host((name, target.port)).await?;
                        addresses.next().ok_or_else(|| no_address(name))
                    };
                    before(deadline, timeout, lookup).await?.ip().to_string()
                }
                None => bare_host(target).to_owned(),
            };
            let tunnel = proxy.tunnel(&host, target.port)?;
            before(
                deadline,
                || ProxyError::TimedOut.into(),
                through(&mut tcp, tunnel),
            )
            .await?;
            tcp
        }
    };
    tcp.set_nodelay(true)?;
    #[cfg(feature = "rustls")]
    if let Some(tls) = &route.tls {
        let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
        let handshake = async {
            connector
                .connect(tls.name.clone(), tcp)
                .await
                .map_err(|error| crate::tls::classify(error, &tls.host))
        };
        let stream = before(deadline, timeout, handshake).await?;
        return Ok(MaybeTlsStream::Rustls(Box::new(stream)));
    }
    Ok(MaybeTlsStream::Plain(tcp))
}

async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, Error> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(TcpStream::connect((host, port)).await?)
}

/// Runs the proxy's exchange on `tcp`.
async fn through(tcp: &mut TcpStream, mut tunnel: Tunnel) -> Result<(), Error> {
    let mut buf = [0; 1024];
    loop {
        let out = tunnel.transmit();
        if !out.is_empty() {
            tcp.write_all(out).await?;
            let n = out.len();
            tunnel.advance_transmit(n);
        }
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err(tunnel.receive_eof().into());
        }
        if tunnel.receive(&buf[..n])? == Progress::Done {
            return Ok(());
        }
    }
}
