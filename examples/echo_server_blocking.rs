//! An echo server over the blocking adapter, a thread per connection.
//!
//! ```text
//! cargo run --release --example echo_server_blocking -- 127.0.0.1:9001
//! ```
//!
//! Every text and binary message comes back as it was sent. Limits are
//! raised to 64 MiB so the Autobahn testsuite's large-message cases run.

use std::net::{TcpListener, TcpStream};
use std::thread;

use rfc6455::blocking::{self, Error};
use rfc6455::handshake::Accept;
use rfc6455::{Config, Message};

fn config() -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    config.max_write_buffer = 128 << 20;
    config
}

fn serve(stream: TcpStream) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    let config = config();
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
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
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
        thread::spawn(move || match serve(stream) {
            Ok(()) => println!("closed {peer}"),
            Err(error) => println!("error {peer}: {error}"),
        });
    }
    Ok(())
}
