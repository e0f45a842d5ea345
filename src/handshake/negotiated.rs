//! What an opening handshake settled on beyond the bare upgrade: the
//! extensions of the 101 response, and the codec the connection must run
//! for them.
//!
//! Both roles end with a [`Negotiated`]: a server from
//! [`Request::accept_negotiated`](super::Request::accept_negotiated), a
//! client from [`Response::negotiated`](super::Response::negotiated). Its
//! [`install`](Negotiated::install) puts the codec into the
//! [`Connection`]; the adapters do this themselves.

use super::extensions::ExtensionOffer;
use crate::Connection;

/// The extensions an opening handshake agreed on.
///
/// ```
/// use rfc6455::handshake::{Accept, ClientHandshake, ClientOptions, HandshakeConfig, Incoming, ServerHandshake};
/// use rfc6455::{Config, Connection, Role};
///
/// let mut client = ClientHandshake::new("ws://example.com/", ClientOptions::new())?;
/// let mut server = ServerHandshake::new();
/// let Some(Incoming::Upgrade(request)) = server.receive(client.request())? else {
///     panic!("expected an upgrade");
/// };
/// let (reply, accepted) = request.accept_negotiated(&Accept::new(), &HandshakeConfig::default())?;
/// let response = client.receive(&reply)?.expect("complete response");
/// # #[cfg(feature = "deflate")]
/// assert_eq!(response.negotiated().extension_name(), Some("permessage-deflate"));
/// assert_eq!(response.negotiated().extensions(), accepted.extensions());
///
/// let server_conn = accepted.install(Connection::new(Role::Server, Config::default()));
/// let client_conn = response.negotiated().install(Connection::new(Role::Client, Config::default()));
/// # drop((server_conn, client_conn));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Negotiated {
    pub(super) extensions: Vec<ExtensionOffer>,
    #[cfg(feature = "deflate")]
    pub(super) deflate: Option<crate::deflate::Agreement>,
}

impl Negotiated {
    /// Extensions with no codec to install.
    pub(super) fn plain(extensions: Vec<ExtensionOffer>) -> Negotiated {
        Negotiated {
            extensions,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// The `Sec-WebSocket-Extensions` elements of the 101 response, in
    /// order: for a server the ones it sent, for a client the ones it
    /// received. Empty when no extension was agreed on.
    #[must_use]
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// The name of the extension whose codec [`install`](Self::install)
    /// puts into the connection (`permessage-deflate`), if any: what
    /// browsers show as `WebSocket.extensions`.
    #[must_use]
    pub fn extension_name(&self) -> Option<&str> {
        #[cfg(feature = "deflate")]
        if self.deflate.is_some() {
            return Some(crate::deflate::PERMESSAGE_DEFLATE);
        }
        None
    }

    /// The permessage-deflate agreement, when it was negotiated.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn deflate(&self) -> Option<&crate::deflate::Agreement> {
        self.deflate.as_ref()
    }

    /// Installs the codec of the negotiated extension (a fresh one each
    /// call) with [`Connection::with_extension`]; returns `conn` unchanged
    /// when there is none. Call it before the connection reads its first
    /// frame: the peer may compress from its first message on.
    #[must_use]
    pub fn install(&self, conn: Connection) -> Connection {
        #[cfg(feature = "deflate")]
        if let Some(agreement) = &self.deflate {
            return conn.with_extension(Box::new(agreement.clone().into_extension()));
        }
        conn
    }
}
