//! The client role: build the opening request (RFC 6455 §4.1), then read and
//! verify the server's response.

use super::config::HandshakeConfig;
use super::error::{BuildError, ResponseError};
use super::extensions::{join_offers, offers_in, ExtensionOffer};
use super::head::{parse_response, HeadError, HeadReader, ResponseHead};
use super::headers::{
    check_extra_header, excerpt, is_token, split_list, trim_ows, write_header, Headers,
};
use super::negotiated::Negotiated;
use super::target::Target;
use super::{derive_accept_key, generate_key};

/// What a client asks for beyond the bare handshake.
///
/// ```
/// # use rfc6455::handshake::{ClientOptions, ExtensionOffer};
/// let options = ClientOptions::new()
///     .protocol("chat")
///     .extension(ExtensionOffer::new("permessage-deflate").param("client_max_window_bits"))
///     .header("Origin", "https://example.com");
/// assert_eq!(options.protocols, ["chat"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Subprotocols to offer, in order of preference; each must be a token,
    /// and none may repeat.
    pub protocols: Vec<String>,
    /// Extensions to offer, in order of preference, besides the
    /// permessage-deflate offer built from
    /// [`config.deflate`](HandshakeConfig::deflate), which comes after
    /// them. Offering `permessage-deflate` here replaces that automatic
    /// offer: the response is then only checked by name, and running the
    /// extension is up to the application.
    pub extensions: Vec<ExtensionOffer>,
    /// Extra request headers, e.g. `Origin`, `Authorization`, `Cookie`.
    /// Headers the handshake writes itself cannot be given here.
    pub headers: Vec<(String, String)>,
    /// Limits for reading the response, and the permessage-deflate
    /// settings to offer ([`HandshakeConfig::deflate`], on by default).
    /// Its `timeout` bounds the adapters' whole `connect`: TCP, proxy, TLS
    /// and this handshake.
    pub config: HandshakeConfig,
    /// The proxy the adapters' `connect` goes through: the environment's
    /// by default ([`ProxySetting::Environment`], read as curl does), one
    /// given, or none. The sans-IO handshake ignores it.
    ///
    /// [`ProxySetting::Environment`]: crate::proxy::ProxySetting::Environment
    pub proxy: crate::proxy::ProxySetting,
    /// What the adapters' `connect` trusts for `wss://` (feature
    /// `rustls`): Mozilla's roots by default. The sans-IO handshake
    /// ignores it.
    #[cfg(feature = "rustls")]
    pub tls: crate::tls::ClientTls,
}

impl ClientOptions {
    /// No subprotocols, no extensions, no extra headers, default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers `protocol` as a subprotocol (after those already added).
    #[must_use]
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Offers `extension` (after those already added).
    #[must_use]
    pub fn extension(mut self, extension: ExtensionOffer) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Adds an extra request header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the limits used to read the response.
    #[must_use]
    pub fn config(mut self, config: HandshakeConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the `proxy` field: a [`Proxy`](crate::proxy::Proxy), or
    /// [`ProxySetting::Direct`](crate::proxy::ProxySetting::Direct) to
    /// ignore the environment.
    #[must_use]
    pub fn proxy(mut self, proxy: impl Into<crate::proxy::ProxySetting>) -> Self {
        self.proxy = proxy.into();
        self
    }

    /// Sets the `tls` field: what `wss://` connections trust.
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls(mut self, tls: crate::tls::ClientTls) -> Self {
        self.tls = tls;
        self
    }
}

/// The client side of the opening handshake.
///
/// Call order:
///
/// 1. Create it with [`new`](Self::new) (or [`with_rng`](Self::with_rng) to
///    choose the source of the `Sec-WebSocket-Key`), after connecting to
///    [`target`](Self::target)'s host and port.
/// 2. Write all of [`request`](Self::request) to the connection.
/// 3. [`receive`](Self::receive) each chunk read from the server until it
///    returns `Ok(Some(response))` or `Err(_)`; `Ok(None)` means "read
///    more". At end of stream call [`receive_eof`](Self::receive_eof) instead.
/// 4. On success, install what was negotiated in the WebSocket
///    connection ([`Response::negotiated`], then [`Negotiated::install`]:
///    with permessage-deflate on, which it is by default, the server may
///    compress its first frame), and hand
///    [`into_leftover`](Self::into_leftover) (bytes the server sent after
///    its 101 head, such as its first frames) to it.
///
/// A non-101 response is a refusal. Its body is collected first, up to
/// `Content-Length` or, without one, until end of stream (bounded by
/// [`HandshakeConfig::max_body_size`]), so the resulting
/// [`ResponseError::Rejected`] carries status, headers and body. A refusal
/// using `Transfer-Encoding` is reported at once with an empty body, since
/// its framing is not decoded here; 1xx, 204 and 304 responses have no body.
///
/// Once `receive` has returned a response, further bytes given to it are
/// appended to the leftover untouched and it returns `Ok(None)`. Once it
/// has returned an error, every later call returns the same error again
/// and ignores the bytes.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    target: Target,
    key: String,
    request: Vec<u8>,
    protocols: Vec<String>,
    extension_names: Vec<String>,
    /// The permessage-deflate settings offered, when the handshake made
    /// the offer itself and so checks the answer.
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::DeflateConfig>,
    config: HandshakeConfig,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Head(HeadReader),
    /// Collecting a refusal's body; `remaining` is `None` until end of stream.
    Body {
        response: Box<Response>,
        remaining: Option<usize>,
    },
    Done(Vec<u8>),
    Failed(ResponseError),
}

/// A server's response to the opening handshake: a verified 101, or (inside
/// [`ResponseError::Rejected`]) a refusal with its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    reason: String,
    headers: Headers,
    protocol: Option<String>,
    extensions: Vec<ExtensionOffer>,
    negotiated: Negotiated,
    body: Vec<u8>,
}

impl Response {
    /// The status code: 101 for an accepted handshake.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase as sent (may be empty).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// All header fields as received.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The subprotocol the server selected (one we offered), if any.
    /// Always `None` for a refusal.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The extensions the server accepted, with their parameters (each one
    /// we offered by name). Always empty for a refusal.
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// What the handshake agreed on, checked against the offer: install it
    /// in the connection with [`Negotiated::install`]. Empty for a refusal.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The body of a refusal; empty for a 101.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Headers the request writes itself, which extra headers may not repeat.
const RESERVED: &[&str] = &[
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Content-Length",
    "Transfer-Encoding",
];

impl ClientHandshake {
    /// Prepares the handshake for `target` (a `ws://` or `wss://` URL), with
    /// a key drawn from [`rand::rng`].
    ///
    /// Fails if the URL is invalid, a subprotocol is not a token or is
    /// repeated, an extension is not valid header syntax, or an extra header
    /// is invalid or one the handshake writes itself.
    pub fn new(target: &str, options: ClientOptions) -> Result<Self, BuildError> {
        Self::with_rng(target, options, &mut rand::rng())
    }

    /// Like [`new`](Self::new), drawing the key from `rng` (seed it in tests
    /// for reproducible requests).
    pub fn with_rng(
        target: &str,
        options: ClientOptions,
        rng: &mut dyn rand::RngCore,
    ) -> Result<Self, BuildError> {
        let target = Target::parse(target)?;
        for (i, protocol) in options.protocols.iter().enumerate() {
            if !is_token(protocol.as_bytes()) {
                return Err(BuildError::InvalidProtocol {
                    protocol: excerpt(protocol.as_bytes()),
                });
            }
            if options.protocols.iter().take(i).any(|p| p == protocol) {
                return Err(BuildError::DuplicateProtocol {
                    protocol: protocol.clone(),
                });
            }
        }
        for extension in &options.extensions {
            extension.validate()?;
        }
        // Without the feature nothing is appended.
        #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
        let mut extensions = options.extensions;
        #[cfg(feature = "deflate")]
        let deflate = options
            .config
            .deflate
            .clone()
            .filter(|_| !extensions.iter().any(crate::deflate::is_permessage_deflate));
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &deflate {
            extensions.push(deflate.offer());
        }
        for (name, value) in &options.headers {
            check_extra_header(name, value, RESERVED)?;
        }
        let key = generate_key(rng);

        let mut request = format!("GET {} HTTP/1.1\r\n", target.path_and_query).into_bytes();
        write_header(&mut request, "Host", target.host_header().as_bytes());
        write_header(&mut request, "Upgrade", b"websocket");
        write_header(&mut request, "Connection", b"Upgrade");
        write_header(&mut request, "Sec-WebSocket-Key", key.as_bytes());
        write_header(&mut request, "Sec-WebSocket-Version", b"13");
        if !options.protocols.is_empty() {
            let value = options.protocols.join(", ");
            write_header(&mut request, "Sec-WebSocket-Protocol", value.as_bytes());
        }
        if !extensions.is_empty() {
            let value = join_offers(&extensions);
            write_header(&mut request, "Sec-WebSocket-Extensions", value.as_bytes());
        }
        for (name, value) in &options.headers {
            write_header(&mut request, name, value.as_bytes());
        }
        request.extend_from_slice(b"\r\n");

        let reader = HeadReader::new(options.config.max_head_size);
        Ok(Self {
            target,
            key,
            request,
            protocols: options.protocols,
            extension_names: extensions.into_iter().map(|e| e.name).collect(),
            #[cfg(feature = "deflate")]
            deflate,
            config: options.config,
            state: State::Head(reader),
        })
    }

    /// The parsed URL: connect to its host and port (with TLS if `secure`).
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The handshake's limits and timeout.
    pub fn config(&self) -> &HandshakeConfig {
        &self.config
    }

    /// The `Sec-WebSocket-Key` sent in the request.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The complete request to write to the server.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// Feeds bytes received from the server.
    ///
    /// Returns `Ok(None)` while the response is incomplete, `Ok(Some(_))`
    /// once a 101 has arrived and passed every check of RFC 6455 §4.1, and
    /// `Err(_)` for a refusal or a response that fails a check; see the
    /// type's documentation for calls after that.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Option<Response>, ResponseError> {
        let result = match &mut self.state {
            State::Failed(error) => return Err(error.clone()),
            State::Done(leftover) => {
                leftover.extend_from_slice(bytes);
                return Ok(None);
            }
            State::Body { .. } => return self.receive_body(bytes),
            State::Head(reader) => match reader.feed(bytes) {
                Ok(None) => return Ok(None),
                Ok(Some(end)) => {
                    let mut buf = reader.take_buffer();
                    let max_headers = self.config.max_headers;
                    parse_response(buf.get(..end).unwrap_or_default(), max_headers)
                        .map(|head| {
                            let rest = buf.split_off(head.len.min(buf.len()));
                            (head, rest)
                        })
                        .map_err(|e| self.head_error(e))
                }
                Err(e) => Err(self.head_error(e)),
            },
        };
        let (head, rest) = match result {
            Ok(parsed) => parsed,
            Err(error) => return self.fail(error),
        };
        if head.status != 101 {
            return self.start_body(head, &rest);
        }
        match self.verify(head) {
            Ok(response) => {
                self.state = State::Done(rest);
                Ok(Some(response))
            }
            Err(error) => self.fail(error),
        }
    }

    /// Reports the end of the stream from the server.
    ///
    /// This ends a refusal's body that has no `Content-Length`, returning
    /// [`ResponseError::Rejected`]; before a complete response it returns
    /// [`ResponseError::ConnectionClosed`]. After a successful handshake
    /// the end of stream is the WebSocket connection's business, and this
    /// returns `Ok(())`. After an error it returns that error again.
    pub fn receive_eof(&mut self) -> Result<(), ResponseError> {
        let error = match &mut self.state {
            State::Done(_) => return Ok(()),
            State::Failed(error) => return Err(error.clone()),
            State::Body {
                response,
                remaining: None,
            } => ResponseError::Rejected(std::mem::replace(response, Box::new(empty_response()))),
            State::Head(_) | State::Body { .. } => ResponseError::ConnectionClosed,
        };
        self.fail::<()>(error)
    }

    /// Bytes received after a 101 response's head (empty until a response
    /// has been returned).
    pub fn leftover(&self) -> &[u8] {
        match &self.state {
            State::Done(leftover) => leftover,
            _ => &[],
        }
    }

    /// Consumes the handshake, returning the bytes received after the 101
    /// head, to be fed to the WebSocket connection before anything read
    /// later.
    pub fn into_leftover(self) -> Vec<u8> {
        match self.state {
            State::Done(leftover) => leftover,
            _ => Vec::new(),
        }
    }

    fn fail<T>(&mut self, error: ResponseError) -> Result<T, ResponseError> {
        self.state = State::Failed(error.clone());
        Err(error)
    }

    fn head_error(&self, error: HeadError) -> ResponseError {
        match error {
            HeadError::LineTooLong | HeadError::TooLarge => ResponseError::HeadTooLarge {
                limit: self.config.max_head_size,
            },
            HeadError::TooManyHeaders => ResponseError::TooManyHeaders {
                limit: self.config.max_headers,
            },
            HeadError::Malformed(reason) => ResponseError::Malformed { reason },
        }
    }

    /// Checks a 101 response against RFC 6455 §4.1 (client steps 1 to 6).
    fn verify(&self, head: ResponseHead) -> Result<Response, ResponseError> {
        let headers = &head.headers;
        if head.minor_version != 1 {
            return Err(ResponseError::NotHttp11 {
                minor: head.minor_version,
            });
        }
        if !headers.contains_token("Upgrade", "websocket") {
            return Err(ResponseError::UpgradeNotWebSocket);
        }
        if !headers.contains_token("Connection", "upgrade") {
            return Err(ResponseError::ConnectionNotUpgrade);
        }
        let expected = derive_accept_key(self.key.as_bytes());
        let mut accepts = headers.get_all("Sec-WebSocket-Accept");
        let accept = trim_ows(accepts.next().ok_or(ResponseError::MissingAccept)?);
        if accept != expected.as_bytes() || accepts.next().is_some() {
            return Err(ResponseError::AcceptMismatch {
                expected,
                got: excerpt(accept),
            });
        }
        drop(accepts);
        let mut selected = headers
            .get_all("Sec-WebSocket-Protocol")
            .flat_map(split_list);
        let protocol = match (selected.next(), selected.next()) {
            (None, _) => None,
            (Some(protocol), None) => {
                if !self.protocols.iter().any(|p| p.as_bytes() == protocol) {
                    return Err(ResponseError::ProtocolNotOffered {
                        protocol: excerpt(protocol),
                    });
                }
                Some(String::from_utf8_lossy(protocol).into_owned())
            }
            (Some(_), Some(_)) => return Err(ResponseError::MultipleProtocols),
        };
        drop(selected);
        let extensions = offers_in(headers)?;
        if let Some(unoffered) = extensions.iter().find(|accepted| {
            !self
                .extension_names
                .iter()
                .any(|name| name.eq_ignore_ascii_case(&accepted.name))
        }) {
            return Err(ResponseError::ExtensionNotOffered {
                name: excerpt(unoffered.name.as_bytes()),
            });
        }
        let negotiated = self.negotiate(&extensions)?;
        Ok(Response {
            status: head.status,
            reason: head.reason,
            headers: head.headers,
            protocol,
            extensions,
            negotiated,
            body: Vec::new(),
        })
    }

    /// Checks the accepted extensions against the permessage-deflate offer
    /// this handshake made (RFC 7692 §5: a bad answer fails the
    /// connection).
    fn negotiate(&self, extensions: &[ExtensionOffer]) -> Result<Negotiated, ResponseError> {
        let negotiated = Negotiated::plain(extensions.to_vec());
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &self.deflate {
            let agreement = deflate
                .accept_response(extensions)
                .map_err(ResponseError::Deflate)?;
            return Ok(Negotiated {
                deflate: agreement,
                ..negotiated
            });
        }
        Ok(negotiated)
    }

    /// Starts collecting a refusal's body from `rest`, the bytes after its
    /// head.
    fn start_body(
        &mut self,
        head: ResponseHead,
        rest: &[u8],
    ) -> Result<Option<Response>, ResponseError> {
        let status = head.status;
        let bodiless = (100..200).contains(&status) || status == 204 || status == 304;
        let response = Box::new(Response {
            status,
            reason: head.reason,
            headers: head.headers,
            protocol: None,
            extensions: Vec::new(),
            negotiated: Negotiated::default(),
            body: Vec::new(),
        });
        if bodiless || response.headers.get("Transfer-Encoding").is_some() {
            return self.fail(ResponseError::Rejected(response));
        }
        let remaining = match content_length(&response.headers) {
            Ok(remaining) => remaining,
            Err(error) => return self.fail(error),
        };
        if remaining.is_some_and(|n| n > self.config.max_body_size) {
            return self.fail(ResponseError::BodyTooLarge {
                status,
                limit: self.config.max_body_size,
            });
        }
        self.state = State::Body {
            response,
            remaining,
        };
        self.receive_body(rest)
    }

    /// Adds bytes to a refusal's body; returns the refusal once complete.
    fn receive_body(&mut self, bytes: &[u8]) -> Result<Option<Response>, ResponseError> {
        let limit = self.config.max_body_size;
        let State::Body {
            response,
            remaining,
        } = &mut self.state
        else {
            return Ok(None);
        };
        match remaining {
            Some(remaining) => {
                let take = bytes.get(..*remaining).unwrap_or(bytes);
                response.body.extend_from_slice(take);
                *remaining -= take.len();
                if *remaining > 0 {
                    return Ok(None);
                }
            }
            None => {
                if response.body.len().saturating_add(bytes.len()) > limit {
                    let status = response.status;
                    return self.fail(ResponseError::BodyTooLarge { status, limit });
                }
                response.body.extend_from_slice(bytes);
                return Ok(None);
            }
        }
        let response = std::mem::replace(response, Box::new(empty_response()));
        self.fail(ResponseError::Rejected(response))
    }
}

fn empty_response() -> Response {
    Response {
        status: 0,
        reason: String::new(),
        headers: Headers::default(),
        protocol: None,
        extensions: Vec::new(),
        negotiated: Negotiated::default(),
        body: Vec::new(),
    }
}

/// The body length a refusal declares: `Ok(None)` without `Content-Length`,
/// an error unless every `Content-Length` element is the same decimal number.
fn content_length(headers: &Headers) -> Result<Option<usize>, ResponseError> {
    let mut length = None;
    for line in headers.get_all("Content-Length") {
        let mut elements = split_list(line).peekable();
        if elements.peek().is_none() {
            return Err(ResponseError::InvalidContentLength);
        }
        for element in elements {
            if !element.iter().all(u8::is_ascii_digit) {
                return Err(ResponseError::InvalidContentLength);
            }
            // Longer than any usize: saturate, so it is refused as too large.
            let value = std::str::from_utf8(element)
                .ok()
                .and_then(|digits| digits.parse::<usize>().ok())
                .unwrap_or(usize::MAX);
            match length {
                Some(previous) if previous != value => {
                    return Err(ResponseError::InvalidContentLength)
                }
                _ => length = Some(value),
            }
        }
    }
    Ok(length)
}

#[cfg(test)]
mod tests;
