//! Run with `cargo test --example polling_vs_push`. Each test starts
//! the server on 127.0.0.1:0 with a fast ticker and follows the stream
//! through one endpoint.
use super::*;
use std::net::SocketAddr;

/// Starts the server, with updates every 10 ms.
async fn start() -> (SocketAddr, Feed) {
    let (addr, feed) = start_without_ticker().await;
    tokio::spawn(tick(feed.clone(), Duration::from_millis(10)));
    (addr, feed)
}

/// Starts the server; the test publishes the updates. It runs until the
/// test's runtime ends.
async fn start_without_ticker() -> (SocketAddr, Feed) {
    start_with(Limits::default()).await
}

async fn start_with(limits: Limits) -> (SocketAddr, Feed) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let feed = Feed::new();
    tokio::spawn(serve(listener, feed.clone(), limits));
    (addr, feed)
}

/// `(seq, time_us)` of every update in a JSON text, in order.
fn updates_in(json: &str) -> Vec<(u64, u64)> {
    let number = |text: &str, key: &str| -> Option<(u64, usize)> {
        let at = text.find(key)? + key.len();
        let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
        Some((text[at..at + digits].parse().ok()?, at + digits))
    };
    let mut found = Vec::new();
    let mut rest = json;
    while let Some((seq, end)) = number(rest, "\"seq\":") {
        let (time, end2) = number(&rest[end..], "\"time_us\":").unwrap();
        found.push((seq, time));
        rest = &rest[end + end2..];
    }
    found
}

/// Checks the sequence numbers follow each other from the first, and
/// the times never go back.
fn assert_in_order(updates: &[(u64, u64)]) {
    for pair in updates.windows(2) {
        assert_eq!(pair[1].0, pair[0].0 + 1, "{updates:?}");
        assert!(pair[1].1 >= pair[0].1, "{updates:?}");
    }
}

/// A keep-alive HTTP/1.1 client reading `Content-Length` bodies.
struct Http {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Http {
    async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        Http {
            stream,
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, head: &str) {
        self.stream.write_all(head.as_bytes()).await.unwrap();
    }

    /// The next response's status, head and body.
    async fn response(&mut self) -> (u16, String, String) {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(self.buf[..end + 4].to_vec()).unwrap();
                let status = head[9..12].parse().unwrap();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .map_or(0, |l| l.parse().unwrap());
                while self.buf.len() < end + 4 + length {
                    self.read_more().await;
                }
                let body = self.buf[end + 4..end + 4 + length].to_vec();
                self.buf.drain(..end + 4 + length);
                return (status, head, String::from_utf8(body).unwrap());
            }
            self.read_more().await;
        }
    }

    async fn read_more(&mut self) {
        let mut chunk = [0; 4096];
        let n = self.stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    async fn get(&mut self, target: &str) -> (u16, String) {
        self.send(&format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n"))
            .await;
        let (status, _, body) = self.response().await;
        (status, body)
    }
}

/// Follows `path` on one connection until `count` updates have come.
async fn follow_polling(addr: SocketAddr, path: &str, count: usize) -> Vec<(u64, u64)> {
    let mut http = Http::connect(addr).await;
    let mut seen: Vec<(u64, u64)> = Vec::new();
    while seen.len() < count {
        let target = match seen.last() {
            Some((seq, _)) => format!("{path}?since={seq}"),
            None => path.to_owned(),
        };
        let (status, body) = http.get(&target).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(updates_in(&body));
        if path == "/poll" {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    seen
}

#[tokio::test]
async fn short_polling_delivers_every_update_in_order() {
    let (addr, _feed) = start().await;
    let seen = follow_polling(addr, "/poll", 12).await;
    assert_in_order(&seen);
}

#[tokio::test]
async fn long_polling_delivers_every_update_in_order() {
    let (addr, _feed) = start().await;
    let seen = follow_polling(addr, "/long-poll", 12).await;
    assert_in_order(&seen);
}

#[tokio::test]
async fn a_long_poll_is_held_until_the_next_update() {
    let (addr, feed) = start_without_ticker().await;
    feed.publish(7);
    let mut http = Http::connect(addr).await;
    // Nothing after 1 yet: held.
    http.send("GET /long-poll?since=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let early = tokio::time::timeout(Duration::from_millis(200), http.response()).await;
    assert!(early.is_err(), "answered before an update: {early:?}");
    // A request sent while the first is held waits its turn.
    http.send("GET /poll?since=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    feed.publish(8);
    let (status, _, body) = http.response().await;
    assert_eq!((status, body.as_str()), (200, r#"[{"seq":2,"time_us":8}]"#));
    let (status, _, body) = http.response().await;
    assert_eq!((status, body.as_str()), (200, r#"[{"seq":2,"time_us":8}]"#));
    // Without `since`: the latest, at once.
    assert_eq!(http.get("/long-poll").await.1, r#"[{"seq":2,"time_us":8}]"#);
}

#[tokio::test]
async fn short_polls_answer_at_once_with_what_is_new() {
    let (addr, feed) = start_without_ticker().await;
    let mut http = Http::connect(addr).await;
    assert_eq!(http.get("/poll").await, (200, "[]".to_owned()));
    for time in 10..13 {
        feed.publish(time);
    }
    let all = r#"[{"seq":1,"time_us":10},{"seq":2,"time_us":11},{"seq":3,"time_us":12}]"#;
    assert_eq!(http.get("/poll?since=0").await.1, all);
    assert_eq!(
        http.get("/poll?since=2").await.1,
        r#"[{"seq":3,"time_us":12}]"#
    );
    assert_eq!(http.get("/poll").await.1, r#"[{"seq":3,"time_us":12}]"#);
    assert_eq!(http.get("/poll?since=3").await.1, "[]");
    assert_eq!(
        http.get("/poll?x=1&since=2").await.1,
        r#"[{"seq":3,"time_us":12}]"#
    );
    assert_eq!(http.get("/poll?since=two").await.0, 400);
}

#[test]
fn only_the_last_updates_are_kept() {
    let feed = Feed::new();
    for time in 0..(KEPT as u64 + 5) {
        feed.publish(time);
    }
    let kept = feed.after(Some(0));
    assert_eq!(kept.len(), KEPT);
    assert_eq!(kept[0].seq, 6);
    assert_eq!(kept[KEPT - 1].seq, KEPT as u64 + 5);
}

#[tokio::test]
async fn wrong_requests_are_refused() {
    let (addr, _feed) = start_without_ticker().await;
    let mut http = Http::connect(addr).await;
    assert_eq!(http.get("/nothing").await.0, 404);
    assert_eq!(http.get("/ws").await.0, 426);
    let (status, body) = http.get("/").await;
    assert_eq!(status, 200);
    assert!(body.contains("<title>"), "{body}");
    // Still the same connection: kept alive after each of these.
    http.send("POST /poll HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}")
        .await;
    let (status, head, _) = http.response().await;
    assert_eq!(status, 405);
    assert!(head.contains("Connection: close\r\n"), "{head}");

    let mut http = Http::connect(addr).await;
    let long = format!(
        "GET /poll HTTP/1.1\r\nHost: t\r\nX: {}\r\n\r\n",
        "a".repeat(MAX_HEAD)
    );
    http.send(&long).await;
    assert_eq!(http.response().await.0, 431);

    let mut http = Http::connect(addr).await;
    http.send("GET /poll HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await;
    let (status, head, _) = http.response().await;
    assert_eq!(status, 200);
    assert!(head.contains("Connection: close\r\n"), "{head}");
    let mut rest = Vec::new();
    assert_eq!(http.stream.read_to_end(&mut rest).await.unwrap(), 0);
}

#[tokio::test]
async fn events_deliver_every_update_in_order_and_resume() {
    let (addr, _feed) = start().await;
    let mut http = Http::connect(addr).await;
    http.send("GET /events HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n")
        .await;
    while !http.buf.windows(4).any(|w| w == b"\r\n\r\n") {
        http.read_more().await;
    }
    let head_end = http.buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8(http.buf[..head_end].to_vec()).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: text/event-stream\r\n"),
        "{head}"
    );
    http.buf.drain(..head_end);
    while updates_in(&String::from_utf8_lossy(&http.buf)).len() < 12 {
        http.read_more().await;
    }
    let text = String::from_utf8(http.buf.clone()).unwrap();
    let seen = updates_in(&text);
    assert_in_order(&seen);
    // Each event is `id: N` then `data: {...}` with the same N.
    let first = text.split("\n\n").next().unwrap();
    assert_eq!(
        first,
        format!(
            "id: {0}\ndata: {{\"seq\":{0},\"time_us\":{1}}}",
            seen[0].0, seen[0].1
        )
    );

    // A reconnection with Last-Event-ID starts right after it.
    let mut again = Http::connect(addr).await;
    let resume = format!(
        "GET /events HTTP/1.1\r\nHost: t\r\nLast-Event-ID: {}\r\n\r\n",
        seen[2].0
    );
    again.send(&resume).await;
    loop {
        again.read_more().await;
        let text = String::from_utf8_lossy(&again.buf).into_owned();
        if let Some(first) = updates_in(&text).first() {
            assert_eq!(first.0, seen[2].0 + 1);
            break;
        }
    }
}

async fn follow_websocket(addr: SocketAddr, deflate: bool) {
    let url = format!("ws://{addr}/ws");
    let options = rfc6455::handshake::ClientOptions::new();
    #[cfg(feature = "deflate")]
    let options = match deflate {
        true => options,
        false => options.config(HandshakeConfig::default().deflate(None)),
    };
    let (mut ws, response) = rfc6455::tokio::connect_with(&url, options, Config::default())
        .await
        .unwrap();
    let extension = response.negotiated().extension_name();
    assert_eq!(
        extension == Some("permessage-deflate"),
        deflate,
        "{extension:?}"
    );
    let mut seen = Vec::new();
    while seen.len() < 12 {
        match ws.read().await.unwrap() {
            Some(Message::Text(text)) => {
                let updates = updates_in(&text);
                assert_eq!(updates.len(), 1, "one update per message: {text}");
                seen.extend(updates);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_in_order(&seen);
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    while ws.read().await.unwrap().is_some() {}
}

#[tokio::test]
async fn websocket_delivers_every_update_in_order() {
    let (addr, _feed) = start().await;
    follow_websocket(addr, false).await;
    #[cfg(feature = "deflate")]
    follow_websocket(addr, true).await;
}

#[tokio::test]
async fn connections_and_held_long_polls_are_capped() {
    let (addr, feed) = start_with(Limits {
        connections: 2,
        held: 1,
    })
    .await;
    feed.publish(1);
    let mut first = Http::connect(addr).await;
    first
        .send("GET /long-poll?since=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    // Time for the server to take the first poll in and hold it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut second = Http::connect(addr).await;
    second
        .send("GET /long-poll?since=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let (status, _, body) = second.response().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(second.get("/poll?since=0").await.0, 200);
    // A third connection is over the cap.
    let mut third = Http::connect(addr).await;
    let (status, head, _) = third.response().await;
    assert_eq!(status, 503);
    assert!(head.contains("Retry-After: 1\r\n"), "{head}");
    feed.publish(2);
    let (status, _, body) = first.response().await;
    assert_eq!((status, body.as_str()), (200, r#"[{"seq":2,"time_us":2}]"#));
}
