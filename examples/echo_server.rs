//! An echo server over the tokio adapter.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```
//!
//! Every text and binary message comes back as it was sent. Limits are
//! raised to 64 MiB so the Autobahn testsuite's large-message cases run.
//! permessage-deflate is accepted when offered (the adapter's default);
//! `--deflate-min-size N` sets the size under which messages are sent
//! uncompressed (default 32).
//! Connects, closes and errors are logged, one line each.

use std::net::SocketAddr;

use rfc6455::handshake::Accept;
use rfc6455::tokio::Error;
use rfc6455::{Config, Message};
use tokio::net::{TcpListener, TcpStream};

/// permessage-deflate is negotiated through the adapter's default
/// (`config.handshake.deflate`); `deflate_min_size` overrides the size
/// under which messages go uncompressed.
fn config(deflate_min_size: Option<usize>) -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    config.max_write_buffer = 128 << 20;
    #[cfg(feature = "deflate")]
    if let (Some(deflate), Some(min_size)) = (&mut config.handshake.deflate, deflate_min_size) {
        deflate.min_size = min_size;
    }
    #[cfg(not(feature = "deflate"))]
    let _ = deflate_min_size;
    config
}

/// The command line: `[ADDR] [--deflate-min-size N]`.
fn parse_args() -> Result<(String, Option<usize>), String> {
    let mut addr = None;
    let mut min_size = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--deflate-min-size" => {
                let n = args.next().and_then(|n| n.parse().ok());
                min_size = Some(n.ok_or("--deflate-min-size needs a number of bytes")?);
            }
            _ if arg.starts_with('-') || addr.is_some() => {
                return Err(format!("usage: ADDR [--deflate-min-size N], got {arg}"))
            }
            _ => addr = Some(arg),
        }
    }
    Ok((addr.unwrap_or_else(|| "127.0.0.1:9001".into()), min_size))
}

async fn serve(stream: TcpStream, config: Config) -> Result<Option<u16>, Error> {
    stream.set_nodelay(true)?;
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
    let (addr, deflate_min_size) = parse_args()
        .map_err(|usage| std::io::Error::new(std::io::ErrorKind::InvalidInput, usage))?;
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "echo server (tokio) listening on ws://{}",
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
        let config = config(deflate_min_size);
        tokio::spawn(async move {
            match serve(stream, config).await {
                Ok(Some(code)) => println!("closed {peer}: {code}"),
                Ok(None) => println!("closed {peer}"),
                Err(error) => println!("error {peer}: {error}"),
            }
        });
    }
}
