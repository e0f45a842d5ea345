//! Tests of the server role, named after the rule they check.

use proptest::prelude::*;

use super::*;

/// The example request of RFC 6455 §1.2/§1.3.
const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

const BASE: &[&str] = &[
    "Host: example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
];

/// An upgrade request: `GET /chat`, the base headers except those whose
/// name starts one of `drop`, then `extra`.
fn request(drop: &[&str], extra: &[&str]) -> Vec<u8> {
    request_line("GET /chat HTTP/1.1", drop, extra)
}

fn request_line(line: &str, drop: &[&str], extra: &[&str]) -> Vec<u8> {
    let mut out = format!("{line}\r\n");
    for header in BASE
        .iter()
        .filter(|h| !drop.iter().any(|d| h.starts_with(d)))
    {
        out.push_str(header);
        out.push_str("\r\n");
    }
    for header in extra {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn receive_with(config: HandshakeConfig, bytes: &[u8]) -> Result<Option<Incoming>, RequestError> {
    ServerHandshake::with_config(config).receive(bytes)
}

fn upgrade(bytes: &[u8]) -> Request {
    match ServerHandshake::new().receive(bytes) {
        Ok(Some(Incoming::Upgrade(request))) => request,
        other => panic!("expected an upgrade, got {other:?}"),
    }
}

fn rejected(bytes: &[u8]) -> RequestError {
    rejected_with(HandshakeConfig::default(), bytes)
}

fn rejected_with(config: HandshakeConfig, bytes: &[u8]) -> RequestError {
    match receive_with(config, bytes) {
        Err(error) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn rfc_1_3_example_request_is_accepted_with_the_rfc_accept_value() {
    let request = upgrade(RFC_REQUEST);
    assert_eq!(request.method(), "GET");
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.host(), Some("server.example.com"));
    assert_eq!(request.origin(), Some("http://example.com"));
    assert_eq!(request.key(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    assert_eq!(request.protocols(), ["chat", "superchat"]);
    let reply = request.accept(&Accept::new().protocol("chat")).unwrap();
    let text = String::from_utf8(reply).unwrap();
    assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(text.contains("\r\nUpgrade: websocket\r\n"));
    assert!(text.contains("\r\nConnection: Upgrade\r\n"));
    assert!(text.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert!(text.contains("\r\nSec-WebSocket-Protocol: chat\r\n"));
    assert!(text.ends_with("\r\n\r\n"));
}

#[test]
fn plain_get_without_upgrade_is_http_with_path_and_query() {
    let bytes = b"GET /index.html?lang=en&x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
    let Ok(Some(Incoming::Http(request))) = ServerHandshake::new().receive(bytes) else {
        panic!("expected a plain HTTP request");
    };
    assert_eq!(request.path(), "/index.html");
    assert_eq!(request.query(), Some("lang=en&x=1"));
    assert_eq!(request.target(), "/index.html?lang=en&x=1");
    assert_eq!(request.version(), 1);
    assert_eq!(request.key(), None);
    assert_eq!(
        request.accept(&Accept::new()),
        Err(BuildError::NotAnUpgrade)
    );
}

#[test]
fn post_or_http_1_0_without_upgrade_is_http() {
    let bytes = b"POST /form HTTP/1.0\r\nContent-Length: 3\r\n\r\na=b";
    let mut server = ServerHandshake::new();
    let Ok(Some(Incoming::Http(request))) = server.receive(bytes) else {
        panic!("expected a plain HTTP request");
    };
    assert_eq!((request.method(), request.version()), ("POST", 0));
    assert_eq!(request.query(), None);
    assert_eq!(server.leftover(), b"a=b");
}

#[test]
fn other_upgrade_tokens_are_http() {
    let bytes = request(&["Upgrade"], &["Upgrade: h2c"]);
    assert!(matches!(
        ServerHandshake::new().receive(&bytes),
        Ok(Some(Incoming::Http(_)))
    ));
}

#[test]
fn upgrade_token_is_found_in_a_list_and_any_case() {
    let bytes = request(
        &["Upgrade", "Connection"],
        &["Upgrade: foo, WebSocket", "Connection: keep-alive, upgrade"],
    );
    assert!(upgrade(&bytes).key().is_some());
}

#[test]
fn upgrade_must_use_get() {
    let bytes = request_line("POST /chat HTTP/1.1", &[], &[]);
    let error = rejected(&bytes);
    assert!(matches!(error, RequestError::MethodNotGet { .. }));
    assert_eq!(error.status(), 400);
}

#[test]
fn upgrade_must_be_http_1_1() {
    let error = rejected(&request_line("GET /chat HTTP/1.0", &[], &[]));
    assert_eq!(error, RequestError::NotHttp11 { minor: 0 });
    assert_eq!(error.status(), 400);
}

#[test]
fn upgrade_must_have_host() {
    let error = rejected(&request(&["Host"], &[]));
    assert_eq!(
        (error.clone(), error.status()),
        (RequestError::MissingHost, 400)
    );
}

#[test]
fn upgrade_must_not_have_two_hosts() {
    let error = rejected(&request(&[], &["Host: other.example"]));
    assert_eq!(
        (error.clone(), error.status()),
        (RequestError::DuplicateHost, 400)
    );
}

#[test]
fn connection_must_have_upgrade_token() {
    let error = rejected(&request(&["Connection"], &["Connection: keep-alive"]));
    assert_eq!(RequestError::MissingConnectionUpgrade, error);
    assert_eq!(error.status(), 400);
    let error = rejected(&request(&["Connection"], &[]));
    assert_eq!(RequestError::MissingConnectionUpgrade, error);
}

#[test]
fn key_must_be_present() {
    let error = rejected(&request(&["Sec-WebSocket-Key"], &[]));
    assert_eq!(
        (error.clone(), error.status()),
        (RequestError::MissingKey, 400)
    );
}

#[test]
fn key_must_not_be_duplicated() {
    let error = rejected(&request(
        &[],
        &["Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="],
    ));
    assert_eq!(
        (error.clone(), error.status()),
        (RequestError::DuplicateKey, 400)
    );
}

#[test]
fn key_must_decode_to_16_bytes() {
    for bad in [
        "",
        "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZSE=",
        "dGhlIHNhbXBsZSBub25jZ!==",
        "dGhlIHNhbXBsZSBub25jZQ==dGhl",
        "AAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let bytes = request(
            &["Sec-WebSocket-Key"],
            &[&format!("Sec-WebSocket-Key: {bad}")],
        );
        let error = rejected(&bytes);
        assert!(
            matches!(error, RequestError::InvalidKey { .. }),
            "{bad}: {error:?}"
        );
        assert_eq!(error.status(), 400);
    }
}

#[test]
fn version_other_than_13_is_426_naming_13() {
    let error = rejected(&request(
        &["Sec-WebSocket-Version"],
        &["Sec-WebSocket-Version: 8"],
    ));
    assert_eq!(
        error,
        RequestError::UnsupportedVersion {
            version: "8".into()
        }
    );
    assert_eq!(error.status(), 426);
    let response = error.response();
    assert!(response.starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
    assert!(contains(&response, "\r\nSec-WebSocket-Version: 13\r\n"));
}

#[test]
fn missing_version_is_426_naming_13() {
    let error = rejected(&request(&["Sec-WebSocket-Version"], &[]));
    assert_eq!(
        (error.clone(), error.status()),
        (RequestError::MissingVersion, 426)
    );
    assert!(contains(
        &error.response(),
        "\r\nSec-WebSocket-Version: 13\r\n"
    ));
}

#[test]
fn origin_outside_allow_list_is_403() {
    let config = HandshakeConfig::default().allowed_origins(["https://good.example"]);
    let bytes = request(&[], &["Origin: https://evil.example"]);
    let error = rejected_with(config.clone(), &bytes);
    assert_eq!(error.status(), 403);
    assert!(error.response().starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
    // Every Origin line must pass, not just the first.
    let bytes = request(
        &[],
        &[
            "Origin: https://good.example",
            "Origin: https://evil.example",
        ],
    );
    assert_eq!(rejected_with(config, &bytes).status(), 403);
}

#[test]
fn origin_in_allow_list_or_absent_is_accepted() {
    let config = HandshakeConfig::default().allowed_origins(["https://good.example"]);
    let bytes = request(&[], &["Origin: HTTPS://GOOD.example"]);
    assert!(matches!(
        receive_with(config.clone(), &bytes),
        Ok(Some(Incoming::Upgrade(_)))
    ));
    assert!(matches!(
        receive_with(config, &request(&[], &[])),
        Ok(Some(Incoming::Upgrade(_)))
    ));
}

#[test]
fn protocols_must_be_tokens() {
    let error = rejected(&request(&[], &["Sec-WebSocket-Protocol: chat, super chat"]));
    assert_eq!(
        error,
        RequestError::InvalidProtocol {
            protocol: "super chat".into()
        }
    );
    assert_eq!(error.status(), 400);
}

#[test]
fn protocols_are_collected_in_order_from_every_line() {
    let request = upgrade(&request(
        &[],
        &[
            "Sec-WebSocket-Protocol: a, b",
            "X-Other: c",
            "sec-websocket-protocol: c",
        ],
    ));
    assert_eq!(request.protocols(), ["a", "b", "c"]);
}

#[test]
fn extensions_must_parse() {
    let error = rejected(&request(
        &[],
        &["Sec-WebSocket-Extensions: permessage-deflate; =1"],
    ));
    assert!(matches!(error, RequestError::InvalidExtensions(_)));
    assert_eq!(error.status(), 400);
}

#[test]
fn extensions_are_collected_in_order_from_every_line() {
    let request = upgrade(&request(
        &[],
        &[
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
            "Sec-WebSocket-Extensions: x-a, x-b; q=\"1\"",
        ],
    ));
    let expected = [
        ExtensionOffer::new("permessage-deflate").param("client_max_window_bits"),
        ExtensionOffer::new("x-a"),
        ExtensionOffer::new("x-b").param_value("q", "1"),
    ];
    assert_eq!(request.extensions(), expected);
}

#[test]
fn ten_thousand_commas_and_spaces_in_protocol_and_extension_headers() {
    let commas = ",".repeat(10_000);
    let spaces = " ".repeat(10_000);
    let protocol = format!("Sec-WebSocket-Protocol: {commas}chat{spaces},{spaces}");
    let extension = format!("Sec-WebSocket-Extensions: {commas}x-a;{spaces}q{spaces},{commas}");
    let config = HandshakeConfig::default().max_head_size(128 * 1024);
    let Ok(Some(Incoming::Upgrade(req))) =
        receive_with(config.clone(), &request(&[], &[&protocol, &extension]))
    else {
        panic!("expected an upgrade");
    };
    assert_eq!(req.protocols(), ["chat"]);
    assert_eq!(req.extensions(), [ExtensionOffer::new("x-a").param("q")]);
    let bad = format!("Sec-WebSocket-Extensions: x{}", ";".repeat(10_000));
    assert!(matches!(
        rejected_with(config, &request(&[], &[&bad])),
        RequestError::InvalidExtensions(_)
    ));
}

#[test]
fn head_over_limit_is_431() {
    let filler = format!("X-Filler: {}", "a".repeat(200));
    let config = HandshakeConfig::default().max_head_size(256);
    let error = rejected_with(config, &request(&[], &[&filler]));
    assert_eq!(error, RequestError::HeadTooLarge { limit: 256 });
    assert_eq!(error.status(), 431);
    assert!(error
        .response()
        .starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

#[test]
fn request_line_over_limit_is_414() {
    let line = format!("GET /{} HTTP/1.1", "a".repeat(300));
    let config = HandshakeConfig::default().max_head_size(256);
    let error = rejected_with(config, &request_line(&line, &[], &[]));
    assert_eq!(error, RequestError::RequestLineTooLong { limit: 256 });
    assert_eq!(error.status(), 414);
    assert!(error
        .response()
        .starts_with(b"HTTP/1.1 414 URI Too Long\r\n"));
}

#[test]
fn too_many_headers_is_431() {
    let config = HandshakeConfig::default().max_headers(5);
    let error = rejected_with(config.clone(), &request(&[], &["X-Sixth: 1"]));
    assert_eq!(error, RequestError::TooManyHeaders { limit: 5 });
    assert_eq!(error.status(), 431);
    assert!(matches!(
        receive_with(config, &request(&[], &[])),
        Ok(Some(Incoming::Upgrade(_)))
    ));
}

/// An upgrade request with `total` header fields, shaped like one that
/// crossed a CDN and a load balancer: the handshake's own fields, then
/// forwarding, tracing and cookie fields of about 90 bytes each.
fn proxied_request(total: usize) -> Vec<u8> {
    const FIELDS: [&str; 4] = [
        "X-Forwarded-For: 203.0.113.7, 198.51.100.23, 192.0.2.141, 10.12.0.5",
        "X-Amzn-Trace-Id: Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8",
        "Cookie: session=0123456789abcdef0123456789abcdef0123456789abcdef; theme=dark",
        "Via: 1.1 edge-fra7.cdn.example.net (cache/4.2), 1.1 lb-3.eu-west.example.org",
    ];
    let extra: Vec<String> = (BASE.len()..total)
        .map(|i| format!("{}; hop={i}", FIELDS[i % FIELDS.len()]))
        .collect();
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    request(&[], &extra)
}

/// Feeds `bytes` whole and byte by byte with the default configuration:
/// both must give the same upgrade with `total` headers, and the byte-by-
/// byte run must scan each byte once.
fn accepted_whole_and_byte_by_byte(bytes: &[u8], total: usize) {
    let Ok(Some(Incoming::Upgrade(whole))) = ServerHandshake::new().receive(bytes) else {
        panic!("a {total}-header request was refused in one read");
    };
    assert_eq!(whole.headers().len(), total);
    let mut server = ServerHandshake::new();
    let (last, head) = bytes.split_last().unwrap();
    for b in head {
        assert_eq!(server.receive(std::slice::from_ref(b)), Ok(None));
    }
    let State::Reading(reader) = &server.state else {
        panic!("finished before the last byte");
    };
    assert_eq!(
        reader.scanned,
        head.len(),
        "the head was scanned more than once"
    );
    let Ok(Some(Incoming::Upgrade(byte_by_byte))) = server.receive(std::slice::from_ref(last))
    else {
        panic!("a {total}-header request was refused byte by byte");
    };
    assert_eq!(byte_by_byte, whole);
}

#[test]
fn a_66_header_request_from_a_proxy_chain_is_accepted() {
    let bytes = proxied_request(66);
    assert!(
        (5_000..8_000).contains(&bytes.len()),
        "{} bytes",
        bytes.len()
    );
    accepted_whole_and_byte_by_byte(&bytes, 66);
}

#[test]
fn a_128_header_request_is_accepted_and_129_is_431() {
    let bytes = proxied_request(128);
    assert!(bytes.len() < HandshakeConfig::default().max_head_size);
    accepted_whole_and_byte_by_byte(&bytes, 128);

    let error = rejected(&proxied_request(129));
    assert_eq!(error, RequestError::TooManyHeaders { limit: 128 });
    assert_eq!(error.status(), 431);
}

#[test]
fn many_tiny_headers_fill_the_slots_and_are_431() {
    // The parser sizes its header slots by what the head can hold; the
    // shortest fields ("a:" and a bare line feed) must still be counted
    // against the limit, not slip past it.
    let mut bytes = b"GET / HTTP/1.1\n".to_vec();
    for _ in 0..200 {
        bytes.extend_from_slice(b"a:\n");
    }
    bytes.extend_from_slice(b"\n");
    let config = HandshakeConfig::default().max_headers(150);
    assert_eq!(
        rejected_with(config, &bytes),
        RequestError::TooManyHeaders { limit: 150 }
    );
}

#[test]
fn malformed_head_is_400() {
    for bad in [
        &b"GET /chat HTTP/1.1\r\nBad Header: x\r\n\r\n"[..],
        b"GET /chat HTTP/2.0\r\n\r\n",
        b"\x00\x01\x02\n\n",
        b"\r\n\r\n",
    ] {
        let error = rejected(bad);
        assert!(matches!(error, RequestError::Malformed { .. }), "{error:?}");
        assert_eq!(error.status(), 400);
    }
}

#[test]
fn error_response_closes_and_names_the_problem() {
    let error = rejected(&request(&["Sec-WebSocket-Key"], &[]));
    let response = String::from_utf8(error.response()).unwrap();
    assert!(response.starts_with("HTTP/1.1 400 Bad Request\r\n"));
    assert!(response.contains("\r\nConnection: close\r\n"));
    assert!(response.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    let body = response.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(
        body,
        "WebSocket handshake has no Sec-WebSocket-Key header\n"
    );
    assert!(response.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
}

#[test]
fn errors_are_sticky() {
    let mut server = ServerHandshake::new();
    let error = server
        .receive(&request_line("PUT / HTTP/1.1", &[], &[]))
        .unwrap_err();
    assert_eq!(server.receive(&request(&[], &[])), Err(error));
    assert_eq!(server.leftover(), b"");
}

#[test]
fn leftover_in_the_same_call_is_preserved() {
    let mut bytes = request(&[], &[]);
    bytes.extend_from_slice(b"\x81\x85frame");
    let mut server = ServerHandshake::new();
    assert!(matches!(
        server.receive(&bytes),
        Ok(Some(Incoming::Upgrade(_)))
    ));
    assert_eq!(server.leftover(), b"\x81\x85frame");
    assert_eq!(server.into_leftover(), b"\x81\x85frame");
}

#[test]
fn leftover_split_across_calls_is_preserved() {
    let mut bytes = request(&[], &[]);
    let head_len = bytes.len();
    bytes.extend_from_slice(b"abcdef");
    let mut server = ServerHandshake::new();
    assert_eq!(server.leftover(), b"");
    assert_eq!(server.receive(&bytes[..head_len - 1]), Ok(None));
    assert!(matches!(
        server.receive(&bytes[head_len - 1..head_len + 2]),
        Ok(Some(Incoming::Upgrade(_)))
    ));
    assert_eq!(server.leftover(), b"ab");
    assert_eq!(server.receive(&bytes[head_len + 2..]), Ok(None));
    assert_eq!(server.into_leftover(), b"abcdef");
}

#[test]
fn byte_at_a_time_gives_the_same_request() {
    let mut bytes = RFC_REQUEST.to_vec();
    bytes.extend_from_slice(b"tail");
    let whole = {
        let mut server = ServerHandshake::new();
        (server.receive(&bytes), server.into_leftover())
    };
    let mut server = ServerHandshake::new();
    let mut result = Ok(None);
    for b in &bytes {
        match server.receive(std::slice::from_ref(b)) {
            Ok(None) => {}
            other => result = other,
        }
    }
    assert_eq!((result, server.into_leftover()), whole);
}

#[test]
fn eight_kib_head_fed_byte_by_byte_is_scanned_linearly() {
    let filler = format!("X-Filler: {}", "a".repeat(100));
    let mut extra = Vec::new();
    while extra.len() * (filler.len() + 2) < 8 * 1024 {
        extra.push(filler.as_str());
    }
    let bytes = request(&[], &extra);
    assert!(bytes.len() >= 8 * 1024);
    let mut server = ServerHandshake::with_config(HandshakeConfig::default().max_headers(128));
    let (last, head) = bytes.split_last().unwrap();
    for b in head {
        assert_eq!(server.receive(std::slice::from_ref(b)), Ok(None));
    }
    let State::Reading(reader) = &server.state else {
        panic!("finished before the last byte");
    };
    assert!(
        reader.scanned <= 2 * bytes.len(),
        "scanned {} bytes for a {}-byte head",
        reader.scanned,
        bytes.len()
    );
    assert_eq!(reader.scanned, head.len());
    assert!(matches!(
        server.receive(std::slice::from_ref(last)),
        Ok(Some(Incoming::Upgrade(_)))
    ));
}

#[test]
fn accept_writes_chosen_extensions_and_extra_headers() {
    let request = upgrade(&request(
        &[],
        &["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
    ));
    let accept = Accept::new()
        .extension(
            ExtensionOffer::new("permessage-deflate").param_value("client_max_window_bits", "10"),
        )
        .header("Set-Cookie", "a=b");
    let text = String::from_utf8(request.accept(&accept).unwrap()).unwrap();
    assert!(text.contains(
        "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n"
    ));
    assert!(text.contains("\r\nSet-Cookie: a=b\r\n\r\n"));
    assert!(!text.contains("Sec-WebSocket-Protocol"));
}

#[test]
fn accept_refuses_unoffered_protocol_and_extension() {
    let request = upgrade(&request(&[], &["Sec-WebSocket-Protocol: chat"]));
    assert_eq!(
        request.accept(&Accept::new().protocol("superchat")),
        Err(BuildError::ProtocolNotOffered {
            protocol: "superchat".into()
        })
    );
    assert_eq!(
        request.accept(&Accept::new().extension(ExtensionOffer::new("x-a"))),
        Err(BuildError::ExtensionNotOffered { name: "x-a".into() })
    );
}

#[test]
fn accept_refuses_injected_or_reserved_headers() {
    let request = upgrade(&request(&[], &[]));
    assert!(matches!(
        request.accept(&Accept::new().header("X-A", "b\r\nX-Evil: 1")),
        Err(BuildError::InvalidHeaderValue { .. })
    ));
    assert!(matches!(
        request.accept(&Accept::new().header("Bad Name", "b")),
        Err(BuildError::InvalidHeaderName { .. })
    ));
    assert!(matches!(
        request.accept(&Accept::new().header("sec-websocket-accept", "x")),
        Err(BuildError::ReservedHeader { .. })
    ));
}

#[test]
fn response_has_reason_phrase_content_length_and_headers() {
    let bytes = response(404, &[("Content-Type", "text/html")], b"<p>nope</p>").unwrap();
    assert_eq!(
        bytes,
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n<p>nope</p>"
    );
    let bytes = response(299, &[], b"").unwrap();
    assert!(bytes.starts_with(b"HTTP/1.1 299 \r\n"));
}

#[test]
fn response_refuses_header_injection_and_bad_status() {
    assert!(matches!(
        response(200, &[("X-A", "b\nX-Evil: 1")], b""),
        Err(BuildError::InvalidHeaderValue { .. })
    ));
    assert!(matches!(
        response(200, &[("X-A\r\n", "b")], b""),
        Err(BuildError::InvalidHeaderName { .. })
    ));
    assert!(matches!(
        response(200, &[("Content-Length", "1")], b""),
        Err(BuildError::ReservedHeader { .. })
    ));
    assert_eq!(
        response(99, &[], b""),
        Err(BuildError::InvalidStatus { status: 99 })
    );
    assert_eq!(
        response(1000, &[], b""),
        Err(BuildError::InvalidStatus { status: 1000 })
    );
    assert_eq!(
        response(204, &[], b"x"),
        Err(BuildError::BodyNotAllowed { status: 204 })
    );
    assert_eq!(
        response(204, &[], b"").unwrap(),
        b"HTTP/1.1 204 No Content\r\n\r\n"
    );
}

/// Feeds `chunks` one by one and returns the first non-`None` result (or
/// `Ok(None)`) with the final leftover.
fn feed_chunks(chunks: &[&[u8]]) -> (Result<Option<Incoming>, RequestError>, Vec<u8>) {
    let mut server = ServerHandshake::with_config(HandshakeConfig::default().max_head_size(512));
    let mut result = Ok(None);
    for chunk in chunks {
        let r = server.receive(chunk);
        if matches!(result, Ok(None)) {
            result = r;
        }
    }
    (result, server.into_leftover())
}

fn split_at_points<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(&bytes[start..cut]);
        start = cut;
    }
    chunks.push(&bytes[start..]);
    chunks
}

fn request_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..700),
        (
            proptest::collection::vec(any::<u8>(), 0..64),
            0..RFC_REQUEST.len()
        )
            .prop_map(|(noise, cut)| {
                let mut bytes = RFC_REQUEST[..cut].to_vec();
                bytes.extend_from_slice(&noise);
                bytes.extend_from_slice(&RFC_REQUEST[cut..]);
                bytes
            }),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|tail| {
            let mut bytes = RFC_REQUEST.to_vec();
            bytes.extend_from_slice(&tail);
            bytes
        }),
    ]
}

proptest! {
    #[test]
    fn any_bytes_in_any_chunking_never_panic_and_agree(
        bytes in request_like_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let whole = feed_chunks(&[&bytes]);
        let chunked = feed_chunks(&split_at_points(&bytes, &cuts));
        prop_assert_eq!(&chunked, &whole);
        if let Err(error) = &whole.0 {
            prop_assert!([400, 403, 414, 426, 431].contains(&error.status()));
            prop_assert!(!error.response().is_empty());
        }
    }
}

/// Classifies `bytes` as an HTTP server that parsed them itself would:
/// the parts of the head through [`Incoming::from_parts`].
fn from_parts_of(config: &HandshakeConfig, bytes: &[u8]) -> Result<Incoming, RequestError> {
    let head = parse_request(bytes, 1000).expect("a complete, parsable head");
    let headers: Vec<(&str, &[u8])> = head.headers.iter().collect();
    Incoming::from_parts(
        &head.method,
        &head.target,
        head.minor_version,
        headers,
        config,
    )
}

#[test]
fn from_parts_follows_the_rules_of_receive() {
    let allow = HandshakeConfig::default().allowed_origins(["http://example.com"]);
    let cases: Vec<(HandshakeConfig, Vec<u8>)> = vec![
        (HandshakeConfig::default(), RFC_REQUEST.to_vec()),
        (allow.clone(), RFC_REQUEST.to_vec()),
        (allow, request(&[], &["Origin: http://evil.com"])),
        (
            HandshakeConfig::default(),
            request(&["Sec-WebSocket-Key"], &[]),
        ),
        (
            HandshakeConfig::default(),
            request(&[], &["Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="]),
        ),
        (
            HandshakeConfig::default(),
            request(&["Sec-WebSocket-Key"], &["Sec-WebSocket-Key: short"]),
        ),
        (
            HandshakeConfig::default(),
            request(&["Sec-WebSocket-Version"], &[]),
        ),
        (
            HandshakeConfig::default(),
            request(&["Sec-WebSocket-Version"], &["Sec-WebSocket-Version: 8"]),
        ),
        (HandshakeConfig::default(), request(&["Host"], &[])),
        (HandshakeConfig::default(), request(&[], &["Host: b"])),
        (HandshakeConfig::default(), request(&["Connection"], &[])),
        (
            HandshakeConfig::default(),
            request(&[], &["Sec-WebSocket-Protocol: chat, a/b"]),
        ),
        (
            HandshakeConfig::default(),
            request(&[], &["Sec-WebSocket-Extensions: permessage-deflate; ;"]),
        ),
        (
            HandshakeConfig::default(),
            request(&[], &["Sec-WebSocket-Extensions: permessage-deflate"]),
        ),
        (
            HandshakeConfig::default(),
            request_line("POST /chat HTTP/1.1", &[], &[]),
        ),
        (
            HandshakeConfig::default(),
            request_line("GET /chat HTTP/1.0", &[], &[]),
        ),
        (
            HandshakeConfig::default(),
            request_line("GET /page?x=1 HTTP/1.1", &["Upgrade"], &[]),
        ),
        (
            HandshakeConfig::default().max_headers(5),
            RFC_REQUEST.to_vec(),
        ),
        (
            HandshakeConfig::default().max_head_size(RFC_REQUEST.len()),
            RFC_REQUEST.to_vec(),
        ),
        (
            HandshakeConfig::default().max_head_size(RFC_REQUEST.len() - 1),
            RFC_REQUEST.to_vec(),
        ),
        (
            HandshakeConfig::default().max_head_size(10),
            RFC_REQUEST.to_vec(),
        ),
    ];
    for (config, bytes) in cases {
        let received = ServerHandshake::with_config(config.clone())
            .receive(&bytes)
            .map(|incoming| incoming.expect("a complete head"));
        let classified = from_parts_of(&config, &bytes);
        assert_eq!(classified, received, "{}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn accept_headers_are_the_fields_accept_negotiated_writes() {
    let request = upgrade(&request(
        &[],
        &[
            "Sec-WebSocket-Protocol: chat",
            "Sec-WebSocket-Extensions: permessage-deflate, x-other",
        ],
    ));
    let config = HandshakeConfig::default();
    let accept = Accept::new().protocol("chat").header("Set-Cookie", "a=1");
    let (bytes, negotiated) = request.accept_negotiated(&accept, &config).unwrap();
    let (fields, same) = request.accept_headers(&accept, &config).unwrap();
    assert_eq!(negotiated, same);
    let mut written = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
    for (name, value) in &fields {
        written.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    written.extend_from_slice(b"\r\n");
    assert_eq!(written, bytes);
    assert!(request
        .accept_headers(&Accept::new().protocol("nope"), &config)
        .is_err());
}

proptest! {
    #[test]
    fn from_parts_agrees_with_receive_on_any_parsable_head(bytes in request_like_bytes()) {
        let config = HandshakeConfig::default().max_head_size(512);
        let received = ServerHandshake::with_config(config.clone()).receive(&bytes);
        // Only heads an HTTP server could have parsed: complete and valid.
        if let (Ok(Some(_)) | Err(_), Ok(head)) = (&received, parse_request(&bytes, 1000)) {
            if !matches!(received, Err(RequestError::Malformed { .. })) {
                let head_len = head.len;
                let received = received.map(|incoming| incoming.expect("complete"));
                let classified = from_parts_of(&config, &bytes[..head_len]);
                prop_assert_eq!(classified, received);
            }
        }
    }
}

#[test]
fn same_origin_is_the_host_with_an_http_or_https_scheme() {
    let same = |extra: &[&str]| upgrade(&request(&["Host"], extra)).is_same_origin();
    let host = "Host: chat.example:8080";
    assert!(same(&[host, "Origin: http://chat.example:8080"]));
    assert!(
        same(&[host, "Origin: HTTPS://Chat.Example:8080"]),
        "case aside"
    );
    assert!(same(&[host]), "no Origin: not a browser");
    assert!(
        !same(&[host, "Origin: http://chat.example"]),
        "another port"
    );
    assert!(!same(&[host, "Origin: http://chat.example:80"]));
    assert!(!same(&[host, "Origin: http://evil.example:8080"]));
    assert!(!same(&[host, "Origin: null"]));
    assert!(!same(&[host, "Origin: ws://chat.example:8080"]));
    assert!(!same(&[host, "Origin: http://"]));
    assert!(
        !same(&[
            host,
            "Origin: http://chat.example:8080",
            "Origin: http://evil.example:8080"
        ]),
        "every Origin line must match"
    );
    // The scheme's default port, written or left out, on either side.
    assert!(same(&[
        "Host: chat.example",
        "Origin: http://chat.example:80"
    ]));
    assert!(same(&[
        "Host: chat.example:443",
        "Origin: https://chat.example"
    ]));
    assert!(!same(&[
        "Host: chat.example:443",
        "Origin: http://chat.example"
    ]));
}
