//! Both adapters' `connect` through an HTTP CONNECT proxy and a SOCKS5
//! proxy running on loopback inside the test: without and with
//! credentials, with wrong ones, refused, hanging (a typed error within
//! the handshake timeout), unreachable; and `wss://` inside a tunnel.
#![cfg(feature = "tokio")]

mod support;

use std::time::{Duration, Instant};

use rfc6455::handshake::{ClientOptions, HandshakeConfig};
use rfc6455::proxy::{Proxy, ProxyError, ProxySetting};
use rfc6455::{blocking, Config, Message};
use support::proxies::{self, Behaviour};

/// One echo through `blocking::connect_with`, then the close handshake.
fn blocking_echo(url: &str, options: ClientOptions) -> Result<(), blocking::Error> {
    let (mut ws, _) = blocking::connect_with(url, options, Config::default())?;
    ws.send(Message::Text("through the proxy".into()))?;
    assert_eq!(ws.read()?, Some(Message::Text("through the proxy".into())));
    ws.close(1000u16, "")?;
    while ws.read()?.is_some() {}
    Ok(())
}

/// One echo through `rfc6455::tokio::connect_with`, then the close
/// handshake.
fn tokio_echo(url: &str, options: ClientOptions) -> Result<(), rfc6455::tokio::Error> {
    runtime().block_on(async {
        let (mut ws, _) = rfc6455::tokio::connect_with(url, options, Config::default()).await?;
        ws.send(Message::Text("through the proxy".into())).await?;
        assert_eq!(
            ws.read().await?,
            Some(Message::Text("through the proxy".into()))
        );
        ws.close(1000u16, "").await?;
        while ws.read().await?.is_some() {}
        Ok(())
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Both adapters through `proxy` to `url`, each expected to give the same
/// outcome: `Ok` or the proxy error.
fn both(url: &str, proxy: &Proxy, expected: Result<(), ProxyError>) {
    let options = ClientOptions::new().proxy(proxy.clone());
    let proxy_error = |error| match error {
        rfc6455::tokio::Error::Proxy(error) => error,
        other => panic!("expected a proxy error, got {other:?}"),
    };
    assert_eq!(
        blocking_echo(url, options.clone()).map_err(proxy_error),
        expected,
        "blocking, {proxy}"
    );
    assert_eq!(
        tokio_echo(url, options).map_err(proxy_error),
        expected,
        "tokio, {proxy}"
    );
}

#[test]
fn http_connect_opens_a_tunnel_for_both_adapters() {
    let echo = support::echo::plain();
    let proxy = proxies::http(Behaviour::Open);
    both(
        &format!("ws://localhost:{echo}/"),
        &Proxy::http("127.0.0.1", proxy.port),
        Ok(()),
    );
    // The proxy resolves the name.
    assert_eq!(proxy.seen(), vec![format!("CONNECT localhost:{echo}"); 2]);
}

#[test]
fn http_connect_sends_basic_credentials() {
    let echo = support::echo::plain();
    let proxy = proxies::http(Behaviour::RequireAuth("alice", "s3cret"));
    let url = format!("ws://localhost:{echo}/");
    let at = |userinfo: &str| {
        Proxy::parse(&format!("http://{userinfo}127.0.0.1:{}", proxy.port)).unwrap()
    };
    both(&url, &at("alice:s3cret@"), Ok(()));
    let challenge = Some("Basic realm=\"test\"".to_owned());
    both(
        &url,
        &at("alice:wrong@"),
        Err(ProxyError::AuthRejected {
            challenge: challenge.clone(),
        }),
    );
    both(&url, &at(""), Err(ProxyError::AuthRequired { challenge }));
}

#[test]
fn an_http_proxy_that_refuses_is_a_refusal_with_its_status() {
    let proxy = proxies::http(Behaviour::Refuse(403));
    both(
        "ws://localhost:9/",
        &Proxy::http("127.0.0.1", proxy.port),
        Err(ProxyError::Refused {
            status: 403,
            reason: "Forbidden".into(),
        }),
    );
}

#[test]
fn socks5h_passes_the_name_and_socks5_resolves_it_here() {
    let echo = support::echo::plain();
    let url = format!("ws://localhost:{echo}/");
    let remote_dns = proxies::socks5(Behaviour::Open);
    both(&url, &Proxy::socks5h("127.0.0.1", remote_dns.port), Ok(()));
    assert_eq!(
        remote_dns.seen(),
        vec![format!("domain localhost:{echo}"); 2]
    );

    let local_dns = proxies::socks5(Behaviour::Open);
    both(&url, &Proxy::socks5("127.0.0.1", local_dns.port), Ok(()));
    let seen = local_dns.seen();
    assert_eq!(seen.len(), 2);
    for request in seen {
        assert!(
            request == format!("address 127.0.0.1:{echo}")
                || request == format!("address ::1:{echo}"),
            "{request}"
        );
    }
}

#[test]
fn socks5_sends_username_and_password() {
    let echo = support::echo::plain();
    let proxy = proxies::socks5(Behaviour::RequireAuth("bob", "hunter2"));
    let url = format!("ws://localhost:{echo}/");
    let socks = Proxy::socks5h("127.0.0.1", proxy.port);
    both(
        &url,
        &socks.clone().with_credentials("bob", "hunter2"),
        Ok(()),
    );
    both(
        &url,
        &socks.clone().with_credentials("bob", "wrong"),
        Err(ProxyError::AuthRejected { challenge: None }),
    );
    both(
        &url,
        &socks,
        Err(ProxyError::AuthRequired { challenge: None }),
    );
}

#[test]
fn a_socks5_proxy_that_refuses_is_a_refusal_with_its_code() {
    let proxy = proxies::socks5(Behaviour::Refuse(2));
    both(
        "ws://localhost:9/",
        &Proxy::socks5h("127.0.0.1", proxy.port),
        Err(ProxyError::Socks5Refused { code: 2 }),
    );
}

/// A proxy that never answers fails each adapter with
/// `ProxyError::TimedOut` once the handshake timeout has passed, not long
/// after.
#[test]
fn a_hanging_proxy_times_out_within_the_handshake_timeout() {
    let limit = Duration::from_millis(300);
    let options = |proxy: Proxy| {
        ClientOptions::new()
            .proxy(proxy)
            .config(HandshakeConfig::default().timeout(limit))
    };
    for proxy in [
        Proxy::http("127.0.0.1", proxies::http(Behaviour::Hang).port),
        Proxy::socks5h("127.0.0.1", proxies::socks5(Behaviour::Hang).port),
    ] {
        let started = Instant::now();
        let error = blocking_echo("ws://example.com/", options(proxy.clone())).unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(error, blocking::Error::Proxy(ProxyError::TimedOut)),
            "blocking, {proxy}: {error:?}"
        );
        assert!(
            took >= limit && took < limit + Duration::from_secs(3),
            "blocking took {took:?}"
        );

        let started = Instant::now();
        let error = tokio_echo("ws://example.com/", options(proxy.clone())).unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(error, rfc6455::tokio::Error::Proxy(ProxyError::TimedOut)),
            "tokio, {proxy}: {error:?}"
        );
        assert!(
            took >= limit && took < limit + Duration::from_secs(3),
            "tokio took {took:?}"
        );
        assert_eq!(
            error.to_string(),
            "the proxy did not answer within the handshake timeout"
        );
    }
}

#[test]
fn an_unreachable_proxy_says_so() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = ClientOptions::new().proxy(Proxy::http("127.0.0.1", port));
    match blocking_echo("ws://example.com/", options.clone()) {
        Err(blocking::Error::Proxy(ProxyError::Connect { proxy, kind, .. })) => {
            assert_eq!(proxy, format!("127.0.0.1:{port}"));
            assert_eq!(kind, std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        tokio_echo("ws://example.com/", options),
        Err(rfc6455::tokio::Error::Proxy(ProxyError::Connect { .. }))
    ));
}

#[test]
fn direct_ignores_the_environment_and_connects() {
    let echo = support::echo::plain();
    let options = ClientOptions::new().proxy(ProxySetting::Direct);
    blocking_echo(&format!("ws://127.0.0.1:{echo}/"), options.clone()).unwrap();
    tokio_echo(&format!("ws://127.0.0.1:{echo}/"), options).unwrap();
}

/// `wss://` through a proxy: TLS inside the tunnel, SNI and verification
/// for the destination's name, not the proxy's.
#[cfg(feature = "rustls")]
#[test]
fn wss_runs_tls_inside_the_tunnel() {
    use rfc6455::tls::{server_config_from_pem, ClientTls};

    let pki = support::certs::Pki::new("wss-proxy");
    let files = pki.server("localhost", &["localhost"]);
    let echo = support::echo::tls(server_config_from_pem(&files.cert, &files.key).unwrap());
    let url = format!("wss://localhost:{echo}/");
    let tls = ClientTls::from_ca_file(pki.ca()).unwrap();

    let http = proxies::http(Behaviour::Open);
    let options = ClientOptions::new()
        .proxy(Proxy::http("127.0.0.1", http.port))
        .tls(tls.clone());
    tokio_echo(&url, options).unwrap();
    assert_eq!(http.seen(), [format!("CONNECT localhost:{echo}")]);

    let socks = proxies::socks5(Behaviour::Open);
    let options = ClientOptions::new()
        .proxy(Proxy::socks5h("127.0.0.1", socks.port))
        .tls(tls);
    blocking_echo(&url, options).unwrap();
    assert_eq!(socks.seen(), [format!("domain localhost:{echo}")]);
}
