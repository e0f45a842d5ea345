//! An echo server over the blocking adapter, a thread per connection.
//!
//! ```text
//! cargo run --release --example echo_server_blocking -- 127.0.0.1:9001
//! ```
//!
//! Every text and binary message comes back as it was sent. Limits are
//! raised to 64 MiB so the Autobahn testsuite's large-message cases run.
//! permessage-deflate is accepted when offered (the adapter's default);
//! `--deflate-min-size N` sets the size under which messages are sent
//! uncompressed (default 32).

use std::net::{TcpListener, TcpStream};
use std::thread;

use rfc6455::blocking::{self, Error};
use rfc6455::handshake::Accept;
use rfc6455::{Config, Message};

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

fn serve(stream: TcpStream, config: Config) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(config.handshake.timeout))?;
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
    Ok(())
}

fn main() -> std::io::Result<()> {
    let (addr, deflate_min_size) = parse_args()
        .map_err(|usage| std::io::Error::new(std::io::ErrorKind::InvalidInput, usage))?;
    let listener = TcpListener::bind(&addr)?;
    println!(
        "echo server (blocking) listening on ws://{}",
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
        let config = config(deflate_min_size);
        thread::spawn(move || match serve(stream, config) {
            Ok(()) => println!("closed {peer}"),
            Err(error) => println!("error {peer}: {error}"),
        });
    }
    Ok(())
}
