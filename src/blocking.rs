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
use crate::handshake::{
    Accept, ClientHandshake, ClientOptions, Negotiated, Request, Response, ServerHandshake,
};
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
}

/// Connects to a `ws://` URL over TCP, with the default configuration
/// (permessage-deflate offered). The core's timers are on.
pub fn connect(url: &str) -> Result<(WebSocket<TcpStream>, Response), Error> {
    let handshake = ClientHandshake::new(url, ClientOptions::new())?;
    if handshake.target().secure {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::Unsupported,
            "wss:// needs TLS: open a TLS stream and use blocking::client over it",
        )));
    }
    let target = handshake.target();
    let stream = TcpStream::connect((target.host.trim_matches(['[', ']']), target.port))?;
    stream.set_nodelay(true)?;
    // Bound each read and write of the handshake; the timers take over after.
    let limit = Some(handshake.config().timeout);
    stream.set_read_timeout(limit)?;
    stream.set_write_timeout(limit)?;
    let (ws, response) = handshake_client(handshake, stream, Config::default())?;
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
    handshake_client(ClientHandshake::new(url, options)?, stream, config)
}

fn handshake_client<S: Read + Write>(
    mut handshake: ClientHandshake,
    mut stream: S,
    config: Config,
) -> Result<(WebSocket<S>, Response), Error> {
    stream.write_all(handshake.request())?;
    stream.flush()?;
    let mut buf = [0; 4096];
    let response = loop {
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
    let mut handshake = ServerHandshake::with_config(config.handshake.clone());
    let mut buf = [0; 4096];
    let incoming = loop {
        let n = read_some(&mut stream, &mut buf)?;
        if n == 0 {
            return Err(Error::HandshakeEof);
        }
        match handshake.receive(&buf[..n]) {
            Ok(Some(incoming)) => break incoming,
            Ok(None) => {}
            Err(error) => {
                stream.write_all(&error.response())?;
                return Err(error.into());
            }
        }
    };
    let (reply, outcome) = crate::adapter::answer(incoming, &config.handshake, decide);
    stream.write_all(&reply)?;
    stream.flush()?;
    let negotiated = outcome?;
    let mut conn = negotiated.install(Connection::new(Role::Server, config));
    conn.receive(handshake.leftover());
    Ok(WebSocket::from_connection(stream, conn).with_negotiated(negotiated))
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
    /// are answered and closes echoed before this returns. Streamed chunks
    /// ([`Config::streaming`]) are not messages: use [`WebSocket::connection`]
    /// and the core's events for them.
    pub fn read(&mut self) -> Result<Option<Message>, Error> {
        loop {
            match self.conn.poll_event() {
                Ok(Some(event)) => {
                    let message = event.to_message();
                    self.flush()?;
                    if let Some(message) = message {
                        return Ok(Some(message));
                    }
                    continue;
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

    /// Sends a message and flushes it.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        self.conn.send_message(&message)?;
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
        while let Some(bytes) = self.conn.poll_transmit() {
            match self.stream.write(bytes) {
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
