//! A sans-IO implementation of the WebSocket protocol (RFC 6455).
//!
//! The core turns bytes into events and calls into bytes; it does no I/O,
//! reads no clock and spawns nothing, so the same code serves any transport
//! and every behaviour can be tested in memory.
//!
//! - [`handshake`]: the opening handshake, both roles.
//! - [`Connection`]: everything after it: framing, masking, fragmentation,
//!   message assembly with UTF-8 validation, ping/pong, the close handshake
//!   and timers.
//! - [`frame`]: the frame codec, for tools and tests.
//! - [`extension`]: the seam where permessage-deflate and other extensions
//!   plug in.
//! - [`proxy`]: HTTP `CONNECT` and SOCKS5 proxy handshakes for clients,
//!   and the proxy environment variables as curl reads them.
//! - `tls` (feature `rustls`): `wss://`, the trust roots a client uses and
//!   a PEM loader for servers.
//!
//! # An adapter's loop
//!
//! ```
//! use std::time::Instant;
//! use rfc6455::{Config, Connection, Event, Role};
//!
//! /// One turn: bytes read from the transport in, bytes to write out.
//! fn turn(conn: &mut Connection, read: &[u8], write: &mut Vec<u8>) -> Result<(), rfc6455::Error> {
//!     conn.receive(read);
//!     while let Some(event) = conn.poll_event()? {
//!         if let Event::Text(text) = event {
//!             let reply = text.to_uppercase();
//!             conn.send_text(&reply).expect("the connection is open");
//!         }
//!     }
//!     while let Some(bytes) = conn.poll_transmit() {
//!         let n = bytes.len(); // a real transport may write fewer
//!         write.extend_from_slice(bytes);
//!         conn.advance_transmit(n);
//!     }
//!     let _deadline = conn.poll_timeout(Instant::now()); // arm a timer for it
//!     Ok(())
//! }
//!
//! let mut server = Connection::new(Role::Server, Config::default());
//! let mut wire = Vec::new();
//! // A masked text frame "Hello" (RFC 6455 §5.7).
//! turn(&mut server, &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], &mut wire).unwrap();
//! assert_eq!(wire, b"\x81\x05HELLO");
//! ```

// Three audited `unsafe` spots, each paid for in benches/compare:
// `utf8::validated` (and its owned twin `validated_string`) turns text the
// incremental validator accepted into `&str` (`String`) without a second
// pass; `frame::mask` calls its AVX2 build after checking the CPU has
// AVX2; and `frame::mask::extend_masked` appends unmasked bytes to a `Vec`
// without zero-filling them first.
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod adapter;
mod config;
mod connection;
#[cfg(feature = "deflate")]
pub mod deflate;
mod error;
mod event;
pub mod extension;
pub mod frame;
pub mod handshake;
pub mod proxy;
#[cfg(feature = "rustls")]
pub mod tls;
mod transport;
mod utf8;

pub mod blocking;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use config::{Config, Keepalive};
pub use connection::{Connection, Role, Sender, State, WriteNow};
pub use error::{Error, ProtocolError, UsageError};
pub use event::{Chunk, Event, Message};
pub use frame::{CloseCode, CloseFrame, MessageKind, OpCode};

/// The README's code, compiled and run as doctests so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
