//! permessage-deflate (RFC 7692): negotiation in both roles and the
//! compression extension, behind the `deflate` feature.
//!
//! - [`DeflateConfig`]: what to ask for and accept, and how to compress.
//! - Negotiation: a client sends [`DeflateConfig::offer`] and checks the
//!   answer with [`DeflateConfig::accept_response`]; a server picks an
//!   offer with [`DeflateConfig::accept`] and sends
//!   [`Agreement::response`].
//! - [`PerMessageDeflate`]: the [`Extension`](crate::extension::Extension)
//!   a [`Connection`](crate::Connection) runs every data message through.
//!
//! The opening handshake does all of this by default
//! ([`HandshakeConfig::deflate`](crate::handshake::HandshakeConfig::deflate),
//! ending in a [`Negotiated`](crate::handshake::Negotiated) whose
//! `install` puts the codec in the connection), and so do both adapters;
//! the calls below are for code that negotiates by itself, such as a hyper
//! or axum server reading `Sec-WebSocket-Extensions` with
//! [`parse_extensions`](crate::handshake::parse_extensions).
//!
//! Compression goes through `flate2` with its zlib-rs backend: pure Rust,
//! and, unlike miniz_oxide, able to compress with the windows below 32 KiB
//! that `*_max_window_bits` negotiates.
//!
//! # Example
//!
//! Both ends of a negotiation, then a compressed message across a pair of
//! connections:
//!
//! ```
//! use rfc6455::deflate::DeflateConfig;
//! use rfc6455::{Config, Connection, Event, Role};
//!
//! let config = DeflateConfig::default();
//! // Client: the element of its Sec-WebSocket-Extensions header.
//! let offer = config.offer();
//! assert_eq!(
//!     offer.to_string(),
//!     "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
//! );
//! // Server: the first acceptable offer, and what to answer.
//! let accepted = config.accept(&[offer]).expect("acceptable");
//! let response = accepted.response().clone();
//! // Client: check the answer.
//! let agreed = config.accept_response(&[response])?.expect("accepted");
//!
//! let mut client = Connection::new(Role::Client, Config::default())
//!     .with_extension(Box::new(agreed.into_extension()));
//! let mut server = Connection::new(Role::Server, Config::default())
//!     .with_extension(Box::new(accepted.into_extension()));
//! let text = "a message long enough to be worth compressing, compressing, compressing";
//! client.send_text(text)?;
//! let mut wire = Vec::new();
//! while let Some(bytes) = client.poll_transmit() {
//!     wire.extend_from_slice(bytes);
//!     let n = bytes.len();
//!     client.advance_transmit(n);
//! }
//! assert_eq!(wire[0] & 0x40, 0x40, "RSV1 marks a compressed message");
//! assert!(wire.len() < text.len());
//! server.receive(&wire);
//! match server.poll_event()? {
//!     Some(Event::Text(got)) => assert_eq!(got, text),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod codec;
mod config;
mod error;
mod negotiation;

pub use codec::PerMessageDeflate;
pub use config::DeflateConfig;
pub use error::{NegotiationError, Parameter};
pub use negotiation::{
    is_permessage_deflate, Agreed, Agreement, ClientMaxWindowBits, DeflateParams,
    PERMESSAGE_DEFLATE,
};
