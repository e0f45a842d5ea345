//! Certificates and keys from PEM files, and a server config made of them.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use super::{crypto_provider, ALPN_HTTP_1_1};

/// Why certificates or a key could not be loaded from PEM files, or were
/// refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not valid PEM.
    #[error("{} is not valid PEM: {reason}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What the parser objected to.
        reason: String,
    },
    /// The file has no `CERTIFICATE` section.
    #[error("{} holds no certificate", .path.display())]
    NoCertificates {
        /// The file.
        path: PathBuf,
    },
    /// The file has no private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or
    /// `EC PRIVATE KEY`).
    #[error("{} holds no private key", .path.display())]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused what was loaded: a key that does not match the
    /// certificate, a key type the crypto provider cannot use, a CA
    /// certificate it cannot parse.
    #[error("{}refused by rustls: {error}", .path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Rejected {
        /// The file, when one alone is concerned.
        path: Option<PathBuf>,
        /// rustls's error.
        error: rustls::Error,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, PemError> {
    std::fs::read(path).map_err(|source| PemError::Read {
        path: path.to_owned(),
        source,
    })
}

fn malformed(path: &Path, error: rustls::pki_types::pem::Error) -> PemError {
    PemError::Malformed {
        path: path.to_owned(),
        reason: error.to_string(),
    }
}

/// Every certificate in a PEM file, in order (a server's chain: its own
/// certificate first, then the intermediates). Other sections are skipped.
pub fn load_certificates(path: impl AsRef<Path>) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let path = path.as_ref();
    let pem = read(path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| malformed(path, error))?;
    if certificates.is_empty() {
        return Err(PemError::NoCertificates {
            path: path.to_owned(),
        });
    }
    Ok(certificates)
}

/// The first private key in a PEM file: PKCS#8 (`PRIVATE KEY`), PKCS#1
/// (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`).
pub fn load_private_key(path: impl AsRef<Path>) -> Result<PrivateKeyDer<'static>, PemError> {
    let path = path.as_ref();
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|error| match error {
        rustls::pki_types::pem::Error::NoItemsFound => PemError::NoPrivateKey {
            path: path.to_owned(),
        },
        error => malformed(path, error),
    })
}

/// A server config from a PEM certificate chain and a PEM private key,
/// for `tokio_rustls::TlsAcceptor::from` or `rustls::ServerConnection`:
/// [`crypto_provider`], TLS 1.2 and 1.3, ALPN `http/1.1`, no client
/// certificates.
///
/// ```no_run
/// let config = rfc6455::tls::server_config_from_pem("cert.pem", "key.pem")?;
/// let acceptor = rfc6455::tls::tokio_rustls::TlsAcceptor::from(config);
/// # Ok::<(), rfc6455::tls::PemError>(())
/// ```
pub fn server_config_from_pem(
    cert_path: impl AsRef<Path>,
    key_path: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, PemError> {
    let certificates = load_certificates(cert_path)?;
    let key = load_private_key(key_path)?;
    let rejected = |error| PemError::Rejected { path: None, error };
    let mut config = ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .map_err(rejected)?;
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(Arc::new(config))
}
