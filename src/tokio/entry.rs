//! The HTTP entry point: one request read from a stream, handed back as a
//! WebSocket upgrade to accept or reject, or as a plain HTTP request for
//! the server to answer, so a server serves both on one port without its
//! own handshake loop.

use std::future::Future;

use ::tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use ::tokio::time::Instant;

use super::{answer_upgrade, read_head, Error, Rejection, WebSocket};
use crate::handshake::{self, Accept, Request};
use crate::Config;

/// Runs the answer to a request read by [`read_request`] until `deadline`;
/// an answer due after it is not sent.
async fn by_deadline<T>(
    deadline: Instant,
    answer: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    if Instant::now() >= deadline {
        return Err(Error::HandshakeTimeout);
    }
    ::tokio::time::timeout_at(deadline, answer)
        .await
        .unwrap_or(Err(Error::HandshakeTimeout))
}

/// Reads one HTTP request from `stream`: the entry point of a server that
/// answers plain HTTP requests and WebSocket upgrades on one port.
///
/// The request is read and validated by the same rules as in
/// [`accept_with`](super::accept_with), under `config.handshake`: its head
/// size, header count and
/// [`timeout`](crate::handshake::HandshakeConfig::timeout), which runs
/// from this call to the end of the answer. So it also bounds
/// [`Upgrade::accept`],
/// [`Upgrade::reject`] and [`HttpRequest::respond`]: an answer that is
/// not written by then fails with [`Error::HandshakeTimeout`], and one
/// that comes after it is not sent at all (the stream is dropped). Then:
///
/// - `Ok(Some(Incoming::Upgrade(upgrade)))`: a valid WebSocket opening
///   handshake. Look at [`Upgrade::request`] (path, origin, offered
///   subprotocols) and [`accept`](Upgrade::accept) it, which negotiates
///   permessage-deflate under `config.handshake.deflate` as
///   [`accept_with`](super::accept_with) does, or [`reject`](Upgrade::reject) it.
/// - `Ok(Some(Incoming::Http(request)))`: a plain HTTP request, for the
///   server to [`respond`](HttpRequest::respond) to itself, or to take
///   over with [`HttpRequest::into_parts`].
/// - `Ok(None)`: no request came: the client closed the connection, or
///   sent nothing within the timeout, before its first byte (browsers open
///   spare connections they may never use).
/// - `Err(_)`: the request broke a rule (its error response, 400, 403,
///   414, 426 or 431, was sent and the stream shut down:
///   [`Error::Request`]), the client stopped in the middle of it
///   ([`Error::HandshakeEof`], [`Error::HandshakeTimeout`]), or the
///   transport failed.
///
/// ```no_run
/// # async fn serve(stream: tokio::net::TcpStream) -> Result<(), rfc6455::tokio::Error> {
/// use rfc6455::handshake::Accept;
/// use rfc6455::tokio::{read_request, Incoming, Rejection};
/// use rfc6455::Config;
///
/// match read_request(stream, Config::default()).await? {
///     Some(Incoming::Http(http)) if http.request().path() == "/" => {
///         http.respond(200, &[("Content-Type", "text/html")], b"<h1>Hello</h1>").await?;
///     }
///     Some(Incoming::Http(http)) => http.respond(404, &[], b"Not found\n").await?,
///     Some(Incoming::Upgrade(upgrade)) if upgrade.request().path() == "/ws" => {
///         let mut ws = upgrade.accept(Accept::new()).await?;
///         while let Some(message) = ws.read().await? {
///             // ...
///             # drop(message);
///         }
///     }
///     Some(Incoming::Upgrade(upgrade)) => upgrade.reject(Rejection::new(404, "Not found\n")).await?,
///     None => {}
/// }
/// # Ok(()) }
/// ```
pub async fn read_request<S>(mut stream: S, config: Config) -> Result<Option<Incoming<S>>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = Instant::now() + config.handshake.timeout;
    let mut received = 0;
    // Boxed: the handshake's buffers live on the heap while it runs.
    let read = Box::pin(read_head(&mut stream, &config.handshake, &mut received));
    let result = ::tokio::time::timeout_at(deadline, read)
        .await
        .unwrap_or(Err(Error::HandshakeTimeout));
    let (incoming, leftover) = match result {
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
            deadline,
        }),
        handshake::Incoming::Http(request) => Incoming::Http(HttpRequest {
            stream,
            request,
            leftover,
            deadline,
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
    deadline: Instant,
}

impl<S> std::fmt::Debug for Upgrade<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgrade")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Upgrade<S> {
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
    /// negotiating extensions as [`accept_with`](super::accept_with) does, and returns the
    /// WebSocket, which has already been given the frames the client sent
    /// right behind its request.
    ///
    /// Parameters the handshake cannot send (a subprotocol the client did
    /// not offer, an invalid header) are answered with 500 and returned as
    /// [`Error::Build`].
    pub async fn accept(self, accept: Accept) -> Result<WebSocket<S>, Error> {
        let Upgrade {
            stream,
            request,
            leftover,
            config,
            deadline,
        } = self;
        let incoming = handshake::Incoming::Upgrade(request);
        let (reply, outcome) = crate::adapter::answer(incoming, &config.handshake, |_| Ok(accept));
        let answer = answer_upgrade(stream, reply, outcome, leftover, *config);
        by_deadline(deadline, answer).await
    }

    /// Refuses the upgrade with `rejection`'s status, headers and body
    /// (and `Connection: close` unless it names a `Connection` itself),
    /// then shuts the stream down.
    ///
    /// A rejection that cannot be sent as it is (an invalid header or
    /// status) is answered with 500 and returned as [`Error::Build`].
    pub async fn reject(self, mut rejection: Rejection) -> Result<(), Error> {
        if !rejection
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("Connection"))
        {
            rejection
                .headers
                .push(("Connection".into(), "close".into()));
        }
        let Upgrade {
            stream,
            request,
            leftover,
            config,
            deadline,
        } = self;
        let incoming = handshake::Incoming::Upgrade(request);
        let (reply, outcome) =
            crate::adapter::answer(incoming, &config.handshake, |_| Err(rejection));
        let answer = answer_upgrade(stream, reply, outcome, leftover, *config);
        match by_deadline(deadline, answer).await {
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
    deadline: Instant,
}

impl<S> std::fmt::Debug for HttpRequest<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> HttpRequest<S> {
    /// The request: method, path, query, headers.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The stream, for its addresses.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Answers with [`handshake::response`]`(status, headers, body)`, adding
    /// `Connection: close` unless `headers` name a `Connection` themselves,
    /// then shuts the stream down: one request per connection.
    ///
    /// Headers [`handshake::response`] refuses (an invalid name or value,
    /// `Content-Length`) or a body the status cannot carry are answered
    /// with 500 and returned as [`Error::Build`].
    pub async fn respond(
        self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), Error> {
        let mut stream = self.stream;
        let (reply, outcome) = crate::adapter::http_response(status, headers, body);
        let write = async {
            stream.write_all(&reply).await?;
            stream.flush().await?;
            let _ = stream.shutdown().await;
            outcome
        };
        by_deadline(self.deadline, write).await
    }

    /// The stream, the request and the bytes the client sent after the
    /// head (the start of a body, or of a pipelined request), for a server
    /// that answers in its own way: a streamed body, or keep-alive.
    pub fn into_parts(self) -> (S, Request, Vec<u8>) {
        (self.stream, self.request, self.leftover)
    }
}
