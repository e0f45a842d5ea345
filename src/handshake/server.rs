//! The server role: read a request, tell a WebSocket upgrade from a plain
//! HTTP request, validate the upgrade (RFC 6455 §4.2.1) and write the
//! answer.

use base64::Engine as _;

use super::config::HandshakeConfig;
use super::derive_accept_key;
use super::error::{BuildError, RequestError};
use super::extensions::{join_offers, offers_in, ExtensionOffer};
use super::head::{parse_request, HeadError, HeadReader, RequestHead};
use super::headers::{
    check_extra_header, excerpt, is_token, split_list, trim_ows, write_header, Headers,
};
use super::negotiated::Negotiated;

/// Reads one HTTP request, the opening of a WebSocket connection or a plain
/// HTTP request, from the bytes a client sends.
///
/// Call order:
///
/// 1. [`receive`](Self::receive) each chunk read from the socket until it
///    returns `Ok(Some(_))` or `Err(_)`; `Ok(None)` means "read more".
/// 2. On [`Incoming::Upgrade`], send [`Request::accept`]'s bytes (or a
///    refusal built with [`response`]), then hand
///    [`into_leftover`](Self::into_leftover) to the WebSocket connection:
///    it holds whatever the client sent after the head, such as its first
///    frames. On [`Incoming::Http`], answer with [`response`]; any request
///    body is in the leftover.
/// 3. On `Err(e)`, send [`RequestError::response`] and close.
///
/// Once `receive` has returned a request, further bytes given to it are
/// appended to the leftover untouched and it returns `Ok(None)`. Once it
/// has returned an error, every later call returns the same error again
/// and ignores the bytes.
///
/// The head is scanned once, incrementally, and parsed once it is complete,
/// so the work is linear in the bytes received however they are chunked.
#[derive(Debug, Clone)]
pub struct ServerHandshake {
    config: HandshakeConfig,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Reading(HeadReader),
    Done(Vec<u8>),
    Failed(RequestError),
}

/// What a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A valid WebSocket opening handshake: answer it with
    /// [`Request::accept`] or refuse it with [`response`].
    Upgrade(Request),
    /// A request without `Upgrade: websocket`, of any method and HTTP/1.x
    /// version, for the application to answer itself with [`response`]
    /// (for instance the HTML page that opens the WebSocket).
    Http(Request),
}

impl Incoming {
    /// The request, whichever kind it is.
    pub fn request(&self) -> &Request {
        match self {
            Self::Upgrade(r) | Self::Http(r) => r,
        }
    }

    /// Classifies a request head that an HTTP server has already parsed
    /// (hyper's, say) by the same rules as [`ServerHandshake::receive`]:
    /// an upgrade is validated (RFC 6455 §4.2.1) and fails with the same
    /// [`RequestError`]s and statuses, a request without `Upgrade:
    /// websocket` is [`Incoming::Http`].
    ///
    /// `minor_version` is 1 for HTTP/1.1 and 0 for HTTP/1.0; `headers` are
    /// the fields in the order received. The limits of `config` apply to
    /// the head as HTTP/1.1 would carry it (request line, `name: value`
    /// lines and the empty line): over
    /// [`max_head_size`](HandshakeConfig::max_head_size) is 431 (414 when
    /// the request line alone is over it), more fields than
    /// [`max_headers`](HandshakeConfig::max_headers) is 431.
    ///
    /// ```
    /// use rfc6455::handshake::{HandshakeConfig, Incoming};
    ///
    /// let headers = [
    ///     ("host", &b"example.com"[..]),
    ///     ("upgrade", b"websocket"),
    ///     ("connection", b"Upgrade"),
    ///     ("sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    ///     ("sec-websocket-version", b"13"),
    /// ];
    /// let incoming = Incoming::from_parts("GET", "/chat", 1, headers, &HandshakeConfig::default())?;
    /// assert!(matches!(incoming, Incoming::Upgrade(_)));
    /// assert_eq!(incoming.request().key(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    /// # Ok::<(), rfc6455::handshake::RequestError>(())
    /// ```
    pub fn from_parts<I, N, V>(
        method: &str,
        target: &str,
        minor_version: u8,
        headers: I,
        config: &HandshakeConfig,
    ) -> Result<Incoming, RequestError>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        // "GET /chat HTTP/1.1\r\n"
        let line = method.len() + 1 + target.len() + 1 + "HTTP/1.1\r\n".len();
        if line > config.max_head_size {
            return Err(RequestError::RequestLineTooLong {
                limit: config.max_head_size,
            });
        }
        let mut size = line + 2;
        let mut fields = Headers::default();
        for (name, value) in headers {
            let (name, value) = (name.as_ref(), value.as_ref());
            if fields.len() == config.max_headers {
                return Err(RequestError::TooManyHeaders {
                    limit: config.max_headers,
                });
            }
            // "name: value\r\n"
            size = size.saturating_add(name.len() + 2 + value.len() + 2);
            if size > config.max_head_size {
                return Err(RequestError::HeadTooLarge {
                    limit: config.max_head_size,
                });
            }
            fields.push(name, value);
        }
        let head = RequestHead {
            method: method.to_owned(),
            target: target.to_owned(),
            minor_version,
            headers: fields,
            len: size,
        };
        classify(head, config)
    }
}

/// A received HTTP request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    method: String,
    target: String,
    minor_version: u8,
    headers: Headers,
    key: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<ExtensionOffer>,
}

impl Request {
    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The raw request target, e.g. `/chat?room=1`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The target up to the first `?`.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The target after the first `?`, if there is one.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub fn version(&self) -> u8 {
        self.minor_version
    }

    /// All header fields as received.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The `Host` header, trimmed (always present on an upgrade).
    pub fn host(&self) -> Option<&str> {
        self.headers.get_str("Host")
    }

    /// The first `Origin` header, trimmed, if present and UTF-8.
    pub fn origin(&self) -> Option<&str> {
        self.headers.get_str("Origin")
    }

    /// Whether the request came from a page of the server's own origin: an
    /// `http://` or `https://` `Origin` whose host and port are those of
    /// the `Host` header (ASCII case aside, the scheme's default port
    /// written or not), or no `Origin` at all. Browsers send `Origin` with
    /// every WebSocket handshake; a client that is not a browser may leave
    /// it out, or send any value, so the check protects a browser's user
    /// from other sites' pages (RFC 6455 §10.2), not the server from other
    /// programs. A server that serves its own page refuses the rest with
    /// 403 (RFC 6455 §4.2.2); for a list of other allowed origins, see
    /// [`HandshakeConfig::allowed_origins`](method@HandshakeConfig::allowed_origins).
    ///
    /// ```
    /// use rfc6455::handshake::{Incoming, ServerHandshake};
    ///
    /// let request = |origin: &str| {
    ///     let head = format!(
    ///         "GET /chat HTTP/1.1\r\nHost: chat.example:8080\r\nOrigin: {origin}\r\n\
    ///          Upgrade: websocket\r\nConnection: Upgrade\r\n\
    ///          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ///     );
    ///     match ServerHandshake::new().receive(head.as_bytes()) {
    ///         Ok(Some(Incoming::Upgrade(request))) => request,
    ///         other => panic!("{other:?}"),
    ///     }
    /// };
    /// assert!(request("http://chat.example:8080").is_same_origin());
    /// assert!(!request("http://chat.example").is_same_origin());
    /// assert!(!request("https://evil.example:8080").is_same_origin());
    /// ```
    pub fn is_same_origin(&self) -> bool {
        let host = self.host().unwrap_or_default();
        self.headers
            .get_all("Origin")
            .all(|origin| origin_is_host(trim_ows(origin), host.as_bytes()))
    }

    /// The validated `Sec-WebSocket-Key` of an upgrade; `None` for a plain
    /// HTTP request.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The subprotocols the client offered, in order, from every
    /// `Sec-WebSocket-Protocol` line (empty for a plain HTTP request).
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions the client offered, in order, from every
    /// `Sec-WebSocket-Extensions` line (empty for a plain HTTP request).
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// The complete `101 Switching Protocols` response accepting this
    /// upgrade: `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, then the
    /// chosen subprotocol and extensions if any, then the extra headers.
    ///
    /// Fails if this is not an upgrade request, if the chosen subprotocol
    /// or an accepted extension was not offered by the client, if an
    /// extension is not valid header syntax, or if an extra header is
    /// invalid or one the response already writes.
    pub fn accept(&self, accept: &Accept) -> Result<Vec<u8>, BuildError> {
        let mut out = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        for (name, value) in self.accept_fields(accept)? {
            write_header(&mut out, &name, value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }

    /// The header fields of the `101 Switching Protocols` response that
    /// [`accept`](Self::accept) writes, in its order, for an HTTP server
    /// that writes the response itself.
    ///
    /// Fails as [`accept`](Self::accept) does.
    fn accept_fields(&self, accept: &Accept) -> Result<Vec<(String, String)>, BuildError> {
        const RESERVED: &[&str] = &[
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Accept",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions",
            "Content-Length",
            "Transfer-Encoding",
        ];
        let key = self.key.as_deref().ok_or(BuildError::NotAnUpgrade)?;
        if let Some(protocol) = &accept.protocol {
            if !self.protocols.contains(protocol) {
                return Err(BuildError::ProtocolNotOffered {
                    protocol: excerpt(protocol.as_bytes()),
                });
            }
        }
        for extension in &accept.extensions {
            extension.validate()?;
            if !self
                .extensions
                .iter()
                .any(|offer| offer.name.eq_ignore_ascii_case(&extension.name))
            {
                return Err(BuildError::ExtensionNotOffered {
                    name: extension.name.clone(),
                });
            }
        }
        for (name, value) in &accept.headers {
            check_extra_header(name, value, RESERVED)?;
        }
        let mut fields = vec![
            ("Upgrade".to_owned(), "websocket".to_owned()),
            ("Connection".to_owned(), "Upgrade".to_owned()),
            (
                "Sec-WebSocket-Accept".to_owned(),
                derive_accept_key(key.as_bytes()),
            ),
        ];
        if let Some(protocol) = &accept.protocol {
            fields.push(("Sec-WebSocket-Protocol".to_owned(), protocol.clone()));
        }
        if !accept.extensions.is_empty() {
            let value = join_offers(&accept.extensions);
            fields.push(("Sec-WebSocket-Extensions".to_owned(), value));
        }
        fields.extend(accept.headers.iter().cloned());
        Ok(fields)
    }
}

impl Request {
    /// Like [`accept`](Self::accept), negotiating the extensions `config`
    /// asks for: the complete 101 response, and what was agreed on, whose
    /// [`Negotiated::install`] the connection needs. The adapters' `accept`
    /// and `accept_with` answer every upgrade with this.
    ///
    /// - When `accept` lists no extension, permessage-deflate is negotiated
    ///   with [`HandshakeConfig::deflate`]: the first of the client's
    ///   permessage-deflate offers that configuration can accept is
    ///   answered (RFC 7692 §5). Offers it cannot accept, including invalid
    ///   ones (unknown, repeated or out-of-range parameters), are declined:
    ///   §5 says a server "MUST decline" such an offer, and a decline is an
    ///   answer without the extension, not a 400, so the client still gets
    ///   its WebSocket, uncompressed.
    /// - When `accept` lists extensions, the application has chosen them
    ///   itself and they are sent as they are, with no codec to install
    ///   (the application runs them). Naming `permessage-deflate` there
    ///   fails with [`BuildError::ExtensionNeedsCodec`]: the connection
    ///   would receive compressed frames it cannot read. Set
    ///   [`HandshakeConfig::deflate`] to choose its parameters instead.
    ///
    /// Fails as [`accept`](Self::accept) does.
    pub fn accept_negotiated(
        &self,
        accept: &Accept,
        config: &HandshakeConfig,
    ) -> Result<(Vec<u8>, Negotiated), BuildError> {
        let (accept, negotiated) = self.negotiate(accept, config)?;
        Ok((self.accept(&accept)?, negotiated))
    }

    /// Like [`accept_negotiated`](Self::accept_negotiated), with the 101
    /// response's header fields (name, value) in place of its bytes: for
    /// an HTTP server that writes the response itself, as the `hyper`
    /// feature's `rfc6455::hyper` does. The fields are the ones
    /// `accept_negotiated` writes, in its order: `Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept`, the subprotocol, the extensions, then
    /// `accept`'s extra headers.
    ///
    /// ```
    /// use rfc6455::handshake::{Accept, HandshakeConfig, Incoming, ServerHandshake};
    ///
    /// let mut server = ServerHandshake::new();
    /// let request = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    /// let Some(Incoming::Upgrade(request)) = server.receive(request)? else { unreachable!() };
    /// let (fields, _negotiated) = request.accept_headers(&Accept::new(), &HandshakeConfig::default())?;
    /// assert!(fields.contains(&("Sec-WebSocket-Accept".into(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Fails as [`accept`](Self::accept) does.
    pub fn accept_headers(
        &self,
        accept: &Accept,
        config: &HandshakeConfig,
    ) -> Result<(Vec<(String, String)>, Negotiated), BuildError> {
        let (accept, negotiated) = self.negotiate(accept, config)?;
        Ok((self.accept_fields(&accept)?, negotiated))
    }

    /// The `Accept` to answer with once extensions are negotiated under
    /// `config`, and what was agreed on (see
    /// [`accept_negotiated`](Self::accept_negotiated)).
    fn negotiate(
        &self,
        accept: &Accept,
        config: &HandshakeConfig,
    ) -> Result<(Accept, Negotiated), BuildError> {
        if !accept.extensions.is_empty() {
            if let Some(deflate) = accept
                .extensions
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case("permessage-deflate"))
            {
                return Err(BuildError::ExtensionNeedsCodec {
                    name: excerpt(deflate.name.as_bytes()),
                });
            }
            let negotiated = Negotiated::plain(accept.extensions.clone());
            return Ok((accept.clone(), negotiated));
        }
        #[cfg(feature = "deflate")]
        if let Some(agreement) = config
            .deflate
            .as_ref()
            .and_then(|deflate| deflate.accept(&self.extensions))
        {
            let mut accept = accept.clone();
            accept.extensions.push(agreement.response().clone());
            let negotiated = Negotiated {
                extensions: accept.extensions.clone(),
                deflate: Some(agreement),
            };
            return Ok((accept, negotiated));
        }
        #[cfg(not(feature = "deflate"))]
        let _ = config;
        Ok((accept.clone(), Negotiated::default()))
    }
}

/// How a server accepts an upgrade: the chosen subprotocol, the accepted
/// extensions and any extra headers for the 101 response.
///
/// ```
/// # use rfc6455::handshake::Accept;
/// let accept = Accept::new().protocol("chat").header("X-Server", "demo");
/// assert_eq!(accept.protocol.as_deref(), Some("chat"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accept {
    /// The subprotocol to select; must be one the client offered.
    pub protocol: Option<String>,
    /// The extensions to accept, with the parameters to answer with; each
    /// must have been offered by the client (matched by name).
    pub extensions: Vec<ExtensionOffer>,
    /// Extra headers for the 101 response, e.g. `Set-Cookie`.
    pub headers: Vec<(String, String)>,
}

impl Accept {
    /// Accepts with no subprotocol, no extensions and no extra headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects `protocol` as the subprotocol.
    #[must_use]
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// Accepts `extension` with the given parameters.
    #[must_use]
    pub fn extension(mut self, extension: ExtensionOffer) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Adds an extra response header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The standard reason phrase for `status`, or `""` for an unknown code.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Whether a response with `status` has no body (RFC 9110 §6.4.1).
fn bodiless(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

/// Writes a response without validating its parts (the caller has).
pub(crate) fn response_bytes(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).into_bytes();
    for (name, value) in headers {
        write_header(&mut out, name, value.as_bytes());
    }
    if !bodiless(status) {
        write_header(
            &mut out,
            "Content-Length",
            body.len().to_string().as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A complete HTTP/1.1 response: status line with the standard reason
/// phrase, the given headers, `Content-Length` (except for 1xx, 204 and
/// 304, which have no body), and the body.
///
/// Use it to refuse a handshake (e.g. 401 or 404 before accepting) or to
/// answer an [`Incoming::Http`] request. Header names must be tokens and
/// values free of control characters such as CR, LF and NUL, so a value
/// cannot inject a header; `Content-Length` and `Transfer-Encoding` are
/// written here and cannot be given.
pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Result<Vec<u8>, BuildError> {
    if !(100..=999).contains(&status) {
        return Err(BuildError::InvalidStatus { status });
    }
    if bodiless(status) && !body.is_empty() {
        return Err(BuildError::BodyNotAllowed { status });
    }
    for (name, value) in headers {
        check_extra_header(name, value, &["Content-Length", "Transfer-Encoding"])?;
    }
    Ok(response_bytes(status, headers, body))
}

impl Default for ServerHandshake {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerHandshake {
    /// A server handshake with the default [`HandshakeConfig`].
    pub fn new() -> Self {
        Self::with_config(HandshakeConfig::default())
    }

    /// A server handshake with the given limits and origin policy.
    pub fn with_config(config: HandshakeConfig) -> Self {
        let reader = HeadReader::new(config.max_head_size);
        Self {
            config,
            state: State::Reading(reader),
        }
    }

    /// Feeds bytes received from the client.
    ///
    /// Returns `Ok(None)` while the head is incomplete, `Ok(Some(_))` once
    /// it is complete and valid, and `Err(_)` if it breaks a rule; see the
    /// type's documentation for calls after that.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Option<Incoming>, RequestError> {
        let reader = match &mut self.state {
            State::Reading(reader) => reader,
            State::Done(leftover) => {
                leftover.extend_from_slice(bytes);
                return Ok(None);
            }
            State::Failed(error) => return Err(error.clone()),
        };
        let result = match reader.feed(bytes) {
            Ok(None) => return Ok(None),
            Ok(Some(end)) => {
                let mut buf = reader.take_buffer();
                parse_request(buf.get(..end).unwrap_or_default(), self.config.max_headers)
                    .map_err(|e| head_error(e, &self.config))
                    .and_then(|head| {
                        let leftover = buf.split_off(head.len.min(buf.len()));
                        Ok((classify(head, &self.config)?, leftover))
                    })
            }
            Err(e) => Err(head_error(e, &self.config)),
        };
        match result {
            Ok((incoming, leftover)) => {
                self.state = State::Done(leftover);
                Ok(Some(incoming))
            }
            Err(error) => {
                self.state = State::Failed(error.clone());
                Err(error)
            }
        }
    }

    /// Bytes received after the request head (empty until a request has
    /// been returned).
    pub fn leftover(&self) -> &[u8] {
        match &self.state {
            State::Done(leftover) => leftover,
            State::Reading(_) | State::Failed(_) => &[],
        }
    }

    /// Consumes the handshake, returning the bytes received after the head,
    /// to be fed to the WebSocket connection before anything read later.
    pub fn into_leftover(self) -> Vec<u8> {
        match self.state {
            State::Done(leftover) => leftover,
            State::Reading(_) | State::Failed(_) => Vec::new(),
        }
    }
}

fn head_error(error: HeadError, config: &HandshakeConfig) -> RequestError {
    match error {
        HeadError::LineTooLong => RequestError::RequestLineTooLong {
            limit: config.max_head_size,
        },
        HeadError::TooLarge => RequestError::HeadTooLarge {
            limit: config.max_head_size,
        },
        HeadError::TooManyHeaders => RequestError::TooManyHeaders {
            limit: config.max_headers,
        },
        HeadError::Malformed(reason) => RequestError::Malformed { reason },
    }
}

/// Tells an upgrade from a plain request and validates the upgrade.
fn classify(head: RequestHead, config: &HandshakeConfig) -> Result<Incoming, RequestError> {
    let mut request = Request {
        method: head.method,
        target: head.target,
        minor_version: head.minor_version,
        headers: head.headers,
        key: None,
        protocols: Vec::new(),
        extensions: Vec::new(),
    };
    if !request.headers.contains_token("Upgrade", "websocket") {
        return Ok(Incoming::Http(request));
    }
    let headers = &request.headers;
    if request.method != "GET" {
        return Err(RequestError::MethodNotGet {
            method: excerpt(request.method.as_bytes()),
        });
    }
    if request.minor_version != 1 {
        return Err(RequestError::NotHttp11 {
            minor: request.minor_version,
        });
    }
    match headers.get_all("Host").count() {
        0 => return Err(RequestError::MissingHost),
        1 => {}
        _ => return Err(RequestError::DuplicateHost),
    }
    if !headers.contains_token("Connection", "upgrade") {
        return Err(RequestError::MissingConnectionUpgrade);
    }
    let key = validate_key(headers)?;
    validate_version(headers)?;
    if let Some(origin) = headers
        .get_all("Origin")
        .find(|origin| !config.origin_allowed(origin))
    {
        return Err(RequestError::OriginNotAllowed {
            origin: excerpt(trim_ows(origin)),
        });
    }
    let mut protocols = Vec::new();
    for element in headers
        .get_all("Sec-WebSocket-Protocol")
        .flat_map(split_list)
    {
        if !is_token(element) {
            return Err(RequestError::InvalidProtocol {
                protocol: excerpt(element),
            });
        }
        protocols.push(String::from_utf8_lossy(element).into_owned());
    }
    let extensions = offers_in(headers)?;
    request.key = Some(key);
    request.protocols = protocols;
    request.extensions = extensions;
    Ok(Incoming::Upgrade(request))
}

/// Checks there is exactly one `Sec-WebSocket-Version` and that it is 13.
fn validate_version(headers: &Headers) -> Result<(), RequestError> {
    let mut versions = headers.get_all("Sec-WebSocket-Version");
    match (versions.next(), versions.next()) {
        (None, _) => Err(RequestError::MissingVersion),
        (Some(v), None) if trim_ows(v) == b"13" => Ok(()),
        (Some(v), _) => Err(RequestError::UnsupportedVersion {
            version: excerpt(trim_ows(v)),
        }),
    }
}

/// Checks there is exactly one `Sec-WebSocket-Key` and that it is base64 of
/// 16 bytes (RFC 6455 §4.1 step 7), returning it trimmed.
fn validate_key(headers: &Headers) -> Result<String, RequestError> {
    let mut keys = headers.get_all("Sec-WebSocket-Key");
    let key = trim_ows(keys.next().ok_or(RequestError::MissingKey)?);
    if keys.next().is_some() {
        return Err(RequestError::DuplicateKey);
    }
    // 16 bytes encode to exactly 24 characters; check that before decoding.
    let decodes_to_16 = key.len() == 24
        && base64::engine::general_purpose::STANDARD
            .decode(key)
            .is_ok_and(|bytes| bytes.len() == 16);
    match std::str::from_utf8(key) {
        Ok(key) if decodes_to_16 => Ok(key.to_owned()),
        _ => Err(RequestError::InvalidKey { key: excerpt(key) }),
    }
}

/// Whether a serialized origin (`scheme://host[:port]`, RFC 6454) names
/// `host` (a `Host` header's value), with an `http` or `https` scheme: the
/// scheme and host without regard to ASCII case, and the scheme's default
/// port written or left out on either side.
fn origin_is_host(origin: &[u8], host: &[u8]) -> bool {
    let scheme_is = |scheme: &[u8]| {
        origin.len() > scheme.len() && origin[..scheme.len()].eq_ignore_ascii_case(scheme)
    };
    let (authority, default_port): (&[u8], &[u8]) = if scheme_is(b"http://") {
        (&origin[7..], b":80")
    } else if scheme_is(b"https://") {
        (&origin[8..], b":443")
    } else {
        return false;
    };
    fn without<'a>(authority: &'a [u8], port: &[u8]) -> &'a [u8] {
        authority.strip_suffix(port).unwrap_or(authority)
    }
    without(authority, default_port).eq_ignore_ascii_case(without(host, default_port))
}

#[cfg(test)]
mod tests;
