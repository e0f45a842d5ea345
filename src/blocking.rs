//! The blocking adapter: a [`Connection`] over any `Read + Write` stream.
//!
//! It moves bytes and nothing else: every protocol decision is the core's.
//! Reads go straight into the connection's receive buffer; everything the
//! connection queues (replies to pings and closes included) is written
//! before the next read blocks.
//!
//! The core's timers (close timeout, keepalive) need a read that can time
//! out: [`WebSocket::with_timers`] turns them on for streams that implement
//! [`SocketTimeouts`] (`TcpStream` does; [`connect`] turns them on itself).
//!
//! [`connect`] and [`connect_with`] open the connection themselves: TCP,
//! through a proxy when one is set or named by the environment, TLS for
//! `wss://` (feature `rustls`), all within the handshake timeout; both
//! URL schemes give a [`MaybeTlsStream`].
//!
//! ```no_run
//! use rfc6455::blocking;
//! use rfc6455::Message;
//!
//! let (mut ws, _response) = blocking::connect("ws://127.0.0.1:9001/")?;
//! ws.send(Message::Text("hello".into()))?;
//! if let Some(message) = ws.read()? {
//!     println!("{message:?}");
//! }
//! ws.close(1000u16, "done")?;
//! while ws.read()?.is_some() {} // the close handshake
//! # Ok::<(), rfc6455::blocking::Error>(())
//! ```

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

pub use crate::adapter::{Error, Rejection};
use crate::connection::MAX_WRITE_PIECES;
use crate::handshake::{
    self, Accept, ClientHandshake, ClientOptions, HandshakeConfig, Negotiated, Request, Response,
    ServerHandshake,
};
use crate::transport;
pub use crate::transport::blocking::MaybeTlsStream;
use crate::{CloseCode, Config, Connection, Message, Role};

/// A stream whose reads and writes can be given a timeout, so the core's
/// timers fire while a read blocks and a write to a peer that stopped
/// reading ends.
pub trait SocketTimeouts {
    /// Sets the timeout of the next reads (`None`: block indefinitely).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Sets the timeout of the next writes (`None`: block indefinitely).
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl SocketTimeouts for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl SocketTimeouts for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_write_timeout(self, timeout)
    }
}

/// How a stream's read timeout is set, when it can be.
type SetReadTimeout<S> = fn(&S, Option<Duration>) -> io::Result<()>;

/// A WebSocket over a blocking stream.
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
    set_read_timeout: Option<SetReadTimeout<S>>,
    negotiated: Negotiated,
    /// The last `read` returned a message and no `send` followed it yet:
    /// a `send` now leaves its bytes queued for the read after it if a
    /// further whole frame is already buffered
    /// ([`Connection::has_buffered_frame`]), looked at when the reply is
    /// sent, so a message that gets no reply costs no parse of the next
    /// frame's header.
    read_since_send: bool,
    /// A `send` returned with its message queued, unwritten: the next
    /// `read` writes it before it waits for input, and does not write
    /// (alone) when it returns a message already buffered.
    held: bool,
}

/// Connects to a `ws://` or `wss://` URL with the default configuration:
/// permessage-deflate offered, through the proxy the environment names
/// (see [`ClientOptions::proxy`]), `wss://` verified against Mozilla's
/// roots (feature `rustls`). The core's timers are on.
pub fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    connect_with(url, ClientOptions::new(), Config::default())
}

/// Connects to a `ws://` or `wss://` URL with handshake options and a
/// configuration; see [`client`] for the extensions. The core's timers are
/// on.
///
/// The route comes from `options`: its `proxy` (HTTP `CONNECT` or SOCKS5;
/// the environment's by default) and, for `wss://`, its `tls` (feature
/// `rustls`; without it, `wss://` fails with an `Unsupported` I/O error).
/// TLS runs inside the proxy's tunnel. The whole of it, from the TCP
/// connection to the end of the server's response, is bounded by
/// `options.config.timeout`: past it, [`Error::HandshakeTimeout`] (or
/// [`ProxyError::TimedOut`](crate::proxy::ProxyError::TimedOut) while the
/// proxy has not answered). Name resolution is the system's and not
/// bounded.
pub fn connect_with(
    url: &str,
    options: ClientOptions,
    config: Config,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let plan = transport::Plan::of(&options);
    let handshake = ClientHandshake::new(url, options)?;
    let deadline = transport::deadline(handshake.config().timeout);
    let route = plan.route(handshake.target())?;
    let stream = transport::blocking::open(&route, handshake.target(), deadline)?;
    let (ws, response) =
        handshake_client(handshake, stream, config, |stream| stream.arm(deadline))?;
    ws.with_timers().map(|ws| (ws, response))
}

/// Runs the client handshake for `url` over a stream the caller opened.
///
/// permessage-deflate is offered as `options.config.deflate` says (by
/// default it is); what the server agreed to is installed in the
/// connection and shown by [`Response::negotiated`] and
/// [`WebSocket::negotiated`]. `config.handshake` is not used: a client's
/// handshake settings are in `options`.
pub fn client<S: Read + Write>(
    url: &str,
    options: ClientOptions,
    stream: S,
    config: Config,
) -> Result<(WebSocket<S>, Response), Error> {
    handshake_client(ClientHandshake::new(url, options)?, stream, config, |_| {
        Ok(())
    })
}

/// The client handshake; `before_io` runs before each write and read (to
/// bound them by a deadline).
fn handshake_client<S: Read + Write>(
    mut handshake: ClientHandshake,
    mut stream: S,
    config: Config,
    before_io: impl Fn(&S) -> Result<(), Error>,
) -> Result<(WebSocket<S>, Response), Error> {
    before_io(&stream)?;
    stream.write_all(handshake.request())?;
    stream.flush()?;
    let mut buf = [0; 4096];
    let response = loop {
        before_io(&stream)?;
        let n = read_some(&mut stream, &mut buf)?;
        if n == 0 {
            handshake.receive_eof()?;
            return Err(Error::HandshakeEof);
        }
        if let Some(response) = handshake.receive(&buf[..n])? {
            break response;
        }
    };
    let negotiated = response.negotiated().clone();
    let mut conn = negotiated.install(Connection::new(Role::Client, config));
    conn.receive(handshake.leftover());
    let ws = WebSocket::from_connection(stream, conn).with_negotiated(negotiated);
    Ok((ws, response))
}

/// Accepts a WebSocket on a stream with the default configuration,
/// whatever subprotocols the client offers (none is chosen), and
/// permessage-deflate when the client offers it.
///
/// To bound the handshake in time, give the stream a read timeout first
/// (`TcpStream::set_read_timeout`, e.g. to
/// [`crate::handshake::HandshakeConfig::timeout`]): a read that times out
/// ends the handshake with [`Error::HandshakeTimeout`]. Then
/// [`WebSocket::with_timers`] hands the read timeout to the core's timers.
pub fn accept<S: Read + Write>(stream: S) -> Result<WebSocket<S>, Error> {
    accept_with(stream, Config::default(), |_| Ok(Accept::new()))
}

/// Accepts a WebSocket on a stream, letting `decide` see the request and
/// accept it (choosing a subprotocol, adding headers) or refuse it.
///
/// Extensions are negotiated as [`Request::accept_negotiated`] says:
/// permessage-deflate under `config.handshake.deflate` (on by default;
/// `None` declines it), unless `decide` lists extensions itself, which are
/// then sent as they are. [`WebSocket::negotiated`] shows the outcome.
pub fn accept_with<S, F>(mut stream: S, config: Config, decide: F) -> Result<WebSocket<S>, Error>
where
    S: Read + Write,
    F: FnOnce(&Request) -> Result<Accept, Rejection>,
{
    let (incoming, leftover) = read_head(&mut stream, &config.handshake, &mut 0)?;
    let (reply, outcome) = crate::adapter::answer(incoming, &config.handshake, decide);
    answer_upgrade(stream, &reply, outcome, &leftover, config)
}

/// Reads one request head, answering a broken one with its error
/// response; returns it with the bytes that came after it. `received`
/// counts the bytes read.
fn read_head<S: Read + Write>(
    stream: &mut S,
    config: &HandshakeConfig,
    received: &mut usize,
) -> Result<(handshake::Incoming, Vec<u8>), Error> {
    let mut handshake = ServerHandshake::with_config(config.clone());
    let mut buf = [0; 4096];
    loop {
        let n = read_some(stream, &mut buf)?;
        if n == 0 {
            return Err(Error::HandshakeEof);
        }
        *received += n;
        match handshake.receive(&buf[..n]) {
            Ok(Some(incoming)) => return Ok((incoming, handshake.into_leftover())),
            Ok(None) => {}
            Err(error) => {
                // 400, 403, 414, 426 or 431, with a body naming the problem.
                stream.write_all(&error.response())?;
                return Err(error.into());
            }
        }
    }
}

/// Writes the answer to an upgrade; on acceptance, the WebSocket with the
/// negotiated extensions installed and `leftover` (what the client sent
/// behind its request) fed to it first.
fn answer_upgrade<S: Read + Write>(
    mut stream: S,
    reply: &[u8],
    outcome: Result<Negotiated, Error>,
    leftover: &[u8],
    config: Config,
) -> Result<WebSocket<S>, Error> {
    stream.write_all(reply)?;
    stream.flush()?;
    let negotiated = outcome?;
    let mut conn = negotiated.install(Connection::new(Role::Server, config));
    conn.receive(leftover);
    Ok(WebSocket::from_connection(stream, conn).with_negotiated(negotiated))
}

/// Reads one HTTP request from `stream`: the entry point of a server that
/// answers plain HTTP requests and WebSocket upgrades on one port.
///
/// The request is read and validated by the same rules as in
/// [`accept_with`], under `config.handshake`'s head size and header count.
/// To bound it in time, give the stream a read timeout first, as for
/// [`accept`]. Then:
///
/// - `Ok(Some(Incoming::Upgrade(upgrade)))`: a valid WebSocket opening
///   handshake. Look at [`Upgrade::request`] (path, origin, offered
///   subprotocols) and [`accept`](Upgrade::accept) it, which negotiates
///   permessage-deflate under `config.handshake.deflate` as
///   [`accept_with`] does, or [`reject`](Upgrade::reject) it.
/// - `Ok(Some(Incoming::Http(request)))`: a plain HTTP request, for the
///   server to [`respond`](HttpRequest::respond) to itself, or to take
///   over with [`HttpRequest::into_parts`].
/// - `Ok(None)`: no request came: the client closed the connection, or
///   its read timed out, before its first byte.
/// - `Err(_)`: the request broke a rule (its error response, 400, 403,
///   414, 426 or 431, was sent: [`Error::Request`]), the client stopped in
///   the middle of it ([`Error::HandshakeEof`], [`Error::HandshakeTimeout`]),
///   or the transport failed.
///
/// ```no_run
/// use rfc6455::blocking::{read_request, Incoming, Rejection};
/// use rfc6455::handshake::Accept;
/// use rfc6455::Config;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:8080")?;
/// for stream in listener.incoming() {
///     let stream = stream?;
///     stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
///     match read_request(stream, Config::default())? {
///         Some(Incoming::Http(http)) => http.respond(200, &[("Content-Type", "text/plain")], b"hello\n")?,
///         Some(Incoming::Upgrade(upgrade)) if upgrade.request().path() == "/ws" => {
///             let mut ws = upgrade.accept(Accept::new())?.with_timers()?;
///             while let Some(message) = ws.read()? {
///                 // ...
///                 # drop(message);
///             }
///         }
///         Some(Incoming::Upgrade(upgrade)) => upgrade.reject(Rejection::new(404, "Not found\n"))?,
///         None => {}
///     }
/// }
/// # Ok::<(), rfc6455::blocking::Error>(())
/// ```
pub fn read_request<S: Read + Write>(
    mut stream: S,
    config: Config,
) -> Result<Option<Incoming<S>>, Error> {
    let mut received = 0;
    let (incoming, leftover) = match read_head(&mut stream, &config.handshake, &mut received) {
        Ok(head) => head,
        Err(Error::HandshakeEof | Error::HandshakeTimeout) if received == 0 => return Ok(None),
        Err(error) => return Err(error),
    };
    Ok(Some(match incoming {
        handshake::Incoming::Upgrade(request) => Incoming::Upgrade(Upgrade {
            stream,
            request,
            leftover,
            config: Box::new(config),
        }),
        handshake::Incoming::Http(request) => Incoming::Http(HttpRequest {
            stream,
            request,
            leftover,
        }),
    }))
}

/// What [`read_request`] read: a WebSocket upgrade or a plain HTTP request,
/// each holding the stream until it is answered.
#[derive(Debug)]
pub enum Incoming<S> {
    /// A valid WebSocket opening handshake, to accept or reject.
    Upgrade(Upgrade<S>),
    /// A request without `Upgrade: websocket`, for the server to answer.
    Http(HttpRequest<S>),
}

impl<S> Incoming<S> {
    /// The request, whichever kind it is.
    pub fn request(&self) -> &Request {
        match self {
            Incoming::Upgrade(upgrade) => &upgrade.request,
            Incoming::Http(http) => &http.request,
        }
    }
}

/// A valid WebSocket opening handshake that [`read_request`] read, not yet
/// answered; dropping it closes the stream without an answer.
pub struct Upgrade<S> {
    stream: S,
    request: Request,
    leftover: Vec<u8>,
    /// Boxed: a `Config` is large, and `Incoming` would be as large.
    config: Box<Config>,
}

impl<S> std::fmt::Debug for Upgrade<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgrade")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl<S: Read + Write> Upgrade<S> {
    /// The request: path, query, headers, origin, offered subprotocols and
    /// extensions.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The stream, for its addresses.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Accepts the upgrade with `accept`'s subprotocol and extra headers,
    /// negotiating extensions as [`accept_with`] does, and returns the
    /// WebSocket, which has already been given the frames the client sent
    /// right behind its request. Call [`WebSocket::with_timers`] on it for
    /// the core's timers.
    ///
    /// Parameters the handshake cannot send (a subprotocol the client did
    /// not offer, an invalid header) are answered with 500 and returned as
    /// [`Error::Build`].
    pub fn accept(self, accept: Accept) -> Result<WebSocket<S>, Error> {
        let incoming = handshake::Incoming::Upgrade(self.request);
        let config = self.config;
        let (reply, outcome) = crate::adapter::answer(incoming, &config.handshake, |_| Ok(accept));
        answer_upgrade(self.stream, &reply, outcome, &self.leftover, *config)
    }

    /// Refuses the upgrade with `rejection`'s status, headers and body
    /// (and `Connection: close` unless it names a `Connection` itself);
    /// dropping the stream after it closes the connection.
    ///
    /// A rejection that cannot be sent as it is (an invalid header or
    /// status) is answered with 500 and returned as [`Error::Build`].
    pub fn reject(self, mut rejection: Rejection) -> Result<(), Error> {
        if !rejection
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("Connection"))
        {
            rejection
                .headers
                .push(("Connection".into(), "close".into()));
        }
        let incoming = handshake::Incoming::Upgrade(self.request);
        let config = self.config;
        let (reply, outcome) =
            crate::adapter::answer(incoming, &config.handshake, |_| Err(rejection));
        match answer_upgrade(self.stream, &reply, outcome, &self.leftover, *config) {
            // A rejection opens no WebSocket: `Ok(_)` does not happen.
            Ok(_) | Err(Error::Refused(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// A plain HTTP request that [`read_request`] read, not yet answered.
pub struct HttpRequest<S> {
    stream: S,
    request: Request,
    leftover: Vec<u8>,
}

impl<S> std::fmt::Debug for HttpRequest<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl<S: Read + Write> HttpRequest<S> {
    /// The request: method, path, query, headers.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The stream, for its addresses.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Answers with [`handshake::response`]`(status, headers, body)`, adding
    /// `Connection: close` unless `headers` name a `Connection` themselves;
    /// dropping the stream after it closes the connection: one request per
    /// connection.
    ///
    /// Headers [`handshake::response`] refuses (an invalid name or value,
    /// `Content-Length`) or a body the status cannot carry are answered
    /// with 500 and returned as [`Error::Build`].
    pub fn respond(self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> Result<(), Error> {
        let mut stream = self.stream;
        let (reply, outcome) = crate::adapter::http_response(status, headers, body);
        stream.write_all(&reply)?;
        stream.flush()?;
        outcome
    }

    /// The stream, the request and the bytes the client sent after the
    /// head (the start of a body, or of a pipelined request), for a server
    /// that answers in its own way: a streamed body, or keep-alive.
    pub fn into_parts(self) -> (S, Request, Vec<u8>) {
        (self.stream, self.request, self.leftover)
    }
}

/// Reads during the handshake: a read timeout on the stream ends it.
fn read_some<S: Read>(stream: &mut S, buf: &mut [u8]) -> Result<usize, Error> {
    loop {
        match stream.read(buf) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Error::HandshakeTimeout)
            }
            other => return Ok(other?),
        }
    }
}

impl<S: Read + Write> WebSocket<S> {
    /// Wraps a stream whose opening handshake was done elsewhere (by an HTTP
    /// server, say), with a connection in the negotiated role. Bytes the
    /// other code read past the handshake go to [`Connection::receive`]
    /// first, and a negotiated extension must be installed in `conn`
    /// already ([`Negotiated::install`]).
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        WebSocket {
            stream,
            conn,
            set_read_timeout: None,
            negotiated: Negotiated::default(),
            read_since_send: false,
            held: false,
        }
    }

    /// Records what the handshake negotiated, for
    /// [`negotiated`](Self::negotiated) to report; the codec itself must
    /// be in the connection already.
    #[must_use]
    pub fn with_negotiated(mut self, negotiated: Negotiated) -> Self {
        self.negotiated = negotiated;
        self
    }

    /// The extensions the opening handshake agreed on, e.g.
    /// `ws.negotiated().extension_name() == Some("permessage-deflate")`.
    /// Empty for a socket made with [`from_connection`](Self::from_connection)
    /// unless [`with_negotiated`](Self::with_negotiated) recorded them.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Honours the core's timers (close timeout, keepalive) with read
    /// timeouts on the stream, and [`Config::write_timeout`] with its write
    /// timeout.
    ///
    /// # Errors
    ///
    /// If the stream refuses the write timeout.
    pub fn with_timers(mut self) -> Result<Self, Error>
    where
        S: SocketTimeouts,
    {
        self.stream
            .set_write_timeout(self.conn.config().write_timeout)?;
        self.set_read_timeout = Some(<S as SocketTimeouts>::set_read_timeout);
        Ok(self)
    }

    /// The next message; `Ok(None)` once the close handshake is over (the
    /// peer's close frame was returned as [`Message::Close`] before). Pings
    /// are answered before this returns, unless replies held by
    /// [`send`](WebSocket::send) are waiting: then the answers join them,
    /// and everything queued is written before this waits for input. The
    /// peer's close is echoed, after everything held, before it is
    /// returned, so a loop that stops there leaves nothing unsent.
    /// Streamed chunks ([`Config::streaming`]) are not messages: use
    /// [`WebSocket::connection`] and the core's events for them.
    pub fn read(&mut self) -> Result<Option<Message>, Error> {
        loop {
            match self.conn.poll_message() {
                Ok(Some(message)) => {
                    if !self.held || matches!(message, Message::Close(_)) {
                        self.flush()?;
                    }
                    self.read_since_send = true;
                    return Ok(Some(message));
                }
                Ok(None) => {}
                Err(error) => {
                    // The close frame for a protocol error goes out if it can.
                    let _ = self.flush();
                    return Err(error.into());
                }
            }
            self.flush()?;
            if self.conn.should_close_transport() {
                return Ok(None);
            }
            if let Some(set_read_timeout) = self.set_read_timeout {
                let now = Instant::now();
                let timeout = self.conn.poll_timeout(now).map(|deadline| {
                    deadline
                        .saturating_duration_since(now)
                        .max(Duration::from_millis(1))
                });
                set_read_timeout(&self.stream, timeout)?;
            }
            match self.stream.read(self.conn.receive_buffer()) {
                Ok(0) => self.conn.receive_eof(),
                Ok(n) => self.conn.commit(n),
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.conn.handle_timeout(Instant::now());
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Sends a message: as a rule, writes it (and whatever is queued
    /// before it) to the stream and flushes before it returns.
    ///
    /// The exception batches the replies to a burst of requests: when the
    /// last [`read`](WebSocket::read) returned while a further whole frame
    /// was already buffered, the first `send` after it returns once the
    /// message is queued. Its bytes are written by the next `read` before
    /// that waits for input, at the latest, together with the replies
    /// queued meanwhile; or by the next `send` (which writes as a rule),
    /// [`flush`](WebSocket::flush) or [`close`](WebSocket::close), or at
    /// once if the write buffer is above its high-water mark. So in the
    /// usual loop, `read` then `send`, nothing waits longer than it takes
    /// to handle the messages that had already arrived, and a burst of
    /// requests gets its replies in one write; a loop that only sends
    /// writes every message before `send` returns. Call `flush` after such
    /// a `send` if you then wait on something other than this socket.
    ///
    /// A large payload is not copied: it goes to the transport from the
    /// message itself, in one vectored write with its frame header and the
    /// replies queued with it.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        let may_wait = std::mem::take(&mut self.read_since_send) && self.conn.has_buffered_frame();
        self.conn.send_owned(message)?;
        if may_wait && !self.conn.is_write_buffer_high() {
            self.held = true;
            return Ok(());
        }
        self.flush()
    }

    /// Starts the close handshake; keep calling [`WebSocket::read`] until it
    /// returns `Ok(None)` to finish it.
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)?;
        self.flush()
    }

    /// Writes everything the connection has queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        // Whatever the outcome, nothing is held any more: after an error,
        // the next read or send writes again.
        self.held = false;
        loop {
            let mut pieces = [io::IoSlice::new(&[]); MAX_WRITE_PIECES];
            let result = match self.conn.poll_transmit_vectored(&mut pieces) {
                0 => break,
                1 => self.stream.write(&pieces[0]),
                n => self.stream.write_vectored(&pieces[..n]),
            };
            match result {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.conn.advance_transmit(n),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    let limit = self.conn.config().write_timeout.unwrap_or_default();
                    return Err(crate::Error::WriteTimeout(limit).into());
                }
                Err(error) => return Err(error.into()),
            }
        }
        self.stream.flush()?;
        Ok(())
    }

    /// The sans-IO connection, for its state and lower-level calls.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, mutably; reading or writing it directly corrupts the
    /// connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream and the connection.
    pub fn into_parts(self) -> (S, Connection) {
        (self.stream, self.conn)
    }
}
