//! The handshake's error types.
//!
//! Following the crate's two kinds of error: [`RequestError`] and
//! [`ResponseError`] describe something wrong with what the peer sent, one
//! variant per rule broken; [`BuildError`] describes a mistake in what the
//! local application asked us to send. [`ExtensionSyntaxError`] is the syntax
//! error of a `Sec-WebSocket-Extensions` value, wrapped by the other two.

use super::client::Response;
use super::server::response_bytes;

/// Why a server refused an opening handshake request (RFC 6455 §4.2.1).
///
/// Each variant knows its HTTP status ([`RequestError::status`]) and can
/// render the complete HTTP response to send before closing the connection
/// ([`RequestError::response`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request line alone was longer than the head size limit (414).
    #[error("request line is longer than the {limit}-byte limit")]
    RequestLineTooLong {
        /// The configured `max_head_size`.
        limit: usize,
    },
    /// The head did not end within the head size limit (431).
    #[error("request head is larger than the {limit}-byte limit")]
    HeadTooLarge {
        /// The configured `max_head_size`.
        limit: usize,
    },
    /// The head had more header fields than allowed (431).
    #[error("request has more than {limit} header fields")]
    TooManyHeaders {
        /// The configured `max_headers`.
        limit: usize,
    },
    /// The head is not valid HTTP/1.x (400).
    #[error("malformed HTTP request: {reason}")]
    Malformed {
        /// What the HTTP parser objected to.
        reason: String,
    },
    /// An upgrade request used a method other than GET (400).
    #[error("WebSocket handshake must use the GET method, not `{method}`")]
    MethodNotGet {
        /// The method received.
        method: String,
    },
    /// An upgrade request was not HTTP/1.1 (400).
    #[error("WebSocket handshake requires HTTP/1.1, not HTTP/1.{minor}")]
    NotHttp11 {
        /// The minor version received.
        minor: u8,
    },
    /// An upgrade request had no `Host` header (400).
    #[error("WebSocket handshake has no Host header")]
    MissingHost,
    /// An upgrade request had more than one `Host` header (400).
    #[error("WebSocket handshake has more than one Host header")]
    DuplicateHost,
    /// The `Connection` header lacks the `upgrade` token (400).
    #[error("WebSocket handshake's Connection header lacks the `upgrade` token")]
    MissingConnectionUpgrade,
    /// No `Sec-WebSocket-Key` header (400).
    #[error("WebSocket handshake has no Sec-WebSocket-Key header")]
    MissingKey,
    /// More than one `Sec-WebSocket-Key` header (400).
    #[error("WebSocket handshake has more than one Sec-WebSocket-Key header")]
    DuplicateKey,
    /// `Sec-WebSocket-Key` is not base64 of exactly 16 bytes (400).
    #[error("Sec-WebSocket-Key `{key}` is not the base64 encoding of 16 bytes")]
    InvalidKey {
        /// The key received (shortened and escaped for display).
        key: String,
    },
    /// No `Sec-WebSocket-Version` header (426, naming version 13).
    #[error("WebSocket handshake has no Sec-WebSocket-Version header; version 13 is supported")]
    MissingVersion,
    /// `Sec-WebSocket-Version` is not 13 (426, naming version 13).
    #[error("Sec-WebSocket-Version `{version}` is not supported; version 13 is")]
    UnsupportedVersion {
        /// The version received (shortened and escaped for display).
        version: String,
    },
    /// The `Origin` is not in the configured allow-list (403).
    #[error("Origin `{origin}` is not allowed")]
    OriginNotAllowed {
        /// The origin received (shortened and escaped for display).
        origin: String,
    },
    /// An element of `Sec-WebSocket-Protocol` is not a token (400).
    #[error("Sec-WebSocket-Protocol element `{protocol}` is not a valid token")]
    InvalidProtocol {
        /// The offending element (shortened and escaped for display).
        protocol: String,
    },
    /// `Sec-WebSocket-Extensions` does not follow RFC 6455 §9.1 (400).
    #[error("invalid Sec-WebSocket-Extensions header: {0}")]
    InvalidExtensions(#[from] ExtensionSyntaxError),
}

impl RequestError {
    /// The HTTP status code to answer with: 400, 403, 414, 426 or 431.
    pub fn status(&self) -> u16 {
        match self {
            Self::RequestLineTooLong { .. } => 414,
            Self::HeadTooLarge { .. } | Self::TooManyHeaders { .. } => 431,
            Self::MissingVersion | Self::UnsupportedVersion { .. } => 426,
            Self::OriginNotAllowed { .. } => 403,
            _ => 400,
        }
    }

    /// The complete HTTP/1.1 response to send for this error: the status,
    /// `Connection: close`, a short `text/plain` body naming the problem and,
    /// for 426, `Sec-WebSocket-Version: 13` so the client learns which
    /// version to use (RFC 6455 §4.4). Close the connection after sending it.
    pub fn response(&self) -> Vec<u8> {
        let body = format!("{self}\n");
        let mut headers = vec![
            ("Connection", "close"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("X-Content-Type-Options", "nosniff"),
        ];
        if self.status() == 426 {
            headers.push(("Upgrade", "websocket"));
            headers.push(("Sec-WebSocket-Version", "13"));
        }
        response_bytes(self.status(), &headers, body.as_bytes())
    }
}

/// Why a client did not get a WebSocket connection from the server's
/// response (RFC 6455 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The response head did not end within the head size limit.
    #[error("response head is larger than the {limit}-byte limit")]
    HeadTooLarge {
        /// The configured `max_head_size`.
        limit: usize,
    },
    /// The response had more header fields than allowed.
    #[error("response has more than {limit} header fields")]
    TooManyHeaders {
        /// The configured `max_headers`.
        limit: usize,
    },
    /// The head is not valid HTTP/1.x.
    #[error("malformed HTTP response: {reason}")]
    Malformed {
        /// What the HTTP parser objected to.
        reason: String,
    },
    /// The server answered with a status other than 101; the response,
    /// including its body, is attached.
    #[error("server refused the WebSocket handshake with status {} {}", .0.status(), .0.reason())]
    Rejected(Box<Response>),
    /// A non-101 response's body is longer than `max_body_size`.
    #[error("server refused the WebSocket handshake with status {status} and a body over the {limit}-byte limit")]
    BodyTooLarge {
        /// The response status.
        status: u16,
        /// The configured `max_body_size`.
        limit: usize,
    },
    /// A non-101 response's `Content-Length` is not a single decimal number.
    #[error("response to the WebSocket handshake has an invalid Content-Length")]
    InvalidContentLength,
    /// A 101 response was not HTTP/1.1.
    #[error("101 response is HTTP/1.{minor}; a WebSocket handshake requires HTTP/1.1")]
    NotHttp11 {
        /// The minor version received.
        minor: u8,
    },
    /// The `Upgrade` header lacks the `websocket` token.
    #[error("101 response's Upgrade header lacks the `websocket` token")]
    UpgradeNotWebSocket,
    /// The `Connection` header lacks the `upgrade` token.
    #[error("101 response's Connection header lacks the `upgrade` token")]
    ConnectionNotUpgrade,
    /// No `Sec-WebSocket-Accept` header.
    #[error("101 response has no Sec-WebSocket-Accept header")]
    MissingAccept,
    /// `Sec-WebSocket-Accept` does not match our key (or was repeated).
    #[error("Sec-WebSocket-Accept `{got}` does not match the expected `{expected}`")]
    AcceptMismatch {
        /// The value derived from our `Sec-WebSocket-Key`.
        expected: String,
        /// The value received (shortened and escaped for display).
        got: String,
    },
    /// More than one subprotocol was selected.
    #[error("101 response selects more than one subprotocol")]
    MultipleProtocols,
    /// The selected subprotocol is not one we offered.
    #[error("101 response selects subprotocol `{protocol}`, which was not offered")]
    ProtocolNotOffered {
        /// The subprotocol received (shortened and escaped for display).
        protocol: String,
    },
    /// `Sec-WebSocket-Extensions` does not follow RFC 6455 §9.1.
    #[error("invalid Sec-WebSocket-Extensions header: {0}")]
    InvalidExtensions(#[from] ExtensionSyntaxError),
    /// An extension in the response was not offered by name.
    #[error("101 response accepts extension `{name}`, which was not offered")]
    ExtensionNotOffered {
        /// The extension name received (shortened and escaped for display).
        name: String,
    },
    /// The server's permessage-deflate response breaks RFC 7692 or does
    /// not match the offer; the error names the parameter at fault
    /// (RFC 7692 §5: the client fails the connection).
    #[cfg(feature = "deflate")]
    #[error("invalid permessage-deflate response: {0}")]
    Deflate(#[source] crate::deflate::NegotiationError),
    /// The connection ended before a complete response arrived.
    #[error("connection closed before a complete handshake response arrived")]
    ConnectionClosed,
}

/// A mistake in what the local application asked the handshake to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The `ws://` or `wss://` URL could not be used.
    #[error("invalid WebSocket URL `{target}`: {reason}")]
    InvalidTarget {
        /// The URL given (shortened and escaped for display).
        target: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A header name is not an HTTP token.
    #[error("header name `{name}` is not a valid token")]
    InvalidHeaderName {
        /// The name given (shortened and escaped for display).
        name: String,
    },
    /// A header value contains CR, LF, NUL or another control character.
    #[error("value of header `{name}` contains a control character such as CR, LF or NUL")]
    InvalidHeaderValue {
        /// The header's name.
        name: String,
    },
    /// An extra header would duplicate one the handshake writes itself.
    #[error("header `{name}` is written by the handshake itself and cannot be added")]
    ReservedHeader {
        /// The name given.
        name: String,
    },
    /// A subprotocol name is not an HTTP token.
    #[error("subprotocol `{protocol}` is not a valid token")]
    InvalidProtocol {
        /// The name given (shortened and escaped for display).
        protocol: String,
    },
    /// The same subprotocol is offered twice.
    #[error("subprotocol `{protocol}` is offered more than once")]
    DuplicateProtocol {
        /// The name given.
        protocol: String,
    },
    /// The server tried to select a subprotocol the client did not offer.
    #[error("subprotocol `{protocol}` was not offered by the client")]
    ProtocolNotOffered {
        /// The name given (shortened and escaped for display).
        protocol: String,
    },
    /// An extension's name, a parameter name or a value is not a token.
    #[error("extension `{name}` has a name, parameter or value that is not a valid token")]
    InvalidExtension {
        /// The extension name given (shortened and escaped for display).
        name: String,
    },
    /// The server tried to accept an extension the client did not offer.
    #[error("extension `{name}` was not offered by the client")]
    ExtensionNotOffered {
        /// The extension name given.
        name: String,
    },
    /// The application accepted an extension the connection needs a codec
    /// for and that the handshake did not negotiate itself
    /// (`permessage-deflate`: configure it with
    /// [`super::HandshakeConfig::deflate`] instead).
    #[error(
        "extension `{name}` is negotiated by the handshake's configuration, not accepted by hand"
    )]
    ExtensionNeedsCodec {
        /// The extension's name.
        name: String,
    },
    /// `accept` was called on a request that is not a WebSocket upgrade.
    #[error("cannot accept a request that is not a WebSocket upgrade")]
    NotAnUpgrade,
    /// The status code is not a three-digit HTTP status (100 to 999).
    #[error("status code {status} is not a three-digit HTTP status")]
    InvalidStatus {
        /// The status given.
        status: u16,
    },
    /// A 1xx, 204 or 304 response was given a body, which HTTP forbids.
    #[error("a {status} response cannot carry a body")]
    BodyNotAllowed {
        /// The status given.
        status: u16,
    },
}

/// A syntax error in a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1).
/// Positions are byte offsets into the header line's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionSyntaxError {
    /// An extension name (a token) was expected.
    #[error("expected an extension name at byte {at}")]
    ExpectedName {
        /// Byte offset in the value.
        at: usize,
    },
    /// A parameter name (a token) was expected after `;`.
    #[error("expected a parameter name at byte {at}")]
    ExpectedParameterName {
        /// Byte offset in the value.
        at: usize,
    },
    /// A parameter value (a token or quoted string) was expected after `=`.
    #[error("expected a parameter value at byte {at}")]
    ExpectedParameterValue {
        /// Byte offset in the value.
        at: usize,
    },
    /// A quoted string has no closing `"`.
    #[error("quoted string starting at byte {at} is not terminated")]
    UnterminatedQuotedString {
        /// Byte offset of the opening quote.
        at: usize,
    },
    /// A quoted parameter value is not a token once unquoted.
    #[error("quoted value starting at byte {at} is not a token once unquoted")]
    QuotedValueNotToken {
        /// Byte offset of the opening quote.
        at: usize,
    },
    /// A byte that cannot appear here.
    #[error("unexpected byte 0x{byte:02x} at byte {at}")]
    UnexpectedByte {
        /// Byte offset in the value.
        at: usize,
        /// The byte found.
        byte: u8,
    },
}
