//! permessage-deflate throughput through the connection's own message
//! path: a server sending compressed messages (compress: `send` → the
//! extension → frame → `poll_transmit`) and a server reading a client's
//! compressed, masked frames (decompress: `receive_buffer` + `commit` →
//! unmask → inflate → UTF-8 check for text → `poll_event`), the pair built
//! by the negotiation (`DeflateConfig::offer` / `accept` /
//! `accept_response`) with the default settings: 12-bit windows, level 6.
//!
//! ```text
//! cargo bench --bench deflate
//! cargo bench --bench deflate -- compress/json
//! cargo bench --bench deflate -- 'decompress/random/takeover/'
//! ```
//!
//! Two contents at 125 B, 16 KiB and 1 MiB, from
//! `benches/support/deflate_payloads.rs` (shared with the backend
//! comparison, `benches/compare/src/bin/deflate_backends.rs`):
//!
//! - `json`: text messages of JSON-like API and chat traffic (chat
//!   messages, presence, trades, orders, page views, metrics), with varied
//!   keys, words, names, ids, numbers and timestamps from a seeded
//!   generator; a message bigger than 512 bytes is an array of records.
//! - `random`: seeded random bytes, incompressible (sent as binary
//!   messages, the deflate path being the same for both kinds).
//!
//! Each in two modes: `takeover` (the default, the window carried from
//! message to message) and `no_takeover` (`server_no_context_takeover` and
//! `client_no_context_takeover` negotiated: each message on its own).
//!
//! Every iteration handles the next message of a pool of 64 MiB of distinct
//! messages per content and size (536,870 of 125 B, 4096 of 16 KiB, 64 of
//! 1 MiB), so neither the caches nor the compressor's window see the same
//! bytes twice in a row. Throughput is uncompressed payload bytes per
//! second. The whole file takes about two minutes of CPU time, a third of
//! it building the pools and the compressed wires (3 to 5 minutes of wall
//! time on a shared 2-CPU machine at a load average of 4 to 11).

use std::cell::OnceCell;
use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use rand::SeedableRng;
use rfc6455::deflate::DeflateConfig;
use rfc6455::{Config, Connection, Event, MessageKind, Role};

#[path = "support/deflate_payloads.rs"]
mod payloads;
use payloads::Content;

const SIZES: [usize; 3] = [125, 16 << 10, 1 << 20];

/// Payload bytes of distinct messages per content and size: twice the
/// last-level cache of the machines this was measured on.
const POOL: usize = 64 << 20;

/// The largest read the server's transport returns, like a socket.
const READ: usize = 64 << 10;

/// The message kind a content is sent as.
fn kind(content: Content) -> MessageKind {
    match content {
        Content::Json => MessageKind::Text,
        Content::Random => MessageKind::Binary,
    }
}

// ----- The connections -----

/// A client and a server that negotiated permessage-deflate with the
/// default settings, with or without context takeover both ways.
fn pair(takeover: bool) -> (Connection, Connection) {
    let config = DeflateConfig {
        server_no_context_takeover: !takeover,
        client_no_context_takeover: !takeover,
        ..DeflateConfig::default()
    };
    let server_agreement = config.accept(&[config.offer()]).expect("accepted");
    let client_agreement = config
        .accept_response(&[server_agreement.response().clone()])
        .expect("valid response")
        .expect("accepted");
    assert_eq!(
        server_agreement.agreed().server_no_context_takeover,
        !takeover
    );
    let rng = Box::new(rand::rngs::StdRng::seed_from_u64(1));
    let client = Connection::with_rng(Role::Client, Config::default(), rng)
        .with_extension(Box::new(client_agreement.into_extension()));
    let server = Connection::new(Role::Server, Config::default())
        .with_extension(Box::new(server_agreement.into_extension()));
    (client, server)
}

/// Takes everything `connection` has queued; returns its length.
fn drain(connection: &mut Connection) -> usize {
    let mut total = 0;
    while let Some(bytes) = connection.poll_transmit() {
        let n = black_box(bytes).len();
        total += n;
        connection.advance_transmit(n);
    }
    total
}

/// The client's frames for every message of the pool, and where each
/// message's frames end.
fn client_wire(client: &mut Connection, kind: MessageKind, pool: &[u8], size: usize) -> Wire {
    let mut bytes = Vec::with_capacity(pool.len() / 2);
    let mut ends = Vec::with_capacity(pool.len() / size);
    for message in pool.chunks_exact(size) {
        client.send(kind, message).unwrap();
        while let Some(out) = client.poll_transmit() {
            bytes.extend_from_slice(out);
            let n = out.len();
            client.advance_transmit(n);
        }
        ends.push(bytes.len());
    }
    Wire { bytes, ends }
}

struct Wire {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Wire {
    fn message(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

/// Feeds one message's frames to the server in reads of up to 64 KiB and
/// returns its payload's length.
fn read_message(server: &mut Connection, mut wire: &[u8]) -> usize {
    let mut got = None;
    while !wire.is_empty() {
        let buf = server.receive_buffer();
        let n = buf.len().min(READ).min(wire.len());
        buf[..n].copy_from_slice(&wire[..n]);
        server.commit(n);
        wire = &wire[n..];
        while let Some(event) = server.poll_event().unwrap() {
            got = Some(match event {
                Event::Text(text) => black_box(text).len(),
                Event::Binary(data) => black_box(data).len(),
                other => unreachable!("{other:?}"),
            });
        }
    }
    got.expect("a whole message")
}

fn deflate(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.sample_size(20);
    // A 1 MiB iteration takes milliseconds: the same number of iterations
    // in every sample instead of criterion's 1, 2, 3, … ramp.
    group.sampling_mode(SamplingMode::Flat);
    for content in Content::ALL {
        for size in SIZES {
            // Built on first use, so a filtered run builds only what it runs.
            let pool = OnceCell::new();
            let count = POOL / size;
            for takeover in [true, false] {
                let mode = if takeover { "takeover" } else { "no_takeover" };
                let name = format!("{}/{mode}", content.name());
                group.throughput(Throughput::Bytes(size as u64));

                let (_, mut server) = pair(takeover);
                let mut i = 0;
                let mut sent = 0usize;
                let mut wire_bytes = 0usize;
                group.bench_function(BenchmarkId::new(format!("compress/{name}"), size), |b| {
                    let pool = pool.get_or_init(|| payloads::pool(content, size, POOL));
                    b.iter(|| {
                        let message = &pool[i * size..(i + 1) * size];
                        i = (i + 1) % count;
                        server.send(kind(content), black_box(message)).unwrap();
                        sent += size;
                        wire_bytes += drain(&mut server);
                    })
                });
                if sent > 0 {
                    eprintln!(
                        "deflate/compress/{name}/{size}: {:.1}% of the payload on the wire",
                        100.0 * wire_bytes as f64 / sent as f64
                    );
                }

                // The client compresses the whole pool once; the server reads
                // it in order, round and round (the first message of the pool
                // refers to nothing before it, so the wrap is seamless with
                // context takeover too).
                let (mut client, mut server) = pair(takeover);
                let wire = OnceCell::new();
                let mut i = 0;
                group.bench_function(BenchmarkId::new(format!("decompress/{name}"), size), |b| {
                    let wire = wire.get_or_init(|| {
                        let pool = pool.get_or_init(|| payloads::pool(content, size, POOL));
                        client_wire(&mut client, kind(content), pool, size)
                    });
                    b.iter(|| {
                        let got = read_message(&mut server, wire.message(i));
                        i = (i + 1) % count;
                        assert_eq!(got, size);
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, deflate);
criterion_main!(benches);
