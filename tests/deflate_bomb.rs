//! Decompression bombs (RFC 7692 over RFC 6455 §10.4): a compressed
//! message that inflates far past `max_message_size` fails the connection
//! with 1009 while the heap stays near the limit, whether it comes in one
//! frame, in fragments, or spread over messages sharing a window.
//!
//! Measured with a counting allocator that counts per thread, so the peak
//! belongs to the test that reads it.
#![cfg(feature = "deflate")]

mod common;

use common::counting::Peak;
use common::{client_frame, close_code_sent, transmit};
use flate2::{Compress, Compression, FlushCompress};
use rfc6455::deflate::DeflateConfig;
use rfc6455::extension::ExtensionError;
use rfc6455::{Config, Connection, Error, Event, ProtocolError};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

const MIB: usize = 1 << 20;
const LIMIT: usize = MIB;
/// What the heap may grow by over the limit: the inflater (about 46 KiB),
/// the receive buffer and the connection's small buffers.
const SLACK: usize = 256 << 10;

/// The pieces of a bomb: `first` inflates to 1 MiB of zeros on a fresh
/// stream; `more` inflates to another 1 MiB of zeros after it, and can be
/// repeated (it only refers back to zeros and ends on a byte boundary).
/// DEFLATE cannot do better than about 1:1000, so 1 GiB of output takes
/// about 1 MiB of input.
struct Bomb {
    first: Vec<u8>,
    more: Vec<u8>,
}

fn bomb() -> Bomb {
    let zeros = vec![0u8; MIB];
    let mut compress = Compress::new_with_window_bits(Compression::best(), false, 15);
    let mut section = || {
        let mut out = Vec::with_capacity(64 << 10);
        compress
            .compress_vec(&zeros, &mut out, FlushCompress::Sync)
            .unwrap();
        assert_eq!(compress.total_in() as usize % MIB, 0);
        out
    };
    let first = section();
    let more = section();
    Bomb { first, more }
}

impl Bomb {
    /// A message inflating to `mib` MiB, with its sync-flush tail
    /// removed as a sender would.
    fn message(&self, mib: usize) -> Vec<u8> {
        let mut out = self.first.clone();
        for _ in 1..mib {
            out.extend_from_slice(&self.more);
        }
        out.truncate(out.len() - 4);
        out
    }

    /// The continuation of a stream, inflating to `mib` MiB.
    fn continued(&self, mib: usize) -> Vec<u8> {
        let mut out = self.more.repeat(mib);
        out.truncate(out.len() - 4);
        out
    }
}

fn server() -> Connection {
    let deflate = DeflateConfig {
        client_max_window_bits: 15,
        ..DeflateConfig::default()
    };
    let agreement = deflate.accept(&[deflate.offer()]).unwrap();
    let mut config = Config::default();
    config.max_message_size = LIMIT;
    common::server(config).with_extension(Box::new(agreement.into_extension()))
}

/// What one message came out as.
#[derive(Debug, PartialEq)]
enum Got {
    Binary(usize),
    Failed(Error),
}

/// Feeds `wire` in 16 KiB reads and returns what came out; never copies a
/// message, so the peak is the connection's own.
fn run(conn: &mut Connection, wire: &[u8]) -> Vec<Got> {
    let mut got = Vec::with_capacity(16);
    for piece in wire.chunks(16 << 10) {
        conn.receive(piece);
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Binary(data))) => {
                    assert!(data.iter().all(|&b| b == 0));
                    got.push(Got::Binary(data.len()));
                }
                Ok(Some(other)) => panic!("{other:?}"),
                Ok(None) => break,
                Err(error) => {
                    got.push(Got::Failed(error));
                    return got;
                }
            }
        }
    }
    got
}

/// Runs `wire` through a fresh server and returns what it got and the peak
/// heap growth.
fn measure(name: &str, wire: &[u8]) -> (Vec<Got>, Connection) {
    let mut conn = server();
    let measured = Peak::start();
    let got = run(&mut conn, wire);
    let peak = measured.bytes();
    println!(
        "{name}: {} KiB compressed, peak heap growth {} KiB (limit {} KiB)",
        wire.len() / 1024,
        peak / 1024,
        LIMIT / 1024
    );
    assert!(peak <= LIMIT + SLACK, "{name}: peak {peak}");
    (got, conn)
}

fn too_big() -> Got {
    Got::Failed(Error::Protocol(ProtocolError::Extension(
        ExtensionError::TooBig { max: LIMIT },
    )))
}

#[test]
fn a_1_gib_bomb_in_one_frame_fails_with_1009_near_the_limit() {
    let bomb = bomb();
    let payload = bomb.message(1024);
    let wire = client_frame(0xC2, &payload);
    let (got, mut conn) = measure("1 GiB in one frame", &wire);
    assert_eq!(got, [too_big()]);
    assert_eq!(close_code_sent(&transmit(&mut conn)), Some(Some(1009)));
}

#[test]
fn a_2_kib_bomb_fails_with_1009() {
    let bomb = bomb();
    let payload = bomb.message(2);
    assert!(payload.len() < 4 << 10, "{}", payload.len());
    let (got, mut conn) = measure("2 MiB from a few KiB", &client_frame(0xC2, &payload));
    assert_eq!(got, [too_big()]);
    assert_eq!(close_code_sent(&transmit(&mut conn)), Some(Some(1009)));
}

#[test]
fn a_1_gib_bomb_in_fragments_fails_with_1009_near_the_limit() {
    let bomb = bomb();
    let payload = bomb.message(1024);
    let mut wire = Vec::new();
    let pieces: Vec<&[u8]> = payload.chunks(4 << 10).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let first_byte = match (i == 0, i + 1 == pieces.len()) {
            (true, _) => 0x42, // binary, RSV1, not final
            (false, false) => 0x00,
            (false, true) => 0x80,
        };
        wire.extend(client_frame(first_byte, piece));
    }
    let (got, mut conn) = measure("1 GiB in 4 KiB fragments", &wire);
    assert_eq!(got, [too_big()]);
    assert_eq!(close_code_sent(&transmit(&mut conn)), Some(Some(1009)));
}

#[test]
fn a_bomb_spread_over_messages_sharing_a_window_fails_with_1009_near_the_limit() {
    let bomb = bomb();
    let mut wire = Vec::new();
    // 1 MiB each (exactly the limit), the later ones built on the window
    // the earlier ones left; then one that would inflate to 1 GiB.
    wire.extend(client_frame(0xC2, &bomb.message(1)));
    for _ in 0..3 {
        wire.extend(client_frame(0xC2, &bomb.continued(1)));
    }
    wire.extend(client_frame(0xC2, &bomb.continued(1024)));
    let (got, mut conn) = measure("1 MiB x 4, then 1 GiB, one window", &wire);
    assert_eq!(
        got,
        [
            Got::Binary(MIB),
            Got::Binary(MIB),
            Got::Binary(MIB),
            Got::Binary(MIB),
            too_big()
        ]
    );
    assert_eq!(close_code_sent(&transmit(&mut conn)), Some(Some(1009)));
}
