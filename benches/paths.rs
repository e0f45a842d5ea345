//! Criterion benchmarks of the message paths: the server read path (masked
//! frames in memory → messages) and the client write path (messages →
//! masked frames), text and binary, 16 B to 1 MiB. Each is reported twice,
//! as payload bytes per second (`…/bytes/…`) and as messages per second
//! (`…/messages/…`).
//!
//! ```text
//! cargo bench --bench paths
//! cargo bench --bench paths -- server_read_path/bytes/text
//! ```
//!
//! The peer comparison is in `benches/compare/` (a separate project).

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use rand::SeedableRng;
use rfc6455::{Config, Connection, Event, MessageKind, Role};

const SIZES: [usize; 5] = [16, 125, 1 << 10, 16 << 10, 1 << 20];

/// The largest read the server's transport returns, like a socket.
const READ: usize = 64 << 10;

/// How many messages one iteration handles: about 1 MiB of payload, at
/// least 4 messages.
fn count(size: usize) -> usize {
    ((1 << 20) / size).max(4)
}

fn payload(size: usize) -> String {
    "The quick brown fox jumps over the lazy dog. "
        .chars()
        .cycle()
        .take(size)
        .collect()
}

/// `count` masked frames of `size` bytes, as a client sends them.
fn client_frames(kind: MessageKind, size: usize, count: usize) -> Vec<u8> {
    let rng = Box::new(rand::rngs::StdRng::seed_from_u64(1));
    let mut client = Connection::with_rng(Role::Client, Config::default(), rng);
    let payload = payload(size);
    let mut out = Vec::new();
    for _ in 0..count {
        client.send(kind, payload.as_bytes()).unwrap();
        while let Some(bytes) = client.poll_transmit() {
            out.extend_from_slice(bytes);
            let n = bytes.len();
            client.advance_transmit(n);
        }
    }
    out
}

fn kinds() -> [(&'static str, MessageKind); 2] {
    [("binary", MessageKind::Binary), ("text", MessageKind::Text)]
}

/// Runs `bench` once with a throughput in payload bytes and once in
/// messages.
fn both_units(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    size: usize,
    count: usize,
    mut bench: impl FnMut(&mut criterion::Bencher<'_>),
) {
    for (unit, throughput) in [
        ("bytes", Throughput::Bytes((size * count) as u64)),
        ("messages", Throughput::Elements(count as u64)),
    ] {
        group.throughput(throughput);
        group.bench_function(BenchmarkId::new(format!("{unit}/{name}"), size), &mut bench);
    }
}

/// The server read path: a long-lived connection (its buffers warm) reads
/// the wire through `receive_buffer` + `commit` in reads of up to 64 KiB,
/// as the adapters do, and every message is looked at.
fn read_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_read_path");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (name, kind) in kinds() {
        for size in SIZES {
            let count = count(size);
            let wire = client_frames(kind, size, count);
            let mut server = Connection::new(Role::Server, Config::default());
            both_units(&mut group, name, size, count, |b| {
                b.iter(|| {
                    let mut bytes = 0;
                    let mut rest = &wire[..];
                    while !rest.is_empty() {
                        let buf = server.receive_buffer();
                        let n = buf.len().min(READ).min(rest.len());
                        buf[..n].copy_from_slice(&rest[..n]);
                        server.commit(n);
                        rest = &rest[n..];
                        while let Some(event) = server.poll_event().unwrap() {
                            bytes += match event {
                                Event::Text(text) => black_box(text).len(),
                                Event::Binary(data) => black_box(data).len(),
                                other => unreachable!("{other:?}"),
                            };
                        }
                    }
                    assert_eq!(bytes, size * count);
                })
            });
        }
    }
    group.finish();
}

/// The client write path: messages sent (framed, masked with a fresh key
/// each) and the queued bytes taken, as an adapter writes them.
fn write_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_write_path");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (name, kind) in kinds() {
        for size in SIZES {
            let count = count(size);
            let payload = payload(size);
            let mut client = Connection::new(Role::Client, Config::default());
            both_units(&mut group, name, size, count, |b| {
                b.iter(|| {
                    for _ in 0..count {
                        client.send(kind, black_box(payload.as_bytes())).unwrap();
                        // Drain as an adapter does once its buffer is high.
                        if client.is_write_buffer_high() {
                            let n = client.poll_transmit().map_or(0, <[u8]>::len);
                            client.advance_transmit(n);
                        }
                    }
                    let n = client.poll_transmit().map_or(0, <[u8]>::len);
                    client.advance_transmit(n);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, read_path, write_path);
criterion_main!(benches);
