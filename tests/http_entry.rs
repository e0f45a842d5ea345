//! The adapters' HTTP entry point, `read_request`: one request read under
//! the handshake's limits and timeout, handed back as a WebSocket upgrade
//! to accept or reject, or as a plain HTTP request the server answers on
//! the same stream.
#![cfg(feature = "tokio")]

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::time::Duration;

use rfc6455::handshake::{Accept, ClientOptions, HandshakeConfig, ResponseError};
use rfc6455::tokio::{self as ws, read_request, Error, Incoming, Rejection};
use rfc6455::{Config, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A masked text frame "Hello" (RFC 6455 §5.7).
const HELLO_FRAME: &[u8] = &[
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

const UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n";

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Sends `request` on a fresh connection and reads the answer until the
/// server closes the connection.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection after its answer")
        .unwrap();
    String::from_utf8(answer).unwrap()
}

/// What a small server does with one connection: the page at `/`, 404 for
/// other plain requests, an echo WebSocket at `/ws` and 404 for upgrades
/// elsewhere. Returns what `read_request` gave, for the test to check.
async fn serve(stream: TcpStream, config: Config) -> Result<&'static str, Error> {
    match read_request(stream, config).await? {
        None => Ok("nothing"),
        Some(Incoming::Http(http)) if http.request().path() == "/" => {
            let headers = [("Content-Type", "text/plain")];
            http.respond(200, &headers, b"the page\n").await?;
            Ok("page")
        }
        Some(Incoming::Http(http)) => {
            http.respond(404, &[], b"Not found\n").await?;
            Ok("404")
        }
        Some(Incoming::Upgrade(upgrade)) if upgrade.request().path() == "/ws" => {
            let protocol = upgrade.request().protocols().first().cloned();
            let accept = protocol.map_or_else(Accept::new, |p| Accept::new().protocol(p));
            let mut ws = upgrade.accept(accept).await?;
            while let Some(message) = ws.read().await? {
                if matches!(message, Message::Text(_) | Message::Binary(_)) {
                    ws.send(message).await?;
                }
            }
            Ok("websocket")
        }
        Some(Incoming::Upgrade(upgrade)) => {
            upgrade
                .reject(Rejection::new(404, "No WebSocket here\n"))
                .await?;
            Ok("refused")
        }
    }
}

/// Serves connections one at a time, each with `config`, reporting what
/// each one was.
fn spawn_server(
    listener: TcpListener,
    config: Config,
) -> tokio::sync::mpsc::UnboundedReceiver<Result<&'static str, Error>> {
    let (report, reports) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let config = config.clone();
            let report = report.clone();
            tokio::spawn(async move {
                let _ = report.send(serve(stream, config).await);
            });
        }
    });
    reports
}

#[tokio::test]
async fn plain_requests_and_upgrades_share_one_port() {
    let (listener, addr) = listener().await;
    let mut reports = spawn_server(listener, Config::default());

    let page = exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("\r\nConnection: close\r\n"), "{page}");
    assert!(page.contains("\r\nContent-Length: 9\r\n"), "{page}");
    assert!(page.ends_with("\r\n\r\nthe page\n"), "{page}");
    assert_eq!(reports.recv().await.unwrap().unwrap(), "page");

    let missing = exchange(addr, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        missing.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{missing}"
    );
    assert_eq!(reports.recv().await.unwrap().unwrap(), "404");

    let url = format!("ws://{addr}/ws");
    let options = ClientOptions::new().protocol("echo");
    let (mut client, response) = ws::connect_with(&url, options, Config::default())
        .await
        .unwrap();
    assert_eq!(response.protocol(), Some("echo"));
    #[cfg(feature = "deflate")]
    assert_eq!(
        client.negotiated().extension_name(),
        Some("permessage-deflate")
    );
    client.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(
        client.read().await.unwrap(),
        Some(Message::Text("hello".into()))
    );
    client.close(1000u16, "").await.unwrap();
    while client.read().await.unwrap().is_some() {}
    assert_eq!(reports.recv().await.unwrap().unwrap(), "websocket");

    let refused = ws::connect(&format!("ws://{addr}/elsewhere")).await;
    let Err(Error::Response(ResponseError::Rejected(response))) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert_eq!(response.status(), 404);
    assert_eq!(response.body(), b"No WebSocket here\n");
    assert_eq!(response.headers().get_str("Connection"), Some("close"));
    assert_eq!(reports.recv().await.unwrap().unwrap(), "refused");
}

#[tokio::test]
async fn frames_sent_right_behind_the_request_reach_the_websocket() {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let Some(Incoming::Upgrade(upgrade)) =
            read_request(stream, Config::default()).await.unwrap()
        else {
            panic!("expected an upgrade");
        };
        let mut ws = upgrade.accept(Accept::new()).await.unwrap();
        ws.read().await.unwrap()
    });
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut bytes = format!("{UPGRADE}\r\n").into_bytes();
    bytes.extend_from_slice(HELLO_FRAME);
    stream.write_all(&bytes).await.unwrap();
    assert_eq!(server.await.unwrap(), Some(Message::Text("Hello".into())));
}

#[tokio::test]
async fn a_plain_request_hands_over_its_body_and_stream() {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let Some(Incoming::Http(http)) = read_request(stream, Config::default()).await.unwrap()
        else {
            panic!("expected a plain request");
        };
        assert_eq!(http.request().method(), "POST");
        let (mut stream, request, mut body) = http.into_parts();
        let length: usize = request
            .headers()
            .get_str("Content-Length")
            .unwrap()
            .parse()
            .unwrap();
        while body.len() < length {
            let mut buf = [0; 64];
            let n = stream.read(&mut buf).await.unwrap();
            body.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .await
            .unwrap();
        stream.shutdown().await.unwrap();
        body
    });
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stream.write_all(b" world").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert_eq!(answer, "HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(server.await.unwrap(), b"hello world");
}

#[tokio::test]
async fn broken_requests_get_the_handshakes_error_responses() {
    let (listener, addr) = listener().await;
    let mut config = Config::default();
    config.handshake = HandshakeConfig::default()
        .max_headers(8)
        .max_head_size(1024);
    let mut reports = spawn_server(listener, config);

    let garbage = exchange(addr, b"NOT HTTP\r\n\r\n").await;
    assert!(
        garbage.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{garbage}"
    );
    let report = reports.recv().await.unwrap();
    assert!(matches!(report, Err(Error::Request(_))), "{report:?}");

    let no_version = UPGRADE.replace("Sec-WebSocket-Version: 13\r\n", "");
    let answer = exchange(addr, format!("{no_version}\r\n").as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{answer}"
    );
    assert!(
        answer.contains("\r\nSec-WebSocket-Version: 13\r\n"),
        "{answer}"
    );
    assert!(reports.recv().await.unwrap().is_err());

    let no_key = UPGRADE.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    let answer = exchange(addr, format!("{no_key}\r\n").as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(reports.recv().await.unwrap().is_err());

    let many: String = (0..8).map(|i| format!("X-{i}: {i}\r\n")).collect();
    let answer = exchange(
        addr,
        format!("GET / HTTP/1.1\r\n{many}Host: x\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(reports.recv().await.unwrap().is_err());

    let cookie = "x".repeat(1024);
    let answer = exchange(
        addr,
        format!("GET / HTTP/1.1\r\nCookie: {cookie}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(reports.recv().await.unwrap().is_err());
}

#[tokio::test]
async fn silence_and_closing_before_a_byte_are_no_request_and_mid_request_are_errors() {
    let (listener, addr) = listener().await;
    let mut config = Config::default();
    config.handshake.timeout = Duration::from_millis(200);
    let mut reports = spawn_server(listener, config);

    // Connects and closes at once, as browsers do with spare connections.
    drop(TcpStream::connect(addr).await.unwrap());
    assert_eq!(reports.recv().await.unwrap().unwrap(), "nothing");

    // Connects and says nothing: no request within the timeout.
    let started = tokio::time::Instant::now();
    let silent = TcpStream::connect(addr).await.unwrap();
    assert_eq!(reports.recv().await.unwrap().unwrap(), "nothing");
    assert!(started.elapsed() >= Duration::from_millis(200));
    drop(silent);

    // Half a request, then nothing: the handshake times out.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap();
    let report = reports.recv().await.unwrap();
    assert!(matches!(report, Err(Error::HandshakeTimeout)), "{report:?}");

    // Half a request, then the connection closes.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap();
    drop(stream);
    let report = reports.recv().await.unwrap();
    assert!(matches!(report, Err(Error::HandshakeEof)), "{report:?}");
}

#[tokio::test]
async fn the_timeout_also_bounds_the_answer() {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut config = Config::default();
        config.handshake.timeout = Duration::from_millis(200);
        let Some(incoming) = read_request(stream, config).await.unwrap() else {
            panic!("expected a request");
        };
        // The server takes longer than the whole handshake may.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let Incoming::Upgrade(upgrade) = incoming else {
            panic!("expected an upgrade");
        };
        upgrade.accept(Accept::new()).await
    });
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("{UPGRADE}\r\n").as_bytes())
        .await
        .unwrap();
    let result = server.await.unwrap();
    assert!(matches!(result, Err(Error::HandshakeTimeout)), "{result:?}");
}

#[tokio::test]
async fn answers_the_handshake_cannot_send_become_500() {
    let (listener, addr) = listener().await;
    let server = tokio::spawn(async move {
        let mut results = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.unwrap();
            results.push(
                match read_request(stream, Config::default()).await.unwrap() {
                    Some(Incoming::Http(http)) => {
                        http.respond(200, &[("Bad\nName", "x")], b"").await
                    }
                    Some(Incoming::Upgrade(upgrade)) => upgrade
                        .accept(Accept::new().protocol("never-offered"))
                        .await
                        .map(drop),
                    None => panic!("expected a request"),
                },
            );
        }
        results
    });
    let plain = exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 500 "), "{plain}");
    let upgrade = exchange(addr, format!("{UPGRADE}\r\n").as_bytes()).await;
    assert!(upgrade.starts_with("HTTP/1.1 500 "), "{upgrade}");
    for result in server.await.unwrap() {
        assert!(matches!(result, Err(Error::Build(_))), "{result:?}");
    }
}

#[test]
fn blocking_plain_requests_and_upgrades_share_one_port() {
    use rfc6455::blocking::{self, Incoming};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..4 {
            let (stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let kind = match blocking::read_request(stream, Config::default()).unwrap() {
                None => "nothing",
                Some(Incoming::Http(http)) => {
                    http.respond(200, &[], b"hi\n").unwrap();
                    "page"
                }
                Some(Incoming::Upgrade(upgrade)) if upgrade.request().path() == "/ws" => {
                    let mut ws = upgrade
                        .accept(Accept::new())
                        .unwrap()
                        .with_timers()
                        .unwrap();
                    while let Some(message) = ws.read().unwrap() {
                        if let Message::Text(_) = message {
                            ws.send(message).unwrap();
                        }
                    }
                    "websocket"
                }
                Some(Incoming::Upgrade(upgrade)) => {
                    upgrade.reject(Rejection::new(403, "no\n")).unwrap();
                    "refused"
                }
            };
            seen.push(kind);
        }
        seen
    });

    drop(std::net::TcpStream::connect(addr).unwrap());

    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.ends_with("\r\n\r\nhi\n"), "{page}");

    let (mut ws, _) = blocking::connect(&format!("ws://{addr}/ws")).unwrap();
    #[cfg(feature = "deflate")]
    assert_eq!(ws.negotiated().extension_name(), Some("permessage-deflate"));
    ws.send(Message::Text("ping".into())).unwrap();
    assert_eq!(ws.read().unwrap(), Some(Message::Text("ping".into())));
    ws.close(1000u16, "").unwrap();
    while ws.read().unwrap().is_some() {}

    let refused = blocking::connect(&format!("ws://{addr}/other"));
    let Err(Error::Response(ResponseError::Rejected(response))) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert_eq!(response.status(), 403);

    assert_eq!(
        server.join().unwrap(),
        ["nothing", "page", "websocket", "refused"]
    );
}
