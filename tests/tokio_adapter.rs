//! The tokio adapter over real loopback sockets.
#![cfg(feature = "tokio")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rfc6455::handshake::{Accept, ClientOptions, Incoming, ServerHandshake};
use rfc6455::tokio::{self as ws, Error};
use rfc6455::{Config, Connection, Keepalive, Message, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    (listener, url)
}

/// Accepts one connection and echoes until the close handshake ends.
async fn echo_once(listener: TcpListener) -> Vec<Message> {
    let (stream, _) = listener.accept().await.unwrap();
    let mut socket = ws::accept(stream).await.unwrap();
    let mut seen = Vec::new();
    while let Some(message) = socket.read().await.unwrap() {
        if matches!(message, Message::Text(_) | Message::Binary(_)) {
            socket.send(message.clone()).await.unwrap();
        }
        seen.push(message);
    }
    seen
}

#[tokio::test]
async fn echo_and_clean_close() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(echo_once(listener));
    let (mut socket, _) = ws::connect(&url).await.unwrap();
    socket.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(
        socket.read().await.unwrap(),
        Some(Message::Text("hello".into()))
    );
    let big = vec![3u8; 1 << 20];
    socket.send(Message::Binary(big.clone())).await.unwrap();
    assert_eq!(socket.read().await.unwrap(), Some(Message::Binary(big)));
    socket.close(1000u16, "bye").await.unwrap();
    assert!(
        matches!(socket.read().await.unwrap(), Some(Message::Close(Some(f))) if f.code.0 == 1000)
    );
    assert_eq!(socket.read().await.unwrap(), None);
    assert_eq!(server.await.unwrap().len(), 3);
}

#[tokio::test]
async fn stream_and_sink() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(echo_once(listener));
    let (mut socket, _) = ws::connect(&url).await.unwrap();
    for i in 0..10 {
        socket.feed(Message::Text(i.to_string())).await.unwrap();
    }
    socket.flush().await.unwrap();
    let echoed: Vec<_> = (&mut socket).take(10).map(Result::unwrap).collect().await;
    let expected: Vec<_> = (0..10).map(|i| Message::Text(i.to_string())).collect();
    assert_eq!(echoed, expected);
    SinkExt::close(&mut socket).await.unwrap();
    while let Some(message) = socket.next().await {
        message.unwrap();
    }
    server.await.unwrap();
}

#[tokio::test]
async fn split_halves_run_in_two_tasks() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(echo_once(listener));
    let (socket, _) = ws::connect(&url).await.unwrap();
    let (mut read, mut write) = socket.split();
    let writer = tokio::spawn(async move {
        for i in 0..200u32 {
            write
                .send(Message::Binary(i.to_be_bytes().repeat(100)))
                .await
                .unwrap();
        }
        write.close(1000u16, "").await.unwrap();
        write
    });
    let mut count = 0u32;
    while let Some(message) = read.read().await.unwrap() {
        if let Message::Binary(data) = message {
            assert_eq!(data, count.to_be_bytes().repeat(100));
            count += 1;
        }
    }
    assert_eq!(count, 200);
    let write = writer.await.unwrap();
    assert!(read.reunite(write).is_ok());
    server.await.unwrap();
}

#[tokio::test]
async fn a_read_half_alone_answers_pings() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = ws::accept(stream).await.unwrap();
        socket
            .send(Message::Ping(b"still there?".to_vec()))
            .await
            .unwrap();
        loop {
            match socket.read().await.unwrap() {
                Some(Message::Pong(payload)) => break payload,
                Some(_) => {}
                None => panic!("closed before the pong"),
            }
        }
    });
    let (socket, _) = ws::connect(&url).await.unwrap();
    let (mut read, _write) = socket.split();
    let reader = tokio::spawn(async move { while read.read().await.is_ok_and(|m| m.is_some()) {} });
    let pong = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pong, b"still there?");
    reader.abort();
}

#[tokio::test]
async fn dropping_a_read_mid_frame_loses_and_duplicates_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let socket = ws::accept(stream).await.unwrap();
        // Hand-built frames, sent so the first read ends mid-frame.
        let payload: Vec<u8> = (0..5000u32).map(|i| (i % 256) as u8).collect();
        let mut first = vec![0x82, 126];
        first.extend_from_slice(&5000u16.to_be_bytes());
        first.extend_from_slice(&payload);
        first.extend_from_slice(&[0x81, 5]);
        first.extend_from_slice(b"after");
        let (mut stream, _) = socket.into_parts();
        stream.write_all(&first[..2000]).await.unwrap();
        release_rx.await.unwrap();
        stream.write_all(&first[2000..]).await.unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        payload
    });
    let (mut socket, _) = ws::connect(&url).await.unwrap();
    // The first read gets part of the frame, then is dropped.
    let cancelled = tokio::time::timeout(Duration::from_millis(200), socket.read()).await;
    assert!(cancelled.is_err(), "nothing complete had arrived");
    release_tx.send(()).unwrap();
    let first = socket.read().await.unwrap();
    let second = socket.read().await.unwrap();
    drop(socket);
    let payload = server.await.unwrap();
    assert_eq!(first, Some(Message::Binary(payload)));
    assert_eq!(second, Some(Message::Text("after".into())));
}

#[tokio::test]
async fn a_silent_peer_fails_keepalive() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let socket = ws::accept(stream).await.unwrap();
        // Never read again: the pings go unanswered.
        let (stream, _) = socket.into_parts();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(stream);
    });
    let mut config = Config::default();
    config.keepalive = Some(Keepalive::new(
        Duration::from_millis(100),
        Duration::from_millis(100),
    ));
    let stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
        .await
        .unwrap();
    let (mut socket, _) = ws::client(&url, ClientOptions::new(), stream, config)
        .await
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(3), socket.read())
        .await
        .unwrap();
    assert!(
        matches!(
            result,
            Err(Error::Connection(rfc6455::Error::KeepaliveTimeout(_)))
        ),
        "{result:?}"
    );
    server.abort();
}

#[tokio::test]
async fn a_stream_upgraded_elsewhere_is_adopted() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        // Another HTTP stack did the handshake with the sans-IO types.
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut handshake = ServerHandshake::new();
        let mut buf = [0; 1024];
        let request = loop {
            let n = stream.read(&mut buf).await.unwrap();
            if let Some(Incoming::Upgrade(request)) = handshake.receive(&buf[..n]).unwrap() {
                break request;
            }
        };
        stream
            .write_all(&request.accept(&Accept::new()).unwrap())
            .await
            .unwrap();
        let mut conn = Connection::new(Role::Server, Config::default());
        conn.receive(handshake.leftover());
        let mut socket = ws::WebSocket::from_connection(stream, conn);
        let message = socket.read().await.unwrap();
        socket.send(Message::Text("adopted".into())).await.unwrap();
        while socket.read().await.unwrap().is_some() {}
        message
    });
    let (mut socket, _) = ws::connect(&url).await.unwrap();
    socket.send(Message::Text("hi".into())).await.unwrap();
    assert_eq!(
        socket.read().await.unwrap(),
        Some(Message::Text("adopted".into()))
    );
    socket.close(1000u16, "").await.unwrap();
    while socket.read().await.unwrap().is_some() {}
    assert_eq!(server.await.unwrap(), Some(Message::Text("hi".into())));
}

#[tokio::test]
async fn a_protocol_error_reaches_the_peer_as_a_close_frame_before_the_transport_closes() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = ws::accept(stream).await.unwrap();
        socket.read().await
    });
    let mut stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
        .await
        .unwrap();
    let handshake = rfc6455::handshake::ClientHandshake::new(&url, ClientOptions::new()).unwrap();
    stream.write_all(handshake.request()).await.unwrap();
    // An unmasked frame from a client breaks RFC 6455 §5.1.
    stream.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut received))
        .await
        .unwrap()
        .unwrap();
    let frames_at = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let frame = &received[frames_at..];
    assert_eq!(frame[0], 0x88, "a close frame");
    assert_eq!(u16::from_be_bytes([frame[2], frame[3]]), 1002);
    let result = server.await.unwrap();
    assert!(
        matches!(
            result,
            Err(Error::Connection(rfc6455::Error::Protocol(
                rfc6455::ProtocolError::UnmaskedFrame
            )))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_handshake_dripping_slower_than_its_timeout_is_dropped() {
    let (listener, url) = listener().await;
    let mut config = Config::default();
    config.handshake.timeout = Duration::from_millis(300);
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        ws::accept_with(stream, config, |_| Ok(Accept::new())).await
    });
    let mut stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    for byte in b"GET / HTTP/1.1\r\nHost: x\r\n" {
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if server.is_finished() {
            break;
        }
    }
    let result = server.await.unwrap();
    assert!(matches!(result, Err(Error::HandshakeTimeout)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_close_reply_stuck_behind_unread_data_ends_at_the_write_timeout() {
    let (listener, url) = listener().await;
    let mut config = Config::default();
    config.write_timeout = Some(Duration::from_millis(300));
    // Zeros compress a thousandfold: uncompressed, the socket fills.
    #[cfg(feature = "deflate")]
    {
        config.handshake.deflate = None;
    }
    let (close_tx, close_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = ws::accept_with(stream, config, |_| Ok(Accept::new()))
            .await
            .unwrap();
        let chunk = vec![0u8; 64 << 10];
        // Fill the peer, which never reads, until sending stalls.
        loop {
            let send = socket.send(Message::Binary(chunk.clone()));
            if tokio::time::timeout(Duration::from_millis(200), send)
                .await
                .is_err()
            {
                break;
            }
        }
        close_tx.send(()).unwrap();
        // The peer's close arrives; the reply waits behind the unread data.
        let mut results = Vec::new();
        loop {
            let result = socket.read().await;
            let done = !matches!(result, Ok(Some(_)));
            results.push(result);
            if done {
                return results;
            }
        }
    });
    let mut stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
        .await
        .unwrap();
    let handshake = rfc6455::handshake::ClientHandshake::new(&url, ClientOptions::new()).unwrap();
    stream.write_all(handshake.request()).await.unwrap();
    close_rx.await.unwrap();
    // A masked close frame with code 1000, and never a read.
    stream
        .write_all(&[0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2])
        .await
        .unwrap();
    let results = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server gave up on the peer")
        .unwrap();
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(Error::Connection(rfc6455::Error::WriteTimeout(_))))),
        "{results:?}"
    );
    drop(stream);
}

/// Large replies from `read_with` go to the socket straight from the
/// receive buffer when nothing is queued before them; over a pipe that
/// takes 4 KiB at a time most of each is queued after a partial write or
/// none. Every reply must still arrive whole and in order, between small
/// ones and pongs.
/// Echoes every data message through `read_with`'s lent sender until the
/// connection ends.
async fn echo_through_the_lent_sender<S>(mut socket: ws::WebSocket<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use rfc6455::Event;
    while let Some(sent) = socket
        .read_with(|event, sender| match event {
            Event::Text(text) => sender.send_text(text),
            Event::Binary(data) => sender.send_binary(data),
            _ => Ok(()),
        })
        .await
        .unwrap()
    {
        sent.unwrap();
    }
}

/// Sends `messages` from a task of their own, each followed by a ping
/// with `ping`, and hands the write half back.
fn send_in_a_task<S>(
    mut write: ws::WriteHalf<S>,
    messages: Vec<Message>,
    ping: Option<&'static [u8]>,
) -> tokio::task::JoinHandle<ws::WriteHalf<S>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        for message in messages {
            write.send(message).await.unwrap();
            if let Some(ping) = ping {
                write.send(Message::Ping(ping.to_vec())).await.unwrap();
            }
        }
        write
    })
}

#[tokio::test]
async fn large_replies_written_through_arrive_whole_and_in_order() {
    let (client_io, server_io) = tokio::io::duplex(4096);
    let server = tokio::spawn(async move {
        let conn = Connection::new(Role::Server, Config::default());
        echo_through_the_lent_sender(ws::WebSocket::from_connection(server_io, conn)).await;
    });
    let conn = Connection::new(Role::Client, Config::default());
    let client = ws::WebSocket::from_connection(client_io, conn);
    let sizes = [
        5,
        40_000,
        100_000,
        32 << 10,
        10,
        (32 << 10) - 1,
        1 << 20,
        70_000,
    ];
    let messages: Vec<Message> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            if i % 2 == 0 {
                Message::Binary((0..size).map(|b| (b * 7 + i) as u8).collect())
            } else {
                Message::Text("é".repeat(size / 2))
            }
        })
        .collect();
    let (mut read, write) = client.split();
    let writer = send_in_a_task(write, messages.clone(), Some(b"p"));
    let mut echoed = Vec::new();
    while echoed.len() < messages.len() {
        match read.read().await.unwrap().expect("the echo") {
            Message::Pong(payload) => assert_eq!(payload, b"p"),
            message => echoed.push(message),
        }
    }
    assert_eq!(echoed, messages);
    let mut write = writer.await.unwrap();
    write.close(1000u16, "").await.unwrap();
    while read.read().await.unwrap().is_some() {}
    server.await.unwrap();
}

#[tokio::test]
async fn connections_on_one_thread_pass_receive_buffers_on_without_mixing_bytes() {
    // Small pipes: reads end mid-frame and wait often, so emptied receive
    // buffers go from connection to connection on this one thread while
    // others hold parts of frames.
    let sizes = [1, 125, 126, 5_000, 40_000, 70_000, 32 << 10, 3, 200_000];
    let mut tasks = Vec::new();
    for id in 0..12u8 {
        let (client_io, server_io) = tokio::io::duplex(3000);
        tasks.push(tokio::spawn(async move {
            let conn = Connection::new(Role::Server, Config::default());
            let mut socket = ws::WebSocket::from_connection(server_io, conn);
            if id % 2 == 0 {
                while let Some(message) = socket.read().await.unwrap() {
                    if matches!(message, Message::Text(_) | Message::Binary(_)) {
                        socket.send(message).await.unwrap();
                    }
                }
            } else {
                echo_through_the_lent_sender(socket).await;
            }
        }));
        tasks.push(tokio::spawn(async move {
            let conn = Connection::new(Role::Client, Config::default());
            let client = ws::WebSocket::from_connection(client_io, conn);
            let messages: Vec<Message> = sizes
                .iter()
                .enumerate()
                .map(|(i, &size)| match i % 2 {
                    0 => Message::Binary((0..size).map(|b| (b * 13 + i) as u8 ^ id).collect()),
                    _ => Message::Text(char::from(b'a' + id).to_string().repeat(size)),
                })
                .collect();
            let (mut read, write) = client.split();
            let writer = send_in_a_task(write, messages.clone(), None);
            for message in &messages {
                assert_eq!(&read.read().await.unwrap().expect("the echo"), message);
            }
            let mut write = writer.await.unwrap();
            write.close(1000u16, "").await.unwrap();
            while read.read().await.unwrap().is_some() {}
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}
