//! Properties (proptest) of permessage-deflate over a pair of connections:
//! any messages, sent whole or in pieces, any fragment size, any received
//! chunking, every parameter combination the negotiation can agree on,
//! arrive as sent; and the bytes on the wire decode the same however they
//! are chunked.
#![cfg(feature = "deflate")]

mod common;

use common::{events, transmit, Ev, Pair};
use proptest::collection::vec;
use proptest::prelude::*;
use rfc6455::deflate::DeflateConfig;
use rfc6455::{Config, Connection, MessageKind};

/// No regression files: a failing case is reported and kept as a named
/// test instead. `PROPTEST_CASES` overrides the count for a longer run.
fn cases(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn deflate_config() -> impl Strategy<Value = DeflateConfig> {
    (
        8..=15u8,
        8..=15u8,
        any::<bool>(),
        any::<bool>(),
        0..=9u32,
        0..64usize,
    )
        .prop_map(
            |(server_bits, client_bits, server_reset, client_reset, level, min_size)| {
                DeflateConfig {
                    server_max_window_bits: server_bits,
                    client_max_window_bits: client_bits,
                    server_no_context_takeover: server_reset,
                    client_no_context_takeover: client_reset,
                    level,
                    min_size,
                }
            },
        )
}

/// Payloads that compress (runs and repeats) as well as ones that do not.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..600),
        (vec(any::<u8>(), 1..20), 0..300usize).prop_map(|(unit, times)| unit.repeat(times)),
        vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b' ')], 0..3000),
    ]
}

/// A message: text or binary, and where to cut it when sending it in
/// pieces (none: sent whole).
#[derive(Debug, Clone)]
struct Message {
    text: bool,
    data: Vec<u8>,
    cuts: Vec<usize>,
}

fn message() -> impl Strategy<Value = Message> {
    (
        any::<bool>(),
        payload(),
        any::<String>(),
        vec(0..3000usize, 0..4),
    )
        .prop_map(|(text, data, string, mut cuts)| {
            let data = if text {
                let mut bytes = string.into_bytes();
                bytes.extend(data.iter().map(|b| b'a' + b % 3));
                bytes
            } else {
                data
            };
            cuts.retain(|&cut| cut <= data.len());
            cuts.sort_unstable();
            Message { text, data, cuts }
        })
}

fn send(conn: &mut Connection, message: &Message) {
    let kind = if message.text {
        MessageKind::Text
    } else {
        MessageKind::Binary
    };
    if message.cuts.is_empty() {
        conn.send(kind, &message.data).unwrap();
        return;
    }
    let mut start = 0;
    for &cut in &message.cuts {
        conn.send_chunk(kind, &message.data[start..cut], false)
            .unwrap();
        start = cut;
    }
    conn.send_chunk(kind, &message.data[start..], true).unwrap();
}

fn expected(message: &Message) -> Ev {
    if message.text {
        Ev::Text(String::from_utf8(message.data.clone()).unwrap())
    } else {
        Ev::Binary(message.data.clone())
    }
}

/// Feeds `wire` in pieces of `chunk` bytes and collects the events.
fn feed_chunked(conn: &mut Connection, wire: &[u8], chunk: usize) -> Vec<Ev> {
    let mut got = Vec::new();
    for piece in wire.chunks(chunk.max(1)) {
        conn.receive(piece);
        got.extend(events(conn));
    }
    got
}

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn messages_survive_compression_both_ways(
        client_deflate in deflate_config(),
        server_deflate in deflate_config(),
        fragment_size in prop::option::of(1..400usize),
        chunk in 1..700usize,
        messages in vec((any::<bool>(), message()), 1..8),
    ) {
        let mut config = Config::default();
        config.fragment_size = fragment_size;
        let mut pair = Pair::negotiated(&client_deflate, &server_deflate, config)
            .expect("two endpoints of this crate always agree");
        for (from_client, message) in &messages {
            let (from, to) = if *from_client {
                (&mut pair.client, &mut pair.server)
            } else {
                (&mut pair.server, &mut pair.client)
            };
            send(from, message);
            let wire = transmit(from);
            let got = feed_chunked(to, &wire, chunk);
            prop_assert_eq!(got, vec![expected(message)]);
        }
    }

    #[test]
    fn compressed_input_gives_the_same_events_however_it_is_chunked(
        deflate in deflate_config(),
        messages in vec(message(), 1..6),
        fragment_size in prop::option::of(1..300usize),
        chunk in 1..64usize,
    ) {
        let mut config = Config::default();
        config.fragment_size = fragment_size;
        let mut whole = Pair::negotiated(&deflate, &deflate, config.clone()).unwrap();
        let mut chunked = Pair::negotiated(&deflate, &deflate, config).unwrap();
        let mut wire = Vec::new();
        for message in &messages {
            send(&mut whole.client, message);
        }
        wire.extend(transmit(&mut whole.client));
        let at_once = feed_chunked(&mut whole.server, &wire, wire.len());
        let in_pieces = feed_chunked(&mut chunked.server, &wire, chunk);
        prop_assert_eq!(&at_once, &in_pieces);
        prop_assert_eq!(at_once, messages.iter().map(expected).collect::<Vec<_>>());
    }
}
