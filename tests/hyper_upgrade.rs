//! WebSocket upgrades on a hyper 1.x service and in an axum router
//! (`rfc6455::hyper`), driven by this crate's own tokio client.
#![cfg(feature = "hyper")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rfc6455::handshake::{Accept, ClientOptions, HandshakeConfig, ResponseError};
use rfc6455::hyper::Upgrade;
use rfc6455::tokio::Error;
use rfc6455::{Config, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Echoes text and binary messages until the close handshake is over.
async fn echo(websocket: rfc6455::hyper::UpgradeFuture) -> Result<(), Error> {
    let mut ws = websocket.await?;
    while let Some(message) = ws.read().await? {
        if matches!(message, Message::Text(_) | Message::Binary(_)) {
            ws.send(message).await?;
        }
    }
    Ok(())
}

/// The service: a page at `/`, an echo WebSocket at `/ws` (choosing the
/// first subprotocol offered), the same without permessage-deflate at
/// `/plain`, one that only lets `https://good` in at `/strict`, and at
/// `/dropped` an upgrade whose 101 the service does not return. How each
/// upgrade ended is reported on `ends`.
async fn handle(
    mut request: Request<Incoming>,
    ends: mpsc::UnboundedSender<Result<(), Error>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut config = Config::default();
    match request.uri().path() {
        "/" => return Ok(Response::new(Full::from("the page\n"))),
        #[cfg(feature = "deflate")]
        "/plain" => config.handshake = HandshakeConfig::default().deflate(None),
        "/strict" => {
            config.handshake = HandshakeConfig::default().allowed_origins(["https://good"])
        }
        _ => {}
    }
    let upgrade = match Upgrade::new(&mut request, config) {
        Ok(upgrade) => upgrade,
        Err(error) => return Ok(error.response()),
    };
    let accept = match upgrade.request().protocols().first() {
        Some(protocol) => Accept::new().protocol(protocol.clone()),
        None => Accept::new(),
    };
    let (response, websocket) = match upgrade.accept(accept) {
        Ok(accepted) => accepted,
        Err(error) => return Ok(error.response()),
    };
    let dropped = request.uri().path() == "/dropped";
    tokio::spawn(async move {
        let _ = ends.send(echo(websocket).await);
    });
    if dropped {
        return Ok(Response::new(Full::from("not switching after all\n")));
    }
    Ok(response)
}

/// A hyper HTTP/1 server on 127.0.0.1:0, with upgrades.
async fn hyper_server() -> (SocketAddr, mpsc::UnboundedReceiver<Result<(), Error>>) {
    server(true).await
}

/// A hyper HTTP/1 server on 127.0.0.1:0, with upgrades or without.
async fn server(upgrades: bool) -> (SocketAddr, mpsc::UnboundedReceiver<Result<(), Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (ends, ended) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let ends = ends.clone();
            let service = service_fn(move |request| handle(request, ends.clone()));
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if upgrades {
                tokio::spawn(connection.with_upgrades());
            } else {
                tokio::spawn(connection);
            }
        }
    });
    (addr, ended)
}

/// Sends `request` and reads one response: status, head and body (by
/// `Content-Length`).
async fn http(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    let read = async {
        loop {
            let mut buf = [0; 4096];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection closed mid-response");
            bytes.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let Some(end) = text.find("\r\n\r\n") else {
                continue;
            };
            let head = text[..end].to_owned();
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .map_or(0, |n| n.parse().unwrap());
            if bytes.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                return (status, head, text[end + 4..].to_owned());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("a response within 5 s")
}

const UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n";

#[tokio::test]
async fn echo_round_trip_with_deflate_and_a_subprotocol() {
    let (addr, mut ended) = hyper_server().await;
    let options = ClientOptions::new().protocol("echo");
    let (mut ws, response) =
        rfc6455::tokio::connect_with(&format!("ws://{addr}/ws"), options, Config::default())
            .await
            .unwrap();
    assert_eq!(response.protocol(), Some("echo"));
    #[cfg(feature = "deflate")]
    {
        assert_eq!(ws.negotiated().extension_name(), Some("permessage-deflate"));
        let extensions = response
            .headers()
            .get_str("Sec-WebSocket-Extensions")
            .unwrap();
        assert!(extensions.starts_with("permessage-deflate"), "{extensions}");
    }
    let big = "all work and no play ".repeat(10_000);
    for message in [
        Message::Text("hello".into()),
        Message::Binary(vec![0, 1, 2, 255]),
        Message::Text(big),
    ] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Some(message));
    }
    ws.close(1000u16, "bye").await.unwrap();
    while ws.read().await.unwrap().is_some() {}
    ended.recv().await.unwrap().unwrap();
}

#[cfg(feature = "deflate")]
#[tokio::test]
async fn deflate_is_not_negotiated_when_not_offered_or_turned_off() {
    let (addr, _ended) = hyper_server().await;
    let options = ClientOptions::new().config(HandshakeConfig::default().deflate(None));
    let (mut ws, response) =
        rfc6455::tokio::connect_with(&format!("ws://{addr}/ws"), options, Config::default())
            .await
            .unwrap();
    assert_eq!(ws.negotiated().extension_name(), None);
    assert_eq!(response.headers().get("Sec-WebSocket-Extensions"), None);
    ws.send(Message::Text("plain".into())).await.unwrap();
    assert_eq!(
        ws.read().await.unwrap(),
        Some(Message::Text("plain".into()))
    );

    let (mut ws, response) = rfc6455::tokio::connect(&format!("ws://{addr}/plain"))
        .await
        .unwrap();
    assert_eq!(ws.negotiated().extension_name(), None);
    assert_eq!(response.headers().get("Sec-WebSocket-Extensions"), None);
    ws.send(Message::Text("plain".into())).await.unwrap();
    assert_eq!(
        ws.read().await.unwrap(),
        Some(Message::Text("plain".into()))
    );
}

#[tokio::test]
async fn bad_requests_get_the_handshakes_statuses() {
    let (addr, _ended) = hyper_server().await;

    let no_key = UPGRADE.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    let (status, _, body) = http(addr, &format!("{no_key}\r\n")).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "WebSocket handshake has no Sec-WebSocket-Key header\n"
    );

    let old = UPGRADE.replace("Version: 13", "Version: 8");
    let (status, head, _) = http(addr, &format!("{old}\r\n")).await;
    assert_eq!(status, 426);
    assert!(head.contains("\r\nsec-websocket-version: 13"), "{head}");

    let (status, _, body) = http(addr, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, 400);
    assert!(body.starts_with("not a WebSocket upgrade"), "{body}");

    let post = UPGRADE.replace("GET", "POST");
    let (status, _, _) = http(addr, &format!("{post}Content-Length: 0\r\n\r\n")).await;
    assert_eq!(status, 400);

    let strict = UPGRADE.replace("/ws", "/strict");
    let (status, _, _) = http(addr, &format!("{strict}Origin: https://evil\r\n\r\n")).await;
    assert_eq!(status, 403);

    // The same service still serves plain pages.
    let (status, _, body) = http(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!((status, body.as_str()), (200, "the page\n"));

    // And this crate's client sees the refusal as one.
    let refused = rfc6455::tokio::connect_with(
        &format!("ws://{addr}/strict"),
        ClientOptions::new().header("Origin", "https://evil"),
        Config::default(),
    )
    .await;
    let Err(Error::Response(ResponseError::Rejected(response))) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn frames_sent_right_behind_the_request_reach_the_websocket() {
    let (addr, _ended) = hyper_server().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The request and a masked text frame "Hello" (RFC 6455 §5.7) in one write.
    let mut bytes = format!("{UPGRADE}\r\n").into_bytes();
    bytes.extend_from_slice(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    stream.write_all(&bytes).await.unwrap();
    let mut received = Vec::new();
    let echoed = b"\x81\x05Hello";
    tokio::time::timeout(Duration::from_secs(5), async {
        while !received.ends_with(echoed) {
            let mut buf = [0; 1024];
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "closed before the echo: {:?}",
                String::from_utf8_lossy(&received)
            );
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the echo within 5 s");
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{text}"
    );
}

#[tokio::test]
async fn an_upgrade_hyper_does_not_hand_over_fails_its_future() {
    // Served without `with_upgrades()`: hyper reports the upgrade failed.
    let (addr, mut ended) = server(false).await;
    let (status, _, _) = http(addr, &format!("{UPGRADE}\r\n")).await;
    assert_eq!(status, 101);
    let end = tokio::time::timeout(Duration::from_secs(5), ended.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(end, Err(Error::Io(_))), "{end:?}");

    // The service returned another response than the 101: no WebSocket.
    let (addr, mut ended) = hyper_server().await;
    let dropped = UPGRADE.replace("/ws", "/dropped");
    let (status, _, _) = http(addr, &format!("{dropped}\r\n")).await;
    assert_eq!(status, 200);
    let end = tokio::time::timeout(Duration::from_secs(5), ended.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(end.is_err(), "{end:?}");
}

#[tokio::test]
async fn an_axum_router_serves_a_page_and_the_websocket() {
    use axum::routing::get;

    async fn websocket(mut request: axum::extract::Request) -> axum::response::Response {
        match rfc6455::hyper::upgrade(&mut request) {
            Ok((response, websocket)) => {
                tokio::spawn(echo(websocket));
                response
            }
            Err(error) => error.response(),
        }
    }

    let app = axum::Router::new()
        .route("/", get(|| async { "the page\n" }))
        .route("/ws", get(websocket));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (mut ws, _) = rfc6455::tokio::connect(&format!("ws://{addr}/ws"))
        .await
        .unwrap();
    #[cfg(feature = "deflate")]
    assert_eq!(ws.negotiated().extension_name(), Some("permessage-deflate"));
    ws.send(Message::Text("through axum".into())).await.unwrap();
    assert_eq!(
        ws.read().await.unwrap(),
        Some(Message::Text("through axum".into()))
    );
    ws.close(1000u16, "").await.unwrap();
    while ws.read().await.unwrap().is_some() {}

    let (status, _, body) = http(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!((status, body.as_str()), (200, "the page\n"));
    let no_key = UPGRADE.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    let (status, _, _) = http(addr, &format!("{no_key}\r\n")).await;
    assert_eq!(status, 400);
}
