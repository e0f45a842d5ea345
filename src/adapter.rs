//! What the adapters share: their error type and a handshake refusal.

use std::io;

use crate::handshake::{
    response, Accept, BuildError, HandshakeConfig, Incoming, Negotiated, Request, RequestError,
    ResponseError,
};
use crate::UsageError;

/// Everything that can go wrong on a WebSocket driven by an adapter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The client's opening handshake was invalid; the matching HTTP error
    /// response was sent.
    #[error("invalid handshake request: {0}")]
    Request(#[from] RequestError),
    /// The server refused or botched the opening handshake.
    #[error("handshake refused: {0}")]
    Response(#[from] ResponseError),
    /// The URL, options or accept parameters were invalid.
    #[error("invalid handshake parameters: {0}")]
    Build(#[from] BuildError),
    /// The request was plain HTTP, not an upgrade; 400 was sent.
    #[error("not a WebSocket upgrade: {} {}", .0.method(), .0.target())]
    NotUpgrade(Box<Request>),
    /// The application refused the handshake; its response was sent.
    #[error("handshake refused by the application with status {0}")]
    Refused(u16),
    /// The opening handshake took longer than its timeout
    /// ([`crate::handshake::HandshakeConfig::timeout`] in the tokio adapter
    /// and in both adapters' `connect`, where it bounds everything from the
    /// TCP connection to the end of the response; the stream's read
    /// timeout in the blocking one otherwise).
    #[error("the opening handshake did not finish in time")]
    HandshakeTimeout,
    /// The transport closed before the opening handshake finished.
    #[error("the transport closed during the opening handshake")]
    HandshakeEof,
    /// The connection ended without a clean close handshake.
    #[error(transparent)]
    Connection(#[from] crate::Error),
    /// The call is not allowed in the connection's state.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// `connect` could not go through the proxy: unreachable, refused,
    /// asked for credentials, or did not answer within the handshake
    /// timeout.
    #[error(transparent)]
    Proxy(#[from] crate::proxy::ProxyError),
    /// `connect` to a `wss://` URL failed in TLS: a certificate that does
    /// not verify (and why), or a failed TLS handshake.
    #[cfg(feature = "rustls")]
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// A refusal of an opening handshake, returned from the callback of
/// `accept_with`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status, e.g. 403.
    pub status: u16,
    /// Extra response headers.
    pub headers: Vec<(String, String)>,
    /// The response body.
    pub body: Vec<u8>,
}

impl Rejection {
    /// A refusal with a status and a plain-text body.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Rejection {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.into(),
        }
    }
}

impl Rejection {
    fn to_response(&self) -> Result<Vec<u8>, BuildError> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        response(self.status, &headers, &self.body)
    }
}

/// A server's answer to a complete handshake request: the bytes to write
/// back, and whether the WebSocket goes on after them, with the extensions
/// to install (negotiated by [`Request::accept_negotiated`] under
/// `config`). A plain HTTP request gets 400; parameters the application
/// chose that the handshake cannot send (a subprotocol the client did not
/// offer) get 500.
pub(crate) fn answer<F>(
    incoming: Incoming,
    config: &HandshakeConfig,
    decide: F,
) -> (Vec<u8>, Result<Negotiated, Error>)
where
    F: FnOnce(&Request) -> Result<Accept, Rejection>,
{
    let request = match incoming {
        Incoming::Upgrade(request) => request,
        Incoming::Http(request) => {
            let body = b"This endpoint speaks WebSocket only.\n";
            let bytes = response(400, &[], body).unwrap_or_default();
            return (bytes, Err(Error::NotUpgrade(Box::new(request))));
        }
    };
    let outcome = match decide(&request) {
        Ok(accept) => request
            .accept_negotiated(&accept, config)
            .map(|(bytes, negotiated)| (bytes, Ok(negotiated))),
        Err(rejection) => rejection
            .to_response()
            .map(|bytes| (bytes, Err(Error::Refused(rejection.status)))),
    };
    outcome.unwrap_or_else(|error| {
        let bytes = response(500, &[], b"The server could not complete the handshake.\n")
            .unwrap_or_default();
        (bytes, Err(error.into()))
    })
}

/// The bytes of a plain HTTP answer (`HttpRequest::respond` in either
/// adapter): `Connection: close` added unless `headers` name a
/// `Connection`, and 500 if [`response`] refuses the parts.
pub(crate) fn http_response(
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (Vec<u8>, Result<(), Error>) {
    let mut all = headers.to_vec();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("Connection"))
    {
        all.push(("Connection", "close"));
    }
    match response(status, &all, body) {
        Ok(bytes) => (bytes, Ok(())),
        Err(error) => {
            let body = b"The server could not complete the response.\n";
            let bytes = response(500, &[("Connection", "close")], body);
            (bytes.unwrap_or_default(), Err(error.into()))
        }
    }
}
