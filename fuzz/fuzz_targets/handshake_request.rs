//! `ServerHandshake::receive` on arbitrary bytes in input-chosen pieces.
//!
//! Checked: nothing panics; the outcome and the leftover bytes are the same
//! as when the bytes come whole, and later calls repeat an error or collect
//! leftover; an upgrade accepted with the first offered subprotocol and
//! extension gives a well-formed HTTP/1.1 101 with the right
//! `Sec-WebSocket-Accept`, which a `ClientHandshake` sending the same key
//! accepts; a plain request cannot be accepted; an error has a status of
//! 400, 403, 414, 426 or 431 and a well-formed response.
//!
//! Input layout: one settings byte (bits 0-1 head size limit, 2-3 header
//! count limit, 4 an origin allow-list), a chunk plan (descriptor bit 5
//! feeds an empty slice before the piece), then the request bytes.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use rfc6455::handshake::{
    derive_accept_key, Accept, BuildError, ClientHandshake, ClientOptions, HandshakeConfig,
    Incoming, RequestError, ServerHandshake,
};
use rfc6455_fuzz::{pieces, split_plan, ParsedResponse, Replay};

fn config(settings: u8) -> HandshakeConfig {
    const HEAD: [usize; 4] = [16 << 10, 32, 128, 1024];
    const HEADERS: [usize; 4] = [64, 0, 2, 8];
    let config = HandshakeConfig::default()
        .max_head_size(HEAD[usize::from(settings & 3)])
        .max_headers(HEADERS[usize::from(settings >> 2 & 3)]);
    if settings & 0x10 != 0 {
        config.allowed_origins(["https://example.com", "null"])
    } else {
        config
    }
}

type Outcome = (Result<Option<Incoming>, RequestError>, Vec<u8>);

/// Feeds `bytes` cut per `plan`: the first answer other than "more", and
/// the leftover once all bytes are in.
fn feed(config: &HandshakeConfig, plan: &[u8], bytes: &[u8]) -> Outcome {
    let mut server = ServerHandshake::with_config(config.clone());
    let mut first: Option<Result<Option<Incoming>, RequestError>> = None;
    for (piece, descriptor) in pieces(plan, bytes) {
        if descriptor & 0x20 != 0 {
            let empty = server.receive(&[]);
            check_later(&first, &empty);
        }
        let result = server.receive(piece);
        match &first {
            None if matches!(result, Ok(None)) => {}
            None => first = Some(result),
            Some(_) => check_later(&first, &result),
        }
    }
    let leftover = server.leftover().to_vec();
    assert_eq!(server.into_leftover(), leftover);
    (first.unwrap_or(Ok(None)), leftover)
}

/// After an answer, calls return `Ok(None)` (a request) or the same error.
fn check_later(
    first: &Option<Result<Option<Incoming>, RequestError>>,
    later: &Result<Option<Incoming>, RequestError>,
) {
    match first {
        None => assert_eq!(later, &Ok(None), "an empty slice changes nothing"),
        Some(Ok(_)) => assert_eq!(later, &Ok(None)),
        Some(Err(error)) => assert_eq!(later, &Err(error.clone())),
    }
}

fn check_upgrade(incoming: &Incoming) {
    let request = incoming.request();
    let key = request.key().expect("an upgrade has a key");
    let nonce = base64::engine::general_purpose::STANDARD
        .decode(key)
        .expect("the key is base64");
    assert_eq!(nonce.len(), 16, "the key encodes 16 bytes");
    assert_eq!(request.method(), "GET");
    assert_eq!(request.version(), 1);
    assert_eq!(request.headers().get_all("Host").count(), 1);

    let protocol = request.protocols().first().cloned();
    let extension = request.extensions().first().cloned();
    let mut accept = Accept::new();
    if let Some(protocol) = &protocol {
        accept = accept.protocol(protocol.clone());
    }
    if let Some(extension) = &extension {
        accept = accept.extension(extension.clone());
    }
    let bytes = request
        .accept(&accept)
        .expect("accepting the first offered subprotocol and extension");

    let response = ParsedResponse::parse(&bytes);
    assert_eq!(response.status, 101);
    assert!(response.body.is_empty());
    assert!(response.one("Upgrade").eq_ignore_ascii_case(b"websocket"));
    assert!(response.one("Connection").eq_ignore_ascii_case(b"upgrade"));
    assert_eq!(
        response.one("Sec-WebSocket-Accept"),
        derive_accept_key(key.as_bytes()).as_bytes()
    );
    match &protocol {
        Some(protocol) => assert_eq!(response.one("Sec-WebSocket-Protocol"), protocol.as_bytes()),
        None => assert!(response.all("Sec-WebSocket-Protocol").is_empty()),
    }
    assert_eq!(
        response.all("Sec-WebSocket-Extensions").len(),
        usize::from(extension.is_some())
    );

    // A client that sent this key, offering what was accepted, takes the
    // response.
    let mut options = ClientOptions::new();
    if let Some(protocol) = &protocol {
        options = options.protocol(protocol.clone());
    }
    if let Some(extension) = &extension {
        options = options.extension(extension.clone());
    }
    let mut client = ClientHandshake::with_rng("ws://example.com/", options, &mut Replay(nonce))
        .expect("a client offering what the server accepted");
    assert_eq!(client.key(), key, "the key is canonical base64");
    let verified = client
        .receive(&bytes)
        .unwrap_or_else(|error| panic!("our client refuses our 101: {error}"))
        .expect("a complete response");
    assert_eq!(verified.status(), 101);
    assert_eq!(verified.protocol(), protocol.as_deref());
    assert_eq!(verified.extensions(), Vec::from_iter(extension).as_slice());
    assert!(client.leftover().is_empty());
}

fn check_error(error: &RequestError) {
    let status = error.status();
    assert!(
        [400, 403, 414, 426, 431].contains(&status),
        "{error:?}: {status}"
    );
    let message = error.to_string();
    let response = ParsedResponse::parse(&error.response());
    assert_eq!(response.status, status);
    let length = response.one("Content-Length");
    assert_eq!(length, response.body.len().to_string().as_bytes());
    assert_eq!(response.body, format!("{message}\n").as_bytes());
    assert!(response.one("Connection").eq_ignore_ascii_case(b"close"));
    if status == 426 {
        assert_eq!(response.one("Sec-WebSocket-Version"), b"13");
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&settings, rest)) = input.split_first() else {
        return;
    };
    let config = config(settings);
    let (plan, bytes) = split_plan(rest);

    let whole = feed(&config, &[], bytes);
    let cut = feed(&config, plan, bytes);
    assert_eq!(whole, cut, "whole vs in pieces");

    match &whole.0 {
        Ok(None) => assert!(whole.1.is_empty()),
        Ok(Some(incoming @ Incoming::Upgrade(_))) => check_upgrade(incoming),
        Ok(Some(Incoming::Http(request))) => {
            assert_eq!(request.key(), None);
            assert!(request.protocols().is_empty() && request.extensions().is_empty());
            assert_eq!(
                request.accept(&Accept::new()),
                Err(BuildError::NotAnUpgrade)
            );
        }
        Err(error) => {
            assert!(whole.1.is_empty());
            check_error(error);
        }
    }
});
