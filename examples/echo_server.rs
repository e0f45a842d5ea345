//! An echo server over the tokio adapter.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```
//!
//! Every text and binary message comes back as it was sent. Limits are
//! raised to 64 MiB so the Autobahn testsuite's large-message cases run.
//! Connects, closes and errors are logged, one line each.

use std::net::SocketAddr;

use rfc6455::handshake::Accept;
use rfc6455::tokio::Error;
use rfc6455::{Config, Message};
use tokio::net::{TcpListener, TcpStream};

fn config() -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    config.max_write_buffer = 128 << 20;
    config
}

async fn serve(stream: TcpStream) -> Result<Option<u16>, Error> {
    stream.set_nodelay(true)?;
    let mut ws = rfc6455::tokio::accept_with(stream, config(), |_| Ok(Accept::new())).await?;
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
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
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
        tokio::spawn(async move {
            match serve(stream).await {
                Ok(Some(code)) => println!("closed {peer}: {code}"),
                Ok(None) => println!("closed {peer}"),
                Err(error) => println!("error {peer}: {error}"),
            }
        });
    }
}
