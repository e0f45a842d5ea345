//! An echo server over the blocking adapter, a thread per connection.
//!
//! ```text
//! cargo run --release --example echo_server_blocking -- 127.0.0.1:9001
//! cargo run --release --example echo_server_blocking --features rustls -- 127.0.0.1:9443 --tls cert.pem key.pem
//! ```
//!
//! `--tls CERT KEY` serves `wss://` with the PEM certificate chain and key
//! (feature `rustls`), over `rustls::StreamOwned`; `cargo run --example
//! tls_cert` makes a pair for localhost.
//!
//! Every text and binary message comes back as it was sent. Limits are
//! raised to 64 MiB so the Autobahn testsuite's large-message cases run.
//! permessage-deflate is accepted when offered (the adapter's default);
//! `--deflate-min-size N` sets the size under which messages are sent
//! uncompressed (default 32).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;

use rfc6455::blocking::{self, Error, SocketTimeouts};
use rfc6455::handshake::Accept;
use rfc6455::{Config, Message};

#[path = "echo_server/setup.rs"]
mod setup;

use setup::{config, parse_args};

/// The server's TLS config for `--tls`, if given.
#[cfg(feature = "rustls")]
type TlsConfig = std::sync::Arc<rfc6455::tls::rustls::ServerConfig>;
/// Without the `rustls` feature there is none (`--tls` is refused).
#[cfg(not(feature = "rustls"))]
#[derive(Clone)]
enum TlsConfig {}

fn tls_config(tls: Option<(PathBuf, PathBuf)>) -> Result<Option<TlsConfig>, String> {
    let Some((cert, key)) = tls else {
        return Ok(None);
    };
    #[cfg(feature = "rustls")]
    {
        let config = rfc6455::tls::server_config_from_pem(cert, key).map_err(|e| e.to_string())?;
        Ok(Some(config))
    }
    #[cfg(not(feature = "rustls"))]
    {
        let _ = (cert, key);
        Err(
            "--tls needs the rustls feature: cargo run --example echo_server_blocking --features rustls"
                .into(),
        )
    }
}

/// Serves one connection, over TLS when `tls` is given. The read timeout
/// bounds the handshakes (TLS's included); the timers take over after.
fn serve_tcp(stream: TcpStream, tls: Option<TlsConfig>, config: Config) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(config.handshake.timeout))?;
    let Some(tls) = tls else {
        return serve(stream, config).map(drop);
    };
    #[cfg(feature = "rustls")]
    {
        use rfc6455::tls::rustls::{ServerConnection, StreamOwned};
        let conn = ServerConnection::new(tls).map_err(std::io::Error::other)?;
        let mut stream = serve(StreamOwned::new(conn, stream), config)?;
        // TLS's own close, after the WebSocket's.
        stream.conn.send_close_notify();
        stream.flush()?;
        Ok(())
    }
    #[cfg(not(feature = "rustls"))]
    match tls {}
}

/// Echoes until the close handshake is over; gives the stream back.
fn serve<S>(stream: S, config: Config) -> Result<S, Error>
where
    S: Read + Write + SocketTimeouts,
{
    let mut ws = blocking::accept_with(stream, config, |_| Ok(Accept::new()))?.with_timers()?;
    while let Some(message) = ws.read()? {
        match message {
            Message::Text(_) | Message::Binary(_) => ws.send(message)?,
            Message::Close(frame) => {
                let code = frame.map_or(1005, |f| f.code.0);
                println!("close from peer: {code}");
            }
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    Ok(ws.into_parts().0)
}

fn main() -> std::io::Result<()> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    let args = parse_args().map_err(invalid)?;
    let tls = tls_config(args.tls).map_err(invalid)?;
    let listener = TcpListener::bind(&args.addr)?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    println!(
        "echo server (blocking) listening on {scheme}://{}",
        listener.local_addr()?
    );
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                eprintln!("accept failed: {error}");
                continue;
            }
        };
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "unknown".into(), |a| a.to_string());
        println!("connect {peer}");
        let config = config(args.deflate_min_size);
        let tls = tls.clone();
        thread::spawn(move || match serve_tcp(stream, tls, config) {
            Ok(()) => println!("closed {peer}"),
            Err(error) => println!("error {peer}: {error}"),
        });
    }
    Ok(())
}
