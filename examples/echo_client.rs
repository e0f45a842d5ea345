//! Sends each line of standard input to a WebSocket server and prints what
//! comes back.
//!
//! ```text
//! cargo run --example echo_client -- ws://127.0.0.1:9001
//! ```

use std::io::BufRead;

use rfc6455::blocking;
use rfc6455::Message;

fn main() -> Result<(), blocking::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let (mut ws, _response) = blocking::connect(&url)?;
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
