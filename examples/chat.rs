//! A chat room for browsers: an HTML page at `/` and a WebSocket at `/ws`,
//! both on one port, over the tokio adapter.
//!
//! ```text
//! cargo run --release --example chat -- 127.0.0.1:8080
//! ```
//!
//! Then open <http://127.0.0.1:8080> in two tabs. The page
//! (`examples/chat/index.html`, compiled in) is plain HTML and JavaScript.
//!
//! Over TLS (`https://` and `wss://`), with a certificate chain and its
//! private key in PEM files, and the crate's feature `rustls`:
//!
//! ```text
//! cargo run --release --example chat --features rustls -- 0.0.0.0:8443 --tls cert.pem key.pem
//! ```
//!
//! # Serving HTTP and WebSocket on one port
//!
//! Every connection starts with the tokio adapter's HTTP entry point,
//! [`read_request`], which reads one request under the limits of the
//! handshake configuration: a plain HTTP request (`Incoming::Http`) gets
//! the page at `GET /`, 404 for other paths and 405 for other methods, and
//! the connection closes; an upgrade (`Incoming::Upgrade`) is accepted at
//! `/ws` only, and from a browser only when its `Origin` is this server's
//! own host (so other sites' pages cannot join the chat on a visitor's
//! behalf). The whole handshake, request and answer, must be done within
//! 10 seconds.
//!
//! # Protocol
//!
//! Clients send **plain text** frames: no JSON parser is needed on the
//! server, and a client cannot send a malformed object. The first text
//! message on a connection is the sender's **name**; every later one is a
//! chat **message**. A rejected name gets an error and the server waits for
//! another; a renaming client reconnects.
//!
//! The server sends JSON objects in text frames, written with the small
//! encoder below (strings escaped per RFC 8259):
//!
//! ```text
//! {"type":"welcome","you":"alice","online":2}               to a client whose name was accepted
//! {"type":"join","name":"bob","online":3,"time":"…"}        to everyone else
//! {"type":"leave","name":"bob","online":2,"time":"…"}       to everyone
//! {"type":"message","name":"alice","text":"hi","time":"…"}  to everyone, the sender too
//! {"type":"error","text":"…"}                               to the client that sent bad input
//! {"type":"status","degraded":true,"text":"…"}              with --redis: to everyone, news of the other processes
//! {"type":"online","online":3}                              with --redis: to everyone, when only the count changed
//! ```
//!
//! `time` is RFC 3339 UTC (`2024-05-01T12:34:56Z`), computed from
//! [`SystemTime`]. `online` counts clients that have joined (sent a valid
//! name).
//!
//! # Rules and limits
//!
//! - A name is 1 to 32 characters after trimming surrounding whitespace,
//!   with no control characters. Names need not be unique: they are labels,
//!   and refusing a taken name would lock out a user whose old connection
//!   the server has not yet seen drop.
//! - A message is trimmed; it must not be empty and may hold at most 4096
//!   bytes of UTF-8 (newlines allowed).
//! - Each client may send 5 messages a second, in bursts of up to 10; more
//!   are refused with an error, so one client cannot flood the others.
//! - Binary messages are refused with an error; the connection stays open.
//! - The connection itself accepts frames and messages of at most 64 KiB
//!   (larger ones close it with 1009), and pings a silent client after 30 s,
//!   closing it if nothing arrives in the 15 s after.
//!
//! # Slow clients
//!
//! Each client has a queue of 64 outgoing messages. The broadcaster never
//! waits: it `try_send`s into every queue, and a client whose queue is full
//! cannot keep up; it is dropped from the room at once and its connection
//! is closed with 1008 "too slow". Other clients never wait for it.
//!
//! Each connection is one task that `select!`s over its kick signal, its
//! queue and [`WebSocket::read`], which is cancel safe: a read interrupted
//! by an outgoing message loses nothing.
//!
//! # Several processes, one room
//!
//! With `--redis URL` (`redis://127.0.0.1:6379/`, say), chat processes on
//! different ports share one room through Redis: each one's messages,
//! joins and leaves reach the others' clients, and `online` counts the
//! whole room. A process keeps serving while Redis is away (its clients are
//! told the room is degraded), and what it accepted meanwhile reaches the
//! others once Redis is back, or its sender is told it was not sent. How,
//! and what is guaranteed: `examples/chat/cluster.rs`.
//!
//! # Log
//!
//! One line per HTTP request, connect (with the negotiated extension),
//! close (with its code) and error (a failed TLS handshake included); with
//! `--redis`, lines starting `cluster:` when the link to Redis is made or
//! lost.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rfc6455::handshake::{Accept, Request};
use rfc6455::tokio::{read_request, Error, Incoming, Rejection, WebSocket};
use rfc6455::{CloseCode, CloseFrame, Config, Keepalive, Message};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

#[path = "chat/cluster.rs"]
mod cluster;

/// The page, compiled into the binary.
const PAGE: &str = include_str!("chat/index.html");
/// How long a client has to send its complete HTTP request head.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest accepted name, in characters.
const MAX_NAME_CHARS: usize = 32;
/// Largest accepted chat message, in bytes of UTF-8.
const MAX_TEXT_BYTES: usize = 4096;
/// Outgoing messages a client may have waiting before it counts as too slow.
const QUEUE_LEN: usize = 64;
/// Messages a client may send at once...
const BURST: f64 = 10.0;
/// ...and per second over time.
const PER_SECOND: f64 = 5.0;
/// How long closing a connection may take before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// The connection's limits: small messages, and a keepalive that notices
/// clients that vanished without closing.
fn config() -> Config {
    let mut config = Config::default();
    config.max_frame_size = 64 << 10;
    config.max_message_size = 64 << 10;
    config.keepalive = Some(Keepalive::new(
        Duration::from_secs(30),
        Duration::from_secs(15),
    ));
    config.handshake.timeout = HANDSHAKE_TIMEOUT;
    config
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (args, redis) = cluster::redis_arg(std::env::args().skip(1));
    let (addr, tls) = match parse_args(args.into_iter()) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("{why}\nusage: chat [ADDRESS] [--tls CERT.pem KEY.pem] [--redis URL]");
            std::process::exit(2);
        }
    };
    let tls = match tls {
        Some((cert, key)) => Some(tls_acceptor(&cert, &key)?),
        None => None,
    };
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let (http, ws) = if tls.is_some() {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    println!("chat listening on {http}://{local}/ (WebSocket at {ws}://{local}/ws)");
    let mut room = Room::default();
    if let Some(url) = redis {
        let cluster = cluster::Cluster::start(&url, room.clone()).map_err(std::io::Error::other)?;
        room.cluster = Some(cluster);
    }
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, say: wait instead of spinning.
                eprintln!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let room = room.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            match tls {
                None => connection(stream, peer, &room).await,
                Some(acceptor) => over_tls(acceptor, stream, peer, &room).await,
            }
        });
    }
}

/// The address and, after `--tls`, the certificate chain and key files.
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> Result<(String, Option<(PathBuf, PathBuf)>), String> {
    let mut addr = None;
    let mut tls = None;
    while let Some(arg) = args.next() {
        if arg == "--tls" {
            match (args.next(), args.next()) {
                (Some(cert), Some(key)) => tls = Some((cert.into(), key.into())),
                _ => return Err("--tls takes two files: the certificate chain and the key".into()),
            }
        } else if arg.starts_with('-') || addr.is_some() {
            return Err(format!("unexpected argument `{arg}`"));
        } else {
            addr = Some(arg);
        }
    }
    Ok((addr.unwrap_or_else(|| "127.0.0.1:8080".into()), tls))
}

/// Serves one connection: the page, or a member of the room.
async fn connection<S>(stream: S, peer: SocketAddr, room: &Room)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match serve(stream, peer).await {
        Ok(Some(ws)) => {
            match ws.negotiated().extension_name() {
                Some(extension) => println!("connect {peer} {extension}"),
                None => println!("connect {peer}"),
            }
            let end = chat(ws, peer, room).await;
            println!("{end}");
        }
        Ok(None) => {}
        Err(error) => println!("error {peer}: {error}"),
    }
}

// ---------------------------------------------------------------------------
// TLS (`--tls`, with the crate's feature `rustls`): https:// and wss://.

/// What accepts TLS connections.
#[cfg(feature = "rustls")]
type Tls = rfc6455::tls::tokio_rustls::TlsAcceptor;
/// Without the feature there is nothing to accept TLS with.
#[cfg(not(feature = "rustls"))]
type Tls = std::convert::Infallible;

/// A TLS acceptor with the certificate chain and key of two PEM files.
#[cfg(feature = "rustls")]
fn tls_acceptor(cert: &Path, key: &Path) -> std::io::Result<Tls> {
    let config = rfc6455::tls::server_config_from_pem(cert, key).map_err(std::io::Error::other)?;
    Ok(Tls::from(config))
}

#[cfg(not(feature = "rustls"))]
fn tls_acceptor(_: &Path, _: &Path) -> std::io::Result<Tls> {
    Err(std::io::Error::other(
        "--tls needs TLS: build the example with `--features rustls`",
    ))
}

/// The TLS handshake (within [`HANDSHAKE_TIMEOUT`]), then the connection.
#[cfg(feature = "rustls")]
async fn over_tls(acceptor: Tls, stream: TcpStream, peer: SocketAddr, room: &Room) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => connection(stream, peer, room).await,
        // A spare connection closed unused, as with plain HTTP: no line.
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Ok(Err(error)) => println!("error {peer}: TLS: {error}"),
        Err(_) => println!("error {peer}: TLS: the handshake did not finish in time"),
    }
}

#[cfg(not(feature = "rustls"))]
async fn over_tls(acceptor: Tls, _: TcpStream, _: SocketAddr, _: &Room) {
    match acceptor {}
}

// ---------------------------------------------------------------------------
// The opening handshake: the page, or a WebSocket.

/// Reads one request (within [`HANDSHAKE_TIMEOUT`], under the limits of
/// [`config`]) and answers it. Returns the WebSocket for an accepted
/// upgrade at `/ws`, `None` when an HTTP response was sent or no request
/// came (browsers open spare connections they may never use).
async fn serve<S>(stream: S, peer: SocketAddr) -> Result<Option<WebSocket<S>>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // A request that breaks a rule has had its answer (400, 414, 426 or
    // 431, with a body naming the problem) when this returns an error.
    let upgrade = match read_request(stream, config()).await? {
        None => return Ok(None),
        Some(Incoming::Http(http)) => {
            let request = http.request();
            let (status, headers, body) = http_answer(request);
            println!(
                "http {peer} {} {} {status}",
                request.method(),
                request.target()
            );
            http.respond(status, &headers, body).await?;
            return Ok(None);
        }
        Some(Incoming::Upgrade(upgrade)) => upgrade,
    };
    let request = upgrade.request();
    let refusal = if request.path() != "/ws" {
        Some((404, "There is no WebSocket here; the chat is at /ws.\n"))
    } else if !request.is_same_origin() {
        Some((403, "Cross-origin WebSocket connections are not allowed.\n"))
    } else {
        None
    };
    if let Some((status, body)) = refusal {
        println!("refused {peer} {}: {status}", request.target());
        upgrade.reject(Rejection::new(status, body)).await?;
        return Ok(None);
    }
    // permessage-deflate as `config().handshake.deflate` says (on by
    // default, so a browser tab gets compressed frames).
    upgrade.accept(Accept::new()).await.map(Some)
}

/// The answer to a plain HTTP request: the page, 404 or 405.
fn http_answer(request: &Request) -> (u16, Vec<(&'static str, &'static str)>, &'static [u8]) {
    const PLAIN: (&str, &str) = ("Content-Type", "text/plain; charset=utf-8");
    match (request.method(), request.path()) {
        ("GET", "/") => (
            200,
            vec![
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
            ],
            PAGE.as_bytes(),
        ),
        ("GET", _) => (404, vec![PLAIN], b"Not found.\n"),
        _ => (
            405,
            vec![PLAIN, ("Allow", "GET")],
            b"Only GET is supported.\n",
        ),
    }
}

// ---------------------------------------------------------------------------
// The room: who is in it, and broadcasting to them.

/// A frame ready to send: one JSON text shared by every queue it goes to.
type Frame = Arc<str>;

/// The clients that have joined, by connection id. Cloning shares it.
#[derive(Clone, Default)]
struct Room {
    members: Arc<Mutex<HashMap<u64, Member>>>,
    /// The other processes of the room, with `--redis`.
    cluster: Option<cluster::Cluster>,
}

struct Member {
    queue: mpsc::Sender<Frame>,
    /// Fired (and taken) when the member is dropped for being too slow.
    kick: Option<oneshot::Sender<()>>,
}

impl Room {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Member>> {
        // A panic while holding the lock leaves the map consistent.
        self.members
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a member: `welcome` goes into its own queue first, then
    /// everyone else hears that it joined.
    fn join(&self, id: u64, name: &str, queue: mpsc::Sender<Frame>, kick: oneshot::Sender<()>) {
        let mut members = self.lock();
        members.insert(
            id,
            Member {
                queue: queue.clone(),
                kick: Some(kick),
            },
        );
        let online = members.len() + self.remote_online();
        // A fresh queue has room for this.
        let _ = queue.try_send(
            Json::new("welcome")
                .str("you", name)
                .num("online", online)
                .finish(),
        );
        let joined = Json::new("join")
            .str("name", name)
            .num("online", online)
            .str("time", &rfc3339(SystemTime::now()))
            .finish();
        broadcast(&mut members, &joined, Some(id));
        self.cluster_join(id, name, members.len(), &queue);
    }

    /// Removes a member (if the broadcaster has not already) and tells
    /// everyone it left.
    fn leave(&self, id: u64, name: &str) {
        let mut members = self.lock();
        members.remove(&id);
        let left = Json::new("leave")
            .str("name", name)
            .num("online", members.len() + self.remote_online())
            .str("time", &rfc3339(SystemTime::now()))
            .finish();
        broadcast(&mut members, &left, None);
        self.cluster_leave(id, name, members.len());
    }

    /// Sends a chat message to everyone, the sender included; or refuses
    /// it, saying why, when other processes cannot take it (`--redis`).
    fn say(&self, name: &str, text: &str) -> Result<(), String> {
        let message = Json::new("message")
            .str("name", name)
            .str("text", text)
            .str("time", &rfc3339(SystemTime::now()))
            .finish();
        self.cluster_say(&message)?;
        broadcast(&mut self.lock(), &message, None);
        Ok(())
    }
}

/// Queues `frame` for every member but `except`, without waiting. A member
/// whose queue is full is removed and kicked; one whose task has ended is
/// removed.
fn broadcast(members: &mut HashMap<u64, Member>, frame: &Frame, except: Option<u64>) {
    members.retain(|&id, member| {
        if Some(id) == except {
            return true;
        }
        match member.queue.try_send(Arc::clone(frame)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if let Some(kick) = member.kick.take() {
                    let _ = kick.send(());
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    });
}

// ---------------------------------------------------------------------------
// One client's connection.

/// How a client's connection ended, printed as its log line.
enum End {
    /// The close handshake: the client's close frame (`None`: no code).
    Closed(SocketAddr, Option<CloseFrame<'static>>),
    /// The client fell [`QUEUE_LEN`] messages behind.
    TooSlow(SocketAddr),
    /// The connection failed (protocol error, timeout, I/O error).
    Failed(SocketAddr, Error),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Closed(peer, Some(frame)) if frame.reason.is_empty() => {
                write!(f, "close {peer}: {}", frame.code)
            }
            End::Closed(peer, Some(frame)) => {
                write!(f, "close {peer}: {} {:?}", frame.code, frame.reason)
            }
            End::Closed(peer, None) => write!(f, "close {peer}: {}", CloseCode::NO_STATUS),
            End::TooSlow(peer) => {
                write!(f, "close {peer}: {} too slow", CloseCode::POLICY_VIOLATION)
            }
            End::Failed(peer, Error::Connection(error)) => {
                write!(f, "error {peer}: {error} ({})", error.close_code())
            }
            End::Failed(peer, error) => write!(f, "error {peer}: {error}"),
        }
    }
}

/// What a client has said so far.
struct Client {
    id: u64,
    /// Set once the client has sent a valid name and joined.
    name: Option<String>,
    /// This client's own queue, for its welcome and error replies, so that
    /// everything it is sent goes out in order through one place.
    queue: mpsc::Sender<Frame>,
    /// Fires when the room drops this client for being too slow.
    kick: Option<oneshot::Receiver<()>>,
    limit: RateLimit,
}

/// Runs a client's connection until it ends, and takes it out of the room.
async fn chat<S>(mut ws: WebSocket<S>, peer: SocketAddr, room: &Room) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    let (queue, mut outgoing) = mpsc::channel::<Frame>(QUEUE_LEN);
    let mut client = Client {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        name: None,
        queue,
        kick: None,
        limit: RateLimit::new(Instant::now()),
    };
    let end = loop {
        // Unbiased, so a busy room cannot starve reading nor a chatty
        // client its deliveries.
        tokio::select! {
            _ = kicked(&mut client.kick) => break End::TooSlow(peer),
            Some(frame) = outgoing.recv() => {
                // A send waits while the client is not reading; the kick
                // wins over it, and over the rest of the queue.
                tokio::select! {
                    biased;
                    _ = kicked(&mut client.kick) => break End::TooSlow(peer),
                    sent = ws.send(Message::Text(frame.to_string())) => {
                        if let Err(error) = sent {
                            break End::Failed(peer, error);
                        }
                    }
                }
            }
            message = ws.read() => match message {
                Ok(Some(Message::Text(text))) => {
                    if !client.on_text(&text, room) {
                        break End::TooSlow(peer);
                    }
                }
                Ok(Some(Message::Binary(_))) => {
                    if !client.reply_error("Binary messages are not supported; send text.") {
                        break End::TooSlow(peer);
                    }
                }
                Ok(Some(Message::Close(frame))) => break End::Closed(peer, frame),
                Ok(Some(Message::Ping(_) | Message::Pong(_))) => {}
                // `read` returns the close frame before it ends, so this is
                // only reached after a close the loop has already seen.
                Ok(None) => break End::Closed(peer, None),
                Err(error) => break End::Failed(peer, error),
            },
        }
    };
    if let Some(name) = &client.name {
        room.leave(client.id, name);
    }
    if let End::TooSlow(_) = end {
        // The close frame waits behind what is already buffered; give the
        // client a moment to read it, then drop the socket regardless.
        let close = ws.close(CloseCode::POLICY_VIOLATION, "too slow");
        let _ = tokio::time::timeout(CLOSE_GRACE, close).await;
    }
    if !matches!(end, End::Failed(..)) {
        // Finish the close handshake: read until the core says the
        // transport is closed (bounded by its close timeout, and here).
        let _ = tokio::time::timeout(CLOSE_GRACE * 3, async {
            while let Ok(Some(_)) = ws.read().await {}
        })
        .await;
    }
    end
}

/// Resolves when the kick fires; never before joining.
async fn kicked(kick: &mut Option<oneshot::Receiver<()>>) {
    if let Some(receiver) = kick {
        if receiver.await.is_ok() {
            return;
        }
        // The room dropped the sender without kicking, which it does only
        // once this task has left it: not a kick. A finished receiver must
        // not be polled again.
        *kick = None;
    }
    std::future::pending().await
}

impl Client {
    /// Handles a text message: the name first, chat messages after.
    /// Returns `false` if the client's own queue is full (too slow).
    fn on_text(&mut self, text: &str, room: &Room) -> bool {
        let Some(name) = &self.name else {
            return match valid_name(text) {
                Ok(name) => {
                    let (kick, kicked) = oneshot::channel();
                    room.join(self.id, name, self.queue.clone(), kick);
                    self.name = Some(name.to_owned());
                    self.kick = Some(kicked);
                    true
                }
                Err(why) => self.reply_error(&why),
            };
        };
        let text = text.trim();
        if text.is_empty() {
            return self.reply_error("Empty messages are not sent.");
        }
        if text.len() > MAX_TEXT_BYTES {
            let why = format!(
                "Message too long: {} bytes, at most {MAX_TEXT_BYTES}.",
                text.len()
            );
            return self.reply_error(&why);
        }
        if !self.limit.allow(Instant::now()) {
            let why = format!("Slow down: at most {PER_SECOND} messages a second.");
            return self.reply_error(&why);
        }
        match room.say(name, text) {
            Ok(()) => true,
            Err(why) => self.reply_error(&why),
        }
    }

    /// Queues an error for this client; `false` if its queue is full.
    fn reply_error(&self, text: &str) -> bool {
        let frame = Json::new("error").str("text", text).finish();
        match self.queue.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => false,
            // Cannot happen: the receiver lives as long as this client.
            Err(mpsc::error::TrySendError::Closed(_)) => true,
        }
    }
}

/// The trimmed name if it is acceptable, or why not.
fn valid_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 {
        Err("Choose a name first.".into())
    } else if chars > MAX_NAME_CHARS {
        Err(format!(
            "Name too long: {chars} characters, at most {MAX_NAME_CHARS}."
        ))
    } else if name.chars().any(char::is_control) {
        Err("Names cannot contain control characters.".into())
    } else {
        Ok(name)
    }
}

/// A token bucket: [`BURST`] messages at once, [`PER_SECOND`] over time.
struct RateLimit {
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    fn new(now: Instant) -> Self {
        RateLimit {
            tokens: BURST,
            last: now,
        }
    }

    fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * PER_SECOND).min(BURST);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

// ---------------------------------------------------------------------------
// JSON output and time, without dependencies.

/// Builds one flat JSON object, starting with its `"type"`.
struct Json(String);

impl Json {
    fn new(kind: &str) -> Self {
        let mut out = String::from("{\"type\":");
        push_json_string(&mut out, kind);
        Json(out)
    }

    fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        push_json_string(&mut self.0, value);
        self
    }

    fn num(mut self, key: &str, value: usize) -> Self {
        self.key(key);
        let _ = write!(self.0, "{value}");
        self
    }

    fn key(&mut self, key: &str) {
        self.0.push(',');
        push_json_string(&mut self.0, key);
        self.0.push(':');
    }

    fn finish(mut self) -> Frame {
        self.0.push('}');
        self.0.into()
    }
}

/// Appends `value` as a JSON string (RFC 8259 §7): quotes and backslashes
/// escaped, control characters as short escapes or `\u00XX`; everything
/// else, any Unicode included, as is (the frame is UTF-8 text).
fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `time` as RFC 3339 in UTC with whole seconds, e.g. `2024-05-01T12:34:56Z`.
fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Count from 0000-03-01, so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    //! Run with `cargo test --example chat`.
    use super::*;

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}é😀</script>");
        assert_eq!(out, r#""a\"b\\c\n\r\t\b\f\u0001\u001fé😀</script>""#);
    }

    #[test]
    fn json_objects_are_flat_and_ordered() {
        let frame = Json::new("message")
            .str("name", "a\"")
            .num("online", 3)
            .finish();
        assert_eq!(&*frame, r#"{"type":"message","name":"a\"","online":3}"#);
    }

    #[test]
    fn rfc3339_dates() {
        let at = |secs| rfc3339(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(valid_name("  alice \n"), Ok("alice"));
        assert!(valid_name("   ").is_err());
        assert!(valid_name(&"x".repeat(33)).is_err());
        assert_eq!(valid_name(&"é".repeat(32)).map(str::len), Ok(64));
        assert!(valid_name("a\u{0}b").is_err());
    }

    #[test]
    fn arguments_are_an_address_and_tls_files_in_any_order() {
        let parse = |args: &[&str]| parse_args(args.iter().map(|a| a.to_string()));
        assert_eq!(parse(&[]), Ok(("127.0.0.1:8080".into(), None)));
        let tls = Some(("c.pem".into(), "k.pem".into()));
        assert_eq!(
            parse(&["0.0.0.0:1", "--tls", "c.pem", "k.pem"]),
            Ok(("0.0.0.0:1".into(), tls.clone()))
        );
        assert_eq!(
            parse(&["--tls", "c.pem", "k.pem", "0.0.0.0:1"]),
            Ok(("0.0.0.0:1".into(), tls))
        );
        assert!(parse(&["--tls", "c.pem"]).is_err());
        assert!(parse(&["a:1", "b:2"]).is_err());
        assert!(parse(&["--verbose"]).is_err());
    }

    #[test]
    fn rate_limit_allows_a_burst_then_refills() {
        let start = Instant::now();
        let mut limit = RateLimit::new(start);
        assert!((0..10).all(|_| limit.allow(start)));
        assert!(!limit.allow(start));
        assert!(limit.allow(start + Duration::from_millis(200)));
        assert!(!limit.allow(start + Duration::from_millis(200)));
    }

    #[test]
    fn a_member_with_a_full_queue_is_kicked_and_others_keep_theirs() {
        let room = Room::default();
        let (slow_queue, _slow_outgoing) = mpsc::channel(QUEUE_LEN);
        let (slow_kick, mut slow_kicked) = oneshot::channel();
        room.join(1, "slow", slow_queue, slow_kick);
        let (fast_queue, mut fast_outgoing) = mpsc::channel(QUEUE_LEN);
        let (fast_kick, mut fast_kicked) = oneshot::channel();
        room.join(2, "fast", fast_queue, fast_kick);
        // "slow" holds its welcome and the join of "fast": room for 62 more.
        for i in 0..200 {
            room.say("fast", &i.to_string()).unwrap();
            while fast_outgoing.try_recv().is_ok() {}
        }
        assert_eq!(slow_kicked.try_recv(), Ok(()));
        assert!(fast_kicked.try_recv().is_err());
        assert_eq!(room.lock().len(), 1);
    }
}
