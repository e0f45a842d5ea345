//! RFC 7692 (permessage-deflate): the §7.2.3 examples byte for byte, the
//! negotiation rules of §5 and §7.1 in both roles, and compressed messages
//! across an in-memory pair of connections.
#![cfg(feature = "deflate")]

mod common;

use common::{client_frame, close_code_sent, feed, frames, transmit, Ev, Pair};
use rfc6455::deflate::{
    Agreed, ClientMaxWindowBits, DeflateConfig, DeflateParams, NegotiationError, Parameter,
    PerMessageDeflate,
};
use rfc6455::extension::{Extension, ExtensionError};
use rfc6455::handshake::{parse_extensions, ExtensionOffer};
use rfc6455::{Config, Error, MessageKind, ProtocolError, Role};

const TEXT: MessageKind = MessageKind::Text;
const RSV1: u8 = 0b100;

fn agreed(server_bits: u8, client_bits: u8, no_takeover: bool) -> Agreed {
    Agreed {
        server_no_context_takeover: no_takeover,
        client_no_context_takeover: no_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    }
}

fn codec() -> PerMessageDeflate {
    PerMessageDeflate::new(Role::Server, agreed(15, 15, false), 6, 0)
}

/// Decodes one message given as its frames' payloads.
fn decode(codec: &mut PerMessageDeflate, fragments: &[&[u8]]) -> Result<Vec<u8>, ExtensionError> {
    assert!(codec.begin_decode(TEXT, RSV1)?);
    let mut out = Vec::new();
    for (i, fragment) in fragments.iter().enumerate() {
        codec.decode(fragment, i + 1 == fragments.len(), &mut out, 1 << 20)?;
    }
    Ok(out)
}

/// Encodes one whole message.
fn encode(codec: &mut PerMessageDeflate, payload: &[u8]) -> (u8, Vec<u8>) {
    let mut out = Vec::new();
    let rsv = codec.encode(TEXT, payload, true, true, &mut out).unwrap();
    (rsv, out)
}

fn offer(header: &str) -> Vec<ExtensionOffer> {
    parse_extensions(header.as_bytes()).unwrap()
}

// ----- RFC 7692 §7.2.3: the examples -----

#[test]
fn rfc7692_7_2_3_1_hello_in_one_compressed_block() {
    let bytes = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(encode(&mut codec(), b"Hello"), (RSV1, bytes.to_vec()));
    assert_eq!(decode(&mut codec(), &[&bytes]).unwrap(), b"Hello");
    // The same message in two fragments.
    assert_eq!(
        decode(
            &mut codec(),
            &[&[0xf2, 0x48, 0xcd], &[0xc9, 0xc9, 0x07, 0x00]]
        )
        .unwrap(),
        b"Hello"
    );
}

#[test]
fn rfc7692_7_2_3_2_second_hello_shares_the_sliding_window() {
    let mut sender = codec();
    assert_eq!(
        encode(&mut sender, b"Hello").1,
        [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
    assert_eq!(
        encode(&mut sender, b"Hello").1,
        [0xf2, 0x00, 0x11, 0x00, 0x00]
    );
    let mut receiver = codec();
    assert_eq!(
        decode(
            &mut receiver,
            &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]]
        )
        .unwrap(),
        b"Hello"
    );
    assert_eq!(
        decode(&mut receiver, &[&[0xf2, 0x00, 0x11, 0x00, 0x00]]).unwrap(),
        b"Hello"
    );
}

#[test]
fn rfc7692_7_2_3_2_without_context_takeover_each_message_stands_alone() {
    let mut sender = PerMessageDeflate::new(Role::Server, agreed(15, 15, true), 6, 0);
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(encode(&mut sender, b"Hello").1, hello);
    assert_eq!(encode(&mut sender, b"Hello").1, hello);
    // A receiver that resets cannot read a message that relies on the
    // previous one's window.
    let mut receiver = PerMessageDeflate::new(Role::Server, agreed(15, 15, true), 6, 0);
    assert_eq!(decode(&mut receiver, &[&hello]).unwrap(), b"Hello");
    assert!(matches!(
        decode(&mut receiver, &[&[0xf2, 0x00, 0x11, 0x00, 0x00]]),
        Err(ExtensionError::InvalidData(_))
    ));
}

#[test]
fn rfc7692_7_2_3_3_a_block_with_no_compression() {
    let bytes = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(decode(&mut codec(), &[&bytes]).unwrap(), b"Hello");
    let mut stored = PerMessageDeflate::new(Role::Server, agreed(15, 15, false), 0, 0);
    assert_eq!(encode(&mut stored, b"Hello").1, bytes);
}

#[test]
fn rfc7692_7_2_3_4_a_block_with_bfinal_set() {
    let mut receiver = codec();
    let bytes = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(decode(&mut receiver, &[&bytes]).unwrap(), b"Hello");
    // The stream ended; the next message starts a new one.
    assert_eq!(decode(&mut receiver, &[&bytes]).unwrap(), b"Hello");
    assert_eq!(
        decode(
            &mut receiver,
            &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]]
        )
        .unwrap(),
        b"Hello"
    );
}

#[test]
fn rfc7692_7_2_3_5_two_deflate_blocks_in_one_message() {
    let bytes = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(decode(&mut codec(), &[&bytes]).unwrap(), b"Hello");
    // A message sent in two pieces is flushed after each: the same blocks.
    let mut sender = codec();
    let mut out = Vec::new();
    assert_eq!(
        sender.encode(TEXT, b"He", true, false, &mut out).unwrap(),
        RSV1
    );
    sender.encode(TEXT, b"llo", false, true, &mut out).unwrap();
    assert_eq!(out, bytes);
}

#[test]
fn rfc7692_7_2_3_6_an_empty_last_fragment() {
    let first = [
        0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff,
    ];
    assert_eq!(decode(&mut codec(), &[&first, &[0x00]]).unwrap(), b"Hello");
    // What this encoder sends for an empty last piece decodes as well.
    let mut sender = codec();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    sender.encode(TEXT, b"Hello", true, false, &mut a).unwrap();
    sender.encode(TEXT, b"", false, true, &mut b).unwrap();
    assert_eq!(a, first);
    assert_eq!(decode(&mut codec(), &[&a, &b]).unwrap(), b"Hello");
}

#[test]
fn rfc7692_7_2_1_an_empty_message_compresses_to_one_byte() {
    assert_eq!(encode(&mut codec(), b""), (RSV1, vec![0x00]));
    assert_eq!(decode(&mut codec(), &[&[0x00]]).unwrap(), b"");
    assert_eq!(decode(&mut codec(), &[&[]]).unwrap(), b"");
}

#[test]
fn messages_under_the_threshold_go_uncompressed() {
    let mut sender = PerMessageDeflate::new(Role::Client, agreed(15, 15, false), 6, 10);
    assert_eq!(encode(&mut sender, b"short"), (0, b"short".to_vec()));
    assert_eq!(encode(&mut sender, b"long enough").0, RSV1);
    // A streamed message is compressed whatever its size.
    let mut out = Vec::new();
    assert_eq!(
        sender.encode(TEXT, b"a", true, false, &mut out).unwrap(),
        RSV1
    );
    // And an uncompressed message is not decoded.
    assert!(!sender.begin_decode(TEXT, 0).unwrap());
}

#[test]
fn corrupt_data_is_invalid_data() {
    let error = decode(&mut codec(), &[&[0xff, 0xff, 0xff]]).unwrap_err();
    assert!(matches!(error, ExtensionError::InvalidData(_)), "{error:?}");
    assert_eq!(error.close_code().0, 1007);
}

#[test]
fn decoding_never_writes_past_the_room_given() {
    let mut sender = codec();
    let (_, compressed) = encode(&mut sender, &[b'a'; 10_000]);
    for room in [0, 1, 100, 9_999] {
        let mut receiver = codec();
        assert!(receiver.begin_decode(TEXT, RSV1).unwrap());
        let mut out = b"prefix".to_vec();
        let error = receiver
            .decode(&compressed, true, &mut out, room)
            .unwrap_err();
        assert_eq!(error, ExtensionError::TooBig { max: room });
        assert!(out.len() <= 6 + room, "{} > {}", out.len(), 6 + room);
    }
    let mut receiver = codec();
    assert!(receiver.begin_decode(TEXT, RSV1).unwrap());
    let mut out = Vec::with_capacity(1 << 20); // spare capacity beyond the room
    receiver
        .decode(&compressed, true, &mut out, 10_000)
        .unwrap();
    assert_eq!(out, [b'a'; 10_000]);
}

// ----- negotiation: parsing (RFC 7692 §7.1) -----

#[test]
fn rfc7692_7_1_all_four_parameters_parse() {
    let params = DeflateParams::parse_offer(
        &offer(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits",
        )[0],
    )
    .unwrap();
    assert_eq!(
        params,
        DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: ClientMaxWindowBits::NoValue,
        }
    );
    let params =
        DeflateParams::parse_offer(&offer("permessage-deflate; client_max_window_bits=\"8\"")[0])
            .unwrap();
    assert_eq!(params.client_max_window_bits, ClientMaxWindowBits::Value(8));
}

#[test]
fn rfc7692_7_window_bits_are_8_to_15_without_leading_zeros() {
    for good in 8..=15u8 {
        let text = format!("permessage-deflate; server_max_window_bits={good}");
        assert_eq!(
            DeflateParams::parse_offer(&offer(&text)[0])
                .unwrap()
                .server_max_window_bits,
            Some(good)
        );
    }
    for bad in ["7", "16", "0", "08", "010", "1", "x", "-9", "9.0", "99"] {
        for param in ["server_max_window_bits", "client_max_window_bits"] {
            let text = format!("permessage-deflate; {param}={bad}");
            assert_eq!(
                DeflateParams::parse_offer(&offer(&text)[0]),
                Err(NegotiationError::InvalidValue {
                    param: Parameter::from_name(param).unwrap(),
                    value: bad.into()
                }),
                "{text}"
            );
        }
    }
}

#[test]
fn rfc7692_7_duplicate_unknown_and_misvalued_parameters_are_errors() {
    let parse = |text: &str| DeflateParams::parse_offer(&offer(text)[0]);
    assert_eq!(
        parse("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
        Err(NegotiationError::DuplicateParameter(
            Parameter::ServerNoContextTakeover
        ))
    );
    assert_eq!(
        parse("permessage-deflate; client_max_window_bits; client_max_window_bits=10"),
        Err(NegotiationError::DuplicateParameter(
            Parameter::ClientMaxWindowBits
        ))
    );
    assert_eq!(
        parse("permessage-deflate; x_max_window_bits=10"),
        Err(NegotiationError::UnknownParameter {
            name: "x_max_window_bits".into()
        })
    );
    assert_eq!(
        parse("permessage-deflate; client_no_context_takeover=1"),
        Err(NegotiationError::UnexpectedValue {
            param: Parameter::ClientNoContextTakeover,
            value: "1".into()
        })
    );
    assert_eq!(
        parse("permessage-deflate; server_max_window_bits"),
        Err(NegotiationError::MissingValue(
            Parameter::ServerMaxWindowBits
        ))
    );
    assert_eq!(
        DeflateParams::parse_response(&offer("permessage-deflate; client_max_window_bits")[0]),
        Err(NegotiationError::MissingValue(
            Parameter::ClientMaxWindowBits
        ))
    );
    // Errors name the parameter.
    let message = parse("permessage-deflate; server_max_window_bits=16")
        .unwrap_err()
        .to_string();
    assert!(message.contains("server_max_window_bits"), "{message}");
}

#[test]
fn parsing_is_linear_in_the_header_size() {
    // 20 000 offers, each declined for a duplicate: one pass over the header.
    let header = "permessage-deflate; a=1; a=1, ".repeat(20_000);
    let offers = offer(&header);
    let started = std::time::Instant::now();
    assert!(DeflateConfig::default().accept(&offers).is_none());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

// ----- negotiation: the server (RFC 7692 §5, §7.1) -----

#[test]
fn rfc7692_5_server_declines_politely_when_nothing_is_offered_or_acceptable() {
    let config = DeflateConfig::default();
    assert!(config.accept(&[]).is_none());
    assert!(config.accept(&offer("x-webkit-deflate-frame")).is_none());
    assert!(config
        .accept(&offer(
            "permessage-deflate; unknown, permessage-deflate; server_max_window_bits=8"
        ))
        .is_none());
    assert_eq!(
        config.accept_offer(&offer("permessage-deflate; server_max_window_bits=8")[0]),
        Err(NegotiationError::UnsupportedWindowBits {
            param: Parameter::ServerMaxWindowBits
        })
    );
}

#[test]
fn rfc7692_5_server_takes_the_first_acceptable_offer_in_order() {
    let config = DeflateConfig::default();
    let agreement = config
        .accept(&offer(
            "foo, permessage-deflate; bogus, permessage-deflate; client_no_context_takeover, \
             permessage-deflate",
        ))
        .unwrap();
    assert_eq!(agreement.role(), Role::Server);
    assert!(agreement.agreed().client_no_context_takeover);
    assert_eq!(
        agreement.response().to_string(),
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=12"
    );
}

#[test]
fn rfc7692_7_1_server_answers_what_a_browser_offers() {
    // Chrome and Firefox: `permessage-deflate; client_max_window_bits`.
    let agreement = DeflateConfig::default()
        .accept(&offer("permessage-deflate; client_max_window_bits"))
        .unwrap();
    assert_eq!(
        agreement.response().to_string(),
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    );
    assert_eq!(*agreement.agreed(), agreed(12, 12, false));
}

#[test]
fn rfc7692_7_1_2_2_server_never_sends_client_max_window_bits_unoffered() {
    let agreement = DeflateConfig::default()
        .accept(&offer("permessage-deflate"))
        .unwrap();
    assert_eq!(
        agreement.response().to_string(),
        "permessage-deflate; server_max_window_bits=12"
    );
    // The client may then use the full window, and the server reads it.
    assert_eq!(agreement.agreed().client_max_window_bits, 15);
}

#[test]
fn rfc7692_7_1_server_honours_what_the_client_asks_for() {
    let config = DeflateConfig {
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        ..DeflateConfig::default()
    };
    let agreement = config
        .accept(&offer(
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
             client_max_window_bits=11",
        ))
        .unwrap();
    assert_eq!(
        agreement.response().to_string(),
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
         client_max_window_bits=11"
    );
    assert_eq!(
        *agreement.agreed(),
        Agreed {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: 10,
            client_max_window_bits: 11,
        }
    );
    // Nothing asked, nothing constrained: the bare extension.
    assert_eq!(
        config
            .accept(&offer("permessage-deflate"))
            .unwrap()
            .response()
            .to_string(),
        "permessage-deflate"
    );
    // A client's 8 for its own window is fine: the server reads it with 9.
    let agreement = config
        .accept(&offer("permessage-deflate; client_max_window_bits=8"))
        .unwrap();
    assert_eq!(agreement.agreed().client_max_window_bits, 8);
}

#[test]
fn a_configured_8_is_used_as_9_in_both_directions() {
    let config = DeflateConfig {
        server_max_window_bits: 8,
        client_max_window_bits: 8,
        ..DeflateConfig::default()
    };
    let agreement = config
        .accept(&offer("permessage-deflate; client_max_window_bits"))
        .unwrap();
    assert_eq!(
        agreement.response().to_string(),
        "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9"
    );
    assert_eq!(
        config.offer().to_string(),
        "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9"
    );
}

// ----- negotiation: the client (RFC 7692 §5, §7.1) -----

#[test]
fn rfc7692_7_1_client_offer_carries_its_configuration() {
    assert_eq!(
        DeflateConfig {
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            ..DeflateConfig::default()
        }
        .offer()
        .to_string(),
        "permessage-deflate; client_max_window_bits"
    );
    assert_eq!(
        DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 8,
            client_max_window_bits: 8,
            ..DeflateConfig::default()
        }
        .offer()
        .to_string(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=9; client_max_window_bits=9"
    );
}

#[test]
fn rfc7692_5_client_without_the_extension_in_the_response_goes_without() {
    assert_eq!(DeflateConfig::default().accept_response(&[]), Ok(None));
    assert_eq!(
        DeflateConfig::default().accept_response(&offer("x-other")),
        Ok(None)
    );
}

#[test]
fn rfc7692_5_client_fails_on_each_bad_response() {
    let config = DeflateConfig::default(); // asks for 12 and 12
    let check = |header: &str| config.accept_response(&offer(header)).map(|_| ());
    assert_eq!(
        check("permessage-deflate; server_max_window_bits=12; bogus"),
        Err(NegotiationError::UnknownParameter {
            name: "bogus".into()
        })
    );
    assert_eq!(
        check("permessage-deflate; server_max_window_bits=12; server_max_window_bits=12"),
        Err(NegotiationError::DuplicateParameter(
            Parameter::ServerMaxWindowBits
        ))
    );
    assert_eq!(
        check("permessage-deflate"),
        Err(NegotiationError::NotAccepted(
            Parameter::ServerMaxWindowBits
        ))
    );
    assert_eq!(
        check("permessage-deflate; server_max_window_bits=13"),
        Err(NegotiationError::LargerThanOffered {
            param: Parameter::ServerMaxWindowBits,
            offered: 12,
            got: 13
        })
    );
    assert_eq!(
        check("permessage-deflate; server_max_window_bits=12; client_max_window_bits=13"),
        Err(NegotiationError::LargerThanOffered {
            param: Parameter::ClientMaxWindowBits,
            offered: 12,
            got: 13
        })
    );
    assert_eq!(
        check("permessage-deflate; server_max_window_bits=12; client_max_window_bits=8"),
        Err(NegotiationError::UnsupportedWindowBits {
            param: Parameter::ClientMaxWindowBits
        })
    );
    assert_eq!(
        check("permessage-deflate; server_max_window_bits=12; client_max_window_bits"),
        Err(NegotiationError::MissingValue(
            Parameter::ClientMaxWindowBits
        ))
    );
    assert_eq!(
        check("permessage-deflate; server_max_window_bits=12, permessage-deflate"),
        Err(NegotiationError::DuplicateExtension)
    );
    let asks_reset = DeflateConfig {
        server_no_context_takeover: true,
        ..DeflateConfig::default()
    };
    assert_eq!(
        asks_reset
            .accept_response(&offer("permessage-deflate; server_max_window_bits=12"))
            .map(|_| ()),
        Err(NegotiationError::NotAccepted(
            Parameter::ServerNoContextTakeover
        ))
    );
}

#[test]
fn rfc7692_7_1_client_accepts_what_the_server_may_add() {
    let config = DeflateConfig {
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        ..DeflateConfig::default()
    };
    let agreement = config
        .accept_response(&offer(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=8; client_max_window_bits=10",
        ))
        .unwrap()
        .unwrap();
    assert_eq!(agreement.role(), Role::Client);
    assert_eq!(
        *agreement.agreed(),
        Agreed {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 8,
            client_max_window_bits: 10,
        }
    );
}

#[test]
fn both_roles_agree_with_each_other() {
    let configs = [
        DeflateConfig::default(),
        DeflateConfig {
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            ..DeflateConfig::default()
        },
        DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 8,
            client_max_window_bits: 9,
            ..DeflateConfig::default()
        },
    ];
    for client in &configs {
        for server in &configs {
            let accepted = server.accept(&[client.offer()]).unwrap();
            let agreed = client
                .accept_response(&[accepted.response().clone()])
                .unwrap()
                .unwrap();
            assert_eq!(agreed.agreed(), accepted.agreed(), "{client:?} {server:?}");
        }
    }
}

// ----- over a connection pair -----

#[test]
fn rfc7692_6_compressed_messages_cross_a_pair_with_rsv1_on_the_first_frame_only() {
    let mut config = Config::default();
    config.fragment_size = Some(7);
    let deflate = DeflateConfig::default();
    let mut pair = Pair::negotiated(&deflate, &deflate, config).expect("acceptable");
    let text = "{\"type\":\"chat\",\"text\":\"hello hello hello hello hello\"}";
    pair.client.send_text(text).unwrap();
    let wire = transmit(&mut pair.client);
    let sent = frames(&wire);
    assert!(sent.len() > 1);
    assert_eq!(sent[0].0.rsv, RSV1);
    assert!(sent[1..].iter().all(|(header, _)| header.rsv == 0));
    assert_eq!(feed(&mut pair.server, &wire), [Ev::Text(text.into())]);
    // Control frames are never compressed.
    pair.server
        .send_ping(b"ping ping ping ping ping ping ping ping")
        .unwrap();
    pair.server.send_binary(&[7; 1000]).unwrap();
    let wire = transmit(&mut pair.server);
    let sent = frames(&wire);
    assert_eq!(sent[0].0.rsv, 0);
    assert_eq!(sent[0].1, b"ping ping ping ping ping ping ping ping");
    assert_eq!(
        feed(&mut pair.client, &wire),
        [
            Ev::Ping(b"ping ping ping ping ping ping ping ping".to_vec()),
            Ev::Binary(vec![7; 1000])
        ]
    );
}

#[test]
fn rfc7692_streamed_sends_are_compressed_across_pieces() {
    let deflate = DeflateConfig::default();
    let mut pair = Pair::negotiated(&deflate, &deflate, Config::default()).expect("acceptable");
    pair.server
        .send_chunk(MessageKind::Text, b"stream ", false)
        .unwrap();
    pair.server
        .send_chunk(MessageKind::Text, b"stream stream ", false)
        .unwrap();
    pair.server
        .send_chunk(MessageKind::Text, b"end", true)
        .unwrap();
    let wire = transmit(&mut pair.server);
    assert_eq!(frames(&wire)[0].0.rsv, RSV1);
    assert_eq!(
        feed(&mut pair.client, &wire),
        [Ev::Text("stream stream stream end".into())]
    );
}

#[test]
fn rfc7692_6_1_a_compressed_frame_without_the_extension_is_1002() {
    let mut server = common::server(Config::default());
    let events = feed(
        &mut server,
        &client_frame(0xC1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
    );
    assert_eq!(
        events,
        [Ev::Error(Error::Protocol(ProtocolError::ReservedBits(
            RSV1
        )))]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1002)));
}

#[test]
fn rfc7692_6_1_rsv1_on_a_continuation_frame_is_1002() {
    let deflate = DeflateConfig::default();
    let mut pair = Pair::negotiated(&deflate, &deflate, Config::default()).expect("acceptable");
    let mut bytes = client_frame(0x41, &[0xf2, 0x48, 0xcd]);
    bytes.extend(client_frame(0xC0, &[0xc9, 0xc9, 0x07, 0x00]));
    assert_eq!(
        feed(&mut pair.server, &bytes),
        [Ev::Error(Error::Protocol(ProtocolError::ReservedBits(
            RSV1
        )))]
    );
    assert_eq!(
        close_code_sent(&transmit(&mut pair.server)),
        Some(Some(1002))
    );
}

#[test]
fn rfc7692_a_corrupt_compressed_message_is_1007() {
    let deflate = DeflateConfig::default();
    let mut pair = Pair::negotiated(&deflate, &deflate, Config::default()).expect("acceptable");
    let events = feed(&mut pair.server, &client_frame(0xC2, &[0xff, 0xff, 0xff]));
    assert!(
        matches!(
            events.as_slice(),
            [Ev::Error(Error::Protocol(ProtocolError::Extension(
                ExtensionError::InvalidData(_)
            )))]
        ),
        "{events:?}"
    );
    assert_eq!(
        close_code_sent(&transmit(&mut pair.server)),
        Some(Some(1007))
    );
}

#[test]
fn rfc7692_compressed_text_is_checked_as_utf8_after_inflating() {
    let mut sender = codec();
    let (_, bad) = encode(&mut sender, &[b'a', 0xff, b'b']);
    let deflate = DeflateConfig::default();
    let mut pair = Pair::negotiated(&deflate, &deflate, Config::default()).expect("acceptable");
    let events = feed(&mut pair.server, &client_frame(0xC1, &bad));
    assert_eq!(
        events,
        [Ev::Error(Error::Protocol(ProtocolError::InvalidUtf8))]
    );
    assert_eq!(
        close_code_sent(&transmit(&mut pair.server)),
        Some(Some(1007))
    );
}

#[test]
fn rfc7692_a_message_inflating_past_the_limit_is_1009() {
    let mut config = Config::default();
    config.max_message_size = 1000;
    let deflate = DeflateConfig::default();
    let mut pair = Pair::negotiated(&deflate, &deflate, config).expect("acceptable");
    let mut sender = codec();
    let (_, big) = encode(&mut sender, &[b'x'; 1001]);
    let events = feed(&mut pair.server, &client_frame(0xC2, &big));
    assert_eq!(
        events,
        [Ev::Error(Error::Protocol(ProtocolError::Extension(
            ExtensionError::TooBig { max: 1000 }
        )))]
    );
    assert_eq!(
        close_code_sent(&transmit(&mut pair.server)),
        Some(Some(1009))
    );
}

#[test]
fn rfc7692_a_message_at_the_limit_passes() {
    let mut config = Config::default();
    config.max_message_size = 1000;
    let deflate = DeflateConfig::default();
    let mut pair = Pair::negotiated(&deflate, &deflate, config).expect("acceptable");
    let mut sender = codec();
    let (_, fits) = encode(&mut sender, &[b'x'; 1000]);
    assert_eq!(
        feed(&mut pair.server, &client_frame(0xC2, &fits)),
        [Ev::Binary(vec![b'x'; 1000])]
    );
}

#[test]
fn streaming_mode_hands_out_inflated_chunks() {
    let mut config = Config::default();
    config.streaming = true;
    let deflate = DeflateConfig::default();
    let mut pair = Pair::negotiated(&deflate, &deflate, config).expect("acceptable");
    let payload: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    pair.client.send_binary(&payload).unwrap();
    let wire = transmit(&mut pair.client);
    let mut got = Vec::new();
    for piece in wire.chunks(1000) {
        for event in feed(&mut pair.server, piece) {
            match event {
                Ev::Chunk { data, .. } => got.extend(data),
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(got, payload);
}
