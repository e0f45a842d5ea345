//! The blocking adapter over real loopback sockets.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::{self, Error, Rejection};
use rfc6455::handshake::{Accept, ClientOptions, ResponseError};
use rfc6455::{Config, Message};

fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/echo", listener.local_addr().unwrap());
    (listener, url)
}

#[test]
fn echo_and_clean_close_over_tcp() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = blocking::accept_with(stream, Config::default(), |request| {
            assert_eq!(request.path(), "/echo");
            Ok(Accept::new().protocol("echo"))
        })
        .unwrap();
        let mut seen = Vec::new();
        while let Some(message) = ws.read().unwrap() {
            if matches!(message, Message::Text(_) | Message::Binary(_)) {
                ws.send(message.clone()).unwrap();
            }
            seen.push(message);
        }
        seen
    });
    let stream =
        TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches("/echo")).unwrap();
    let (mut ws, response) = blocking::client(
        &url,
        ClientOptions::new().protocol("echo"),
        stream,
        Config::default(),
    )
    .unwrap();
    assert_eq!(response.protocol(), Some("echo"));
    ws.send(Message::Text("hello".into())).unwrap();
    assert_eq!(ws.read().unwrap(), Some(Message::Text("hello".into())));
    let big = vec![7u8; 300_000];
    ws.send(Message::Binary(big.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Some(Message::Binary(big)));
    ws.close(1000u16, "bye").unwrap();
    let reply = ws.read().unwrap();
    assert!(
        matches!(reply, Some(Message::Close(Some(ref f))) if f.code.0 == 1000),
        "{reply:?}"
    );
    // The server closes the TCP connection; the client sees the end.
    assert_eq!(ws.read().unwrap(), None);
    let seen = server.join().unwrap();
    assert_eq!(seen.len(), 3);
}

#[test]
fn a_refused_handshake_reports_the_status_to_the_client() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        blocking::accept_with(stream, Config::default(), |_| {
            Err(Rejection::new(403, "no"))
        })
    });
    match blocking::connect(&url) {
        Err(Error::Response(ResponseError::Rejected(response))) => {
            assert_eq!(response.status(), 403);
            assert_eq!(response.body(), b"no");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(server.join().unwrap(), Err(Error::Refused(403))));
}

#[test]
fn a_peer_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let ws = blocking::accept(stream).unwrap();
        // Keep the socket open and silent until the client gives up.
        let (mut stream, _) = ws.into_parts();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let mut config = Config::default();
    config.close_timeout = Duration::from_millis(200);
    let stream =
        TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches("/echo")).unwrap();
    let (ws, _) = blocking::client(&url, ClientOptions::new(), stream, config).unwrap();
    let mut ws = ws.with_timers().unwrap();
    ws.close(1000u16, "").unwrap();
    match ws.read() {
        Err(Error::Connection(rfc6455::Error::CloseTimeout(timeout))) => {
            assert_eq!(timeout, Duration::from_millis(200))
        }
        other => panic!("expected a close timeout, got {other:?}"),
    }
    drop(ws);
    server.join().unwrap();
}

#[test]
fn a_plain_http_request_gets_400() {
    let (listener, url) = listener();
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/echo")
        .to_owned();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        blocking::accept(stream)
    });
    let mut stream = TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut stream, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
    assert!(matches!(server.join().unwrap(), Err(Error::NotUpgrade(_))));
}

#[test]
fn a_silent_client_is_dropped_at_the_read_timeout() {
    let (listener, url) = listener();
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/echo")
        .to_owned();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        blocking::accept(stream)
    });
    let _silent = TcpStream::connect(addr).unwrap();
    assert!(matches!(
        server.join().unwrap(),
        Err(Error::HandshakeTimeout)
    ));
}

#[test]
fn sending_to_a_peer_that_never_reads_ends_at_the_write_timeout() {
    let (listener, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut config = Config::default();
        config.write_timeout = Some(Duration::from_millis(300));
        // Zeros compress a thousandfold: uncompressed, the socket fills.
        #[cfg(feature = "deflate")]
        {
            config.handshake.deflate = None;
        }
        let mut ws =
            blocking::accept_with(stream, config, |_| Ok(rfc6455::handshake::Accept::new()))
                .unwrap()
                .with_timers()
                .unwrap();
        let chunk = vec![0u8; 64 << 10];
        for _ in 0..100_000 {
            if let Err(error) = ws.send(Message::Binary(chunk.clone())) {
                return error;
            }
        }
        panic!("the peer never read and the sends never failed");
    });
    let (_client, _) = blocking::connect(&url).unwrap();
    let error = server.join().unwrap();
    assert!(
        matches!(error, Error::Connection(rfc6455::Error::WriteTimeout(_))),
        "{error:?}"
    );
}
