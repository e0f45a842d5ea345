//! An echo server over the tokio adapter.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! cargo run --release --example echo_server --features rustls -- 127.0.0.1:9443 --tls cert.pem key.pem
//! ```
//!
//! `--tls CERT KEY` serves `wss://` with the PEM certificate chain and key
//! (feature `rustls`; `cargo run --example tls_cert` makes a pair for
//! localhost, with the CA a client can be given).
//!
//! Every text and binary message comes back as it was sent. Limits are
//! raised to 64 MiB so the Autobahn testsuite's large-message cases run.
//! permessage-deflate is accepted when offered (the adapter's default);
//! `--deflate-min-size N` sets the size under which messages are sent
//! uncompressed (default 32).
//! Connects, closes and errors are logged, one line each.

use std::net::SocketAddr;
use std::path::PathBuf;

use rfc6455::handshake::Accept;
use rfc6455::tokio::Error;
use rfc6455::{Config, Message};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

#[path = "echo_server/setup.rs"]
mod setup;

use setup::{config, parse_args};

/// The TLS acceptor for `--tls`, if given.
#[cfg(feature = "rustls")]
type Acceptor = rfc6455::tls::tokio_rustls::TlsAcceptor;
/// Without the `rustls` feature there is none (`--tls` is refused).
#[cfg(not(feature = "rustls"))]
#[derive(Clone)]
enum Acceptor {}

fn acceptor(tls: Option<(PathBuf, PathBuf)>) -> Result<Option<Acceptor>, String> {
    let Some((cert, key)) = tls else {
        return Ok(None);
    };
    #[cfg(feature = "rustls")]
    {
        let config = rfc6455::tls::server_config_from_pem(cert, key).map_err(|e| e.to_string())?;
        Ok(Some(Acceptor::from(config)))
    }
    #[cfg(not(feature = "rustls"))]
    {
        let _ = (cert, key);
        Err(
            "--tls needs the rustls feature: cargo run --example echo_server --features rustls"
                .into(),
        )
    }
}

/// Runs the TLS handshake (if serving `wss://`), within the handshake
/// timeout, then the echo.
async fn serve_tcp(
    stream: TcpStream,
    acceptor: Option<Acceptor>,
    config: Config,
) -> Result<Option<u16>, Error> {
    stream.set_nodelay(true)?;
    let Some(acceptor) = acceptor else {
        return serve(stream, config).await;
    };
    #[cfg(feature = "rustls")]
    {
        let handshake = tokio::time::timeout(config.handshake.timeout, acceptor.accept(stream));
        let tls = handshake.await.map_err(|_| Error::HandshakeTimeout)??;
        serve(tls, config).await
    }
    #[cfg(not(feature = "rustls"))]
    match acceptor {}
}

async fn serve<S>(stream: S, config: Config) -> Result<Option<u16>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut ws = rfc6455::tokio::accept_with(stream, config, |_| Ok(Accept::new())).await?;
    let mut close_code = None;
    while let Some(message) = ws.read().await? {
        match message {
            Message::Text(_) | Message::Binary(_) => ws.send(message).await?,
            Message::Close(frame) => close_code = Some(frame.map_or(1005, |f| f.code.0)),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    Ok(close_code)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    let args = parse_args().map_err(invalid)?;
    let acceptor = acceptor(args.tls).map_err(invalid)?;
    let listener = TcpListener::bind(&args.addr).await?;
    let scheme = if acceptor.is_some() { "wss" } else { "ws" };
    println!(
        "echo server (tokio) listening on {scheme}://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, peer): (TcpStream, SocketAddr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("accept failed: {error}");
                continue;
            }
        };
        println!("connect {peer}");
        let config = config(args.deflate_min_size);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match serve_tcp(stream, acceptor, config).await {
                Ok(Some(code)) => println!("closed {peer}: {code}"),
                Ok(None) => println!("closed {peer}"),
                Err(error) => println!("error {peer}: {error}"),
            }
        });
    }
}
