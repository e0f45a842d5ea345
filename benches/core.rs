//! Criterion benchmarks of the core's building blocks: masking at every
//! alignment, frame header parsing and the opening handshake's request
//! parsing. The message paths are in `benches/paths.rs`.
//!
//! ```text
//! cargo bench --bench core                 # everything
//! cargo bench --bench core -- apply_mask/  # one group
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rfc6455::frame::{apply_mask, apply_mask_reference, FrameHeader};
use rfc6455::handshake::{Incoming, ServerHandshake};

/// Lengths from one byte to 1 MiB: below, at and past the 32-byte block,
/// a control frame, and typical message sizes.
const MASK_LENGTHS: [usize; 8] = [1, 7, 31, 125, 1024, 16 << 10, 64 << 10, 1 << 20];

fn mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply_mask");
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
    for len in MASK_LENGTHS {
        // One buffer per length, 8 bytes longer so every start offset
        // (the alignment of the payload in memory) fits.
        let mut data = vec![0x5Au8; len + 8];
        group.throughput(Throughput::Bytes(len as u64));
        for offset in 0..8 {
            group.bench_with_input(
                BenchmarkId::new(format!("offset_{offset}"), len),
                &len,
                |b, &len| {
                    b.iter(|| apply_mask(black_box(&mut data[offset..offset + len]), [1, 2, 3, 4]))
                },
            );
        }
        if len <= 64 << 10 {
            group.bench_with_input(BenchmarkId::new("reference", len), &len, |b, &len| {
                b.iter(|| apply_mask_reference(black_box(&mut data[..len]), [1, 2, 3, 4]))
            });
        }
    }
    group.finish();
}

fn header_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_header_parse");
    // A 7-bit, a 16-bit and a 64-bit length, masked as servers receive
    // them, and an unmasked one as clients do.
    let cases = [
        ("masked_len7", Some([1, 2, 3, 4]), 5u64),
        ("masked_len16", Some([1, 2, 3, 4]), 300),
        ("masked_len64", Some([1, 2, 3, 4]), 70_000),
        ("unmasked_len7", None, 5),
    ];
    for (name, mask, len) in cases {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: rfc6455::OpCode::Binary,
            mask,
            payload_len: len,
        };
        let mut bytes = [0; 14];
        let n = header.encode(&mut bytes);
        for (unit, throughput) in [
            ("headers", Throughput::Elements(1)),
            ("bytes", Throughput::Bytes(n as u64)),
        ] {
            group.throughput(throughput);
            group.bench_with_input(BenchmarkId::new(unit, name), &bytes[..n], |b, bytes| {
                b.iter(|| FrameHeader::parse(black_box(bytes)))
            });
        }
    }
    group.finish();
}

/// A browser's opening handshake (Chromium's headers).
const BROWSER_REQUEST: &[u8] = b"GET /chat?room=lobby HTTP/1.1\r\n\
Host: example.com:8080\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://example.com:8080\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
\r\n";

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake_request_parse");
    for (unit, throughput) in [
        ("requests", Throughput::Elements(1)),
        ("bytes", Throughput::Bytes(BROWSER_REQUEST.len() as u64)),
    ] {
        group.throughput(throughput);
        group.bench_function(BenchmarkId::new(unit, "browser_whole"), |b| {
            b.iter(|| {
                let mut handshake = ServerHandshake::new();
                let incoming = handshake.receive(black_box(BROWSER_REQUEST)).unwrap();
                assert!(matches!(incoming, Some(Incoming::Upgrade(_))));
                incoming
            })
        });
        // The same request in 64-byte reads: the incremental scan.
        group.bench_function(BenchmarkId::new(unit, "browser_64_byte_reads"), |b| {
            b.iter(|| {
                let mut handshake = ServerHandshake::new();
                let mut incoming = None;
                for piece in black_box(BROWSER_REQUEST).chunks(64) {
                    incoming = handshake.receive(piece).unwrap();
                }
                assert!(matches!(incoming, Some(Incoming::Upgrade(_))));
                incoming
            })
        });
    }
    group.finish();
}

criterion_group!(benches, mask, header_parse, handshake);
criterion_main!(benches);
