//! Each library's echo server on a tokio current-thread runtime.
//!
//! ```text
//! echo_server VARIANT ADDR
//! ```
//!
//! Prints `ready ADDR` once listening. Every text and binary message is sent
//! back; errors end the connection quietly. The variants:
//!
//! - `rfc6455`: the tokio adapter as a user writes it, `read()` then
//!   `send(message)` (one flush per message).
//! - `rfc6455-read_with`: the adapter's zero-copy `read_with`, replying
//!   through the lent `Sender` straight from the receive buffer; replies are
//!   written together when the socket has no more input.
//! - `fastwebsockets`: `FragmentCollector` `read_frame`/`write_frame`
//!   (vectored writes on, the default), over the raw `TcpStream` after a
//!   minimal handshake (the crate's own handshake needs hyper).
//! - `tokio-websockets`, `tungstenite`: `next()` then `send(message)`, as
//!   their examples do.
//! - `tokio-websockets-feed`, `tungstenite-feed`: `feed(message)` while more
//!   messages are ready, `flush()` when the next read would wait: the fastest
//!   use of their `Sink`.
//!
//! A thread per connection, with the server pinned to one core as the
//! others are (for `loadgen echo --variants rfc6455-blocking,tungstenite-blocking`):
//!
//! - `rfc6455-blocking`: the blocking adapter over `std::net::TcpStream`,
//!   `read()` then `send(message)`.
//! - `tungstenite-blocking`: tungstenite's own blocking `WebSocket`,
//!   `read()` then `send(message)` (a write and a flush per message), as
//!   its examples do.
//!
//! Not a library: the yardstick for what a library can win over the peers
//! on this machine (`rfc6455_compare::floor`), run by name only:
//!
//! - `floor`: no checks but the frame header's, no allocation, no copy
//!   out of the read buffer; each payload unmasked in place and written
//!   back from there, one write per message.
//! - `floor-batched`: the same, with the replies to each read's whole
//!   frames in one write.
//!
//! With permessage-deflate (RFC 7692), for `loadgen echo --deflate`, every
//! server set alike: zlib's default level 6, 15-bit windows both ways,
//! context takeover kept, UTF-8 of text checked:
//!
//! - `rfc6455-deflate`, `rfc6455-read_with-deflate`: the two loops above.
//! - `yawc-deflate`: yawc, the peer with permessage-deflate, as its server
//!   examples run it: hyper answers the upgrade, then `next()` and
//!   `send(frame)` on the upgraded connection.

use std::io;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const VARIANTS: [&str; 14] = [
    "rfc6455",
    "rfc6455-read_with",
    "fastwebsockets",
    "tokio-websockets",
    "tokio-websockets-feed",
    "tungstenite",
    "tungstenite-feed",
    "rfc6455-deflate",
    "rfc6455-read_with-deflate",
    "yawc-deflate",
    "rfc6455-blocking",
    "tungstenite-blocking",
    "floor",
    "floor-batched",
];

/// zlib's default level, which every deflate variant compresses at.
const LEVEL: u8 = 6;

/// rfc6455's default configuration, or with `deflate` the settings every
/// deflate variant shares (its own default windows are 12 bits).
fn rfc6455_config(deflate: bool) -> rfc6455::Config {
    let mut config = rfc6455::Config::default();
    config.handshake.deflate = deflate.then(|| rfc6455::deflate::DeflateConfig {
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        level: u32::from(LEVEL),
        ..rfc6455::deflate::DeflateConfig::default()
    });
    config
}

async fn rfc6455_accept(
    stream: TcpStream,
    deflate: bool,
) -> Result<rfc6455::tokio::WebSocket<TcpStream>, BoxError> {
    let accept = |_: &rfc6455::handshake::Request| Ok(rfc6455::handshake::Accept::new());
    Ok(rfc6455::tokio::accept_with(stream, rfc6455_config(deflate), accept).await?)
}

async fn rfc6455_read_send(stream: TcpStream, deflate: bool) -> Result<(), BoxError> {
    use rfc6455::Message;
    let mut ws = rfc6455_accept(stream, deflate).await?;
    while let Some(message) = ws.read().await? {
        if matches!(message, Message::Text(_) | Message::Binary(_)) {
            ws.send(message).await?;
        }
    }
    Ok(())
}

async fn rfc6455_read_with(stream: TcpStream, deflate: bool) -> Result<(), BoxError> {
    use rfc6455::Event;
    let mut ws = rfc6455_accept(stream, deflate).await?;
    while let Some(sent) = ws
        .read_with(|event, sender| match event {
            Event::Text(text) => sender.send_text(text),
            Event::Binary(data) => sender.send_binary(data),
            _ => Ok(()),
        })
        .await?
    {
        sent?;
        if ws.connection().is_write_buffer_high() {
            ws.flush().await?;
        }
    }
    Ok(())
}

/// Reads the upgrade request and answers it: fastwebsockets leaves the
/// handshake to hyper, which would put its `Upgraded` wrapper between the
/// socket and the frames.
async fn raw_handshake(stream: &mut TcpStream) -> Result<(), BoxError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("eof during the handshake".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(len) = request.parse(&buf)? {
            if len != buf.len() {
                return Err("bytes after the handshake request".into());
            }
            let key = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
                .ok_or("no Sec-WebSocket-Key")?
                .value;
            let response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                rfc6455_compare::accept_key(key)
            );
            stream.write_all(response.as_bytes()).await?;
            return Ok(());
        }
    }
}

async fn floor_echo(mut stream: TcpStream, batched: bool) -> Result<(), BoxError> {
    raw_handshake(&mut stream).await?;
    rfc6455_compare::floor::echo(stream, batched).await
}

async fn fastwebsockets_echo(mut stream: TcpStream) -> Result<(), BoxError> {
    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    raw_handshake(&mut stream).await?;
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(stream, Role::Server));
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}

/// The echo loop for a peer that is a `Stream` + `Sink` of its own message
/// type (tokio-websockets, tokio-tungstenite); `is_data` picks the text and
/// binary messages to send back.
async fn sink_echo<W, M, E>(mut ws: W, feed: bool, is_data: fn(&M) -> bool) -> Result<(), BoxError>
where
    W: futures_util::Stream<Item = Result<M, E>> + futures_util::Sink<M, Error = E> + Unpin,
    E: std::error::Error + Send + Sync + 'static,
{
    loop {
        let next = if feed {
            match ws.next().now_or_never() {
                Some(next) => next,
                None => {
                    ws.flush().await?;
                    ws.next().await
                }
            }
        } else {
            ws.next().await
        };
        let Some(message) = next else {
            return Ok(());
        };
        let message = message?;
        if is_data(&message) {
            if feed {
                ws.feed(message).await?;
            } else {
                ws.send(message).await?;
            }
        }
    }
}

async fn tokio_websockets_echo(stream: TcpStream, feed: bool) -> Result<(), BoxError> {
    let (_request, ws) = tokio_websockets::ServerBuilder::new()
        .accept(stream)
        .await?;
    sink_echo(ws, feed, |m: &tokio_websockets::Message| {
        m.is_text() || m.is_binary()
    })
    .await
}

async fn tungstenite_echo(stream: TcpStream, feed: bool) -> Result<(), BoxError> {
    let ws = tokio_tungstenite::accept_async(stream).await?;
    sink_echo(ws, feed, |m: &tokio_tungstenite::tungstenite::Message| {
        m.is_text() || m.is_binary()
    })
    .await
}

async fn yawc_echo(stream: TcpStream) -> Result<(), BoxError> {
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use yawc::frame::OpCode;
    let service = service_fn(|mut request| async move {
        let options = yawc::Options::default()
            .with_compression_level(yawc::CompressionLevel::new(u32::from(LEVEL)))
            .with_server_max_window_bits(15)
            .with_client_max_window_bits(15)
            .with_utf8();
        let (response, upgrade) = yawc::WebSocket::upgrade_with_options(&mut request, options)?;
        tokio::spawn(async move {
            let Ok(mut ws) = upgrade.await else {
                return;
            };
            while let Some(frame) = ws.next().await {
                let data = matches!(frame.opcode(), OpCode::Text | OpCode::Binary);
                if frame.opcode() == OpCode::Close || (data && ws.send(frame).await.is_err()) {
                    return;
                }
            }
        });
        Ok::<_, yawc::WebSocketError>(response)
    });
    hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await?;
    Ok(())
}

fn rfc6455_blocking_echo(stream: std::net::TcpStream) -> Result<(), BoxError> {
    use rfc6455::Message;
    let accept = |_: &rfc6455::handshake::Request| Ok(rfc6455::handshake::Accept::new());
    let mut ws = rfc6455::blocking::accept_with(stream, rfc6455_config(false), accept)?;
    while let Some(message) = ws.read()? {
        if matches!(message, Message::Text(_) | Message::Binary(_)) {
            ws.send(message)?;
        }
    }
    Ok(())
}

fn tungstenite_blocking_echo(stream: std::net::TcpStream) -> Result<(), BoxError> {
    let mut ws = tungstenite::accept(stream)?;
    loop {
        let message = ws.read()?;
        if message.is_text() || message.is_binary() {
            ws.send(message)?;
        }
    }
}

/// Accepts connections and runs `handler` on each in a thread of its own.
fn serve_blocking(
    listener: std::net::TcpListener,
    handler: fn(std::net::TcpStream) -> Result<(), BoxError>,
) -> io::Result<()> {
    loop {
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        stream.set_nodelay(true)?;
        std::thread::spawn(move || {
            let _ = handler(stream);
        });
    }
}

/// Accepts connections and runs `handler` on each in its own task. Generic,
/// so each server's tasks are only as large as its own handler's future.
async fn serve<F, Fut>(listener: TcpListener, handler: F) -> io::Result<()>
where
    F: Fn(TcpStream) -> Fut,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        stream.set_nodelay(true)?;
        let task = handler(stream);
        tokio::spawn(async move {
            let _ = task.await;
        });
    }
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_default();
    if !VARIANTS.contains(&variant.as_str()) {
        eprintln!("usage: echo_server VARIANT ADDR; VARIANT is one of {VARIANTS:?}");
        std::process::exit(2);
    }
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let blocking = match variant.as_str() {
        "rfc6455-blocking" => Some(rfc6455_blocking_echo as fn(_) -> _),
        "tungstenite-blocking" => Some(tungstenite_blocking_echo as fn(_) -> _),
        _ => None,
    };
    if let Some(handler) = blocking {
        let listener = std::net::TcpListener::bind(&addr)?;
        println!("ready {}", listener.local_addr()?);
        return serve_blocking(listener, handler);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("ready {}", listener.local_addr()?);
        match variant.as_str() {
            "rfc6455" => serve(listener, |s| rfc6455_read_send(s, false)).await,
            "rfc6455-read_with" => serve(listener, |s| rfc6455_read_with(s, false)).await,
            "rfc6455-deflate" => serve(listener, |s| rfc6455_read_send(s, true)).await,
            "rfc6455-read_with-deflate" => serve(listener, |s| rfc6455_read_with(s, true)).await,
            "yawc-deflate" => serve(listener, yawc_echo).await,
            "fastwebsockets" => serve(listener, fastwebsockets_echo).await,
            "floor" => serve(listener, |s| floor_echo(s, false)).await,
            "floor-batched" => serve(listener, |s| floor_echo(s, true)).await,
            "tokio-websockets" => serve(listener, |s| tokio_websockets_echo(s, false)).await,
            "tokio-websockets-feed" => serve(listener, |s| tokio_websockets_echo(s, true)).await,
            "tungstenite" => serve(listener, |s| tungstenite_echo(s, false)).await,
            "tungstenite-feed" => serve(listener, |s| tungstenite_echo(s, true)).await,
            _ => unreachable!(),
        }
    })
}
