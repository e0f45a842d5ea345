//! WebSocket upgrades on a [hyper] 1.x service, and so in any framework
//! built on it, such as axum (feature `hyper`).
//!
//! hyper parses the request and writes the response; this module does what
//! the handshake needs in between, with the same code as the adapters:
//!
//! 1. [`Upgrade::new`] validates the request by the rules of
//!    [`ServerHandshake`](crate::handshake::ServerHandshake) (RFC 6455
//!    §4.2.1, with the same [`RequestError`]s and statuses, and the head
//!    size and header count limits of the [`HandshakeConfig`]) and takes
//!    hyper's upgrade handle out of the request.
//! 2. [`Upgrade::accept`] chooses the subprotocol and extra headers,
//!    negotiates permessage-deflate under `config.handshake.deflate`, and
//!    returns the `101 Switching Protocols` response for the service to
//!    return, with an [`UpgradeFuture`].
//! 3. Once hyper has written the 101, the [`UpgradeFuture`] resolves to a
//!    [`WebSocket`]: the tokio adapter's socket over hyper's upgraded
//!    connection, with the negotiated extension installed.
//!
//! [`upgrade`] does all three with the defaults. An error is an
//! [`UpgradeError`] that knows its status and builds its response; a plain
//! HTTP request is [`UpgradeError::NotUpgrade`] and is left untouched, so
//! the same route can serve it.
//!
//! hyper must be told to hand connections over: serve them with
//! `hyper::server::conn::http1::Builder::new().serve_connection(io,
//! service).with_upgrades()` (axum's `serve` does). Only HTTP/1.1 upgrades
//! are supported, not WebSockets over HTTP/2 (RFC 8441).
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use rfc6455::hyper::UpgradeError;
//! use rfc6455::Message;
//!
//! async fn service(mut request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     match rfc6455::hyper::upgrade(&mut request) {
//!         Ok((response, websocket)) => {
//!             tokio::spawn(async move {
//!                 let mut ws = websocket.await?;
//!                 while let Some(message) = ws.read().await? {
//!                     if matches!(message, Message::Text(_) | Message::Binary(_)) {
//!                         ws.send(message).await?;
//!                     }
//!                 }
//!                 Ok::<_, rfc6455::tokio::Error>(())
//!             });
//!             Ok(response)
//!         }
//!         // Not a WebSocket request: answer it as any other.
//!         Err(UpgradeError::NotUpgrade) => Ok(Response::new(Full::from("Hello over HTTP\n"))),
//!         // 400, 403, 426, 431...
//!         Err(error) => Ok(error.response()),
//!     }
//! }
//! ```
//!
//! [hyper]: https://hyper.rs

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::hyper::header::{HeaderName, HeaderValue};
use ::hyper::upgrade::{OnUpgrade, Upgraded};
use ::hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::rt::TokioIo;

use crate::adapter::Error;
use crate::handshake::{self, Accept, BuildError, HandshakeConfig, Incoming, RequestError};
use crate::{Config, Connection, Role};

/// The WebSocket an upgrade gives: the tokio adapter's socket over hyper's
/// upgraded connection.
pub type WebSocket = crate::tokio::WebSocket<TokioIo<Upgraded>>;

/// Validates `request` as a WebSocket opening handshake and accepts it with
/// the default [`Config`]: no subprotocol, permessage-deflate when the
/// client offers it. Returns the 101 response for the service to return and
/// the future of the [`WebSocket`], to await (in a task of its own) once
/// the response is on its way.
///
/// Shorthand for `Upgrade::new(request, Config::default())?.accept(Accept::new())`;
/// see [`Upgrade`] to look at the request first, choose a subprotocol or
/// use another configuration.
pub fn upgrade<B, R: Default>(
    request: &mut Request<B>,
) -> Result<(Response<R>, UpgradeFuture), UpgradeError> {
    Upgrade::new(request, Config::default())?.accept(Accept::new())
}

/// A validated WebSocket opening handshake, taken from a hyper request and
/// not yet answered.
///
/// ```
/// use rfc6455::handshake::Accept;
/// use rfc6455::hyper::{Upgrade, UpgradeError};
/// use rfc6455::Config;
///
/// fn answer(mut request: hyper::Request<()>) -> hyper::Response<String> {
///     let upgrade = match Upgrade::new(&mut request, Config::default()) {
///         Ok(upgrade) => upgrade,
///         Err(error) => return error.response(),
///     };
///     if !upgrade.request().protocols().iter().any(|p| p == "chat") {
///         let mut refusal = hyper::Response::new("Speak chat.\n".to_owned());
///         *refusal.status_mut() = hyper::StatusCode::BAD_REQUEST;
///         return refusal;
///     }
///     match upgrade.accept(Accept::new().protocol("chat")) {
///         Ok((response, websocket)) => {
///             tokio::spawn(async move {
///                 let mut ws = websocket.await?;
///                 // ...
///                 # ws.close(1000u16, "").await?;
///                 Ok::<_, rfc6455::tokio::Error>(())
///             });
///             response
///         }
///         Err(error) => error.response(),
///     }
/// }
///
/// // A request hyper did not read has nothing to upgrade.
/// let request = hyper::Request::get("/chat")
///     .header("Host", "example.com")
///     .header("Upgrade", "websocket")
///     .header("Connection", "Upgrade")
///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .header("Sec-WebSocket-Version", "13")
///     .body(())
///     .unwrap();
/// assert_eq!(answer(request).status(), 500);
/// ```
pub struct Upgrade {
    request: handshake::Request,
    on_upgrade: OnUpgrade,
    config: Config,
}

impl std::fmt::Debug for Upgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgrade")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl Upgrade {
    /// Validates `request` as a WebSocket opening handshake under
    /// `config.handshake` and takes hyper's upgrade handle out of it.
    ///
    /// On error the request is left as it was: a plain HTTP request
    /// ([`UpgradeError::NotUpgrade`]) can still be answered as one.
    pub fn new<B>(request: &mut Request<B>, config: Config) -> Result<Upgrade, UpgradeError> {
        let head = classify(request, &config.handshake)?;
        let on_upgrade = request
            .extensions_mut()
            .remove::<OnUpgrade>()
            .ok_or(UpgradeError::NotUpgradable)?;
        Ok(Upgrade {
            request: head,
            on_upgrade,
            config,
        })
    }

    /// The request as the handshake sees it: path, query, headers, origin,
    /// offered subprotocols and extensions.
    pub fn request(&self) -> &handshake::Request {
        &self.request
    }

    /// Accepts the upgrade with `accept`'s subprotocol and extra headers,
    /// negotiating permessage-deflate under the configuration's
    /// `handshake.deflate` as the adapters do
    /// ([`Request::accept_negotiated`](handshake::Request::accept_negotiated)).
    ///
    /// Returns the `101 Switching Protocols` response (with an empty body
    /// of the service's type) and the future of the WebSocket. Fails with
    /// [`UpgradeError::Build`] (500) if `accept` names a subprotocol or an
    /// extension the client did not offer, or an invalid header.
    pub fn accept<R: Default>(
        self,
        accept: Accept,
    ) -> Result<(Response<R>, UpgradeFuture), UpgradeError> {
        let (fields, negotiated) = self
            .request
            .accept_headers(&accept, &self.config.handshake)?;
        let mut response = Response::new(R::default());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        for (name, value) in fields {
            let invalid = || BuildError::InvalidHeaderValue { name: name.clone() };
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let value = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| invalid())?;
            headers.append(header, value);
        }
        let Upgrade {
            on_upgrade, config, ..
        } = self;
        let limit = config.handshake.timeout;
        let websocket = async move {
            let upgraded = ::tokio::time::timeout(limit, on_upgrade)
                .await
                .map_err(|_| Error::HandshakeTimeout)?
                .map_err(|error| Error::Io(io::Error::other(error)))?;
            let conn = negotiated.install(Connection::new(Role::Server, config));
            Ok(
                crate::tokio::WebSocket::from_connection(TokioIo::new(upgraded), conn)
                    .with_negotiated(negotiated),
            )
        };
        Ok((
            response,
            UpgradeFuture {
                inner: Box::pin(websocket),
            },
        ))
    }
}

/// Tells a WebSocket upgrade from anything else and validates it, with the
/// handshake's own rules.
fn classify<B>(
    request: &Request<B>,
    config: &HandshakeConfig,
) -> Result<handshake::Request, UpgradeError> {
    let minor_version = match request.version() {
        Version::HTTP_11 => 1,
        Version::HTTP_10 | Version::HTTP_09 => 0,
        // A WebSocket over HTTP/2 or 3 is opened with an extended CONNECT
        // (RFC 8441, RFC 9220); any other request is plain HTTP.
        version if request.method() == Method::CONNECT => {
            return Err(UpgradeError::UnsupportedVersion(version))
        }
        _ => return Err(UpgradeError::NotUpgrade),
    };
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().to_string(), |p| p.as_str().to_owned());
    let incoming = Incoming::from_parts(
        request.method().as_str(),
        &target,
        minor_version,
        request.headers(),
        config,
    )?;
    match incoming {
        Incoming::Upgrade(request) => Ok(request),
        Incoming::Http(_) => Err(UpgradeError::NotUpgrade),
    }
}

/// The WebSocket of an accepted upgrade, ready once hyper has written the
/// 101 response and handed the connection over.
///
/// Await it in a task of its own (`tokio::spawn`) and return the 101
/// response from the service: hyper writes the response only then, and
/// hands the connection over after it. It fails with
/// [`Error::HandshakeTimeout`] if the connection is not handed over within
/// the handshake timeout, and with [`Error::Io`] if hyper reports that the
/// upgrade failed (the connection closed first, or was served without
/// `with_upgrades()`). Return the 101 if you spawn this future: when the
/// service returns another response, hyper hands the connection over only
/// once it is done with it, and the WebSocket fails on its first read.
#[must_use = "the WebSocket is in the future"]
pub struct UpgradeFuture {
    inner: Pin<Box<dyn Future<Output = Result<WebSocket, Error>> + Send>>,
}

impl std::fmt::Debug for UpgradeFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeFuture").finish_non_exhaustive()
    }
}

impl Future for UpgradeFuture {
    type Output = Result<WebSocket, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

/// Why a hyper request did not become a WebSocket. Each knows its HTTP
/// status ([`status`](Self::status)) and builds its response
/// ([`response`](Self::response)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpgradeError {
    /// The request is not a WebSocket upgrade (no `Upgrade: websocket`):
    /// plain HTTP, for the service to answer itself (400 from a route that
    /// speaks WebSocket only).
    #[error("not a WebSocket upgrade request (no `Upgrade: websocket` header)")]
    NotUpgrade,
    /// The upgrade breaks a rule of RFC 6455 §4.2.1 or a limit of the
    /// [`HandshakeConfig`]: 400, 403, 414, 426 or 431 as
    /// [`RequestError::status`] says.
    #[error("invalid WebSocket handshake request: {0}")]
    Request(#[from] RequestError),
    /// An extended CONNECT over HTTP/2 or later (RFC 8441): WebSockets are
    /// opened over HTTP/1.1 only here (505).
    #[error("WebSocket over {0:?} is not supported; connect over HTTP/1.1")]
    UnsupportedVersion(Version),
    /// The request carries no hyper upgrade handle: it was not read by a
    /// hyper HTTP/1 connection, or the handle was taken already (500).
    #[error("the request cannot be upgraded: it carries no hyper upgrade handle")]
    NotUpgradable,
    /// The accept parameters cannot be sent: a subprotocol or extension the
    /// client did not offer, an invalid header (500).
    #[error("invalid accept parameters: {0}")]
    Build(#[from] BuildError),
}

impl UpgradeError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            UpgradeError::NotUpgrade => 400,
            UpgradeError::Request(error) => error.status(),
            UpgradeError::UnsupportedVersion(_) => 505,
            UpgradeError::NotUpgradable | UpgradeError::Build(_) => 500,
        }
    }

    /// The response to send: the status, a short `text/plain` body naming
    /// the problem (the body type only needs `From<String>`: `String`,
    /// `http_body_util::Full<Bytes>`, axum's `Body`...) and, for 426,
    /// `Upgrade: websocket` and `Sec-WebSocket-Version: 13` so the client
    /// learns which version to use (RFC 6455 §4.4), as
    /// [`RequestError::response`] has.
    pub fn response<R: From<String>>(&self) -> Response<R> {
        let body = match self {
            // The body the adapters send for it.
            UpgradeError::Request(error) => format!("{error}\n"),
            other => format!("{other}\n"),
        };
        let mut response = Response::new(R::from(body));
        *response.status_mut() =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(
            ::hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(
            ::hyper::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if self.status() == 426 {
            headers.insert(
                ::hyper::header::UPGRADE,
                HeaderValue::from_static("websocket"),
            );
            headers.insert(
                ::hyper::header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> ::hyper::http::request::Builder {
        Request::get("/chat?room=1")
            .header("Host", "example.com")
            .header("Upgrade", "websocket")
            .header("Connection", "keep-alive, Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13")
    }

    /// A request as hyper's HTTP/1 server hands it over, with an upgrade
    /// handle (one that never resolves here).
    fn upgradable(builder: ::hyper::http::request::Builder) -> Request<()> {
        let mut request = builder.body(()).unwrap();
        let none = ::hyper::upgrade::on(Request::new(()));
        request.extensions_mut().insert(none);
        request
    }

    fn error_of(builder: ::hyper::http::request::Builder) -> UpgradeError {
        Upgrade::new(&mut upgradable(builder), Config::default()).unwrap_err()
    }

    #[test]
    fn a_valid_request_is_accepted_with_the_rfc_accept_key_and_the_request_seen() {
        let mut request = upgradable(handshake().header("Sec-WebSocket-Protocol", "chat, v2"));
        let upgrade = Upgrade::new(&mut request, Config::default()).unwrap();
        assert!(request.extensions().get::<OnUpgrade>().is_none());
        assert_eq!(upgrade.request().path(), "/chat");
        assert_eq!(upgrade.request().query(), Some("room=1"));
        assert_eq!(upgrade.request().protocols(), ["chat", "v2"]);
        let (response, _ws) = upgrade
            .accept::<String>(Accept::new().protocol("v2").header("X-Server", "t"))
            .unwrap();
        assert_eq!(response.status(), 101);
        let header = |name: &str| response.headers().get(name).unwrap().to_str().unwrap();
        assert_eq!(header("upgrade"), "websocket");
        assert_eq!(header("connection"), "Upgrade");
        assert_eq!(
            header("sec-websocket-accept"),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(header("sec-websocket-protocol"), "v2");
        assert_eq!(header("x-server"), "t");
        assert!(response.body().is_empty());
    }

    #[cfg(feature = "deflate")]
    #[test]
    fn deflate_is_negotiated_when_offered_and_declined_when_off() {
        let offer = || {
            upgradable(handshake().header(
                "Sec-WebSocket-Extensions",
                "permessage-deflate; client_max_window_bits",
            ))
        };
        let (response, _) = Upgrade::new(&mut offer(), Config::default())
            .unwrap()
            .accept::<String>(Accept::new())
            .unwrap();
        let extensions = response.headers()["sec-websocket-extensions"]
            .to_str()
            .unwrap();
        assert!(extensions.starts_with("permessage-deflate"), "{extensions}");

        let mut config = Config::default();
        config.handshake.deflate = None;
        let (response, _) = Upgrade::new(&mut offer(), config)
            .unwrap()
            .accept::<String>(Accept::new())
            .unwrap();
        assert!(response.headers().get("sec-websocket-extensions").is_none());
    }

    #[test]
    fn broken_requests_get_the_handshakes_statuses() {
        let without = |name: &str| {
            let mut request = upgradable(handshake());
            request.headers_mut().remove(name);
            Upgrade::new(&mut request, Config::default()).unwrap_err()
        };
        assert_eq!(
            without("sec-websocket-key"),
            RequestError::MissingKey.into()
        );
        assert_eq!(without("sec-websocket-key").status(), 400);
        assert_eq!(without("sec-websocket-version").status(), 426);
        assert_eq!(without("connection").status(), 400);
        assert_eq!(without("host").status(), 400);
        assert_eq!(without("upgrade"), UpgradeError::NotUpgrade);
        let wrong_version = error_of(handshake().header("Sec-WebSocket-Version", "8"));
        assert_eq!(wrong_version.status(), 426);
        let two_keys =
            error_of(handshake().header("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA=="));
        assert_eq!(two_keys, RequestError::DuplicateKey.into());
        let mut request = upgradable(handshake());
        request
            .headers_mut()
            .insert("sec-websocket-key", HeaderValue::from_static("short"));
        let bad_key = Upgrade::new(&mut request, Config::default()).unwrap_err();
        assert_eq!(
            bad_key,
            RequestError::InvalidKey {
                key: "short".into()
            }
            .into()
        );
        let post = error_of(handshake().method("POST"));
        assert!(matches!(
            post,
            UpgradeError::Request(RequestError::MethodNotGet { .. })
        ));
        let old = error_of(handshake().version(Version::HTTP_10));
        assert_eq!(old, RequestError::NotHttp11 { minor: 0 }.into());
        let h2 = error_of(handshake().method("CONNECT").version(Version::HTTP_2));
        assert_eq!(h2.status(), 505);
        let h2_get = error_of(Request::get("/").version(Version::HTTP_2));
        assert_eq!(h2_get, UpgradeError::NotUpgrade);
    }

    #[test]
    fn the_configured_limits_and_origins_apply() {
        let origins = Config {
            handshake: HandshakeConfig::default().allowed_origins(["https://good"]),
            ..Config::default()
        };
        let mut request = upgradable(handshake().header("Origin", "https://evil"));
        let error = Upgrade::new(&mut request, origins).unwrap_err();
        assert_eq!(error.status(), 403);
        assert!(request.extensions().get::<OnUpgrade>().is_some());

        let few = Config {
            handshake: HandshakeConfig::default().max_headers(5),
            ..Config::default()
        };
        let mut request = upgradable(handshake().header("X-Sixth", "1"));
        let error = Upgrade::new(&mut request, few).unwrap_err();
        assert_eq!(error, RequestError::TooManyHeaders { limit: 5 }.into());
        assert_eq!(error.status(), 431);

        let small = Config {
            handshake: HandshakeConfig::default().max_head_size(200),
            ..Config::default()
        };
        let mut request = upgradable(handshake().header("Cookie", "x".repeat(100)));
        assert_eq!(Upgrade::new(&mut request, small).unwrap_err().status(), 431);
    }

    #[test]
    fn a_request_without_an_upgrade_handle_is_a_server_error() {
        let mut request = handshake().body(()).unwrap();
        let error = Upgrade::new(&mut request, Config::default()).unwrap_err();
        assert_eq!(error, UpgradeError::NotUpgradable);
        assert_eq!(error.status(), 500);
    }

    #[test]
    fn a_subprotocol_not_offered_cannot_be_accepted() {
        let upgrade = Upgrade::new(&mut upgradable(handshake()), Config::default()).unwrap();
        let error = upgrade
            .accept::<String>(Accept::new().protocol("x"))
            .unwrap_err();
        assert!(matches!(
            error,
            UpgradeError::Build(BuildError::ProtocolNotOffered { .. })
        ));
        assert_eq!(error.status(), 500);
    }

    #[test]
    fn error_responses_carry_status_body_and_the_version_for_426() {
        let response: Response<String> =
            UpgradeError::from(RequestError::MissingVersion).response();
        assert_eq!(response.status(), 426);
        assert_eq!(response.headers()["sec-websocket-version"], "13");
        assert_eq!(response.headers()["upgrade"], "websocket");
        assert!(
            response.body().contains("Sec-WebSocket-Version"),
            "{}",
            response.body()
        );
        let response: Response<String> = UpgradeError::NotUpgrade.response();
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("sec-websocket-version").is_none());
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
    }
}
