//! A CA and server certificates made with rcgen at test time, written as
//! PEM files to a directory of the test's own.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A directory of PEM files for one test: `ca.pem`, and per server
/// certificate `NAME.pem` and `NAME.key`.
pub struct Pki {
    pub dir: PathBuf,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate's files.
pub struct ServerFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Pki {
    /// A fresh CA, its certificate written to `ca.pem`.
    pub fn new(test: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!(
            "rfc6455-{test}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("rfc6455 test CA for {test}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        std::fs::write(dir.join("ca.pem"), issuer.pem()).unwrap();
        Pki { dir, issuer }
    }

    /// The CA certificate's file.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A server certificate for `names` (host names or addresses), signed
    /// by the CA, valid from yesterday for a year.
    pub fn server(&self, file: &str, names: &[&str]) -> ServerFiles {
        self.server_with(file, names, |_| {})
    }

    /// A server certificate whose validity ended yesterday.
    pub fn expired_server(&self, file: &str, names: &[&str]) -> ServerFiles {
        self.server_with(file, names, |params| {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        })
    }

    fn server_with(
        &self,
        file: &str,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> ServerFiles {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "rfc6455 test server");
        adjust(&mut params);
        let key = KeyPair::generate().unwrap();
        let issuer: &Issuer<'_, KeyPair> = &self.issuer;
        let cert = params.signed_by(&key, issuer).unwrap();
        let files = ServerFiles {
            cert: self.dir.join(format!("{file}.pem")),
            key: self.dir.join(format!("{file}.key")),
        };
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
