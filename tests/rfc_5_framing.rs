//! RFC 6455 §5.1–§5.4 and §5.6: masking direction, reserved bits and
//! opcodes, fragmentation, and the limits checked on frame headers.

mod common;

use common::{
    client, client_frame, close_code_sent, events, feed, frame, server, transmit, Ev, Pair,
};
use rfc6455::{Config, Error, MessageKind, ProtocolError, State};

fn protocol_error(error: ProtocolError) -> Ev {
    Ev::Error(Error::Protocol(error))
}

/// Feeds a client's frame to a server and returns its events and the close
/// code it sent.
fn server_gets(bytes: &[u8]) -> (Vec<Ev>, Option<Option<u16>>) {
    let mut server = server(Config::default());
    let events = feed(&mut server, bytes);
    (events, close_code_sent(&transmit(&mut server)))
}

fn client_gets(bytes: &[u8]) -> (Vec<Ev>, Option<Option<u16>>) {
    let mut client = client(Config::default());
    let events = feed(&mut client, bytes);
    (events, close_code_sent(&transmit(&mut client)))
}

#[test]
fn server_rejects_an_unmasked_frame_with_1002() {
    let (events, code) = server_gets(&frame(0x81, b"hi", None));
    assert_eq!(events, [protocol_error(ProtocolError::UnmaskedFrame)]);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn client_rejects_a_masked_frame_with_1002() {
    let (events, code) = client_gets(&client_frame(0x81, b"hi"));
    assert_eq!(events, [protocol_error(ProtocolError::MaskedFrame)]);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn client_masks_every_frame_and_server_masks_none() {
    let mut pair = Pair::new();
    pair.client.send_text("a").unwrap();
    pair.client.send_ping(b"p").unwrap();
    pair.client.close(1000u16, "").unwrap();
    for (header, _) in common::frames(&transmit(&mut pair.client)) {
        assert!(header.mask.is_some());
    }
    pair.server.send_binary(b"b").unwrap();
    pair.server.close(1000u16, "").unwrap();
    for (header, _) in common::frames(&transmit(&mut pair.server)) {
        assert!(header.mask.is_none());
    }
}

#[test]
fn client_mask_keys_differ_between_frames() {
    let mut client = client(Config::default());
    for _ in 0..8 {
        client.send_binary(b"x").unwrap();
    }
    let keys: std::collections::HashSet<_> = common::frames(&transmit(&mut client))
        .into_iter()
        .map(|(header, _)| header.mask.unwrap())
        .collect();
    assert!(keys.len() > 1, "eight frames, one key");
}

#[test]
fn reserved_bits_without_an_extension_are_a_protocol_error_in_both_roles() {
    for first_byte in [0xC1, 0xA1, 0x91] {
        let rsv = (first_byte >> 4) & 0b111;
        let (events, code) = server_gets(&client_frame(first_byte, b"x"));
        assert_eq!(events, [protocol_error(ProtocolError::ReservedBits(rsv))]);
        assert_eq!(code, Some(Some(1002)));
        let (events, _) = client_gets(&frame(first_byte, b"x", None));
        assert_eq!(events, [protocol_error(ProtocolError::ReservedBits(rsv))]);
    }
}

#[test]
fn reserved_opcodes_are_a_protocol_error_in_both_roles() {
    for opcode in [0x3, 0x7, 0xB, 0xF] {
        let (events, code) = server_gets(&client_frame(0x80 | opcode, b""));
        assert_eq!(
            events,
            [protocol_error(ProtocolError::ReservedOpcode(opcode))]
        );
        assert_eq!(code, Some(Some(1002)));
        let (events, _) = client_gets(&frame(0x80 | opcode, b"", None));
        assert_eq!(
            events,
            [protocol_error(ProtocolError::ReservedOpcode(opcode))]
        );
    }
}

#[test]
fn a_64_bit_length_with_the_top_bit_set_is_a_protocol_error() {
    let mut bytes = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
    bytes.extend_from_slice(&[1, 2, 3, 4]);
    let (events, code) = server_gets(&bytes);
    assert_eq!(
        events,
        [protocol_error(ProtocolError::InvalidPayloadLength)]
    );
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn fragments_are_reassembled_with_control_frames_between_them() {
    let mut bytes = client_frame(0x01, b"Hel");
    bytes.extend(client_frame(0x89, b"ping"));
    bytes.extend(client_frame(0x00, b"l"));
    bytes.extend(client_frame(0x8A, b"pong"));
    bytes.extend(client_frame(0x80, b"o"));
    let mut server = server(Config::default());
    assert_eq!(
        feed(&mut server, &bytes),
        [
            Ev::Ping(b"ping".to_vec()),
            Ev::Pong(b"pong".to_vec()),
            Ev::Text("Hello".into())
        ]
    );
    assert_eq!(transmit(&mut server), frame(0x8A, b"ping", None));
}

#[test]
fn a_continuation_without_a_message_is_a_protocol_error() {
    let (events, code) = server_gets(&client_frame(0x80, b"orphan"));
    assert_eq!(
        events,
        [protocol_error(ProtocolError::UnexpectedContinuation)]
    );
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn a_new_data_frame_inside_a_fragmented_message_is_a_protocol_error() {
    let mut bytes = client_frame(0x01, b"start");
    bytes.extend(client_frame(0x82, b"new"));
    let (events, code) = server_gets(&bytes);
    assert_eq!(
        events,
        [protocol_error(ProtocolError::ExpectedContinuation)]
    );
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn empty_fragments_and_empty_messages_are_delivered() {
    let mut bytes = client_frame(0x81, b"");
    bytes.extend(client_frame(0x02, b""));
    bytes.extend(client_frame(0x00, b""));
    bytes.extend(client_frame(0x80, b""));
    assert_eq!(
        feed(&mut server(Config::default()), &bytes),
        [Ev::Text(String::new()), Ev::Binary(Vec::new())]
    );
}

#[test]
fn a_frame_over_the_frame_limit_is_refused_on_its_header_with_1009() {
    let mut config = Config::default();
    config.max_frame_size = 1000;
    let mut server = server(config);
    // Only the header: the payload never arrives, the refusal is immediate.
    let header = &client_frame(0x82, &[0; 1001])[..8];
    assert_eq!(
        feed(&mut server, header),
        [protocol_error(ProtocolError::FrameTooBig {
            size: 1001,
            max: 1000
        })]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1009)));
    assert_eq!(server.state(), State::Closed);
    assert!(server.should_close_transport());
}

#[test]
fn a_message_over_the_message_limit_is_refused_when_the_header_announces_it() {
    let mut config = Config::default();
    config.max_message_size = 10;
    let mut server = server(config);
    let mut bytes = client_frame(0x02, b"123456");
    bytes.extend_from_slice(&client_frame(0x80, b"12345")[..6]);
    assert_eq!(
        feed(&mut server, &bytes),
        [protocol_error(ProtocolError::MessageTooBig {
            size: 11,
            max: 10
        })]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1009)));
}

#[test]
fn too_many_fragments_are_refused_with_1008() {
    let mut config = Config::default();
    config.max_fragments = 3;
    let mut server = server(config);
    let mut bytes = client_frame(0x01, b"a");
    for _ in 0..3 {
        bytes.extend(client_frame(0x00, b""));
    }
    assert_eq!(
        feed(&mut server, &bytes),
        [protocol_error(ProtocolError::TooManyFragments { max: 3 })]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1008)));
}

#[test]
fn a_message_of_exactly_the_limits_is_accepted() {
    let mut config = Config::default();
    config.max_message_size = 6;
    config.max_frame_size = 3;
    config.max_fragments = 2;
    let mut bytes = client_frame(0x02, b"abc");
    bytes.extend(client_frame(0x80, b"def"));
    assert_eq!(
        feed(&mut server(config), &bytes),
        [Ev::Binary(b"abcdef".to_vec())]
    );
}

#[test]
fn a_frame_larger_than_the_read_buffer_is_assembled_from_its_pieces() {
    let mut config = Config::default();
    config.read_buffer_size = 16;
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let bytes = client_frame(0x82, &payload);
    let mut server = server(config);
    let mut got = Vec::new();
    for piece in bytes.chunks(1000) {
        got.extend(feed(&mut server, piece));
    }
    assert_eq!(got, [Ev::Binary(payload)]);
}

#[test]
fn receive_buffer_and_commit_deliver_like_receive() {
    let mut bytes = client_frame(0x81, b"in place");
    bytes.extend(client_frame(0x01, b"assem"));
    bytes.extend(client_frame(0x80, b"bled"));
    let mut server = server(Config::default());
    let mut got = Vec::new();
    for piece in bytes.chunks(5) {
        let buf = server.receive_buffer();
        buf[..piece.len()].copy_from_slice(piece);
        server.commit(piece.len());
        got.extend(events(&mut server));
    }
    assert_eq!(
        got,
        [Ev::Text("in place".into()), Ev::Text("assembled".into())]
    );
}

#[test]
fn outgoing_messages_are_fragmented_at_the_configured_size() {
    let mut config = Config::default();
    config.fragment_size = Some(4);
    let mut pair = Pair::with_configs(config, Config::default());
    pair.client.send_binary(&[7; 10]).unwrap();
    let sent = transmit(&mut pair.client);
    let frames = common::frames(&sent);
    let sizes: Vec<_> = frames.iter().map(|(_, payload)| payload.len()).collect();
    assert_eq!(sizes, [4, 4, 2]);
    assert!(frames.iter().take(2).all(|(header, _)| !header.fin));
    assert!(frames[2].0.fin);
    assert_eq!(feed(&mut pair.server, &sent), [Ev::Binary(vec![7; 10])]);
}

#[test]
fn a_streamed_send_arrives_as_one_message() {
    let mut pair = Pair::new();
    pair.client
        .send_chunk(MessageKind::Text, "κό".as_bytes(), false)
        .unwrap();
    pair.client.send_ping(b"between").unwrap();
    pair.client
        .send_chunk(MessageKind::Text, &"σμε".as_bytes()[..1], false)
        .unwrap();
    pair.client
        .send_chunk(MessageKind::Text, &"σμε".as_bytes()[1..], true)
        .unwrap();
    assert_eq!(
        pair.to_server(),
        [Ev::Ping(b"between".to_vec()), Ev::Text("κόσμε".into())]
    );
}

#[test]
fn a_streamed_send_refuses_other_messages_until_it_ends() {
    let mut client = client(Config::default());
    client.send_chunk(MessageKind::Binary, b"a", false).unwrap();
    assert_eq!(
        client.send_text("x"),
        Err(rfc6455::UsageError::MessageInProgress)
    );
    assert_eq!(
        client.send_chunk(MessageKind::Text, b"x", true),
        Err(rfc6455::UsageError::MessageKindMismatch {
            started: MessageKind::Binary,
            got: MessageKind::Text
        })
    );
    client.send_chunk(MessageKind::Binary, b"b", true).unwrap();
    client.send_text("x").unwrap();
}

#[test]
fn streaming_delivers_pieces_as_they_arrive() {
    let mut config = Config::default();
    config.streaming = true;
    let mut server = server(config);
    let mut bytes = client_frame(0x02, b"abcdef");
    bytes.extend(client_frame(0x80, b""));
    let mut got = Vec::new();
    for piece in bytes.chunks(5) {
        got.extend(feed(&mut server, piece));
    }
    let chunk = |data: &[u8], first, last| Ev::Chunk {
        kind: MessageKind::Binary,
        data: data.to_vec(),
        first,
        last,
    };
    assert_eq!(
        got,
        [
            // The first read holds only the 6-byte header minus one byte.
            chunk(b"abcd", true, false),
            chunk(b"ef", false, false),
            chunk(b"", false, true)
        ]
    );
}

/// Hands `bytes` in through `receive_buffer` + `commit`, at most `read`
/// bytes at a time, collecting the events.
fn read_in(server: &mut rfc6455::Connection, mut bytes: &[u8], read: usize) -> Vec<Ev> {
    let mut got = Vec::new();
    while !bytes.is_empty() {
        let buf = server.receive_buffer();
        let n = buf.len().min(read).min(bytes.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        server.commit(n);
        bytes = &bytes[n..];
        got.extend(events(server));
    }
    got
}

#[test]
fn large_frames_read_straight_into_the_message_buffer_arrive_whole() {
    // Frames past `read_buffer_size` are assembled: once their header is
    // parsed, `receive_buffer` lends the message buffer itself and
    // `receive` copies into it, unmasking as it goes. Two-byte code points
    // fall across every read boundary, and the frames outgrow one direct
    // read (256 KiB).
    let text: String = "é-".repeat(150_000);
    let binary: Vec<u8> = (0..300_000u32).map(|i| (i * 7) as u8).collect();
    let mut bytes = client_frame(0x81, text.as_bytes());
    bytes.extend(client_frame(0x82, &binary));
    bytes.extend(client_frame(0x01, &text.as_bytes()[..100_001]));
    bytes.extend(client_frame(0x80, &text.as_bytes()[100_001..]));
    bytes.extend(client_frame(0x81, b"small"));
    let expected = [
        Ev::Text(text.clone()),
        Ev::Binary(binary),
        Ev::Text(text),
        Ev::Text("small".into()),
    ];
    for read in [1000, 8191, 65_536, 100_003, 1 << 20] {
        let mut reader = server(Config::default());
        assert_eq!(read_in(&mut reader, &bytes, read), expected, "read {read}");
        let mut receiver = server(Config::default());
        let mut got = Vec::new();
        for piece in bytes.chunks(read) {
            got.extend(feed(&mut receiver, piece));
        }
        assert_eq!(got, expected, "receive {read}");
    }
}

#[test]
fn invalid_utf8_read_straight_into_the_message_buffer_fails_on_that_read() {
    let mut payload = "a".repeat(200_000).into_bytes();
    payload[150_000] = 0xff;
    let bytes = client_frame(0x81, &payload);
    let invalid = Ev::Error(Error::Protocol(ProtocolError::InvalidUtf8));
    // Through receive_buffer: the read that holds byte 150,000 (with its
    // header, the frame's byte 150,014) fails, before the frame ends.
    let mut reader = server(Config::default());
    assert_eq!(read_in(&mut reader, &bytes[..140_000], 20_000), []);
    let got = read_in(&mut reader, &bytes[140_000..160_000], 20_000);
    assert_eq!(got, std::slice::from_ref(&invalid));
    assert_eq!(reader.state(), State::Closed);
    // Through receive.
    let mut receiver = server(Config::default());
    assert_eq!(feed(&mut receiver, &bytes[..140_000]), []);
    assert_eq!(feed(&mut receiver, &bytes[140_000..160_000]), [invalid]);
    assert_eq!(receiver.state(), State::Closed);
}
