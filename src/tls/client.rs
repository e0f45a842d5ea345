//! What a `wss://` client trusts: the roots, or a whole `ClientConfig`.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};

use super::{crypto_provider, PemError, TlsError, ALPN_HTTP_1_1};

/// How a `wss://` client verifies the server: the field
/// [`ClientOptions::tls`](crate::handshake::ClientOptions::tls).
///
/// Every choice but [`with_config`](Self::with_config) makes a config with
/// [`crypto_provider`], ALPN `http/1.1` and no client certificate, once
/// (configs are shared, so TLS sessions are resumed across connections).
/// Clones share it.
#[derive(Clone, Default)]
pub struct ClientTls {
    source: Source,
}

#[derive(Clone, Default)]
enum Source {
    /// Mozilla's roots, from webpki-roots.
    #[default]
    WebPki,
    /// The platform's roots.
    #[cfg(feature = "rustls-native-certs")]
    Native,
    /// These roots; the config is made on first use.
    Roots(Arc<RootCertStore>, Arc<OnceLock<Arc<ClientConfig>>>),
    /// The application's config, as it is.
    Config(Arc<ClientConfig>),
}

impl ClientTls {
    /// Trusts Mozilla's root certificates, as browsers do (the
    /// `webpki-roots` crate, compiled in). The default.
    pub fn webpki_roots() -> Self {
        ClientTls {
            source: Source::WebPki,
        }
    }

    /// Trusts the platform's root certificates (the system's CA bundle on
    /// Linux, the keychain on macOS, the certificate store on Windows),
    /// read on first use (feature `rustls-native-certs`).
    #[cfg(feature = "rustls-native-certs")]
    pub fn native_roots() -> Self {
        ClientTls {
            source: Source::Native,
        }
    }

    /// Trusts these roots only.
    pub fn with_roots(roots: RootCertStore) -> Self {
        ClientTls {
            source: Source::Roots(Arc::new(roots), Arc::default()),
        }
    }

    /// Trusts only the CA certificates in a PEM file, as curl's `--cacert`
    /// does: for a private CA or a self-signed server.
    pub fn from_ca_file(path: impl AsRef<Path>) -> Result<Self, PemError> {
        let path = path.as_ref();
        let mut roots = RootCertStore::empty();
        for certificate in super::load_certificates(path)? {
            roots.add(certificate).map_err(|error| PemError::Rejected {
                path: Some(path.to_owned()),
                error,
            })?;
        }
        Ok(ClientTls::with_roots(roots))
    }

    /// Uses this config as it is: its roots or verifier, its provider,
    /// client certificate and ALPN (set `alpn_protocols` to
    /// `[b"http/1.1"]` to offer what the other choices offer).
    pub fn with_config(config: Arc<ClientConfig>) -> Self {
        ClientTls {
            source: Source::Config(config),
        }
    }

    /// The config to connect with.
    pub(crate) fn config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        static WEBPKI: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        match &self.source {
            Source::WebPki => {
                if let Some(config) = WEBPKI.get() {
                    return Ok(Arc::clone(config));
                }
                let mut roots = RootCertStore::empty();
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                let config = client_config(roots)?;
                Ok(Arc::clone(WEBPKI.get_or_init(|| config)))
            }
            #[cfg(feature = "rustls-native-certs")]
            Source::Native => native_config(),
            Source::Roots(roots, built) => {
                if let Some(config) = built.get() {
                    return Ok(Arc::clone(config));
                }
                let config = client_config(RootCertStore::clone(roots))?;
                Ok(Arc::clone(built.get_or_init(|| config)))
            }
            Source::Config(config) => Ok(Arc::clone(config)),
        }
    }
}

/// The platform's roots, read once per process.
#[cfg(feature = "rustls-native-certs")]
fn native_config() -> Result<Arc<ClientConfig>, TlsError> {
    static NATIVE: OnceLock<Result<Arc<ClientConfig>, TlsError>> = OnceLock::new();
    NATIVE
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let reasons: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
                return Err(TlsError::NoRoots {
                    reason: if reasons.is_empty() {
                        "the platform's trust store has no usable certificate".into()
                    } else {
                        reasons.join("; ")
                    },
                });
            }
            client_config(roots)
        })
        .clone()
}

/// A client config trusting `roots`, with [`crypto_provider`], the safe
/// default protocol versions (TLS 1.2 and 1.3), ALPN `http/1.1` and no
/// client certificate: what `connect` uses, for building on.
pub fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, TlsError> {
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Config { error })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
    Ok(Arc::new(config))
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::WebPki => f.write_str("ClientTls::webpki_roots()"),
            #[cfg(feature = "rustls-native-certs")]
            Source::Native => f.write_str("ClientTls::native_roots()"),
            Source::Roots(roots, _) => write!(f, "ClientTls::with_roots({} roots)", roots.len()),
            Source::Config(_) => f.write_str("ClientTls::with_config(..)"),
        }
    }
}

impl PartialEq for ClientTls {
    /// The same choice: the same kind of roots, or the very same roots or
    /// config (`Arc::ptr_eq`).
    fn eq(&self, other: &Self) -> bool {
        match (&self.source, &other.source) {
            (Source::WebPki, Source::WebPki) => true,
            #[cfg(feature = "rustls-native-certs")]
            (Source::Native, Source::Native) => true,
            (Source::Roots(a, _), Source::Roots(b, _)) => Arc::ptr_eq(a, b),
            (Source::Config(a), Source::Config(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for ClientTls {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_trusts_mozillas_roots_and_offers_http_1_1() {
        let config = ClientTls::default().config().unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
        // Made once and shared.
        assert!(Arc::ptr_eq(
            &config,
            &ClientTls::webpki_roots().config().unwrap()
        ));
    }

    #[test]
    fn a_given_config_is_used_as_it_is() {
        let config = client_config(RootCertStore::empty()).unwrap();
        let tls = ClientTls::with_config(Arc::clone(&config));
        assert!(Arc::ptr_eq(&tls.config().unwrap(), &config));
        assert_eq!(tls, tls.clone());
        assert_ne!(
            tls,
            ClientTls::with_config(client_config(RootCertStore::empty()).unwrap())
        );
        assert_ne!(tls, ClientTls::default());
    }

    /// Where the platform has a trust store, its roots make a config;
    /// where it has none, the error says so.
    #[cfg(feature = "rustls-native-certs")]
    #[test]
    fn native_roots_load_or_say_why_not() {
        match ClientTls::native_roots().config() {
            Ok(config) => assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]),
            Err(TlsError::NoRoots { reason }) => assert!(!reason.is_empty()),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn clones_share_the_config_made_from_roots() {
        let tls = ClientTls::with_roots(RootCertStore::empty());
        let copy = tls.clone();
        assert!(Arc::ptr_eq(&tls.config().unwrap(), &copy.config().unwrap()));
        assert_eq!(format!("{tls:?}"), "ClientTls::with_roots(0 roots)");
    }
}
