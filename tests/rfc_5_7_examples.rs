//! RFC 6455 §5.7: the specification's frame examples, byte for byte, in both
//! directions.

mod common;

use common::{client, events, feed, server, transmit, Ev};
use rand::RngCore;
use rfc6455::{Config, Connection, Role};

/// A generator that always yields the §5.7 masking key 37 fa 21 3d.
struct ExampleKey;

impl RngCore for ExampleKey {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes([0x37, 0xfa, 0x21, 0x3d])
    }
    fn next_u64(&mut self) -> u64 {
        u64::from(self.next_u32())
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for (i, byte) in dest.iter_mut().enumerate() {
            *byte = [0x37, 0xfa, 0x21, 0x3d][i % 4];
        }
    }
}

fn example_client() -> Connection {
    Connection::with_rng(Role::Client, Config::default(), Box::new(ExampleKey))
}

const UNMASKED_HELLO: [u8; 7] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
const MASKED_HELLO: [u8; 11] = [
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

#[test]
fn single_frame_unmasked_text_is_what_a_server_sends_and_a_client_reads() {
    let mut server = server(Config::default());
    server.send_text("Hello").unwrap();
    assert_eq!(transmit(&mut server), UNMASKED_HELLO);
    assert_eq!(
        feed(&mut client(Config::default()), &UNMASKED_HELLO),
        [Ev::Text("Hello".into())]
    );
}

#[test]
fn single_frame_masked_text_is_what_a_client_sends_and_a_server_reads() {
    let mut client = example_client();
    client.send_text("Hello").unwrap();
    assert_eq!(transmit(&mut client), MASKED_HELLO);
    assert_eq!(
        feed(&mut server(Config::default()), &MASKED_HELLO),
        [Ev::Text("Hello".into())]
    );
}

#[test]
fn fragmented_unmasked_text_is_reassembled() {
    let bytes = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    assert_eq!(
        feed(&mut client(Config::default()), &bytes),
        [Ev::Text("Hello".into())]
    );
    let mut config = Config::default();
    config.fragment_size = Some(3);
    let mut server = server(config);
    server.send_text("Hello").unwrap();
    assert_eq!(transmit(&mut server), bytes);
}

#[test]
fn unmasked_ping_is_answered_by_the_masked_pong_of_the_example() {
    let mut client = example_client();
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(feed(&mut client, &ping), [Ev::Ping(b"Hello".to_vec())]);
    assert_eq!(
        transmit(&mut client),
        [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    );
}

#[test]
fn binary_of_256_bytes_uses_a_16_bit_length() {
    let payload = vec![0xAB; 256];
    let mut server = server(Config::default());
    server.send_binary(&payload).unwrap();
    let bytes = transmit(&mut server);
    assert_eq!(bytes[..4], [0x82, 0x7E, 0x01, 0x00]);
    assert_eq!(bytes[4..], payload[..]);
    assert_eq!(
        feed(&mut client(Config::default()), &bytes),
        [Ev::Binary(payload)]
    );
}

#[test]
fn binary_of_64_kib_uses_a_64_bit_length() {
    let payload: Vec<u8> = (0..65536u32).map(|i| i as u8).collect();
    let mut server = server(Config::default());
    server.send_binary(&payload).unwrap();
    let bytes = transmit(&mut server);
    assert_eq!(bytes[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
    assert_eq!(bytes[10..], payload[..]);
    let mut client = client(Config::default());
    client.receive(&bytes);
    assert_eq!(events(&mut client), [Ev::Binary(payload)]);
}
