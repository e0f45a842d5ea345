//! Criterion benchmarks of the message paths: the server read path (masked
//! frames in memory → messages) and the client write path (messages →
//! masked frames), text and binary, 16 B to 1 MiB. Each is reported twice,
//! as payload bytes per second (`…/bytes/…`) and as messages per second
//! (`…/messages/…`).
//!
//! `server_read_path_utf8` reads text of four mixes (ASCII, mixed 80/20,
//! CJK, emoji; see [`Mix`]), 125 B to 1 MiB, with payloads cut from a 4 MiB
//! pool of seeded random characters, so the validator's branches see no
//! pattern they could learn.
//!
//! ```text
//! cargo bench --bench paths
//! cargo bench --bench paths -- server_read_path/bytes/text
//! cargo bench --bench paths -- server_read_path_utf8/mixed
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
    let payload = payload(size);
    encode(kind, (0..count).map(|_| payload.as_bytes()))
}

/// The payloads as masked frames, as a client sends them.
fn encode<'a>(kind: MessageKind, payloads: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let rng = Box::new(rand::rngs::StdRng::seed_from_u64(1));
    let mut client = Connection::with_rng(Role::Client, Config::default(), rng);
    let mut out = Vec::new();
    for payload in payloads {
        client.send(kind, payload).unwrap();
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

/// Reads the whole wire through `receive_buffer` + `commit` in reads of up
/// to 64 KiB, looking at every message; returns the payload bytes.
fn read_all(server: &mut Connection, wire: &[u8]) -> usize {
    let mut bytes = 0;
    let mut rest = wire;
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
    bytes
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
                b.iter(|| assert_eq!(read_all(&mut server, &wire), size * count))
            });
        }
    }
    group.finish();
}

/// A text mix; the shares count characters, not bytes.
#[derive(Clone, Copy)]
enum Mix {
    /// Printable ASCII only.
    Ascii,
    /// 80% printable ASCII, 20% split about evenly between 2-, 3- and
    /// 4-byte characters from their whole ranges (every lead byte, and the
    /// E0/ED/F0/F4 cases validators treat apart).
    Mixed,
    /// 95% 3-byte CJK ideographs and punctuation, 5% ASCII.
    Cjk,
    /// 80% 4-byte emoji, 5% 3-byte joiners and variation selectors, 15%
    /// ASCII.
    Emoji,
}

const MIXES: [(&str, Mix); 4] = [
    ("ascii", Mix::Ascii),
    ("mixed", Mix::Mixed),
    ("cjk", Mix::Cjk),
    ("emoji", Mix::Emoji),
];

const MIX_SIZES: [usize; 4] = [125, 1 << 10, 16 << 10, 1 << 20];

/// The pool payloads are cut from: far more distinct content than a branch
/// predictor holds history for.
const POOL: usize = 4 << 20;

/// Payload bytes per iteration of the UTF-8 read path.
const MIX_BYTES: usize = 4 << 20;

#[path = "support/xorshift.rs"]
mod xorshift;
use xorshift::XorShift;

impl XorShift {
    /// A scalar value in `lo..=hi`, drawn again on a surrogate.
    fn char_in(&mut self, lo: u32, hi: u32) -> char {
        loop {
            if let Some(c) = char::from_u32(lo + self.below(u64::from(hi - lo + 1)) as u32) {
                return c;
            }
        }
    }
}

impl Mix {
    fn char(self, rng: &mut XorShift) -> char {
        match (self, rng.below(100)) {
            (Mix::Ascii, _) | (Mix::Mixed, 0..=79) => rng.char_in(0x20, 0x7E),
            (Mix::Mixed, 80..=86) => rng.char_in(0x80, 0x7FF),
            (Mix::Mixed, 87..=93) => rng.char_in(0x800, 0xFFFF),
            (Mix::Mixed, _) => rng.char_in(0x1_0000, 0x10_FFFF),
            (Mix::Cjk, 0..=89) => rng.char_in(0x4E00, 0x9FFF),
            (Mix::Cjk, 90..=94) => rng.char_in(0x3000, 0x303F),
            (Mix::Cjk, _) => rng.char_in(0x20, 0x7E),
            (Mix::Emoji, 0..=79) => rng.char_in(0x1_F300, 0x1_FAFF),
            (Mix::Emoji, 80..=84) => ['\u{200D}', '\u{FE0F}'][rng.below(2) as usize],
            (Mix::Emoji, _) => rng.char_in(0x20, 0x7E),
        }
    }

    fn pool(self, rng: &mut XorShift) -> String {
        let mut out = String::with_capacity(POOL + 4);
        while out.len() < POOL {
            out.push(self.char(rng));
        }
        out
    }
}

/// A payload of exactly `size` bytes cut from `pool` at a random place, on
/// character boundaries, padded with 0 to 3 ASCII letters.
fn cut(pool: &str, size: usize, rng: &mut XorShift) -> String {
    let mut start = rng.below((pool.len() - size) as u64) as usize;
    while !pool.is_char_boundary(start) {
        start += 1;
    }
    let mut end = (start + size).min(pool.len());
    while !pool.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = pool[start..end].to_owned();
    while out.len() < size {
        out.push(char::from(b'a' + rng.below(26) as u8));
    }
    out
}

/// The server read path for text of each mix, as `read_path` reads it;
/// payload bytes per second only (the message rate is that divided by the
/// size).
fn read_path_utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_read_path_utf8");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    // An iteration reads 4 MiB of payload: fewer, longer samples.
    group.sample_size(20);
    let mut rng = XorShift(0x5EED_CAFE);
    for (name, mix) in MIXES {
        let pool = mix.pool(&mut rng);
        for size in MIX_SIZES {
            let count = (MIX_BYTES / size).max(4);
            let payloads: Vec<String> = (0..count).map(|_| cut(&pool, size, &mut rng)).collect();
            let wire = encode(MessageKind::Text, payloads.iter().map(String::as_bytes));
            drop(payloads);
            let mut server = Connection::new(Role::Server, Config::default());
            group.throughput(Throughput::Bytes((size * count) as u64));
            group.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter(|| assert_eq!(read_all(&mut server, &wire), size * count))
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

criterion_group!(benches, read_path, read_path_utf8, write_path);
criterion_main!(benches);
