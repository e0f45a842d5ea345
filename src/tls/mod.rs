//! `wss://` with rustls (feature `rustls`).
//!
//! **Clients**: both adapters' `connect("wss://...")` run TLS over the TCP
//! connection (inside the proxy's tunnel when there is one), with the URL's
//! host as SNI and as the name the certificate must carry, and ALPN
//! `http/1.1`. The server's certificate is checked against
//! [`ClientOptions::tls`](crate::handshake::ClientOptions::tls): by default
//! Mozilla's roots ([`webpki-roots`](https://docs.rs/webpki-roots)); or
//! the platform's ([`ClientTls::native_roots`], feature
//! `rustls-native-certs`); or a CA file ([`ClientTls::from_ca_file`]); or
//! a whole [`rustls::ClientConfig`] ([`ClientTls::with_config`]). A
//! certificate that does not verify is a [`TlsError`] that says why
//! (unknown issuer, wrong name, expired...).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use rfc6455::handshake::ClientOptions;
//! use rfc6455::tls::ClientTls;
//! use rfc6455::{blocking, Config};
//!
//! // Mozilla's roots:
//! let (ws, _) = blocking::connect("wss://example.com/socket")?;
//! // A private CA:
//! let options = ClientOptions::new().tls(ClientTls::from_ca_file("ca.pem")?);
//! let (ws, _) = blocking::connect_with("wss://internal.example/socket", options, Config::default())?;
//! # Ok(()) }
//! ```
//!
//! **Servers**: the adapters' `accept` takes any stream, so a TLS stream
//! built from a [`rustls::ServerConfig`] works as it is:
//! [`tokio_rustls::TlsAcceptor`] for tokio, [`rustls::StreamOwned`] for
//! the blocking adapter (which implements
//! [`SocketTimeouts`](crate::blocking::SocketTimeouts), so
//! `with_timers` works on it). [`server_config_from_pem`] builds the
//! config from PEM files.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use rfc6455::tls::{self, tokio_rustls::TlsAcceptor};
//!
//! let acceptor = TlsAcceptor::from(tls::server_config_from_pem("cert.pem", "key.pem")?);
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:443").await?;
//! let (tcp, _) = listener.accept().await?;
//! let mut ws = rfc6455::tokio::accept(acceptor.accept(tcp).await?).await?;
//! # Ok(()) }
//! ```
//!
//! # The crypto provider
//!
//! rustls needs a crypto library: ring or aws-lc-rs. This crate picks
//! **ring** itself (rustls's own default would be aws-lc-rs): it builds
//! with just a C compiler, about three times faster than aws-lc-rs here.
//! Every config made here ([`crypto_provider`]) uses it, so nothing
//! panics for want of a process-wide default provider, whatever else the
//! dependency graph enables.
//!
//! To use aws-lc-rs instead (for FIPS, or its post-quantum key exchange),
//! depend on `rustls` with its `aws_lc_rs` feature and install it as the
//! process default before connecting:
//! `rustls::crypto::aws_lc_rs::default_provider().install_default()`. The
//! configs made here then use it. Or build your own `ClientConfig` and
//! `ServerConfig` with any provider and hand them over
//! ([`ClientTls::with_config`], `TlsAcceptor::from`).

mod client;
mod error;
mod pem;

use std::sync::Arc;

pub use client::{client_config, ClientTls};
pub(crate) use error::classify;
pub use error::TlsError;
pub use pem::{load_certificates, load_private_key, server_config_from_pem, PemError};

/// The rustls this crate is built with, for building configs of your own.
pub use rustls;
/// The tokio-rustls this crate is built with: `TlsAcceptor` for servers.
pub use tokio_rustls;

use rustls::crypto::CryptoProvider;

/// The crypto provider of every config made here: the process default, if
/// the application installed one, or else ring.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// The ALPN protocol a WebSocket over TLS speaks (RFC 6455 §4.1 runs over
/// HTTP/1.1).
pub(crate) const ALPN_HTTP_1_1: &[u8] = b"http/1.1";
