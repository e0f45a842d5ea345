//! Criterion benchmarks of the core's hot paths: masking, header parsing,
//! the server read path and the client write path.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::SeedableRng;
use rfc6455::frame::{apply_mask, apply_mask_reference, FrameHeader};
use rfc6455::{Config, Connection, Event, Role};

const SIZES: [usize; 5] = [16, 125, 1024, 16 << 10, 1 << 20];

fn mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply_mask");
    for size in [16usize, 1024, 64 << 10, 1 << 20] {
        let mut data = vec![0x5Au8; size + 1];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("fast", size), &size, |b, &size| {
            b.iter(|| apply_mask(black_box(&mut data[..size]), [1, 2, 3, 4]))
        });
        group.bench_with_input(
            BenchmarkId::new("fast_unaligned", size),
            &size,
            |b, &size| b.iter(|| apply_mask(black_box(&mut data[1..=size]), [1, 2, 3, 4])),
        );
        group.bench_with_input(BenchmarkId::new("reference", size), &size, |b, &size| {
            b.iter(|| apply_mask_reference(black_box(&mut data[..size]), [1, 2, 3, 4]))
        });
    }
    group.finish();
}

fn header_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_header_parse");
    for len in [5u64, 300, 70_000] {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: rfc6455::OpCode::Binary,
            mask: Some([1, 2, 3, 4]),
            payload_len: len,
        };
        let mut bytes = [0; 14];
        let n = header.encode(&mut bytes);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(len), &bytes[..n], |b, bytes| {
            b.iter(|| FrameHeader::parse(black_box(bytes)))
        });
    }
    group.finish();
}

/// `count` masked frames of `size` bytes, as a client sends them.
fn client_frames(text: bool, size: usize, count: usize) -> Vec<u8> {
    let rng = Box::new(rand::rngs::StdRng::seed_from_u64(1));
    let mut client = Connection::with_rng(Role::Client, Config::default(), rng);
    let payload = "a".repeat(size);
    let mut out = Vec::new();
    for _ in 0..count {
        if text {
            client.send_text(&payload).unwrap();
        } else {
            client.send_binary(payload.as_bytes()).unwrap();
        }
        while let Some(bytes) = client.poll_transmit() {
            out.extend_from_slice(bytes);
            let n = bytes.len();
            client.advance_transmit(n);
        }
    }
    out
}

fn read_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_read_path");
    for text in [false, true] {
        for size in SIZES {
            let count = ((4 << 20) / size).clamp(1, 1000);
            let wire = client_frames(text, size, count);
            group.throughput(Throughput::Bytes((size * count) as u64));
            let name = if text { "text" } else { "binary" };
            group.bench_with_input(BenchmarkId::new(name, size), &wire, |b, wire| {
                b.iter(|| {
                    let mut server = Connection::new(Role::Server, Config::default());
                    let mut bytes = 0;
                    for piece in wire.chunks(64 << 10) {
                        server.receive(piece);
                        while let Some(event) = server.poll_event().unwrap() {
                            match event {
                                Event::Text(text) => bytes += text.len(),
                                Event::Binary(data) => bytes += data.len(),
                                _ => unreachable!(),
                            }
                        }
                    }
                    assert_eq!(bytes, size * count);
                })
            });
        }
    }
    group.finish();
}

fn write_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_write_path");
    for size in SIZES {
        let payload = vec![0x61u8; size];
        let mut client = Connection::new(Role::Client, Config::default());
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("binary", size), &payload, |b, payload| {
            b.iter(|| {
                client.send_binary(black_box(payload)).unwrap();
                let n = client.poll_transmit().map_or(0, <[u8]>::len);
                client.advance_transmit(n);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, mask, header_parse, read_path, write_path);
criterion_main!(benches);
