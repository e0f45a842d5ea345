//! One stream of updates served four ways on one port: short polling, long
//! polling, Server-Sent Events and WebSocket, so that they can be compared
//! with the same numbers (`scripts/polling-vs-push.sh` measures them with
//! the `push_load` example).
//!
//! ```text
//! cargo run --release --example polling_vs_push -- 127.0.0.1:8080 [--interval-ms 100]
//! ```
//!
//! Open <http://127.0.0.1:8080> for a page that follows the stream all four
//! ways at once and shows each one's delay.
//!
//! # The stream
//!
//! Every `--interval-ms` (100 by default) the server makes one update, a
//! JSON object with a sequence number (a counter from 1) and the time it was
//! made, in microseconds since the Unix epoch:
//!
//! ```text
//! {"seq":42,"time_us":1733212345678901}
//! ```
//!
//! The last 600 updates are kept, so a client that says which one it saw
//! last (`since=N`) is sent every later one still kept.
//!
//! # Endpoints
//!
//! - `GET /poll?since=N`, **short polling**: answered at once with a JSON
//!   array of the updates after `N` (`[]` when there is none). Without
//!   `since`, the array holds the latest update only.
//! - `GET /long-poll?since=N`, **long polling**: answered as soon as there
//!   is an update after `N`, or with `[]` after 25 s. Without `since`, the
//!   latest update at once.
//! - `GET /events`, **Server-Sent Events** (`text/event-stream`): one event
//!   per update, `id: N` and `data: {...}`, until the client goes away; the
//!   response has no length and the connection is not reused. `since=N` or
//!   a `Last-Event-ID` header first replays the kept updates after `N`.
//! - `/ws`, **WebSocket** (over the crate's tokio adapter, permessage-deflate
//!   when the client offers it): one text message per update; `since=N` as
//!   for events. Messages from the client are read and ignored.
//! - `GET /`: the page.
//!
//! HTTP/1.1 connections are kept alive between requests (a client polls
//! over one connection), unless the client sends `Connection: close` or
//! speaks HTTP/1.0.
//!
//! # Limits
//!
//! At most 1024 connections at once (the next ones get 503 and are closed);
//! request heads of at most 8 KiB and 64 header fields (431 past them),
//! which must arrive within 10 s of their first byte; a kept-alive
//! connection idle for 30 s between requests is closed; at most 1024 long
//! polls held at once (503 past that). Requests other than `GET`, and
//! requests with a body, are refused (405, 400) and the connection closed.
//! A push client (events or WebSocket) that falls 64 updates behind, or
//! takes nothing for 10 s while an update waits, is disconnected.
//!
//! Nothing is logged per request: the server's CPU time per update is one
//! of the figures measured, and a log line per request would be part of it.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rfc6455::handshake::{response, Accept, HandshakeConfig, Incoming, Request, ServerHandshake};
use rfc6455::tokio::{Error, WebSocket};
use rfc6455::{CloseCode, Config, Connection, Keepalive, Message, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch, Semaphore};
use tokio::time::Instant;

/// The page, compiled into the binary.
const PAGE: &str = include_str!("index.html");
/// Updates kept for `since=N` (a minute at the default interval).
const KEPT: usize = 600;
/// Largest request head, and most header fields in one.
const MAX_HEAD: usize = 8 << 10;
const MAX_HEADERS: usize = 64;
/// How long a request head may take from its first byte.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a kept-alive connection may wait for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a long poll is held when nothing new comes.
const LONG_POLL_TIMEOUT: Duration = Duration::from_secs(25);
/// Updates a push client may fall behind before it is disconnected.
const PUSH_QUEUE: usize = 64;
/// How long an event stream may take to accept one write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// An event stream with nothing to say sends a comment this often, so that
/// proxies do not close it as idle.
const SSE_KEEPALIVE: Duration = Duration::from_secs(15);
/// How long closing a WebSocket may take.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (addr, interval) = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("{why}\nusage: polling_vs_push [ADDR] [--interval-ms N]");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!(
        "polling_vs_push listening on http://{local}/ (one update every {} ms)",
        interval.as_millis()
    );
    let feed = Feed::new();
    tokio::spawn(tick(feed.clone(), interval));
    serve(listener, feed, Limits::default()).await
}

/// How much the server takes on at once.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// Connections served at once; the next ones get 503 and are closed.
    connections: usize,
    /// Long polls held at once; the next ones get 503.
    held: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 1024,
            held: 1024,
        }
    }
}

/// The command line: `[ADDR] [--interval-ms N]`.
fn parse_args(args: impl Iterator<Item = String>) -> Result<(String, Duration), String> {
    let mut addr = None;
    let mut interval = Duration::from_millis(100);
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        if arg == "--interval-ms" {
            let value = args.next().ok_or("--interval-ms needs a value")?;
            let ms: u64 = value
                .parse()
                .map_err(|_| format!("--interval-ms: not a number: {value}"))?;
            if ms == 0 {
                return Err("--interval-ms must be at least 1".into());
            }
            interval = Duration::from_millis(ms);
        } else if arg.starts_with("--") || addr.is_some() {
            return Err(format!("unexpected argument: {arg}"));
        } else {
            addr = Some(arg);
        }
    }
    Ok((addr.unwrap_or_else(|| "127.0.0.1:8080".into()), interval))
}

// ---------------------------------------------------------------------------
// The stream of updates.

/// One update: its sequence number and its JSON text.
#[derive(Clone, Debug)]
struct Update {
    seq: u64,
    json: Arc<str>,
}

/// The updates made so far (the last [`KEPT`]), and the two ways to hear of
/// new ones: a `watch` of the latest sequence number for long polls, and a
/// `broadcast` of the updates themselves for push clients. Cloning shares it.
#[derive(Clone)]
struct Feed {
    inner: Arc<FeedInner>,
}

struct FeedInner {
    /// Held while an update is added and sent, so that a subscriber sees
    /// every update exactly once: either in the kept ones or as news.
    kept: Mutex<VecDeque<Update>>,
    latest: watch::Sender<u64>,
    news: broadcast::Sender<Update>,
}

impl Feed {
    fn new() -> Self {
        Feed {
            inner: Arc::new(FeedInner {
                kept: Mutex::new(VecDeque::with_capacity(KEPT)),
                latest: watch::Sender::new(0),
                news: broadcast::Sender::new(PUSH_QUEUE),
            }),
        }
    }

    fn kept(&self) -> MutexGuard<'_, VecDeque<Update>> {
        // Nothing panics while holding the lock; recover regardless.
        self.inner
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes the next update, stamped `time_us`, and tells everyone.
    fn publish(&self, time_us: u64) {
        let mut kept = self.kept();
        let seq = kept.back().map_or(1, |last| last.seq + 1);
        let update = Update {
            seq,
            json: format!("{{\"seq\":{seq},\"time_us\":{time_us}}}").into(),
        };
        if kept.len() == KEPT {
            kept.pop_front();
        }
        kept.push_back(update.clone());
        // No receiver is not an error: nobody is listening yet.
        let _ = self.inner.news.send(update);
        self.inner.latest.send_replace(seq);
    }

    /// The kept updates after `since`, or the latest one alone for `None`.
    fn after(&self, since: Option<u64>) -> Vec<Update> {
        let kept = self.kept();
        match since {
            Some(since) => kept.iter().filter(|u| u.seq > since).cloned().collect(),
            None => kept.back().cloned().into_iter().collect(),
        }
    }

    /// A subscription to every update after `since` (after the latest for
    /// `None`): the kept ones first, then each new one.
    fn subscribe(&self, since: Option<u64>) -> Subscription {
        let kept = self.kept();
        let news = self.inner.news.subscribe();
        let last = since.unwrap_or_else(|| kept.back().map_or(0, |u| u.seq));
        let backlog: VecDeque<Update> = kept.iter().filter(|u| u.seq > last).cloned().collect();
        Subscription {
            backlog,
            news,
            last,
        }
    }
}

/// What a push client is sent, in order.
struct Subscription {
    backlog: VecDeque<Update>,
    news: broadcast::Receiver<Update>,
    last: u64,
}

impl Subscription {
    /// The next update; `None` once the client has fallen [`PUSH_QUEUE`]
    /// updates behind (or the feed is gone). Cancel safe.
    async fn next(&mut self) -> Option<Update> {
        if let Some(update) = self.backlog.pop_front() {
            self.last = update.seq;
            return Some(update);
        }
        loop {
            match self.news.recv().await {
                // Already sent from the backlog.
                Ok(update) if update.seq <= self.last => {}
                Ok(update) => {
                    self.last = update.seq;
                    return Some(update);
                }
                Err(_) => return None,
            }
        }
    }
}

/// Publishes an update every `interval`, forever.
async fn tick(feed: Feed, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        feed.publish(now_us());
    }
}

/// Microseconds since the Unix epoch.
fn now_us() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------
// Connections.

/// Accepts connections forever, each in its own task, within `limits`.
async fn serve(listener: TcpListener, feed: Feed, limits: Limits) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.connections));
    let held = Arc::new(Semaphore::new(limits.held));
    loop {
        let (mut stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, say: wait instead of spinning.
                eprintln!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tokio::spawn(async move {
                let body = b"Too many connections; try again later.\n";
                let reply = plain(503, body, false, &[("Retry-After", "1")]);
                let _ = tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&reply)).await;
            });
            continue;
        };
        let (feed, held) = (feed.clone(), Arc::clone(&held));
        tokio::spawn(async move {
            let _permit = permit;
            // Errors end the connection; the client has been told when it
            // could be (400, 431, ...), and a client that vanished needs
            // nothing. Nothing is logged, as the module docs say.
            let _ = connection(stream, &feed, &held).await;
        });
    }
}

/// The handshake limits, which are also those of every request head.
fn handshake_config() -> HandshakeConfig {
    HandshakeConfig::default()
        .max_head_size(MAX_HEAD)
        .max_headers(MAX_HEADERS)
        .timeout(HEAD_TIMEOUT)
}

/// Serves one connection: requests one after the other while it is kept
/// alive, until it becomes an event stream or a WebSocket.
async fn connection(mut stream: TcpStream, feed: &Feed, held: &Semaphore) -> Result<(), Error> {
    // Bytes received after the last request head: the next request's.
    let mut pending = Vec::new();
    loop {
        let Some(incoming) = next_request(&mut stream, &mut pending).await? else {
            return Ok(());
        };
        let request = match incoming {
            Incoming::Upgrade(request) => return websocket(stream, &request, pending, feed).await,
            Incoming::Http(request) => request,
        };
        let keep_alive =
            request.version() == 1 && !request.headers().contains_token("Connection", "close");
        let has_body = request.headers().get("Transfer-Encoding").is_some()
            || request
                .headers()
                .get_str("Content-Length")
                .is_some_and(|length| length != "0");
        let reply = if request.method() != "GET" {
            let body = b"Only GET is supported.\n";
            write_within(&mut stream, &plain(405, body, false, &[("Allow", "GET")])).await?;
            linger(&mut stream).await;
            return Ok(());
        } else if has_body {
            let body = b"Requests with a body are not supported.\n";
            write_within(&mut stream, &plain(400, body, false, &[])).await?;
            linger(&mut stream).await;
            return Ok(());
        } else {
            match (request.path(), since(&request)) {
                (_, Err(why)) => plain(400, why.as_bytes(), keep_alive, &[]),
                ("/", _) => page(keep_alive),
                ("/poll", Ok(since)) => json(&feed.after(since), keep_alive),
                ("/long-poll", Ok(since)) => {
                    let Ok(_permit) = held.try_acquire() else {
                        let body = b"Too many long polls held; try again later.\n";
                        let reply = plain(503, body, keep_alive, &[("Retry-After", "1")]);
                        write_within(&mut stream, &reply).await?;
                        continue;
                    };
                    match long_poll(&mut stream, &mut pending, feed, since).await? {
                        Some(updates) => json(&updates, keep_alive),
                        // The client left while its request was held.
                        None => return Ok(()),
                    }
                }
                ("/events", Ok(since)) => return events(stream, feed, since).await,
                ("/ws", _) => {
                    let body = b"/ws is a WebSocket: send an upgrade request.\n";
                    plain(426, body, keep_alive, &[("Upgrade", "websocket")])
                }
                _ => plain(404, b"Not found.\n", keep_alive, &[]),
            }
        };
        write_within(&mut stream, &reply).await?;
        if !keep_alive {
            let _ = stream.shutdown().await;
            return Ok(());
        }
    }
}

/// Reads the next request head, starting with the bytes in `pending` and
/// leaving there what came after it. `None` when the client closes or
/// stays idle for [`IDLE_TIMEOUT`] before sending a byte of it. A head that
/// breaks a limit is answered (400, 414, 431) and ends the connection.
async fn next_request(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
) -> Result<Option<Incoming>, Error> {
    let mut handshake = ServerHandshake::with_config(handshake_config());
    let mut received = pending.len();
    let mut result = if received == 0 {
        Ok(None)
    } else {
        handshake.receive(&std::mem::take(pending))
    };
    let mut deadline = Instant::now()
        + if received == 0 {
            IDLE_TIMEOUT
        } else {
            HEAD_TIMEOUT
        };
    let mut buf = [0; 4096];
    loop {
        match result {
            Ok(Some(incoming)) => {
                *pending = handshake.into_leftover();
                return Ok(Some(incoming));
            }
            Ok(None) => {}
            Err(error) => {
                write_within(stream, &error.response()).await?;
                linger(stream).await;
                return Err(error.into());
            }
        }
        let n = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(read) => read?,
            Err(_) if received == 0 => return Ok(None),
            Err(_) => return Err(Error::HandshakeTimeout),
        };
        if n == 0 {
            return if received == 0 {
                Ok(None)
            } else {
                Err(Error::HandshakeEof)
            };
        }
        if received == 0 {
            deadline = Instant::now() + HEAD_TIMEOUT;
        }
        received += n;
        result = handshake.receive(&buf[..n]);
    }
}

/// Ends a connection whose client may still be sending (a body, the rest
/// of a head too large): closes the sending side, then reads and drops what
/// comes for up to a second, so that unread bytes do not make the kernel
/// reset the connection before the client has read the answer.
async fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut buf = [0; 4096];
        let mut dropped = 0;
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            dropped += n;
            if dropped > 64 << 10 {
                break;
            }
        }
    })
    .await;
}

/// The `since` parameter: `Ok(None)` when absent, an error text when it is
/// not a number.
fn since(request: &Request) -> Result<Option<u64>, String> {
    let from_query = request
        .query()
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("since="));
    // An event stream's reconnection says where it stopped in a header.
    let from_header = request.headers().get_str("Last-Event-ID");
    match from_query.or(from_header) {
        None => Ok(None),
        Some(value) => value
            .parse()
            .map(Some)
            .map_err(|_| format!("since: not a number: {value:.40}\n")),
    }
}

/// Holds a long poll until there is an update after `since` (at once when
/// `since` is `None`) or [`LONG_POLL_TIMEOUT`] passes. `None` if the client
/// closed meanwhile; bytes it sends meanwhile (its next request) go to
/// `pending`.
async fn long_poll(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    feed: &Feed,
    since: Option<u64>,
) -> Result<Option<Vec<Update>>, Error> {
    let mut latest = feed.inner.latest.subscribe();
    let deadline = Instant::now() + LONG_POLL_TIMEOUT;
    let mut buf = [0; 1024];
    loop {
        // Marked seen before looking, so an update made after the look
        // wakes `changed` below.
        latest.borrow_and_update();
        let updates = feed.after(since);
        if !updates.is_empty() {
            return Ok(Some(updates));
        }
        tokio::select! {
            changed = latest.changed() => {
                if changed.is_err() {
                    return Ok(Some(Vec::new()));
                }
            }
            () = tokio::time::sleep_until(deadline) => return Ok(Some(Vec::new())),
            read = stream.read(&mut buf) => {
                let n = read?;
                if n == 0 {
                    return Ok(None);
                }
                if pending.len() + n > MAX_HEAD {
                    let reply = plain(431, b"Too much sent ahead.\n", false, &[]);
                    write_within(stream, &reply).await?;
                    return Ok(None);
                }
                pending.extend_from_slice(&buf[..n]);
            }
        }
    }
}

/// Streams Server-Sent Events until the client goes away or falls behind.
async fn events(mut stream: TcpStream, feed: &Feed, since: Option<u64>) -> Result<(), Error> {
    // No length: the events run until the connection closes.
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                Cache-Control: no-store\r\nConnection: close\r\n\r\n";
    write_within(&mut stream, head.as_bytes()).await?;
    let mut updates = feed.subscribe(since);
    let (mut read, mut write) = stream.split();
    let mut event = String::new();
    let mut buf = [0; 1024];
    let mut quiet_until = Instant::now() + SSE_KEEPALIVE;
    loop {
        tokio::select! {
            update = updates.next() => {
                let Some(update) = update else { return Ok(()) };
                event.clear();
                let _ = write!(event, "id: {}\ndata: {}\n\n", update.seq, update.json);
                write_within(&mut write, event.as_bytes()).await?;
                quiet_until = Instant::now() + SSE_KEEPALIVE;
            }
            () = tokio::time::sleep_until(quiet_until) => {
                write_within(&mut write, b":\n\n").await?;
                quiet_until = Instant::now() + SSE_KEEPALIVE;
            }
            // Anything the client sends is ignored; its close ends the stream.
            read = read.read(&mut buf) => if read? == 0 { return Ok(()) },
        }
    }
}

/// Writes `bytes` within [`WRITE_TIMEOUT`]: a client that reads nothing
/// cannot hold a connection's task forever.
async fn write_within(
    stream: &mut (impl tokio::io::AsyncWrite + Unpin),
    bytes: &[u8],
) -> Result<(), Error> {
    match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(bytes)).await {
        Ok(written) => Ok(written?),
        Err(_) => Err(Error::Io(std::io::ErrorKind::TimedOut.into())),
    }
}

/// Accepts an upgrade at `/ws` and sends it every update as a text message.
async fn websocket(
    mut stream: TcpStream,
    request: &Request,
    pending: Vec<u8>,
    feed: &Feed,
) -> Result<(), Error> {
    let refusal = match since(request) {
        _ if request.path() != "/ws" => Some((404, "The WebSocket is at /ws.\n".to_owned())),
        _ if !request.is_same_origin() => {
            Some((403, "Cross-origin WebSockets are refused.\n".into()))
        }
        Err(why) => Some((400, why)),
        Ok(_) => None,
    };
    if let Some((status, body)) = refusal {
        write_within(&mut stream, &plain(status, body.as_bytes(), false, &[])).await?;
        linger(&mut stream).await;
        return Ok(());
    }
    let since = since(request).ok().flatten();
    let mut config = Config::default();
    config.max_frame_size = 4 << 10;
    config.max_message_size = 4 << 10;
    config.keepalive = Some(Keepalive::new(
        Duration::from_secs(30),
        Duration::from_secs(15),
    ));
    config.write_timeout = Some(WRITE_TIMEOUT);
    config.handshake = handshake_config();
    let (reply, negotiated) = request.accept_negotiated(&Accept::new(), &config.handshake)?;
    write_within(&mut stream, &reply).await?;
    let mut conn = negotiated.install(Connection::new(Role::Server, config));
    // Frames the client sent right behind its request come first.
    conn.receive(&pending);
    let mut ws = WebSocket::from_connection(stream, conn).with_negotiated(negotiated);
    let mut updates = feed.subscribe(since);
    loop {
        tokio::select! {
            update = updates.next() => {
                let Some(update) = update else {
                    let close = ws.close(CloseCode::POLICY_VIOLATION, "too slow");
                    let _ = tokio::time::timeout(CLOSE_GRACE, close).await;
                    break;
                };
                ws.send(Message::Text(update.json.to_string())).await?;
            }
            message = ws.read() => match message? {
                Some(Message::Close(_)) => break,
                Some(_) => {}
                None => return Ok(()),
            },
        }
    }
    // Finish the close handshake: read until the core says the transport
    // is closed (bounded by its close timeout, and here).
    let _ = tokio::time::timeout(CLOSE_GRACE * 3, async {
        while let Ok(Some(_)) = ws.read().await {}
    })
    .await;
    Ok(())
}

// ---------------------------------------------------------------------------
// Responses.

/// A response with `headers`, the type and caching headers of `body`, and
/// `Connection: close` unless the connection is kept alive.
fn reply(
    status: u16,
    content_type: &str,
    body: &[u8],
    keep_alive: bool,
    headers: &[(&str, &str)],
) -> Vec<u8> {
    let mut all = vec![
        ("Content-Type", content_type),
        ("Cache-Control", "no-store"),
    ];
    if !keep_alive {
        all.push(("Connection", "close"));
    }
    all.extend_from_slice(headers);
    // The names and values are constants above: always valid.
    response(status, &all, body).unwrap_or_default()
}

fn plain(status: u16, body: &[u8], keep_alive: bool, headers: &[(&str, &str)]) -> Vec<u8> {
    reply(
        status,
        "text/plain; charset=utf-8",
        body,
        keep_alive,
        headers,
    )
}

fn page(keep_alive: bool) -> Vec<u8> {
    reply(
        200,
        "text/html; charset=utf-8",
        PAGE.as_bytes(),
        keep_alive,
        &[],
    )
}

/// A JSON array of `updates`.
fn json(updates: &[Update], keep_alive: bool) -> Vec<u8> {
    let mut body = String::from("[");
    for (i, update) in updates.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&update.json);
    }
    body.push(']');
    reply(200, "application/json", body.as_bytes(), keep_alive, &[])
}

#[cfg(test)]
mod tests;
