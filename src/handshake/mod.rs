//! The HTTP/1.1 opening handshake of RFC 6455 §4, for both roles, sans-IO.
//!
//! Bytes go in, typed values and bytes come out; nothing here touches a
//! socket, a clock or a global random source (the client's key comes from an
//! injectable [`rand::RngCore`]).
//!
//! - A **client** builds a [`ClientHandshake`] from a `ws://` or `wss://` URL
//!   and [`ClientOptions`], writes [`ClientHandshake::request`], then feeds
//!   what the server sends to [`ClientHandshake::receive`] until it yields a
//!   verified [`Response`] or a [`ResponseError`] (a refusal carries the
//!   server's status, headers and body).
//! - A **server** feeds what the client sends to [`ServerHandshake::receive`]
//!   until it yields an [`Incoming`] request or a [`RequestError`]. An
//!   upgrade is answered with [`Request::accept`]; a plain HTTP request, or
//!   a refusal, with [`response`]; an error with [`RequestError::response`].
//!
//! Extensions: [`HandshakeConfig::deflate`] (on by default) makes a client
//! offer permessage-deflate and check the answer, and a server that answers
//! with [`Request::accept_negotiated`] accept it. Both end with a
//! [`Negotiated`], whose [`install`](Negotiated::install) puts the codec
//! into the [`Connection`](crate::Connection).
//!
//! In both roles, the bytes that arrived after the HTTP head are kept
//! ([`ServerHandshake::into_leftover`], [`ClientHandshake::into_leftover`])
//! and belong to the WebSocket connection.
//!
//! Reading is incremental and linear in the bytes received however they are
//! chunked, and every size and count is bounded by [`HandshakeConfig`].
//!
//! ```
//! use rfc6455::handshake::{Accept, ClientHandshake, ClientOptions, Incoming, ServerHandshake};
//!
//! let mut client = ClientHandshake::new("ws://example.com/chat", ClientOptions::new().protocol("chat"))?;
//! let mut server = ServerHandshake::new();
//! let Some(Incoming::Upgrade(request)) = server.receive(client.request())? else {
//!     panic!("expected an upgrade");
//! };
//! let reply = request.accept(&Accept::new().protocol("chat"))?;
//! let response = client.receive(&reply)?.expect("complete response");
//! assert_eq!(response.protocol(), Some("chat"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod config;
mod error;
mod extensions;
pub(crate) mod head;
mod headers;
mod negotiated;
mod server;
mod target;

use base64::Engine as _;
use sha1::{Digest as _, Sha1};

pub use client::{ClientHandshake, ClientOptions, Response};
pub use config::HandshakeConfig;
pub use error::{BuildError, ExtensionSyntaxError, RequestError, ResponseError};
pub use extensions::{parse_extensions, ExtensionOffer};
pub use headers::Headers;
pub use negotiated::Negotiated;
pub use server::{response, Accept, Incoming, Request, ServerHandshake};
pub use target::Target;

/// The GUID appended to `Sec-WebSocket-Key` before hashing (RFC 6455 §1.3).
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: the base64
/// (standard alphabet, padded) of the SHA-1 of the key followed by [`GUID`].
///
/// ```
/// assert_eq!(
///     rfc6455::handshake::derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
/// );
/// ```
pub fn derive_accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
}

/// A fresh `Sec-WebSocket-Key`: 16 bytes from `rng`, base64-encoded into 24
/// characters (RFC 6455 §4.1).
pub fn generate_key(rng: &mut dyn rand::RngCore) -> String {
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    base64::engine::general_purpose::STANDARD.encode(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng as _;

    #[test]
    fn rfc_1_3_accept_key_vector() {
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn generated_key_is_24_chars_of_base64_of_16_bytes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let key = generate_key(&mut rng);
        assert_eq!(key.len(), 24);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&key)
            .unwrap();
        assert_eq!(decoded.len(), 16);
    }

    #[test]
    fn generated_key_depends_only_on_the_seed() {
        let a = generate_key(&mut rand::rngs::StdRng::seed_from_u64(1));
        let b = generate_key(&mut rand::rngs::StdRng::seed_from_u64(1));
        let c = generate_key(&mut rand::rngs::StdRng::seed_from_u64(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
