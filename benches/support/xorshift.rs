//! The seeded generator of the benchmarks' inputs: xorshift64* (Vigna),
//! so the same seed gives the same payloads and texts on every run and
//! machine, without a dependency. Included with `#[path]` by
//! `benches/paths.rs`, `benches/utf8.rs`,
//! `benches/support/deflate_payloads.rs` and `benches/compare/src/lib.rs`;
//! each adds the draws it needs in an `impl` of its own.

/// A seeded xorshift64*; the seed must not be 0.
pub struct XorShift(pub u64);

impl XorShift {
    /// Seeded with `seed`, its low bit set: xorshift never leaves 0.
    #[allow(dead_code)] // the crate's benches seed the tuple directly.
    pub fn new(seed: u64) -> Self {
        XorShift(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` at most 2^32), from the high bits, which
    /// are the best of xorshift64*.
    #[allow(dead_code)] // `benches/utf8.rs` draws whole words only.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n <= 1 << 32);
        ((self.next_u64() >> 32) * n) >> 32
    }
}
