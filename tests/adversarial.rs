//! Hostile peers over real loopback sockets, through the tokio adapter:
//! each input gets the right close code or HTTP status, memory stays
//! bounded (measured with a counting allocator), nothing hangs.
//!
//! The allocator counts per thread, and each scenario runs on a
//! current-thread runtime of its own, so a peak belongs to the test that
//! measures it; each prints its measured peak.
#![cfg(feature = "tokio")]

mod common;

use std::future::Future;
use std::time::Duration;

use common::counting::Peak;

use rfc6455::handshake::Accept;
use rfc6455::tokio::{self as ws, Error};
use rfc6455::{Config, Message, ProtocolError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

// ----- memory accounting -----

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

/// Runs a scenario on a runtime of its own, on this thread, and checks the
/// heap grew by at most `bound` bytes over where it started (the runtime
/// included).
fn run<F: Future<Output = ()>>(name: &str, bound: usize, scenario: impl FnOnce() -> F) {
    let measured = Peak::start();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(scenario());
    let peak = measured.bytes();
    println!(
        "memory peak {name}: {} KiB (bound {} KiB)",
        peak / 1024,
        bound / 1024
    );
    assert!(
        peak <= bound,
        "{name}: heap peak {peak} bytes over the bound {bound}"
    );
}

// ----- the server under test and the attacker -----

/// Accepts one connection with `config` and reads until it ends.
async fn serve(config: Config) -> (String, JoinHandle<Result<Vec<Message>, Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = ws::accept_with(stream, config, |_| Ok(Accept::new())).await?;
        let mut seen = Vec::new();
        while let Some(message) = socket.read().await? {
            // Pings are answered by the connection; keeping each one here
            // would measure this test's memory, not the library's.
            if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
                seen.push(message);
            }
        }
        Ok(seen)
    });
    (addr, task)
}

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Connects and completes a valid opening handshake by hand.
async fn attacker(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(REQUEST).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    stream
}

/// Reads what the server sends until it closes the connection (bounded in
/// time) and returns the code of its close frame (`Some(None)`: no code).
async fn close_code(stream: &mut TcpStream) -> Option<Option<u16>> {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes)).await;
    assert!(read.is_ok(), "the server did not close the connection");
    let mut at = &bytes[..];
    let mut code = None;
    while at.len() >= 2 {
        let len = usize::from(at[1] & 0x7F);
        let (len, header) = match len {
            126 => (usize::from(u16::from_be_bytes([at[2], at[3]])), 4),
            127 => (
                u64::from_be_bytes(at[2..10].try_into().unwrap()) as usize,
                10,
            ),
            len => (len, 2),
        };
        if at[0] & 0x0F == 0x8 {
            let payload = &at[header..header + len];
            code = Some((len >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]])));
        }
        at = &at[(header + len).min(at.len())..];
    }
    code
}

/// A masked frame as a client sends it.
fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0xA1, 0xB2, 0xC3, 0xD4];
    let mut out = vec![first_byte];
    match payload.len() {
        len @ 0..=125 => out.push(0x80 | len as u8),
        len @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Sends `bytes` after the handshake and returns the server's close code and
/// its result.
async fn send_and_close_code(
    config: Config,
    bytes: &[u8],
) -> (Option<Option<u16>>, Result<Vec<Message>, Error>) {
    let (addr, server) = serve(config).await;
    let mut stream = attacker(&addr).await;
    stream.write_all(bytes).await.unwrap();
    let code = close_code(&mut stream).await;
    (code, server.await.unwrap())
}

fn protocol_error(result: &Result<Vec<Message>, Error>) -> Option<&ProtocolError> {
    match result {
        Err(Error::Connection(rfc6455::Error::Protocol(error))) => Some(error),
        _ => None,
    }
}

/// Sends a raw request and returns the server's HTTP status and response.
async fn http_status(config: Config, request: &[u8]) -> (u16, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        ws::accept_with(stream, config, |_| Ok(Accept::new()))
            .await
            .map(|_| ())
    });
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before the whole request is written.
    let _ = stream.write_all(request).await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    let _ = server.await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

// ----- 1–4: the opening handshake -----

#[test]
fn a_handshake_sent_one_byte_per_read_is_accepted() {
    run("handshake one byte per read", 256 << 10, || async {
        let (addr, server) = serve(Config::default()).await;
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        // Close to the 16 KiB head limit: one long header, then the request.
        let mut request = REQUEST[..REQUEST.len() - 2].to_vec();
        request.extend_from_slice(b"X-Padding: ");
        request.extend(std::iter::repeat_n(b'a', 15_000));
        request.extend_from_slice(b"\r\n\r\n");
        for byte in &request {
            stream.write_all(std::slice::from_ref(byte)).await.unwrap();
        }
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0];
            stream.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101 "));
        stream
            .write_all(&frame(0x88, &1000u16.to_be_bytes()))
            .await
            .unwrap();
        assert_eq!(close_code(&mut stream).await, Some(Some(1000)));
        server.await.unwrap().unwrap();
    });
}

#[test]
fn oversized_heads_get_431_and_a_long_request_line_414() {
    run("oversized heads", 512 << 10, || async {
        let mut long_header = REQUEST[..REQUEST.len() - 2].to_vec();
        long_header.extend_from_slice(b"X-Long: ");
        long_header.extend(std::iter::repeat_n(b'a', 40_000)); // over 32 KiB
        long_header.extend_from_slice(b"\r\n\r\n");
        assert_eq!(http_status(Config::default(), &long_header).await.0, 431);

        let mut many = REQUEST[..REQUEST.len() - 2].to_vec();
        for i in 0..140 {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes()); // over 128
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(http_status(Config::default(), &many).await.0, 431);

        let mut long_line = b"GET /".to_vec();
        long_line.extend(std::iter::repeat_n(b'a', 40_000));
        long_line.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        assert_eq!(http_status(Config::default(), &long_line).await.0, 414);
    });
}

#[test]
fn missing_or_bad_handshake_fields_get_400_426_or_403() {
    run("bad handshake fields", 256 << 10, || async {
        let without_key =
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";
        assert_eq!(http_status(Config::default(), without_key).await.0, 400);
        let bad_key = String::from_utf8(REQUEST.to_vec())
            .unwrap()
            .replace("dGhlIHNhbXBsZSBub25jZQ==", "not-a-key");
        assert_eq!(
            http_status(Config::default(), bad_key.as_bytes()).await.0,
            400
        );
        let post = String::from_utf8(REQUEST.to_vec())
            .unwrap()
            .replacen("GET", "POST", 1);
        assert_eq!(http_status(Config::default(), post.as_bytes()).await.0, 400);
        let old = String::from_utf8(REQUEST.to_vec())
            .unwrap()
            .replace("Version: 13", "Version: 8");
        let (status, response) = http_status(Config::default(), old.as_bytes()).await;
        assert_eq!(status, 426);
        assert!(response.contains("Sec-WebSocket-Version: 13\r\n"));
        let mut config = Config::default();
        config.handshake.allowed_origins = Some(vec!["https://good.example".into()]);
        let foreign = String::from_utf8(REQUEST.to_vec()).unwrap().replace(
            "Host: localhost\r\n",
            "Host: localhost\r\nOrigin: https://evil.example\r\n",
        );
        assert_eq!(http_status(config, foreign.as_bytes()).await.0, 403);
    });
}

#[test]
fn ten_thousand_commas_in_protocol_and_extension_headers_are_handled() {
    run("10,000 commas", 512 << 10, || async {
        for header in ["Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"] {
            let mut request = REQUEST[..REQUEST.len() - 2].to_vec();
            request.extend_from_slice(format!("{header}: ").as_bytes());
            request.extend(std::iter::repeat_n(b',', 10_000));
            request.extend_from_slice(b"\r\n\r\n");
            let (status, _) = http_status(Config::default(), &request).await;
            // Empty list elements are skipped: nothing is offered, so the
            // upgrade goes ahead without a protocol or an extension.
            assert_eq!(status, 101, "{header}");
            let mut request = REQUEST[..REQUEST.len() - 2].to_vec();
            request.extend_from_slice(format!("{header}: a").as_bytes());
            request.extend(std::iter::repeat_n(b' ', 10_000));
            request.extend_from_slice(b"b\r\n\r\n");
            assert_eq!(
                http_status(Config::default(), &request).await.0,
                400,
                "{header}"
            );
        }
    });
}

// ----- 5–9: frames -----

#[test]
fn a_length_with_the_top_bit_set_is_refused_with_1002() {
    run("64-bit length top bit", 256 << 10, || async {
        let mut bytes = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        let (code, result) = send_and_close_code(Config::default(), &bytes).await;
        assert_eq!(code, Some(Some(1002)));
        assert_eq!(
            protocol_error(&result),
            Some(&ProtocolError::InvalidPayloadLength)
        );
    });
}

#[test]
fn a_declared_length_over_the_limit_is_refused_at_once_without_allocating_it() {
    run("1 GiB declared frame", 512 << 10, || async {
        // The frame declares 1 GiB and sends none of it.
        let mut bytes = vec![0x82, 0xFF];
        bytes.extend_from_slice(&(1u64 << 30).to_be_bytes());
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        let (code, result) = send_and_close_code(Config::default(), &bytes).await;
        assert_eq!(code, Some(Some(1009)));
        assert!(matches!(
            protocol_error(&result),
            Some(ProtocolError::FrameTooBig { .. })
        ));
    });
}

#[test]
fn a_million_empty_continuations_end_at_the_fragment_limit_with_bounded_memory() {
    run("fragment flood", 1 << 20, || async {
        let (addr, server) = serve(Config::default()).await;
        let mut stream = attacker(&addr).await;
        stream.write_all(&frame(0x01, b"a")).await.unwrap();
        let continuation = frame(0x00, b"");
        let batch: Vec<u8> = continuation.repeat(10_000);
        for _ in 0..100 {
            if stream.write_all(&batch).await.is_err() {
                break;
            }
        }
        let code = close_code(&mut stream).await;
        assert_eq!(code, Some(Some(1008)));
        let result = server.await.unwrap();
        assert!(matches!(
            protocol_error(&result),
            Some(ProtocolError::TooManyFragments { .. })
        ));
    });
}

#[test]
fn protocol_violations_are_refused_with_1002() {
    run("protocol violations", 512 << 10, || async {
        let unmasked = vec![0x81, 0x02, b'h', b'i'];
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("control frame of 126 bytes", frame(0x89, &[0; 126])),
            ("fragmented control frame", frame(0x09, b"")),
            ("one-byte close payload", frame(0x88, &[3])),
            ("reserved opcode", frame(0x83, b"")),
            ("RSV1 without an extension", frame(0xC1, b"x")),
            ("orphan continuation", frame(0x80, b"x")),
            (
                "new data frame inside a fragmented message",
                [frame(0x01, b"a"), frame(0x81, b"b")].concat(),
            ),
            ("unmasked client frame", unmasked),
        ];
        for (name, bytes) in cases {
            let (code, result) = send_and_close_code(Config::default(), &bytes).await;
            assert_eq!(code, Some(Some(1002)), "{name}");
            assert!(protocol_error(&result).is_some(), "{name}: {result:?}");
        }
    });
}

#[test]
fn invalid_utf8_is_refused_with_1007_on_the_fragment_that_holds_it() {
    run("invalid UTF-8", 512 << 10, || async {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("single frame", frame(0x81, b"ok \xff")),
            ("truncated at FIN", frame(0x81, b"ok \xe2\x82")),
            ("surrogate", frame(0x81, b"\xed\xa0\x80")),
            ("overlong", frame(0x81, b"\xc0\xaf")),
            ("above U+10FFFF", frame(0x81, b"\xf4\x90\x80\x80")),
            ("invalid close reason", frame(0x88, b"\x03\xe8\xff")),
        ];
        for (name, bytes) in cases {
            let (code, result) = send_and_close_code(Config::default(), &bytes).await;
            assert_eq!(code, Some(Some(1007)), "{name}");
            assert!(protocol_error(&result).is_some(), "{name}");
        }
        // The bad byte in the middle fragment: the connection fails before the
        // last fragment is sent.
        let (addr, server) = serve(Config::default()).await;
        let mut stream = attacker(&addr).await;
        stream
            .write_all(&frame(0x01, "κόσμε".as_bytes()))
            .await
            .unwrap();
        stream.write_all(&frame(0x00, b"\xf4\x90")).await.unwrap();
        assert_eq!(close_code(&mut stream).await, Some(Some(1007)));
        assert_eq!(
            protocol_error(&server.await.unwrap()),
            Some(&ProtocolError::InvalidUtf8)
        );
    });
}

#[test]
fn invalid_close_codes_get_1002_and_valid_ones_are_echoed() {
    run("close codes", 512 << 10, || async {
        for code in [0u16, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999] {
            let (sent, result) =
                send_and_close_code(Config::default(), &frame(0x88, &code.to_be_bytes())).await;
            assert_eq!(sent, Some(Some(1002)), "{code}");
            assert_eq!(
                protocol_error(&result),
                Some(&ProtocolError::InvalidCloseCode(code))
            );
        }
        for code in [1000u16, 1001, 1003, 1011, 3000, 4999] {
            let (sent, result) =
                send_and_close_code(Config::default(), &frame(0x88, &code.to_be_bytes())).await;
            assert_eq!(sent, Some(Some(code)));
            assert!(result.is_ok());
        }
    });
}

// ----- 10–14: timeouts, floods, back-pressure, ordering -----

#[test]
fn a_peer_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    run("unanswered close", 256 << 10, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mut config = Config::default();
        config.close_timeout = Duration::from_millis(300);
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut socket = ws::accept_with(stream, config, |_| Ok(Accept::new()))
                .await
                .unwrap();
            socket.close(1000u16, "").await.unwrap();
            let started = tokio::time::Instant::now();
            let result = socket.read().await;
            (result, started.elapsed())
        });
        let mut stream = attacker(&addr).await;
        let (result, waited) = server.await.unwrap();
        assert!(
            matches!(
                result,
                Err(Error::Connection(rfc6455::Error::CloseTimeout(_)))
            ),
            "{result:?}"
        );
        assert!(waited >= Duration::from_millis(300));
        // The server dropped the connection: the attacker reads its close frame
        // then the end of the stream.
        assert_eq!(close_code(&mut stream).await, Some(Some(1000)));
    });
}

#[test]
fn a_ping_flood_from_a_peer_that_never_reads_keeps_memory_bounded_and_ends_with_an_error() {
    run("ping flood, peer not reading", 4 << 20, || async {
        let mut config = Config::default();
        config.write_timeout = Some(Duration::from_secs(1));
        let (addr, server) = serve(config).await;
        let mut stream = attacker(&addr).await;
        let ping = frame(0x89, &[0x55; 125]);
        let batch = ping.repeat(1000);
        // Up to a million pings (131 MB), never reading a pong, until the
        // server gives up on writing to us; bounded in time.
        let flood = async {
            for _ in 0..1000 {
                if stream.write_all(&batch).await.is_err() {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), flood)
            .await
            .expect("the flood ended");
        let result = tokio::time::timeout(Duration::from_secs(30), server)
            .await
            .expect("the server ended the connection")
            .unwrap();
        assert!(
            matches!(
                result,
                Err(Error::Connection(rfc6455::Error::WriteTimeout(_)))
            ),
            "{result:?}"
        );
    });
}

#[test]
fn sending_to_a_peer_that_never_reads_meets_back_pressure_then_the_cap() {
    // The write buffer is a Vec: its capacity may reach twice the 8 MiB cap.
    run("application sends, peer not reading", 18 << 20, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mut config = Config::default();
        config.max_write_buffer = 8 << 20;
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut socket = ws::accept_with(stream, config, |_| Ok(Accept::new()))
                .await
                .unwrap();
            let chunk = vec![0u8; 64 << 10];
            // `send` waits for the transport: it stalls (Pending) once the
            // peer's and our socket buffers are full.
            let mut sent = 0usize;
            let stalled = loop {
                let send = socket.send(Message::Binary(chunk.clone()));
                match tokio::time::timeout(Duration::from_millis(500), send).await {
                    Ok(result) => result.unwrap(),
                    Err(_) => break true,
                }
                sent += 1;
                if sent == 10_000 {
                    break false;
                }
            };
            // Queueing without waiting meets the hard cap.
            let conn = socket.connection();
            let full = loop {
                if let Err(error) = conn.send_binary(&chunk) {
                    break error;
                }
            };
            (stalled, sent, full, conn.buffered_amount())
        });
        let _stream = attacker(&addr).await;
        let (stalled, sent, full, buffered) = server.await.unwrap();
        assert!(stalled, "send never waited after {sent} messages");
        assert!(
            matches!(full, rfc6455::UsageError::WriteBufferFull { .. }),
            "{full:?}"
        );
        assert!(
            ((8 << 20)..(8 << 20) + (65 << 10)).contains(&buffered),
            "{buffered}"
        );
    });
}

#[test]
fn messages_sent_before_close_arrive_before_the_close_frame() {
    run("ordering before close", 1 << 20, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut socket = ws::accept(stream).await.unwrap();
            for i in 0..100u32 {
                socket
                    .send(Message::Binary(i.to_be_bytes().to_vec()))
                    .await
                    .unwrap();
            }
            socket.close(1000u16, "").await.unwrap();
            while socket.read().await.unwrap().is_some() {}
        });
        let mut stream = attacker(&addr).await;
        let mut bytes = Vec::new();
        loop {
            let mut buf = [0; 4096];
            let n = stream.read(&mut buf).await.unwrap();
            bytes.extend_from_slice(&buf[..n]);
            if bytes.len() >= 100 * 6 + 4 || n == 0 {
                break;
            }
        }
        for (i, message) in bytes.chunks(6).take(100).enumerate() {
            assert_eq!(
                message,
                [&[0x82, 4][..], &(i as u32).to_be_bytes()].concat()
            );
        }
        assert_eq!(&bytes[600..604], &[0x88, 2, 0x03, 0xE8]);
        stream
            .write_all(&frame(0x88, &1000u16.to_be_bytes()))
            .await
            .unwrap();
        server.await.unwrap();
    });
}

#[test]
fn a_handshake_dripping_slower_than_the_timeout_is_dropped() {
    run("handshake drip", 256 << 10, || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::default();
        config.handshake.timeout = Duration::from_millis(300);
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            ws::accept_with(stream, config, |_| Ok(Accept::new()))
                .await
                .map(|_| ())
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for byte in REQUEST {
            if server.is_finished() || stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        let result = tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("dropped after the timeout")
            .unwrap();
        assert!(matches!(result, Err(Error::HandshakeTimeout)), "{result:?}");
    });
}

#[test]
fn a_silent_peer_is_pinged_then_dropped_with_1011() {
    run("silent peer with keepalive", 256 << 10, || async {
        let mut config = Config::default();
        config.keepalive = Some(rfc6455::Keepalive::new(
            Duration::from_millis(200),
            Duration::from_millis(200),
        ));
        let (addr, server) = serve(config).await;
        let mut stream = attacker(&addr).await;
        // Never answer: the server pings, waits, then closes with 1011.
        let mut bytes = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut bytes))
            .await
            .expect("the server closed the connection")
            .unwrap();
        assert_eq!(bytes[0], 0x89, "a ping first");
        let close = &bytes[2..];
        assert_eq!(close[0], 0x88);
        assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1011);
        let result = server.await.unwrap();
        assert!(
            matches!(
                result,
                Err(Error::Connection(rfc6455::Error::KeepaliveTimeout(_)))
            ),
            "{result:?}"
        );
    });
}
