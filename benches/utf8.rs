//! UTF-8 validation, the part of reading text that is not masking: the
//! three validators the read path could use, on text of four mixes, so the
//! choice in `src/utf8.rs` rests on figures.
//!
//! ```text
//! cargo bench --bench utf8
//! ```
//!
//! Inputs are cut at random places from an 8 MiB pool of each mix (whole
//! characters only), a different one each iteration, so neither the
//! caches (at 125 B and 16 KiB) nor the branch predictors learn them.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const POOL: usize = 8 << 20;

#[path = "support/xorshift.rs"]
mod xorshift;
use xorshift::XorShift;

/// An 8 MiB pool of valid UTF-8: `ascii` percent ASCII letters, the rest
/// split as `two`, `three` and `four` (percent of the non-ASCII) between
/// 2-, 3- and 4-byte characters.
fn pool(rng: &mut XorShift, ascii: u64, two: u64, three: u64) -> Vec<u8> {
    let mut text = String::with_capacity(POOL + 4);
    while text.len() < POOL {
        let r = rng.next_u64();
        let c = if r % 100 < ascii {
            char::from(b'a' + (r >> 8) as u8 % 26)
        } else {
            let kind = (r >> 16) % 100;
            let pick = (r >> 32) as u32;
            if kind < two {
                char::from_u32(0x80 + pick % 0x780).unwrap_or('é')
            } else if kind < two + three {
                char::from_u32(0x4e00 + pick % 0x5000).unwrap_or('中')
            } else {
                char::from_u32(0x1f300 + pick % 0x300).unwrap_or('😀')
            }
        };
        text.push(c);
    }
    text.into_bytes()
}

/// Slices of `size` bytes or a little less, cut on character boundaries.
fn slices(rng: &mut XorShift, pool: &[u8], size: usize) -> Vec<(usize, usize)> {
    (0..4096)
        .map(|_| {
            let mut start = rng.next_u64() as usize % (pool.len() - size - 4);
            while pool[start] & 0xC0 == 0x80 {
                start += 1;
            }
            let mut end = start + size;
            while pool[end] & 0xC0 == 0x80 {
                end -= 1;
            }
            (start, end)
        })
        .collect()
}

fn validators(c: &mut Criterion) {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mixes = [
        ("ascii", pool(&mut rng, 100, 0, 0)),
        ("mixed 80-20", pool(&mut rng, 80, 35, 40)),
        ("cjk", pool(&mut rng, 5, 5, 95)),
        ("emoji", pool(&mut rng, 15, 0, 6)),
    ];
    type Validator = fn(&[u8]) -> bool;
    let mut candidates: Vec<(&str, Validator)> = vec![
        ("std", |b| std::str::from_utf8(b).is_ok()),
        ("simdutf8", |b| simdutf8::basic::from_utf8(b).is_ok()),
    ];
    #[cfg(feature = "simdutf")]
    candidates.push(("simdutf", simdutf::validate_utf8));
    for (mix, pool) in &mixes {
        let mut group = c.benchmark_group(format!("utf8/{mix}"));
        group
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .sample_size(20);
        for size in [125, 16 << 10, 1 << 20] {
            let cuts = slices(&mut rng, pool, size);
            group.throughput(Throughput::Bytes(size as u64));
            for (name, validate) in &candidates {
                group.bench_with_input(BenchmarkId::new(*name, size), &cuts, |b, cuts| {
                    let mut i = 0;
                    b.iter(|| {
                        let (start, end) = cuts[i % cuts.len()];
                        i += 1;
                        assert!(validate(black_box(&pool[start..end])));
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, validators);
criterion_main!(benches);
