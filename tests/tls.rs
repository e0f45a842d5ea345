//! `wss://` (feature `rustls`): round trips over both adapters with
//! certificates made at test time, the typed errors for certificates that
//! do not verify, a TLS handshake bounded by the handshake timeout, and the
//! PEM loader's errors.
#![cfg(all(feature = "rustls", feature = "tokio"))]

mod support;

use std::time::{Duration, Instant};

use rfc6455::blocking::{self, MaybeTlsStream};
use rfc6455::handshake::{ClientOptions, HandshakeConfig};
use rfc6455::proxy::ProxySetting;
use rfc6455::tls::{self, rustls, tokio_rustls, ClientTls, PemError, TlsError};
use rfc6455::{Config, Message};
use support::certs::Pki;

/// Trusting the test CA, not going through any proxy the environment
/// names.
fn trusting(pki: &Pki) -> ClientOptions {
    ClientOptions::new()
        .proxy(ProxySetting::Direct)
        .tls(ClientTls::from_ca_file(pki.ca()).unwrap())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A tokio `wss://` echo server on 127.0.0.1 (tokio-rustls and the tokio
/// adapter); its port.
async fn tokio_server(config: std::sync::Arc<rustls::ServerConfig>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = rfc6455::tokio::accept(tls).await else {
                    return;
                };
                while let Ok(Some(message)) = ws.read().await {
                    if matches!(message, Message::Text(_) | Message::Binary(_)) {
                        let _ = ws.send(message).await;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn tokio_round_trip_over_tls() {
    let pki = Pki::new("tokio-round-trip");
    let files = pki.server("localhost", &["localhost"]);
    let config = tls::server_config_from_pem(&files.cert, &files.key).unwrap();
    runtime().block_on(async {
        let port = tokio_server(config).await;
        let url = format!("wss://localhost:{port}/echo");
        let (mut ws, response) =
            rfc6455::tokio::connect_with(&url, trusting(&pki), Config::default())
                .await
                .unwrap();
        assert_eq!(response.status(), 101);
        let rfc6455::tokio::MaybeTlsStream::Rustls(stream) = ws.get_ref() else {
            panic!("wss:// gave a plain stream");
        };
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        #[cfg(feature = "deflate")]
        assert_eq!(ws.negotiated().extension_name(), Some("permessage-deflate"));
        ws.send(Message::Text("hello over TLS".into()))
            .await
            .unwrap();
        assert_eq!(
            ws.read().await.unwrap(),
            Some(Message::Text("hello over TLS".into()))
        );
        // Larger than a TLS record and the socket's buffers.
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        ws.send(Message::Binary(big.clone())).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Some(Message::Binary(big)));
        ws.close(1000u16, "done").await.unwrap();
        assert!(matches!(ws.read().await.unwrap(), Some(Message::Close(_))));
        assert_eq!(ws.read().await.unwrap(), None);
    });
}

#[test]
fn blocking_round_trip_over_tls() {
    let pki = Pki::new("blocking-round-trip");
    let files = pki.server("localhost", &["localhost", "127.0.0.1"]);
    let port = support::echo::tls(tls::server_config_from_pem(&files.cert, &files.key).unwrap());
    // By name, and by address (no SNI then; the certificate names it).
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("wss://{host}:{port}/");
        let (mut ws, _) = blocking::connect_with(&url, trusting(&pki), Config::default()).unwrap();
        assert!(ws.get_ref().is_tls());
        let MaybeTlsStream::Rustls(stream) = ws.get_ref() else {
            panic!("wss:// gave a plain stream");
        };
        assert_eq!(stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
        ws.send(Message::Text("hello over TLS".into())).unwrap();
        assert_eq!(
            ws.read().unwrap(),
            Some(Message::Text("hello over TLS".into()))
        );
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        ws.send(Message::Binary(big.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Some(Message::Binary(big)));
        ws.close(1000u16, "done").unwrap();
        assert!(matches!(ws.read().unwrap(), Some(Message::Close(_))));
        assert_eq!(ws.read().unwrap(), None);
    }
}

#[test]
fn plain_and_tls_urls_give_the_same_stream_type() {
    let port = support::echo::plain();
    let (ws, _) = blocking::connect_with(
        &format!("ws://127.0.0.1:{port}/"),
        ClientOptions::new().proxy(ProxySetting::Direct),
        Config::default(),
    )
    .unwrap();
    let stream: &MaybeTlsStream = ws.get_ref();
    assert!(!stream.is_tls());
}

/// The TLS error each adapter gives when connecting to `url` with
/// `options`.
fn tls_errors(url: &str, options: ClientOptions) -> [TlsError; 2] {
    let blocking = match blocking::connect_with(url, options.clone(), Config::default()) {
        Err(blocking::Error::Tls(error)) => error,
        other => panic!(
            "blocking: expected a TLS error, got {:?}",
            other.map(|_| ())
        ),
    };
    let tokio = runtime().block_on(async {
        match rfc6455::tokio::connect_with(url, options, Config::default()).await {
            Err(rfc6455::tokio::Error::Tls(error)) => error,
            other => panic!("tokio: expected a TLS error, got {:?}", other.map(|_| ())),
        }
    });
    [blocking, tokio]
}

#[test]
fn a_certificate_for_another_name_is_a_wrong_name_error() {
    let pki = Pki::new("wrong-name");
    let files = pki.server("other", &["other.example"]);
    let port = support::echo::tls(tls::server_config_from_pem(&files.cert, &files.key).unwrap());
    for error in tls_errors(&format!("wss://localhost:{port}/"), trusting(&pki)) {
        match &error {
            TlsError::WrongName { host, presented } => {
                assert_eq!(host, "localhost");
                assert_eq!(presented, &["other.example"]);
            }
            other => panic!("expected WrongName, got {other:?}"),
        }
        assert_eq!(
            error.to_string(),
            "the certificate of localhost is not valid for that name (it is for other.example)"
        );
    }
}

#[test]
fn a_certificate_from_an_unknown_ca_is_an_unknown_issuer_error() {
    let pki = Pki::new("unknown-ca");
    let files = pki.server("localhost", &["localhost"]);
    let port = support::echo::tls(tls::server_config_from_pem(&files.cert, &files.key).unwrap());
    let url = format!("wss://localhost:{port}/");
    // Mozilla's roots (the default) do not include the test CA...
    let default_roots = ClientOptions::new().proxy(ProxySetting::Direct);
    // ...nor does another CA.
    let other_ca = trusting(&Pki::new("other-ca"));
    for options in [default_roots, other_ca] {
        for error in tls_errors(&url, options) {
            assert!(
                matches!(&error, TlsError::UnknownIssuer { host } if host == "localhost"),
                "{error:?}"
            );
            assert_eq!(
                error.to_string(),
                "the certificate of localhost is not signed by a trusted authority (unknown issuer)"
            );
        }
    }
}

#[test]
fn an_expired_certificate_is_an_expired_error() {
    let pki = Pki::new("expired");
    let files = pki.expired_server("localhost", &["localhost"]);
    let port = support::echo::tls(tls::server_config_from_pem(&files.cert, &files.key).unwrap());
    for error in tls_errors(&format!("wss://localhost:{port}/"), trusting(&pki)) {
        assert!(matches!(error, TlsError::Expired { .. }), "{error:?}");
        assert!(error
            .to_string()
            .starts_with("the certificate of localhost has expired"));
    }
}

/// A server that accepts TCP and never starts TLS: each adapter gives up
/// once the handshake timeout has passed.
#[test]
fn a_silent_tls_server_times_out_within_the_handshake_timeout() {
    let port = support::echo::silent();
    let limit = Duration::from_millis(300);
    let url = format!("wss://localhost:{port}/");
    let options = ClientOptions::new()
        .proxy(ProxySetting::Direct)
        .config(HandshakeConfig::default().timeout(limit));

    let started = Instant::now();
    let result = blocking::connect_with(&url, options.clone(), Config::default());
    assert!(matches!(result, Err(blocking::Error::HandshakeTimeout)));
    let took = started.elapsed();
    assert!(
        took >= limit && took < limit + Duration::from_secs(3),
        "blocking took {took:?}"
    );

    let started = Instant::now();
    let result = runtime().block_on(rfc6455::tokio::connect_with(
        &url,
        options,
        Config::default(),
    ));
    assert!(matches!(
        result,
        Err(rfc6455::tokio::Error::HandshakeTimeout)
    ));
    let took = started.elapsed();
    assert!(
        took >= limit && took < limit + Duration::from_secs(3),
        "tokio took {took:?}"
    );
}

#[test]
fn the_pem_loader_says_what_is_wrong() {
    let pki = Pki::new("pem");
    let files = pki.server("localhost", &["localhost"]);
    let other = pki.server("other", &["other.example"]);
    let missing = pki.dir.join("missing.pem");
    let garbage = pki.dir.join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n").unwrap();

    assert!(matches!(
        tls::server_config_from_pem(&missing, &files.key),
        Err(PemError::Read { path, .. }) if path == missing
    ));
    assert!(matches!(
        tls::server_config_from_pem(&files.key, &files.key),
        Err(PemError::NoCertificates { path }) if path == files.key
    ));
    assert!(matches!(
        tls::server_config_from_pem(&files.cert, &files.cert),
        Err(PemError::NoPrivateKey { path }) if path == files.cert
    ));
    assert!(matches!(
        tls::server_config_from_pem(&garbage, &files.key),
        Err(PemError::Malformed { .. })
    ));
    // A key that is not the certificate's.
    let mismatch = tls::server_config_from_pem(&files.cert, &other.key).unwrap_err();
    assert!(
        matches!(mismatch, PemError::Rejected { .. }),
        "{mismatch:?}"
    );

    let error = tls::server_config_from_pem(&files.cert, &files.cert).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{} holds no private key", files.cert.display())
    );
    let config = tls::server_config_from_pem(&files.cert, &files.key).unwrap();
    assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    assert!(matches!(
        ClientTls::from_ca_file(&files.key),
        Err(PemError::NoCertificates { .. })
    ));
}
