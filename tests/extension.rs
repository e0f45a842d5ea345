//! RFC 6455 §9 and the extension seam: reserved bits belong to the
//! negotiated extension, which transforms data payloads both ways.

mod common;

use common::{client_frame, close_code_sent, feed, transmit, Ev, Pair};
use rfc6455::extension::{Extension, ExtensionError};
use rfc6455::{Config, Connection, Error, MessageKind, ProtocolError, Role};

/// A toy transformation: XOR with 0x55 on messages flagged with RSV1;
/// `expand` makes the decoder write every byte twice (an expanding decoder,
/// like decompression).
struct Xor {
    expand: bool,
}

impl Extension for Xor {
    fn reserved_bits(&self) -> u8 {
        0b100
    }

    fn encode(
        &mut self,
        _kind: MessageKind,
        payload: &[u8],
        _first: bool,
        _last: bool,
        out: &mut Vec<u8>,
    ) -> Result<u8, ExtensionError> {
        out.extend(payload.iter().map(|b| b ^ 0x55));
        Ok(0b100)
    }

    fn begin_decode(&mut self, _kind: MessageKind, rsv: u8) -> Result<bool, ExtensionError> {
        Ok(rsv & 0b100 != 0)
    }

    fn decode(
        &mut self,
        input: &[u8],
        _last: bool,
        out: &mut Vec<u8>,
        max_output: usize,
    ) -> Result<(), ExtensionError> {
        let copies = if self.expand { 2 } else { 1 };
        if input.len() * copies > max_output {
            return Err(ExtensionError::TooBig { max: max_output });
        }
        for byte in input {
            for _ in 0..copies {
                out.push(byte ^ 0x55);
            }
        }
        Ok(())
    }
}

fn with_xor(conn: Connection) -> Connection {
    conn.with_extension(Box::new(Xor { expand: false }))
}

fn xor_pair(client_config: Config, server_config: Config) -> Pair {
    let pair = Pair::with_configs(client_config, server_config);
    Pair {
        client: with_xor(pair.client),
        server: with_xor(pair.server),
    }
}

#[test]
fn payloads_pass_through_the_extension_both_ways_with_rsv1_on_the_first_frame_only() {
    let mut config = Config::default();
    config.fragment_size = Some(3);
    let mut pair = xor_pair(config.clone(), config);
    pair.client.send_text("hello").unwrap();
    let sent = transmit(&mut pair.client);
    let frames = common::frames(&sent);
    assert_eq!(frames.len(), 2);
    assert_eq!((frames[0].0.rsv, frames[1].0.rsv), (0b100, 0));
    assert_eq!(
        frames[0].1,
        b"hel".iter().map(|b| b ^ 0x55).collect::<Vec<_>>()
    );
    assert_eq!(feed(&mut pair.server, &sent), [Ev::Text("hello".into())]);
    pair.server.send_binary(b"back").unwrap();
    assert_eq!(pair.to_client(), [Ev::Binary(b"back".to_vec())]);
}

#[test]
fn a_message_without_the_extensions_bit_is_not_transformed() {
    let mut server = with_xor(common::server(Config::default()));
    assert_eq!(
        feed(&mut server, &client_frame(0x82, b"plain")),
        [Ev::Binary(b"plain".to_vec())]
    );
}

#[test]
fn control_frames_never_carry_the_extensions_bit() {
    let mut server = with_xor(common::server(Config::default()));
    assert_eq!(
        feed(&mut server, &client_frame(0xC9, b"")),
        [Ev::Error(Error::Protocol(ProtocolError::ReservedBits(
            0b100
        )))]
    );
}

#[test]
fn continuation_frames_never_carry_the_extensions_bit() {
    let mut server = with_xor(common::server(Config::default()));
    let mut bytes = client_frame(0x42, b"a");
    bytes.extend(client_frame(0xC0, b"b"));
    assert_eq!(
        feed(&mut server, &bytes),
        [Ev::Error(Error::Protocol(ProtocolError::ReservedBits(
            0b100
        )))]
    );
}

#[test]
fn bits_the_extension_does_not_claim_stay_reserved() {
    let mut server = with_xor(common::server(Config::default()));
    assert_eq!(
        feed(&mut server, &client_frame(0xA2, b"")),
        [Ev::Error(Error::Protocol(ProtocolError::ReservedBits(
            0b010
        )))]
    );
}

#[test]
fn an_expanding_decoder_is_stopped_at_the_message_limit_with_1009() {
    let mut config = Config::default();
    config.max_message_size = 100;
    let mut server = common::server(config).with_extension(Box::new(Xor { expand: true }));
    let mut bytes = client_frame(0x42, &[0; 40]);
    bytes.extend(client_frame(0x80, &[0; 40]));
    assert_eq!(
        feed(&mut server, &bytes),
        [Ev::Error(Error::Protocol(ProtocolError::Extension(
            ExtensionError::TooBig { max: 20 }
        )))]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1009)));
}

#[test]
fn decoded_messages_stream_as_chunks() {
    let mut config = Config::default();
    config.streaming = true;
    let mut server = with_xor(Connection::new(Role::Server, config));
    let payload: Vec<u8> = b"streamed".iter().map(|b| b ^ 0x55).collect();
    let bytes = client_frame(0x42, &payload);
    let mut got = Vec::new();
    for piece in [&bytes[..10], &bytes[10..]] {
        got.extend(feed(&mut server, piece));
    }
    let data: Vec<u8> = got
        .iter()
        .flat_map(|ev| match ev {
            Ev::Chunk { data, .. } => data.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(data, b"streamed");
}
