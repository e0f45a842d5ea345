//! Sends each line of standard input to a WebSocket server and prints what
//! comes back.
//!
//! ```text
//! cargo run --example echo_client -- ws://127.0.0.1:9001
//! cargo run --example echo_client --features rustls -- wss://localhost:9443 --ca ca.pem
//! ```
//!
//! `wss://` URLs need the `rustls` feature; the server's certificate is
//! checked against Mozilla's roots, or with `--ca FILE` against the CA
//! certificates in that PEM file only. The proxy the environment names
//! (`https_proxy`, `http_proxy`, `all_proxy`, `no_proxy`) is used, as curl
//! would.

use std::io::BufRead;

use rfc6455::blocking;
use rfc6455::handshake::ClientOptions;
use rfc6455::{Config, Message};

const USAGE: &str = "usage: echo_client [ws://HOST:PORT/PATH | wss://...] [--ca FILE]";

/// The URL and the handshake options (`--ca`).
fn parse_args() -> Result<(String, ClientOptions), String> {
    let mut url = None;
    #[cfg_attr(not(feature = "rustls"), allow(unused_mut))]
    let mut options = ClientOptions::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => {
                let file = args.next().ok_or("--ca needs a PEM file")?;
                #[cfg(feature = "rustls")]
                {
                    let tls = rfc6455::tls::ClientTls::from_ca_file(&file);
                    options = options.tls(tls.map_err(|error| error.to_string())?);
                }
                #[cfg(not(feature = "rustls"))]
                return Err(format!("--ca {file}: TLS needs the rustls feature"));
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ if arg.starts_with('-') || url.is_some() => {
                return Err(format!("unexpected argument {arg}\n{USAGE}"))
            }
            _ => url = Some(arg),
        }
    }
    let url = url.unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    Ok((url, options))
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("echo_client: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (url, options) = parse_args()?;
    let (mut ws, _response) = blocking::connect_with(&url, options, Config::default())?;
    eprintln!("connected to {url}; type lines, end with Ctrl-D");
    for line in std::io::stdin().lock().lines() {
        ws.send(Message::Text(line?))?;
        // Pings and pongs may come first; the echo is the next data message.
        loop {
            match ws.read()? {
                Some(Message::Text(echo)) => break println!("{echo}"),
                Some(Message::Binary(echo)) => break println!("{echo:?}"),
                Some(Message::Close(frame)) => eprintln!("server is closing: {frame:?}"),
                Some(_) => {}
                None => return Ok(()),
            }
        }
    }
    ws.close(1000u16, "bye")?;
    while let Some(message) = ws.read()? {
        if let Message::Close(frame) = message {
            eprintln!("closed: {frame:?}");
        }
    }
    Ok(())
}
