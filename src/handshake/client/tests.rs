//! Tests of the client role, named after the rule they check.

use proptest::prelude::*;
use rand::SeedableRng as _;

use super::*;
use crate::handshake::server::{Accept, Incoming, ServerHandshake};

fn seeded() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(6455)
}

fn options() -> ClientOptions {
    ClientOptions::new()
        .protocol("chat")
        .protocol("superchat")
        .extension(ExtensionOffer::new("permessage-deflate").param("client_max_window_bits"))
}

fn client() -> ClientHandshake {
    ClientHandshake::with_rng(
        "ws://example.com:9001/chat?room=1",
        options(),
        &mut seeded(),
    )
    .unwrap()
}

/// A 101 for `client` with the standard headers except those starting with
/// one of `drop`, then `extra`.
fn reply(client: &ClientHandshake, drop: &[&str], extra: &[&str]) -> Vec<u8> {
    reply_line(client, "HTTP/1.1 101 Switching Protocols", drop, extra)
}

fn reply_line(client: &ClientHandshake, line: &str, drop: &[&str], extra: &[&str]) -> Vec<u8> {
    let accept = format!(
        "Sec-WebSocket-Accept: {}",
        derive_accept_key(client.key().as_bytes())
    );
    let base = ["Upgrade: websocket", "Connection: Upgrade", accept.as_str()];
    let mut out = format!("{line}\r\n");
    for header in base
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

fn verified(bytes: &[u8]) -> Response {
    match client().receive(bytes) {
        Ok(Some(response)) => response,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn failed(bytes: &[u8]) -> ResponseError {
    match client().receive(bytes) {
        Err(error) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn rejected(error: ResponseError) -> Response {
    match error {
        ResponseError::Rejected(response) => *response,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

/// Options that offer nothing, not even permessage-deflate.
fn bare() -> ClientOptions {
    let options = ClientOptions::new();
    #[cfg(feature = "deflate")]
    let options = options.config(HandshakeConfig::default().deflate(None));
    options
}

#[test]
fn request_has_every_handshake_header() {
    let c = ClientHandshake::with_rng("ws://example.com/chat?x=1", bare(), &mut seeded()).unwrap();
    let expected = format!(
        "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        c.key()
    );
    assert_eq!(std::str::from_utf8(c.request()).unwrap(), expected);
    assert_eq!(c.key().len(), 24);
    assert_eq!(c.target().port, 80);
}

#[test]
fn request_lists_protocols_extensions_and_extra_headers() {
    let c = ClientHandshake::with_rng(
        "wss://[::1]:8443",
        options().header("Origin", "https://example.com"),
        &mut seeded(),
    )
    .unwrap();
    let text = std::str::from_utf8(c.request()).unwrap();
    assert!(text.starts_with("GET / HTTP/1.1\r\nHost: [::1]:8443\r\n"));
    assert!(text.contains("\r\nSec-WebSocket-Protocol: chat, superchat\r\n"));
    assert!(text
        .contains("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
    assert!(text.ends_with("\r\nOrigin: https://example.com\r\n\r\n"));
}

#[test]
fn seeded_key_is_reproducible() {
    assert_eq!(client().key(), client().key());
    assert_eq!(client().request(), client().request());
}

#[test]
fn seeded_request_round_trips_through_server_and_back() {
    let mut c = client();
    let mut server = ServerHandshake::new();
    let Ok(Some(Incoming::Upgrade(request))) = server.receive(c.request()) else {
        panic!("server did not see an upgrade");
    };
    assert_eq!(request.key(), Some(c.key()));
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.query(), Some("room=1"));
    assert_eq!(request.host(), Some("example.com:9001"));
    assert_eq!(request.protocols(), ["chat", "superchat"]);
    assert_eq!(request.extensions(), options().extensions);
    let accept = Accept::new().protocol("superchat").extension(
        ExtensionOffer::new("permessage-deflate").param_value("client_max_window_bits", "12"),
    );
    let mut bytes = request.accept(&accept).unwrap();
    bytes.extend_from_slice(b"\x81\x02hi");
    let response = c.receive(&bytes).unwrap().unwrap();
    assert_eq!(
        (response.status(), response.reason()),
        (101, "Switching Protocols")
    );
    assert_eq!(response.protocol(), Some("superchat"));
    assert_eq!(response.extensions(), accept.extensions);
    assert_eq!(response.body(), b"");
    assert_eq!(response.headers().get_str("upgrade"), Some("websocket"));
    assert_eq!(c.into_leftover(), b"\x81\x02hi");
}

#[test]
fn new_uses_the_thread_rng() {
    let a = ClientHandshake::new("ws://a/", ClientOptions::new()).unwrap();
    let b = ClientHandshake::new("ws://a/", ClientOptions::new()).unwrap();
    assert_ne!(a.key(), b.key());
}

#[test]
fn invalid_target_is_a_build_error() {
    let error = ClientHandshake::new("http://a/", ClientOptions::new()).unwrap_err();
    assert!(matches!(error, BuildError::InvalidTarget { .. }));
}

#[test]
fn protocols_must_be_unique_tokens() {
    let error = ClientHandshake::new("ws://a/", ClientOptions::new().protocol("a b")).unwrap_err();
    assert_eq!(
        error,
        BuildError::InvalidProtocol {
            protocol: "a b".into()
        }
    );
    let error = ClientHandshake::new("ws://a/", ClientOptions::new().protocol("")).unwrap_err();
    assert!(matches!(error, BuildError::InvalidProtocol { .. }));
    let twice = ClientOptions::new().protocol("a").protocol("a");
    let error = ClientHandshake::new("ws://a/", twice).unwrap_err();
    assert_eq!(
        error,
        BuildError::DuplicateProtocol {
            protocol: "a".into()
        }
    );
}

#[test]
fn extra_headers_must_not_duplicate_handshake_headers_or_inject() {
    for name in [
        "Host",
        "upgrade",
        "CONNECTION",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Protocol",
        "Sec-WebSocket-Extensions",
    ] {
        let error =
            ClientHandshake::new("ws://a/", ClientOptions::new().header(name, "x")).unwrap_err();
        assert_eq!(error, BuildError::ReservedHeader { name: name.into() });
    }
    let injected = ClientOptions::new().header("Cookie", "a\r\nX-Evil: 1");
    assert!(matches!(
        ClientHandshake::new("ws://a/", injected),
        Err(BuildError::InvalidHeaderValue { .. })
    ));
    let bad_name = ClientOptions::new().header("Bad:Name", "x");
    assert!(matches!(
        ClientHandshake::new("ws://a/", bad_name),
        Err(BuildError::InvalidHeaderName { .. })
    ));
}

#[test]
fn extensions_must_be_valid_header_syntax() {
    let bad = ClientOptions::new().extension(ExtensionOffer::new("x").param_value("a", "1 2"));
    assert_eq!(
        ClientHandshake::new("ws://a/", bad).unwrap_err(),
        BuildError::InvalidExtension { name: "x".into() }
    );
}

#[test]
fn valid_101_without_protocol_or_extensions_is_accepted() {
    let c = client();
    let response = verified(&reply(&c, &[], &[]));
    assert_eq!(response.protocol(), None);
    assert!(response.extensions().is_empty());
}

#[test]
fn tokens_in_upgrade_and_connection_are_case_insensitive_list_elements() {
    let c = client();
    let bytes = reply(
        &c,
        &["Upgrade", "Connection"],
        &[
            "upgrade: foo, WebSocket",
            "Connection: keep-alive",
            "connection: UPGRADE",
        ],
    );
    assert_eq!(verified(&bytes).status(), 101);
}

#[test]
fn response_must_be_http_1_1() {
    let c = client();
    let bytes = reply_line(&c, "HTTP/1.0 101 Switching Protocols", &[], &[]);
    assert_eq!(failed(&bytes), ResponseError::NotHttp11 { minor: 0 });
}

#[test]
fn upgrade_must_have_websocket_token() {
    let c = client();
    assert_eq!(
        failed(&reply(&c, &["Upgrade"], &[])),
        ResponseError::UpgradeNotWebSocket
    );
    let bytes = reply(&c, &["Upgrade"], &["Upgrade: h2c"]);
    assert_eq!(failed(&bytes), ResponseError::UpgradeNotWebSocket);
}

#[test]
fn connection_must_have_upgrade_token() {
    let c = client();
    let bytes = reply(&c, &["Connection"], &["Connection: close"]);
    assert_eq!(failed(&bytes), ResponseError::ConnectionNotUpgrade);
}

#[test]
fn accept_must_be_present() {
    let c = client();
    assert_eq!(
        failed(&reply(&c, &["Sec-WebSocket-Accept"], &[])),
        ResponseError::MissingAccept
    );
}

#[test]
fn accept_must_match_the_key() {
    let c = client();
    let bytes = reply(
        &c,
        &["Sec-WebSocket-Accept"],
        &["Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
    );
    assert_eq!(
        failed(&bytes),
        ResponseError::AcceptMismatch {
            expected: derive_accept_key(c.key().as_bytes()),
            got: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()
        }
    );
    let twice = format!(
        "Sec-WebSocket-Accept: {}",
        derive_accept_key(c.key().as_bytes())
    );
    let bytes = reply(&c, &[], &[&twice]);
    assert!(matches!(
        failed(&bytes),
        ResponseError::AcceptMismatch { .. }
    ));
}

#[test]
fn at_most_one_protocol_may_be_selected() {
    let c = client();
    let bytes = reply(&c, &[], &["Sec-WebSocket-Protocol: chat, superchat"]);
    assert_eq!(failed(&bytes), ResponseError::MultipleProtocols);
    let bytes = reply(
        &c,
        &[],
        &[
            "Sec-WebSocket-Protocol: chat",
            "Sec-WebSocket-Protocol: chat",
        ],
    );
    assert_eq!(failed(&bytes), ResponseError::MultipleProtocols);
}

#[test]
fn selected_protocol_must_have_been_offered() {
    let c = client();
    let bytes = reply(&c, &[], &["Sec-WebSocket-Protocol: mqtt"]);
    assert_eq!(
        failed(&bytes),
        ResponseError::ProtocolNotOffered {
            protocol: "mqtt".into()
        }
    );
    // Protocol names are compared exactly.
    let bytes = reply(&c, &[], &["Sec-WebSocket-Protocol: CHAT"]);
    assert!(matches!(
        failed(&bytes),
        ResponseError::ProtocolNotOffered { .. }
    ));
}

#[test]
fn no_protocol_may_be_selected_when_none_was_offered() {
    let mut c = ClientHandshake::with_rng("ws://a/", ClientOptions::new(), &mut seeded()).unwrap();
    let bytes = reply(&c, &[], &["Sec-WebSocket-Protocol: chat"]);
    assert_eq!(
        c.receive(&bytes),
        Err(ResponseError::ProtocolNotOffered {
            protocol: "chat".into()
        })
    );
}

#[test]
fn extensions_must_parse() {
    let c = client();
    let bytes = reply(&c, &[], &["Sec-WebSocket-Extensions: permessage-deflate;"]);
    assert!(matches!(
        failed(&bytes),
        ResponseError::InvalidExtensions(_)
    ));
}

#[test]
fn every_extension_must_have_been_offered_by_name() {
    let c = client();
    let bytes = reply(
        &c,
        &[],
        &["Sec-WebSocket-Extensions: PerMessage-Deflate, x-webkit"],
    );
    assert_eq!(
        failed(&bytes),
        ResponseError::ExtensionNotOffered {
            name: "x-webkit".into()
        }
    );
    let bytes = reply(
        &c,
        &[],
        &["Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover"],
    );
    assert_eq!(verified(&bytes).extensions()[0].name, "permessage-deflate");
}

#[test]
fn refusal_with_content_length_carries_status_headers_and_body() {
    let mut c = client();
    let bytes = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nno such\r\nEXTRA";
    let response = rejected(c.receive(bytes).unwrap_err());
    assert_eq!((response.status(), response.reason()), (404, "Not Found"));
    assert_eq!(
        response.headers().get_str("content-type"),
        Some("text/plain")
    );
    assert_eq!(response.body(), b"no such\r\n");
    assert_eq!(response.protocol(), None);
}

#[test]
fn refusal_body_split_across_calls_is_collected() {
    let mut c = client();
    assert_eq!(
        c.receive(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nfo"),
        Ok(None)
    );
    assert_eq!(c.receive(b"rb"), Ok(None));
    let response = rejected(c.receive(b"id").unwrap_err());
    assert_eq!(response.body(), b"forbid");
    // The refusal is sticky.
    assert!(matches!(
        c.receive(b"more"),
        Err(ResponseError::Rejected(_))
    ));
    assert!(matches!(c.receive_eof(), Err(ResponseError::Rejected(_))));
}

#[test]
fn refusal_without_content_length_reads_body_until_eof() {
    let mut c = client();
    assert_eq!(
        c.receive(b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\nnot "),
        Ok(None)
    );
    assert_eq!(c.receive(b"here"), Ok(None));
    let response = rejected(c.receive_eof().unwrap_err());
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers().get_str("server"), Some("x"));
    assert_eq!(response.body(), b"not here");
}

#[test]
fn refusal_body_over_limit_is_body_too_large() {
    let options = ClientOptions::new().config(HandshakeConfig::default().max_body_size(4));
    let mut c = ClientHandshake::with_rng("ws://a/", options.clone(), &mut seeded()).unwrap();
    let error = c
        .receive(b"HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\n")
        .unwrap_err();
    assert_eq!(
        error,
        ResponseError::BodyTooLarge {
            status: 500,
            limit: 4
        }
    );
    let mut c = ClientHandshake::with_rng("ws://a/", options, &mut seeded()).unwrap();
    assert_eq!(c.receive(b"HTTP/1.1 500 Oops\r\n\r\nabcd"), Ok(None));
    let error = c.receive(b"e").unwrap_err();
    assert_eq!(
        error,
        ResponseError::BodyTooLarge {
            status: 500,
            limit: 4
        }
    );
}

#[test]
fn refusal_content_length_must_be_one_number() {
    for value in ["x", "-1", "1, 2", "", "1 1"] {
        let bytes = format!("HTTP/1.1 400 Bad Request\r\nContent-Length: {value}\r\n\r\n");
        assert_eq!(
            failed(bytes.as_bytes()),
            ResponseError::InvalidContentLength,
            "{value:?}"
        );
    }
    let bytes = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2, 2\r\n\r\nab";
    assert_eq!(rejected(failed(bytes)).body(), b"ab");
    let bytes = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 99999999999999999999999\r\n\r\n";
    assert!(matches!(failed(bytes), ResponseError::BodyTooLarge { .. }));
}

#[test]
fn bodiless_and_chunked_refusals_are_reported_at_once() {
    for head in [
        &b"HTTP/1.1 204 No Content\r\n\r\n"[..],
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ] {
        let response = rejected(failed(head));
        assert_eq!(response.body(), b"");
    }
    let response = rejected(failed(
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
    ));
    assert_eq!(response.status(), 401);
}

#[test]
fn eof_before_a_complete_response_is_connection_closed() {
    let mut c = client();
    assert_eq!(c.receive_eof(), Err(ResponseError::ConnectionClosed));
    assert_eq!(c.receive(b"x"), Err(ResponseError::ConnectionClosed));
    let mut c = client();
    assert_eq!(c.receive(b"HTTP/1.1 101 Switching"), Ok(None));
    assert_eq!(c.receive_eof(), Err(ResponseError::ConnectionClosed));
    let mut c = client();
    assert_eq!(
        c.receive(b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nab"),
        Ok(None)
    );
    assert_eq!(c.receive_eof(), Err(ResponseError::ConnectionClosed));
}

#[test]
fn eof_after_a_successful_handshake_is_not_an_error() {
    let mut c = client();
    let bytes = reply(&c, &[], &[]);
    assert!(c.receive(&bytes).unwrap().is_some());
    assert_eq!(c.receive_eof(), Ok(()));
}

#[test]
fn a_response_with_128_headers_is_accepted_and_129_is_too_many() {
    let c = client();
    let extra: Vec<String> = (0..129 - 3)
        .map(|i| format!("X-Edge-{i}: cache-hit; region=eu-west-{i}"))
        .collect();
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let response = verified(&reply(&c, &[], &extra[..128 - 3]));
    assert_eq!(response.headers().len(), 128);
    assert_eq!(
        failed(&reply(&c, &[], &extra)),
        ResponseError::TooManyHeaders { limit: 128 }
    );
}

#[test]
fn head_over_limit_too_many_headers_and_malformed_are_errors() {
    let small =
        ClientOptions::new().config(HandshakeConfig::default().max_head_size(32).max_headers(2));
    let mut c = ClientHandshake::with_rng("ws://a/", small, &mut seeded()).unwrap();
    let error = c
        .receive(b"HTTP/1.1 101 Switching Protocols\r\n")
        .unwrap_err();
    assert_eq!(error, ResponseError::HeadTooLarge { limit: 32 });
    let few = ClientOptions::new().config(HandshakeConfig::default().max_headers(2));
    let mut c = ClientHandshake::with_rng("ws://a/", few, &mut seeded()).unwrap();
    let error = c
        .receive(b"HTTP/1.1 101 S\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
        .unwrap_err();
    assert_eq!(error, ResponseError::TooManyHeaders { limit: 2 });
    assert!(matches!(
        failed(b"HTTP/1.1 1O1 OK\r\n\r\n"),
        ResponseError::Malformed { .. }
    ));
    assert!(matches!(
        failed(b"GET / HTTP/1.1\r\n\r\n"),
        ResponseError::Malformed { .. }
    ));
}

#[test]
fn leftover_split_across_calls_is_preserved() {
    let mut c = client();
    let mut bytes = reply(&c, &[], &[]);
    let head_len = bytes.len();
    bytes.extend_from_slice(b"\x81\x05hello");
    assert_eq!(c.receive(&bytes[..head_len - 2]), Ok(None));
    assert_eq!(c.leftover(), b"");
    assert!(c
        .receive(&bytes[head_len - 2..head_len + 3])
        .unwrap()
        .is_some());
    assert_eq!(c.leftover(), b"\x81\x05h");
    assert_eq!(c.receive(&bytes[head_len + 3..]), Ok(None));
    assert_eq!(c.into_leftover(), b"\x81\x05hello");
}

#[test]
fn byte_at_a_time_gives_the_same_response() {
    let c = client();
    let mut bytes = reply(&c, &[], &["Sec-WebSocket-Protocol: chat"]);
    bytes.extend_from_slice(b"frames");
    let mut whole = c.clone();
    let expected = (whole.receive(&bytes), whole.into_leftover());
    let mut one = c;
    let mut result = Ok(None);
    for b in &bytes {
        match one.receive(std::slice::from_ref(b)) {
            Ok(None) => {}
            other => result = other,
        }
    }
    assert_eq!((result, one.into_leftover()), expected);
}

/// Feeds `chunks` then end of stream; returns the first non-`None` result
/// (end of stream mapped to `Ok(None)` on success) and the final leftover.
fn feed_chunks(chunks: &[&[u8]]) -> (Result<Option<Response>, ResponseError>, Vec<u8>) {
    let options = ClientOptions::new().protocol("chat").config(
        HandshakeConfig::default()
            .max_head_size(512)
            .max_body_size(64),
    );
    let mut c = ClientHandshake::with_rng("ws://a/", options, &mut seeded()).unwrap();
    let mut result = Ok(None);
    for chunk in chunks {
        let r = c.receive(chunk);
        if matches!(result, Ok(None)) {
            result = r;
        }
    }
    let eof = c.receive_eof();
    if matches!(result, Ok(None)) {
        result = eof.map(|()| None);
    }
    (result, c.into_leftover())
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

fn response_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let valid = {
        let options = ClientOptions::new().protocol("chat");
        let c = ClientHandshake::with_rng("ws://a/", options, &mut seeded()).unwrap();
        reply(&c, &[], &["Sec-WebSocket-Protocol: chat"])
    };
    let refusal = b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n".to_vec();
    let eof_refusal = b"HTTP/1.1 500 Oops\r\n\r\n".to_vec();
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..700),
        (
            prop::sample::select(vec![valid, refusal, eof_refusal]),
            proptest::collection::vec(any::<u8>(), 0..100),
            any::<usize>(),
            any::<bool>(),
        )
            .prop_map(|(base, noise, at, insert)| {
                let cut = at % (base.len() + 1);
                let mut bytes = base[..cut].to_vec();
                bytes.extend_from_slice(&noise);
                if insert {
                    bytes.extend_from_slice(&base[cut..]);
                }
                bytes
            }),
    ]
}

proptest! {
    #[test]
    fn any_bytes_in_any_chunking_never_panic_and_agree(
        bytes in response_like_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let whole = feed_chunks(&[&bytes]);
        let chunked = feed_chunks(&split_at_points(&bytes, &cuts));
        prop_assert_eq!(chunked, whole);
    }
}
