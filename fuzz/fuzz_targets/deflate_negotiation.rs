//! permessage-deflate negotiation (RFC 7692 §5, §7.1) on an input-chosen
//! `Sec-WebSocket-Extensions` value, in both roles, for input-chosen
//! configurations.
//!
//! Checked:
//!
//! - nothing panics, whatever the header says;
//! - server: `DeflateConfig::accept` takes the first permessage-deflate
//!   offer that `accept_offer` accepts; an accepted offer's response is
//!   valid header syntax that parses back to itself, is a valid response
//!   (`DeflateParams::parse_response`), and honours the offer: a window
//!   no larger than the client asked for, `client_max_window_bits` only
//!   when offered, `server_no_context_takeover` when asked for;
//! - client: `ClientHandshake` given a 101 with that value either accepts
//!   it with what `DeflateConfig::accept_response` says, or fails with
//!   one of the documented errors; an accepted agreement never has the
//!   client compress with a window larger than it offered;
//! - between two configurations: a client's own offer is always accepted by
//!   a server, the server's response is always accepted by that client,
//!   and a message (the input's tail) crosses a pair of connections set up
//!   from the two agreements, both ways.
//!
//! Input layout: a client configuration byte and a server configuration
//! byte (bits 0-2 server_max_window_bits 8 + n, 3-5 client_max_window_bits
//! 8 + n, 6 server_no_context_takeover, 7 client_no_context_takeover), then
//! the header value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rfc6455::deflate::{
    is_permessage_deflate, Agreement, ClientMaxWindowBits, DeflateConfig, DeflateParams,
};
use rfc6455::handshake::{
    derive_accept_key, parse_extensions, ClientHandshake, ClientOptions, HandshakeConfig,
    ResponseError,
};
use rfc6455::{Config, Connection, Event, Role};

fn config(byte: u8) -> DeflateConfig {
    DeflateConfig {
        server_max_window_bits: 8 + (byte & 7),
        client_max_window_bits: 8 + (byte >> 3 & 7),
        server_no_context_takeover: byte & 0x40 != 0,
        client_no_context_takeover: byte & 0x80 != 0,
        min_size: 0,
        ..DeflateConfig::default()
    }
}

/// A server's acceptance of `offers`, checked against what they asked.
fn check_server(server: &DeflateConfig, offers: &[rfc6455::handshake::ExtensionOffer]) {
    let first = offers
        .iter()
        .filter(|offer| is_permessage_deflate(offer))
        .find_map(|offer| server.accept_offer(offer).ok().map(|a| (offer, a)));
    let accepted = server.accept(offers);
    assert_eq!(
        accepted.as_ref(),
        first.as_ref().map(|(_, a)| a),
        "accept takes the first acceptable offer"
    );
    let Some((offer, agreement)) = first else {
        return;
    };
    let asked = DeflateParams::parse_offer(offer).expect("an accepted offer parses");
    let response = agreement.response();
    let text = response.to_string();
    assert_eq!(
        parse_extensions(text.as_bytes()).expect("the response is valid syntax"),
        [response.clone()],
        "the response parses back to itself"
    );
    let answered = DeflateParams::parse_response(response).expect("a valid response");
    let agreed = agreement.agreed();
    if let Some(bits) = asked.server_max_window_bits {
        assert!(agreed.server_max_window_bits <= bits);
        assert_eq!(
            answered.server_max_window_bits,
            Some(agreed.server_max_window_bits)
        );
    }
    assert!((9..=15).contains(&agreed.server_max_window_bits));
    if asked.client_max_window_bits == ClientMaxWindowBits::Absent {
        assert_eq!(
            answered.client_max_window_bits,
            ClientMaxWindowBits::Absent,
            "client_max_window_bits answered but not offered"
        );
        assert_eq!(agreed.client_max_window_bits, 15);
    }
    if let ClientMaxWindowBits::Value(hint) = asked.client_max_window_bits {
        assert!(agreed.client_max_window_bits <= hint);
    }
    if asked.server_no_context_takeover {
        assert!(answered.server_no_context_takeover && agreed.server_no_context_takeover);
    }
}

/// A client's check of a 101 carrying `value`, through the handshake.
fn check_client(client: &DeflateConfig, value: &[u8]) {
    let options =
        ClientOptions::new().config(HandshakeConfig::default().deflate(Some(client.clone())));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7692);
    let mut handshake = ClientHandshake::with_rng("ws://a/", options, &mut rng).unwrap();
    let mut reply = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: ",
        derive_accept_key(handshake.key().as_bytes())
    )
    .into_bytes();
    reply.extend_from_slice(value);
    reply.extend_from_slice(b"\r\n\r\n");
    match handshake.receive(&reply) {
        Ok(Some(response)) => {
            let expected = client
                .accept_response(response.extensions())
                .expect("the handshake accepted it");
            assert_eq!(response.negotiated().deflate(), expected.as_ref());
            if let Some(agreement) = expected {
                let own = client.client_max_window_bits.clamp(9, 15);
                assert!(agreement.agreed().client_max_window_bits <= own);
                assert!(agreement.agreed().client_max_window_bits >= 9);
            }
        }
        // A header that is not a valid extension list, or one whose
        // permessage-deflate element breaks RFC 7692 or the offer, or a
        // value HTTP does not allow (a control character).
        Err(
            ResponseError::InvalidExtensions(_)
            | ResponseError::ExtensionNotOffered { .. }
            | ResponseError::Deflate(_)
            | ResponseError::Malformed { .. },
        ) => {}
        Ok(None) => {}
        other => panic!("unexpected outcome {other:?}"),
    }
}

/// A message crosses connections set up from the two agreements, twice
/// each way (the second time through the context the first one left).
fn round_trip(server: Agreement, client: Agreement, message: &[u8]) {
    let mut server = Connection::new(Role::Server, Config::default())
        .with_extension(Box::new(server.into_extension()));
    let mut client = Connection::new(Role::Client, Config::default())
        .with_extension(Box::new(client.into_extension()));
    for _ in 0..2 {
        pass(&mut client, &mut server, message);
        pass(&mut server, &mut client, message);
    }
}

fn pass(from: &mut Connection, to: &mut Connection, message: &[u8]) {
    from.send_binary(message)
        .expect("sending on an open connection");
    while let Some(bytes) = from.poll_transmit() {
        to.receive(bytes);
        let n = bytes.len();
        from.advance_transmit(n);
    }
    match to.poll_event() {
        Ok(Some(Event::Binary(got))) => assert_eq!(got, message),
        other => panic!("expected the message, got {other:?}"),
    }
}

fuzz_target!(|input: &[u8]| {
    let Some(([client_byte, server_byte], value)) = input.split_first_chunk::<2>() else {
        return;
    };
    let client = config(*client_byte);
    let server = config(*server_byte);

    if let Ok(offers) = parse_extensions(value) {
        check_server(&server, &offers);
    }
    // A CR or LF would end the header line and let the input write other
    // headers; the HTTP-level checks are handshake_response's.
    if !value.iter().any(|&b| b == b'\r' || b == b'\n') {
        check_client(&client, value);
    }

    let offer = client.offer();
    let accepted = server
        .accept_offer(&offer)
        .expect("a server accepts any offer this crate makes");
    let agreed = client
        .accept_response(&[accepted.response().clone()])
        .expect("a client accepts a response to its own offer")
        .expect("the response accepts permessage-deflate");
    let tail = value.get(..value.len().min(4096)).unwrap_or_default();
    round_trip(accepted, agreed, tail);
});
