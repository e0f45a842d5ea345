//! The tokio adapter: a [`Connection`] over any `AsyncRead + AsyncWrite`.
//!
//! Like the blocking adapter it only moves bytes: reads go straight into the
//! connection's receive buffer, everything the connection queues is written
//! in one batch, and the core's timers are armed with `tokio::time`.
//!
//! # Cancel safety
//!
//! [`WebSocket::read`] (and `Stream::poll_next`) is cancel safe: bytes are
//! handed to the connection as soon as they are read, and a message leaves
//! the connection only when it is returned, so dropping a `read()` future at
//! any point, even in the middle of a frame, loses no bytes and duplicates
//! none. The sends queue their message in the connection before their first
//! await: if the future is dropped while flushing, the message is still sent
//! by the next call that writes.
//!
//! # Without allocating
//!
//! [`WebSocket::read`] returns an owned [`Message`], a copy of the bytes.
//! [`WebSocket::read_with`] instead lends the borrowed [`crate::Event`]
//! to a closure, straight from the connection's buffers, with a
//! [`Sender`] to queue replies from it: no allocation per message, and the
//! only copy of the bytes is the one from the socket.
//!
//! # Splitting
//!
//! [`WebSocket::split`] gives a [`ReadHalf`] and a [`WriteHalf`] that two
//! tasks drive at once. The read half also writes what the core queues on
//! its own (pongs, the close reply, keepalive pings) and runs the timers, so
//! a task that only reads keeps the connection healthy.
//!
//! ```no_run
//! # async fn run() -> Result<(), rfc6455::tokio::Error> {
//! use rfc6455::Message;
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! let (stream, _) = listener.accept().await?;
//! let mut ws = rfc6455::tokio::accept(stream).await?;
//! while let Some(message) = ws.read().await? {
//!     if matches!(message, Message::Text(_) | Message::Binary(_)) {
//!         ws.send(message).await?;
//!     }
//! }
//! # Ok(()) }
//! ```

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use ::tokio::time::{Instant, Sleep};

pub use crate::adapter::{Error, Rejection};
use crate::connection::MAX_WRITE_PIECES;
use crate::handshake::{
    self, Accept, ClientHandshake, ClientOptions, HandshakeConfig, Negotiated, Request, Response,
    ServerHandshake,
};
use crate::transport;
pub use crate::transport::tokio::MaybeTlsStream;

mod entry;
use crate::{CloseCode, Config, Connection, Event, Message, Role, Sender, UsageError, WriteNow};
pub use entry::{read_request, HttpRequest, Incoming, Upgrade};

/// Connects to a `ws://` or `wss://` URL with the default configuration:
/// permessage-deflate offered, through the proxy the environment names
/// (see [`ClientOptions::proxy`]), `wss://` verified against Mozilla's
/// roots (feature `rustls`).
pub async fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    connect_with(url, ClientOptions::new(), Config::default()).await
}

/// Connects to a `ws://` or `wss://` URL with handshake options and a
/// configuration; see [`client`] for the extensions.
///
/// The route comes from `options`: its `proxy` (HTTP `CONNECT` or SOCKS5;
/// the environment's by default) and, for `wss://`, its `tls` (feature
/// `rustls`; without it, `wss://` fails with an `Unsupported` I/O error).
/// TLS runs inside the proxy's tunnel. The whole of it, name resolution
/// and TCP to the end of the server's response, is bounded by
/// `options.config.timeout`: past it, [`Error::HandshakeTimeout`] (or
/// [`ProxyError::TimedOut`](crate::proxy::ProxyError::TimedOut) while the
/// proxy has not answered).
pub async fn connect_with(
    url: &str,
    options: ClientOptions,
    config: Config,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let plan = transport::Plan::of(&options);
    let handshake = ClientHandshake::new(url, options)?;
    let limit = handshake.config().timeout;
    let deadline = Instant::from_std(transport::deadline(limit));
    let route = plan.route(handshake.target())?;
    // Boxed, like the handshake alone: its buffers and the TLS handshake's
    // state live on the heap while it runs, not in the caller's future.
    let connect = Box::pin(async move {
        let stream = transport::tokio::open(&route, handshake.target(), deadline).await?;
        exchange_client(handshake, stream, config).await
    });
    ::tokio::time::timeout_at(deadline, connect)
        .await
        .unwrap_or(Err(Error::HandshakeTimeout))
}

/// Runs the client handshake for `url` over a stream the caller opened.
///
/// permessage-deflate is offered as `options.config.deflate` says (by
/// default it is); what the server agreed to is installed in the
/// connection and shown by [`Response::negotiated`] and
/// [`WebSocket::negotiated`]. `config.handshake` is not used: a client's
/// handshake settings are in `options`.
pub async fn client<S>(
    url: &str,
    options: ClientOptions,
    stream: S,
    config: Config,
) -> Result<(WebSocket<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    handshake_client(ClientHandshake::new(url, options)?, stream, config).await
}

/// Runs a handshake within `limit`.
async fn within<T>(
    limit: Duration,
    handshake: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    ::tokio::time::timeout(limit, handshake)
        .await
        .unwrap_or(Err(Error::HandshakeTimeout))
}

async fn handshake_client<S>(
    handshake: ClientHandshake,
    stream: S,
    config: Config,
) -> Result<(WebSocket<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limit = handshake.config().timeout;
    // Boxed: the handshake's buffers live on the heap while it runs, not
    // in the caller's future (a task's size) for the connection's life.
    within(limit, Box::pin(exchange_client(handshake, stream, config))).await
}

async fn exchange_client<S>(
    mut handshake: ClientHandshake,
    mut stream: S,
    config: Config,
) -> Result<(WebSocket<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream.write_all(handshake.request()).await?;
    stream.flush().await?;
    let mut buf = [0; 4096];
    let response = loop {
        let n = stream.read(&mut buf).await?;
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

/// Accepts a WebSocket with the default configuration, choosing no
/// subprotocol, with permessage-deflate when the client offers it.
pub async fn accept<S>(stream: S) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(stream, Config::default(), |_| Ok(Accept::new())).await
}

/// Accepts a WebSocket, letting `decide` see the typed request and accept it
/// (subprotocol, extra headers) or refuse it (status, body).
///
/// Extensions are negotiated as [`Request::accept_negotiated`] says:
/// permessage-deflate under `config.handshake.deflate` (on by default;
/// `None` declines it), unless `decide` lists extensions itself, which are
/// then sent as they are. [`WebSocket::negotiated`] shows the outcome.
pub async fn accept_with<S, F>(stream: S, config: Config, decide: F) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Rejection>,
{
    // Boxed: the handshake's buffers live on the heap while it runs, not
    // in the caller's future (a task's size) for the connection's life.
    within(
        config.handshake.timeout,
        Box::pin(exchange_server(stream, config, decide)),
    )
    .await
}

async fn exchange_server<S, F>(
    mut stream: S,
    config: Config,
    decide: F,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Rejection>,
{
    let (incoming, leftover) = read_head(&mut stream, &config.handshake, &mut 0).await?;
    let (reply, outcome) = crate::adapter::answer(incoming, &config.handshake, decide);
    answer_upgrade(stream, reply, outcome, leftover, config).await
}

/// Reads one request head, answering a broken one with its error
/// response; returns it with the bytes that came after it. `received`
/// counts the bytes read.
async fn read_head<S>(
    stream: &mut S,
    config: &HandshakeConfig,
    received: &mut usize,
) -> Result<(handshake::Incoming, Vec<u8>), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut handshake = ServerHandshake::with_config(config.clone());
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(Error::HandshakeEof);
        }
        *received += n;
        match handshake.receive(&buf[..n]) {
            Ok(Some(incoming)) => return Ok((incoming, handshake.into_leftover())),
            Ok(None) => {}
            Err(error) => {
                // 400, 403, 414, 426 or 431, with a body naming the problem.
                stream.write_all(&error.response()).await?;
                let _ = stream.shutdown().await;
                return Err(error.into());
            }
        }
    }
}

/// Writes the answer to an upgrade; on acceptance, the WebSocket with the
/// negotiated extensions installed and `leftover` (what the client sent
/// behind its request) fed to it first.
async fn answer_upgrade<S>(
    mut stream: S,
    reply: Vec<u8>,
    outcome: Result<Negotiated, Error>,
    leftover: Vec<u8>,
    config: Config,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream.write_all(&reply).await?;
    stream.flush().await?;
    let negotiated = match outcome {
        Ok(negotiated) => negotiated,
        Err(error) => {
            let _ = stream.shutdown().await;
            return Err(error);
        }
    };
    let mut conn = negotiated.install(Connection::new(Role::Server, config));
    conn.receive(&leftover);
    Ok(WebSocket::from_connection(stream, conn).with_negotiated(negotiated))
}

/// `read`'s step for `poll_read`: the next message, taken by ownership in
/// one pass ([`Connection::poll_message`]); `None` until more input.
fn owned_message(
    conn: &mut Connection,
    _: &mut dyn WriteNow,
) -> Result<Option<Message>, crate::Error> {
    conn.poll_message()
}

/// `read_with`'s step for `poll_read`: the first event lent to `f` (taken
/// on that call; `poll_read` returns right after it), with a sender that
/// may write a large reply straight to the socket.
fn lend<'f, F, R>(
    f: &'f mut Option<F>,
) -> impl FnMut(&mut Connection, &mut dyn WriteNow) -> Result<Option<R>, crate::Error> + 'f
where
    F: FnOnce(Event<'_>, &mut Sender<'_>) -> R,
{
    move |conn, socket| {
        let Some((event, mut sender)) = conn.poll_event_write_through(socket)? else {
            return Ok(None);
        };
        let f = f.take().expect("poll_read returns after the first event");
        Ok(Some(f(event, &mut sender)))
    }
}

/// Which half of a split socket is polling, to hand write wakeups over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Read,
    Write,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Read => Side::Write,
            Side::Write => Side::Read,
        }
    }
}

/// The socket as a [`WriteNow`]: one `poll_write_vectored`, whatever it
/// takes, nothing if it would wait.
struct SocketNow<'a, 'b, S> {
    stream: &'a mut S,
    wakers: &'a mut [Option<Waker>; 2],
    side: Side,
    cx: &'a mut Context<'b>,
}

impl<S: AsyncWrite + Unpin> WriteNow for SocketNow<'_, '_, S> {
    fn write_now(&mut self, bufs: &[io::IoSlice<'_>]) -> usize {
        match Pin::new(&mut *self.stream).poll_write_vectored(self.cx, bufs) {
            Poll::Ready(Ok(n)) => n,
            // Reported by the next regular write.
            Poll::Ready(Err(_)) => 0,
            Poll::Pending => {
                // This may have taken the socket's write wakeup from the
                // other half of a split socket: wake it to poll again.
                if let Some(waker) = self.wakers[self.side.other() as usize].take() {
                    waker.wake();
                }
                0
            }
        }
    }
}

/// The stream, the connection and the timer: what both halves share.
struct Inner<S> {
    stream: S,
    conn: Connection,
    sleep: Option<Pin<Box<Sleep>>>,
    /// A transport returns write readiness to the last task that polled it;
    /// the other half's waker is kept here and woken when writing moves on.
    write_wakers: [Option<Waker>; 2],
    shut_down: bool,
    /// The error that ended the connection, held until its close frame is
    /// written.
    failure: Option<crate::Error>,
    /// The last read handed out an event and no `send` followed it yet: a
    /// `send` now leaves its bytes queued for the read after it, which
    /// writes them before it waits for input, if a further whole frame is
    /// already buffered ([`Connection::has_buffered_frame`]). That is
    /// looked at when the reply is sent, not when the event is read, so a
    /// message that gets no reply costs no parse of the next frame's
    /// header.
    read_since_send: bool,
    /// What the handshake agreed on, for [`WebSocket::negotiated`].
    negotiated: Negotiated,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    /// Writes everything queued; `Ready(Ok)` once the transport has it all.
    /// Queued pieces (frames in the write buffer, owned payloads between
    /// them) go out in one vectored write when the transport takes them.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        loop {
            let mut pieces = [io::IoSlice::new(&[]); MAX_WRITE_PIECES];
            let stream = Pin::new(&mut self.stream);
            let vectored = stream.is_write_vectored();
            let polled = match self.conn.poll_transmit_vectored(&mut pieces) {
                0 => break,
                1 => stream.poll_write(cx, &pieces[0]),
                n if vectored => stream.poll_write_vectored(cx, &pieces[..n]),
                _ => stream.poll_write(cx, &pieces[0]),
            };
            match polled {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::Io(io::ErrorKind::WriteZero.into())))
                }
                Poll::Ready(Ok(n)) => {
                    self.conn.advance_transmit(n);
                    if let Some(waker) = self.write_wakers[side.other() as usize].take() {
                        waker.wake();
                    }
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                Poll::Pending => {
                    self.write_wakers[side as usize] = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
        Pin::new(&mut self.stream)
            .poll_flush(cx)
            .map_err(Error::from)
    }

    /// Arms the sleep for the core's next deadline; fires it if it is due
    /// and says whether it did.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let now = Instant::now();
        let Some(deadline) = self.conn.poll_timeout(now.into_std()) else {
            self.sleep = None;
            return false;
        };
        let deadline = Instant::from_std(deadline);
        if deadline > now {
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(deadline)));
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
        self.conn.handle_timeout(Instant::now().into_std());
        true
    }

    /// The next value `pull` takes from the connection, reading as needed;
    /// `Ready(Ok(None))` once the connection is over.
    fn poll_read<T>(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
        mut pull: impl FnMut(&mut Connection, &mut dyn WriteNow) -> Result<Option<T>, crate::Error>,
    ) -> Poll<Result<Option<T>, Error>> {
        loop {
            if self.failure.is_none() {
                // A large reply from `read_with`'s callback goes to the
                // socket at once when nothing is queued before it, without a
                // copy into the write buffer.
                let mut socket = SocketNow {
                    stream: &mut self.stream,
                    wakers: &mut self.write_wakers,
                    side,
                    cx,
                };
                match pull(&mut self.conn, &mut socket) {
                    Ok(Some(value)) => {
                        self.read_since_send = true;
                        return Poll::Ready(Ok(Some(value)));
                    }
                    Ok(None) => {}
                    Err(error) => self.failure = Some(error),
                }
            }
            if let Some(error) = self.failure.take() {
                // The close frame that tells the peer why goes out before
                // the error is reported and the transport closed; if the
                // transport fails meanwhile, the protocol error still is
                // the one reported.
                let shut = match self.poll_write_out(cx, side) {
                    Poll::Ready(Ok(())) => Pin::new(&mut self.stream).poll_shutdown(cx).map(|_| ()),
                    Poll::Ready(Err(_)) => Poll::Ready(()),
                    Poll::Pending => Poll::Pending,
                };
                if shut.is_pending() {
                    self.failure = Some(error);
                    // A peer that stopped reading is cut off by the write
                    // timeout, which drops what it cannot take.
                    if self.poll_timer(cx) {
                        continue;
                    }
                    return Poll::Pending;
                }
                self.shut_down = true;
                return Poll::Ready(Err(error.into()));
            }
            let flushed = self.poll_write_out(cx, side)?.is_ready();
            if self.conn.should_close_transport() {
                if !flushed {
                    if self.poll_timer(cx) {
                        continue;
                    }
                    return Poll::Pending;
                }
                if !self.shut_down {
                    ready!(Pin::new(&mut self.stream).poll_shutdown(cx))?;
                    self.shut_down = true;
                }
                return Poll::Ready(Ok(None));
            }
            if self.poll_timer(cx) {
                continue;
            }
            let mut buf = ReadBuf::new(self.conn.receive_buffer());
            if Pin::new(&mut self.stream)
                .poll_read(cx, &mut buf)?
                .is_pending()
            {
                // Nothing to read: the buffer, if empty, goes to whichever
                // connection on this thread reads next, still cached.
                self.conn.release_receive_buffer();
                return Poll::Pending;
            }
            match buf.filled().len() {
                0 => self.conn.receive_eof(),
                n => self.conn.commit(n),
            }
        }
    }

    /// Queues a message in the connection, taking its payload.
    fn queue(&mut self, message: Message) -> Result<(), UsageError> {
        self.conn.send_owned(message)
    }

    /// Waits for room under the high-water mark, then sends the message
    /// (taken from `message` once there is room, so a cancelled send has
    /// queued it whole or not at all). Behind queued bytes, or when the
    /// reply may wait for the next read, the payload joins the queue
    /// without a copy and leaves with the rest in one vectored write;
    /// otherwise a large one goes straight to the socket, and what the
    /// socket does not take waits in the queue, still without a copy.
    /// Answers whether the message waits for the next read
    /// ([`Inner::read_since_send`]).
    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
        message: &mut Option<Message>,
    ) -> Poll<Result<bool, Error>> {
        ready!(self.poll_ready(cx, side))?;
        let Some(message) = message.take() else {
            return Poll::Ready(Ok(false));
        };
        let waits = self.read_since_send && self.conn.has_buffered_frame();
        if waits || self.conn.buffered_amount() > 0 {
            self.queue(message)?;
            return Poll::Ready(Ok(waits));
        }
        let mut socket = SocketNow {
            stream: &mut self.stream,
            wakers: &mut self.write_wakers,
            side,
            cx,
        };
        self.conn
            .sender_write_through(&mut socket)
            .send_owned(message)?;
        Poll::Ready(Ok(false))
    }

    /// Back-pressure: ready to queue once the write buffer is below its
    /// high-water mark.
    fn poll_ready(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<Result<(), Error>> {
        if self.conn.is_write_buffer_high() {
            ready!(self.poll_write_out(cx, side))?;
        }
        Poll::Ready(Ok(()))
    }
}

/// A WebSocket over an async stream.
pub struct WebSocket<S> {
    inner: Inner<S>,
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("conn", &self.inner.conn)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Wraps a stream whose opening handshake was done elsewhere (by hyper
    /// or axum, say), with a connection in the negotiated role. Bytes the
    /// other code read past the handshake go to [`Connection::receive`]
    /// first, and a negotiated extension must be installed in `conn`
    /// already ([`Negotiated::install`]).
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        WebSocket {
            inner: Inner {
                stream,
                conn,
                sleep: None,
                write_wakers: [None, None],
                shut_down: false,
                failure: None,
                read_since_send: false,
                negotiated: Negotiated::default(),
            },
        }
    }

    /// Records what the handshake negotiated, for
    /// [`negotiated`](Self::negotiated) to report; the codec itself must
    /// be in the connection already.
    #[must_use]
    pub fn with_negotiated(mut self, negotiated: Negotiated) -> Self {
        self.inner.negotiated = negotiated;
        self
    }

    /// The extensions the opening handshake agreed on, e.g.
    /// `ws.negotiated().extension_name() == Some("permessage-deflate")`.
    /// Empty for a socket made with [`from_connection`](Self::from_connection)
    /// unless [`with_negotiated`](Self::with_negotiated) recorded them.
    pub fn negotiated(&self) -> &Negotiated {
        &self.inner.negotiated
    }

    /// The next message; `Ok(None)` once the close handshake is over and the
    /// transport is closed (the peer's close frame was returned as
    /// [`Message::Close`] first). Cancel safe.
    ///
    /// The message is built in one pass over its payload: unmasked (and its
    /// text validated) while it is copied into the buffer that becomes the
    /// message ([`Connection::poll_message`]).
    pub async fn read(&mut self) -> Result<Option<Message>, Error> {
        poll_fn(|cx| self.inner.poll_read(cx, Side::Read, owned_message)).await
    }

    /// The next event, lent to `f` straight from the connection's buffers
    /// (no allocation, no copy), with a [`Sender`] to queue replies while
    /// the event is borrowed; `Ok(None)` once the close handshake is over
    /// and the transport is closed. Cancel safe, like [`WebSocket::read`].
    ///
    /// Every event is handed over: pings, pongs and the peer's close
    /// (already answered by default) as well as messages, and the pieces of
    /// messages with [`Config::streaming`].
    ///
    /// What the sender queues is written before this socket's next read
    /// waits for input (so a burst of requests gets its replies in one
    /// write), or by [`WebSocket::flush`]. It is not flushed here: when
    /// replying, call `flush` once the write buffer is high
    /// ([`Connection::is_write_buffer_high`]) and before waiting on anything
    /// but this socket.
    ///
    /// ```no_run
    /// # async fn echo(mut ws: rfc6455::tokio::WebSocket<tokio::net::TcpStream>) -> Result<(), rfc6455::tokio::Error> {
    /// use rfc6455::Event;
    ///
    /// while let Some(sent) = ws
    ///     .read_with(|event, sender| match event {
    ///         Event::Text(text) => sender.send_text(text),
    ///         Event::Binary(data) => sender.send_binary(data),
    ///         _ => Ok(()),
    ///     })
    ///     .await?
    /// {
    ///     sent?;
    ///     if ws.connection().is_write_buffer_high() {
    ///         ws.flush().await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_with<F, R>(&mut self, f: F) -> Result<Option<R>, Error>
    where
        F: FnOnce(Event<'_>, &mut Sender<'_>) -> R,
    {
        let mut f = Some(f);
        poll_fn(|cx| self.inner.poll_read(cx, Side::Read, lend(&mut f))).await
    }

    /// Sends a message, waiting for room under the write buffer's high-water
    /// mark first and, as a rule, for the transport to take it after.
    ///
    /// The exception batches the replies to a burst of requests: when the
    /// last [`read`](WebSocket::read) (or `read_with`) returned while a
    /// further whole frame was already buffered, the first `send` after it
    /// returns once the message is queued. Its bytes are written by the
    /// next `read` before that waits for input, at the latest, together
    /// with the replies queued meanwhile; or by the next `send` (which
    /// writes as a rule), [`flush`](WebSocket::flush) or
    /// [`close`](WebSocket::close), or once the write buffer passes its
    /// high-water mark. So in the usual loop, `read` then `send`, nothing
    /// waits longer than it takes to handle the messages that had already
    /// arrived; a loop that only sends writes every message before `send`
    /// returns. Call `flush` after such a `send` if you then wait on
    /// something other than this socket.
    ///
    /// A payload of 32 KiB or more is not copied: with nothing queued
    /// before it, it goes to the socket from the message itself, in one
    /// vectored write with its frame header; when it waits with other
    /// replies, the message itself waits in the queue, and the replies
    /// leave together in one vectored write.
    ///
    /// Cancel safe in the sense that matters: a message is queued whole or
    /// not at all, so a `send` dropped while it waits neither loses a
    /// queued message nor sends one twice.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        let mut message = Some(message);
        let waits = poll_fn(|cx| self.inner.poll_send(cx, Side::Write, &mut message)).await?;
        self.inner.read_since_send = false;
        if waits {
            return Ok(());
        }
        self.flush().await
    }

    /// Starts the close handshake; keep reading until `read` returns
    /// `Ok(None)` to finish it.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        self.inner.conn.close(code, reason)?;
        self.flush().await
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_write_out(cx, Side::Write)).await
    }

    /// The sans-IO connection, for its state and lower-level calls.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.inner.conn
    }

    /// The stream, for its addresses and options; reading or writing it
    /// directly corrupts the connection.
    pub fn get_ref(&self) -> &S {
        &self.inner.stream
    }

    /// The stream and the connection.
    pub fn into_parts(self) -> (S, Connection) {
        (self.inner.stream, self.inner.conn)
    }

    /// Splits into a read half and a write half for two tasks.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let shared = Arc::new(Mutex::new(self.inner));
        (
            ReadHalf {
                shared: Arc::clone(&shared),
            },
            WriteHalf { shared },
        )
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> futures_core::Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .inner
            .poll_read(cx, Side::Read, owned_message)
            .map(Result::transpose)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> futures_sink::Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_ready(cx, Side::Write)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        Ok(self.get_mut().inner.queue(message)?)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_write_out(cx, Side::Write)
    }

    /// Sends a normal close (unless one was sent) and flushes it; the close
    /// handshake finishes on the reading side.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let inner = &mut self.get_mut().inner;
        if inner.conn.state() == crate::State::Open {
            inner.conn.close(CloseCode::NORMAL, "")?;
        }
        inner.poll_write_out(cx, Side::Write)
    }
}

/// The reading half of a split [`WebSocket`]; it also sends the automatic
/// replies and runs the timers.
pub struct ReadHalf<S> {
    shared: Arc<Mutex<Inner<S>>>,
}

/// The writing half of a split [`WebSocket`].
pub struct WriteHalf<S> {
    shared: Arc<Mutex<Inner<S>>>,
}

impl<S> std::fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<S> std::fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

/// Locks the shared state; a panic in another half's poll leaves nothing
/// half-written that matters more than going on, so poisoning is ignored.
fn lock<S>(shared: &Mutex<Inner<S>>) -> MutexGuard<'_, Inner<S>> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// The next message; see [`WebSocket::read`]. Cancel safe.
    pub async fn read(&mut self) -> Result<Option<Message>, Error> {
        poll_fn(|cx| lock(&self.shared).poll_read(cx, Side::Read, owned_message)).await
    }

    /// The next event, lent to `f`; see [`WebSocket::read_with`]. The
    /// connection stays locked while `f` runs. Cancel safe.
    pub async fn read_with<F, R>(&mut self, f: F) -> Result<Option<R>, Error>
    where
        F: FnOnce(Event<'_>, &mut Sender<'_>) -> R,
    {
        let mut f = Some(f);
        poll_fn(|cx| lock(&self.shared).poll_read(cx, Side::Read, lend(&mut f))).await
    }

    /// Joins the halves again; gives them back if they come from different
    /// sockets.
    pub fn reunite(self, write: WriteHalf<S>) -> Result<WebSocket<S>, (ReadHalf<S>, WriteHalf<S>)> {
        if !Arc::ptr_eq(&self.shared, &write.shared) {
            return Err((self, write));
        }
        drop(write);
        match Arc::try_unwrap(self.shared) {
            Ok(mutex) => Ok(WebSocket {
                inner: mutex
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            }),
            Err(_) => unreachable!("both halves were given and one was dropped"),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Sends a message; see [`WebSocket::send`].
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        let mut message = Some(message);
        poll_fn(|cx| lock(&self.shared).poll_send(cx, Side::Write, &mut message)).await?;
        self.flush().await
    }

    /// Starts the close handshake; the read half sees the peer's answer.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        lock(&self.shared).conn.close(code, reason)?;
        self.flush().await
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| lock(&self.shared).poll_write_out(cx, Side::Write)).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> futures_core::Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        lock(&self.shared)
            .poll_read(cx, Side::Read, owned_message)
            .map(Result::transpose)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> futures_sink::Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_ready(cx, Side::Write)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        Ok(lock(&self.shared).queue(message)?)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        lock(&self.shared).poll_write_out(cx, Side::Write)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut inner = lock(&self.shared);
        if inner.conn.state() == crate::State::Open {
            inner.conn.close(CloseCode::NORMAL, "")?;
        }
        inner.poll_write_out(cx, Side::Write)
    }
}
