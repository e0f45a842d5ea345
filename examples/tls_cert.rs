//! Makes a test CA and a server certificate signed by it, as PEM files, to
//! try `wss://` locally:
//!
//! ```text
//! cargo run --example tls_cert -- [DIR] [NAME...]
//! cargo run --release --example echo_server --features rustls -- 127.0.0.1:9443 --tls DIR/cert.pem DIR/key.pem
//! cargo run --example echo_client --features rustls -- wss://localhost:9443 --ca DIR/ca.pem
//! ```
//!
//! Writes `ca.pem` (the CA, for clients' `--ca`), `cert.pem` and `key.pem`
//! (the server's, for `--tls`) to DIR (default `.`); the certificate is
//! valid for the NAMEs (host names or addresses; default `localhost`,
//! `127.0.0.1` and `::1`). For tests and local use only: the CA's key is
//! not kept, and nothing here is meant to be trusted beyond this machine.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let mut names: Vec<String> = args.collect();
    if names.is_empty() {
        names = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    }

    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "rfc6455 tls_cert example CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

    let mut server = CertificateParams::new(names.clone())?;
    server
        .distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    let key = KeyPair::generate()?;
    let cert = server.signed_by(&key, &ca)?;

    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("ca.pem"), ca.pem())?;
    std::fs::write(dir.join("cert.pem"), cert.pem())?;
    std::fs::write(dir.join("key.pem"), key.serialize_pem())?;
    println!(
        "wrote {0}/ca.pem, {0}/cert.pem and {0}/key.pem for {1}",
        dir.display(),
        names.join(", ")
    );
    Ok(())
}
