//! Why a TLS connection to a server failed, in words a user can act on.

use std::io;

use rustls::CertificateError;

/// Why the TLS handshake of a `wss://` connection failed: the adapters'
/// `Error::Tls`.
///
/// The usual certificate problems have a variant each; the rest keep
/// rustls's own error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate does not lead to a trusted root: self-signed, from
    /// a private CA, or with its intermediate certificates missing. Trust
    /// the CA with [`ClientTls::from_ca_file`](super::ClientTls::from_ca_file).
    #[error("the certificate of {host} is not signed by a trusted authority (unknown issuer)")]
    UnknownIssuer {
        /// The host connected to.
        host: String,
    },
    /// The certificate is valid, but for other names.
    #[error("the certificate of {host} is not valid for that name{}", presented_names(.presented))]
    WrongName {
        /// The host connected to.
        host: String,
        /// The names the certificate is valid for (its subjectAltNames).
        presented: Vec<String>,
    },
    /// The certificate's validity ended.
    #[error("the certificate of {host} has expired ({error})")]
    Expired {
        /// The host connected to.
        host: String,
        /// rustls's words, with the dates.
        error: CertificateError,
    },
    /// The certificate's validity has not begun (or this machine's clock
    /// is behind).
    #[error("the certificate of {host} is not valid yet ({error})")]
    NotYetValid {
        /// The host connected to.
        host: String,
        /// rustls's words, with the dates.
        error: CertificateError,
    },
    /// The certificate was revoked.
    #[error("the certificate of {host} was revoked")]
    Revoked {
        /// The host connected to.
        host: String,
    },
    /// Another certificate problem (bad signature, bad encoding, wrong
    /// purpose...).
    #[error("the certificate of {host} is invalid: {error}")]
    BadCertificate {
        /// The host connected to.
        host: String,
        /// What rustls found.
        error: CertificateError,
    },
    /// The TLS handshake failed otherwise: an alert from the server, no
    /// protocol version or cipher suite in common, the server refusing the
    /// ALPN protocol, a protocol error.
    #[error("TLS handshake with {host} failed: {error}")]
    Handshake {
        /// The host connected to.
        host: String,
        /// What rustls found.
        error: rustls::Error,
    },
    /// The URL's host cannot be a TLS server name.
    #[error("`{host}` cannot be used as a TLS server name")]
    InvalidServerName {
        /// The host.
        host: String,
    },
    /// The platform's trust store gave no usable certificate
    /// (`ClientTls::native_roots`).
    #[error("no trusted roots: {reason}")]
    NoRoots {
        /// Why.
        reason: String,
    },
    /// A config could not be made with the crypto provider (one that lacks
    /// the default protocol versions).
    #[error("cannot make a TLS config: {error}")]
    Config {
        /// rustls's error.
        error: rustls::Error,
    },
}

fn presented_names(presented: &[String]) -> String {
    match presented {
        [] => String::new(),
        names => format!(" (it is for {})", names.join(", ")),
    }
}

impl TlsError {
    /// The error for a rustls error met while connecting to `host`.
    pub(crate) fn from_rustls(error: rustls::Error, host: &str) -> TlsError {
        let host = host.to_owned();
        match error {
            rustls::Error::InvalidCertificate(error) => match error {
                CertificateError::UnknownIssuer => TlsError::UnknownIssuer { host },
                CertificateError::NotValidForName => TlsError::WrongName {
                    host,
                    presented: Vec::new(),
                },
                CertificateError::NotValidForNameContext { presented, .. } => TlsError::WrongName {
                    host,
                    presented: presented.into_iter().map(plain_name).collect(),
                },
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    TlsError::Expired { host, error }
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsError::NotYetValid { host, error }
                }
                CertificateError::Revoked => TlsError::Revoked { host },
                error => TlsError::BadCertificate { host, error },
            },
            error => TlsError::Handshake { host, error },
        }
    }
}

/// `example.com` for webpki's `DnsName("example.com")`, `10.0.0.1` for
/// `IpAddress(10.0.0.1)`.
fn plain_name(name: String) -> String {
    let inner = name
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|rest| rest.strip_suffix(')'))
        });
    match inner {
        Some(inner) => inner.to_owned(),
        None => name,
    }
}

/// The adapter error for an I/O error of a TLS stream to `host`: a
/// [`TlsError`] when rustls failed, a timeout when the deadline passed,
/// the I/O error otherwise.
pub(crate) fn classify(error: io::Error, host: &str) -> crate::adapter::Error {
    if matches!(
        error.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        return crate::adapter::Error::HandshakeTimeout;
    }
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    match rustls_error {
        Some(error) => TlsError::from_rustls(error, host).into(),
        None => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_get_a_variant_each() {
        let from = |error| TlsError::from_rustls(rustls::Error::InvalidCertificate(error), "h");
        assert!(matches!(
            from(CertificateError::UnknownIssuer),
            TlsError::UnknownIssuer { .. }
        ));
        assert!(matches!(
            from(CertificateError::Expired),
            TlsError::Expired { .. }
        ));
        assert!(matches!(
            from(CertificateError::NotValidYet),
            TlsError::NotYetValid { .. }
        ));
        assert!(matches!(
            from(CertificateError::Revoked),
            TlsError::Revoked { .. }
        ));
        assert!(matches!(
            from(CertificateError::BadSignature),
            TlsError::BadCertificate { .. }
        ));
        let wrong = from(CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("h").unwrap(),
            presented: vec![
                "DnsName(\"other.example\")".into(),
                "IpAddress(10.0.0.1)".into(),
            ],
        });
        assert_eq!(
            wrong.to_string(),
            "the certificate of h is not valid for that name (it is for other.example, 10.0.0.1)"
        );
    }

    #[test]
    fn rustls_errors_inside_io_errors_are_found() {
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert!(matches!(
            classify(io, "example.com"),
            crate::adapter::Error::Tls(TlsError::UnknownIssuer { host }) if host == "example.com"
        ));
        assert!(matches!(
            classify(io::ErrorKind::TimedOut.into(), "h"),
            crate::adapter::Error::HandshakeTimeout
        ));
        assert!(matches!(
            classify(io::ErrorKind::ConnectionReset.into(), "h"),
            crate::adapter::Error::Io(_)
        ));
    }
}
