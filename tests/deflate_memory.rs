//! Memory a permessage-deflate connection holds, per window size, measured
//! with a counting allocator (the table in `DeflateConfig`'s docs comes
//! from here: `cargo test --all-features --test deflate_memory -- --nocapture`).
#![cfg(feature = "deflate")]

mod common;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use rfc6455::deflate::{Agreed, PerMessageDeflate};
use rfc6455::extension::Extension;
use rfc6455::{MessageKind, Role};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

/// A JSON-like message, long enough to fill the largest window.
fn message() -> Vec<u8> {
    (0..1000)
        .flat_map(|i| {
            format!(
                "{{\"id\":{i},\"user\":\"u{}\",\"text\":\"hello\"}},",
                i % 37
            )
            .into_bytes()
        })
        .collect()
}

/// Bytes still allocated while `hold` keeps what `make` built, after it was
/// used on one message.
fn retained<T>(make: impl FnOnce() -> T) -> usize {
    let before = common::counting::live();
    let hold = make();
    let after = common::counting::live();
    drop(hold);
    usize::try_from(after - before).unwrap_or(0)
}

#[test]
fn a_codec_that_has_not_compressed_or_inflated_holds_almost_nothing() {
    let agreed = Agreed {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    let idle = retained(|| {
        let mut codec = PerMessageDeflate::new(Role::Server, agreed, 6, 0);
        // Uncompressed traffic does not create the zlib states either.
        assert!(!codec.begin_decode(MessageKind::Text, 0).unwrap());
        codec
    });
    println!("idle codec: {idle} bytes");
    assert!(idle < 1024, "{idle}");
}

#[test]
fn memory_per_connection_for_each_window_size() {
    let message = message();
    let mut compressed = Vec::with_capacity(message.len() + 1024);
    Compress::new(Compression::new(6), false)
        .compress_vec(&message, &mut compressed, FlushCompress::Sync)
        .unwrap();
    let mut inflated = Vec::with_capacity(message.len() * 2);

    println!("| window bits | compressor | decompressor | codec (both) |");
    println!("|-------------|-----------:|-------------:|-------------:|");
    for bits in 9..=15u8 {
        let compressor = retained(|| {
            let mut c = Compress::new_with_window_bits(Compression::new(6), false, bits);
            let mut out = Vec::with_capacity(message.len() + 1024);
            c.compress_vec(&message, &mut out, FlushCompress::Sync)
                .unwrap();
            drop(out);
            c
        });
        let decompressor = retained(|| {
            let mut d = Decompress::new_with_window_bits(false, 15.min(bits.max(9)));
            // Decompress data made with this window.
            let mut c = Compress::new_with_window_bits(Compression::new(6), false, bits);
            let mut input = Vec::with_capacity(message.len() + 1024);
            c.compress_vec(&message, &mut input, FlushCompress::Sync)
                .unwrap();
            drop(c);
            inflated.clear();
            d.decompress_vec(&input, &mut inflated, FlushDecompress::Sync)
                .unwrap();
            assert_eq!(inflated, message);
            d
        });
        let codec = retained(|| {
            let agreed = Agreed {
                server_no_context_takeover: false,
                client_no_context_takeover: false,
                server_max_window_bits: bits,
                client_max_window_bits: bits,
            };
            let mut server = PerMessageDeflate::new(Role::Server, agreed, 6, 0);
            let mut client = PerMessageDeflate::new(Role::Client, agreed, 6, 0);
            let mut wire = Vec::with_capacity(message.len() + 1024);
            client
                .encode(MessageKind::Text, &message, true, true, &mut wire)
                .unwrap();
            assert!(server.begin_decode(MessageKind::Text, 0b100).unwrap());
            let mut out = Vec::with_capacity(message.len());
            server.decode(&wire, true, &mut out, 1 << 20).unwrap();
            assert_eq!(out, message);
            let mut reply = Vec::with_capacity(message.len() + 1024);
            server
                .encode(MessageKind::Text, &message, true, true, &mut reply)
                .unwrap();
            drop((client, wire, out, reply));
            server
        });
        println!(
            "| {bits:<11} | {:>6} KiB | {:>8} KiB | {:>8} KiB |",
            compressor / 1024,
            decompressor / 1024,
            codec / 1024
        );
        // The codec holds one of each, and nothing sized by the message.
        assert!(codec <= compressor + decompressor + 4096, "{bits}: {codec}");
        assert!(codec < 450 << 10, "{bits}: {codec}");
    }
}
