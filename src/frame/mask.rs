//! Payload masking (RFC 6455 §5.3): byte `i` is XORed with `key[i % 4]`.
//!
//! Masking touches every payload byte a client sends and a server receives,
//! so it is the hottest loop of the crate. [`apply_mask`] works eight bytes at
//! a time in blocks the compiler vectorises; [`apply_mask_reference`] is the
//! plain byte loop of the RFC, kept as the definition the fast one is tested
//! against at every length and alignment.
//!
//! On x86-64 the same loops are also compiled with AVX2 enabled and chosen
//! at run time when the CPU has it: the portable build may only assume
//! SSE2, and blocks of two 32-byte registers mask twice as fast (114
//! against 56 GB/s on 16 KiB in `benches/core.rs`; the in-memory read path
//! of 16 KiB messages gained about 15% in `benches/compare`). The code is
//! the same Rust either way; only the instructions the compiler may pick
//! differ. In place, the wide loop starts at a 64-byte boundary (the bytes
//! before it take the portable loop), so no 32-byte store straddles two
//! cache lines: 5-10% off the in-memory read path of 16 KiB and 1 MiB
//! messages. A copy is left unaligned: its destination is most often a
//! fresh allocation, where the split costs short messages more than it
//! saves long ones.
//!
//! There is no AVX-512 build. One was measured: written as 64 bytes a
//! block (as eight words the compiler vectorises across blocks instead,
//! into gathers and scatters three to six times slower), it masked 16 KiB
//! in the first-level cache 23% faster, but changed the in-memory read
//! paths by 1% at most, where the bytes come from the second level, and
//! was 3-10% slower at 64 KiB and 1 MiB in `benches/core.rs`.

use std::mem::MaybeUninit;

/// Payloads shorter than this are masked by the portable loop: the check
/// for AVX2 costs more than wide registers save on a few words.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const WIDE_MIN: usize = 128;

/// Masks (or unmasks: the operation is its own inverse) `buf` with `key`,
/// starting at key byte 0.
///
/// To continue a payload that was split, rotate the key by the number of
/// bytes already processed: `key.rotate_left(done % 4)`.
///
/// ```
/// use rfc6455::frame::apply_mask;
/// // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
/// let mut payload = *b"Hello";
/// apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d]);
/// assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= WIDE_MIN {
        mask_wide::<false>(buf, key);
        return;
    }
    mask_blocks::<32, false>(buf, key);
}

/// [`apply_mask`] for text: also tells whether the unmasked bytes are all
/// ASCII, which the UTF-8 validator then need not look at. The test rides
/// along the masking loop (an OR per word), so ASCII text costs one pass.
#[inline]
pub(crate) fn unmask_text(buf: &mut [u8], key: [u8; 4]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= WIDE_MIN {
        return mask_wide::<true>(buf, key);
    }
    mask_blocks::<32, true>(buf, key)
}

/// [`apply_mask`] and [`unmask_text`] of [`WIDE_MIN`] bytes or more, kept
/// out of line so that the short case (control frames, small messages)
/// inlines into its callers without the wide loops: 3-4% off the
/// in-memory read path of 16-byte and 125-byte binary messages. With
/// `ASCII`, returns whether the result is all ASCII.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn mask_wide<const ASCII: bool>(buf: &mut [u8], key: [u8; 4]) -> bool {
    if wide::available() {
        return wide::mask::<ASCII>(buf, key);
    }
    mask_blocks::<32, ASCII>(buf, key)
}

/// The high bit of every byte of a word: set in a byte that is not ASCII.
const NOT_ASCII: u64 = 0x8080_8080_8080_8080;

/// Words in the largest block the masking loops take (64 bytes): the ASCII
/// test keeps one OR per word position ([`mask_blocks`]).
const LANES: usize = 8;

/// The key repeated over a word: the key's 32 bits in both halves, one
/// multiply (built byte by byte, it took 22 instructions a call).
#[inline(always)]
fn wide_key(key: [u8; 4]) -> u64 {
    u64::from(u32::from_ne_bytes(key)) * 0x0000_0001_0000_0001
}

/// Masks `buf` in blocks of `BLOCK` bytes, then words, then bytes. With
/// `ASCII`, returns whether the result is all ASCII (otherwise `false`).
///
/// Blocks keep the key in phase (`BLOCK % 4 == 0`) and give the optimiser
/// independent words to vectorise: 32 bytes fill two SSE2 registers, 64
/// bytes two AVX2 ones.
///
/// The ASCII test ORs each word of a block into its own lane
/// ([`LANES`]), which the optimiser keeps in vector registers, and folds
/// the lanes once at the end: folding into one word block by block is a
/// chain of dependent shuffles that costs more than the masking itself.
#[inline(always)]
fn mask_blocks<const BLOCK: usize, const ASCII: bool>(buf: &mut [u8], key: [u8; 4]) -> bool {
    const { assert!(BLOCK % 8 == 0 && BLOCK <= 8 * LANES) };
    let wide = wide_key(key);
    let mut lanes = [0u64; LANES];
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        for (seen, word) in lanes.iter_mut().zip(block.chunks_exact_mut(8)) {
            let masked = xor_word(word, wide);
            if ASCII {
                *seen |= masked;
            }
        }
    }
    let mut seen = lanes.iter().fold(0, |all, lane| all | lane);
    // What is left, a word at a time (still in phase), then byte by byte:
    // short messages and control frames are mostly this part.
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for word in &mut words {
        let masked = xor_word(word, wide);
        if ASCII {
            seen |= masked;
        }
    }
    for (i, byte) in words.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
        if ASCII {
            seen |= u64::from(*byte);
        }
    }
    ASCII && seen & NOT_ASCII == 0
}

/// The masking loops compiled for AVX2, and the run-time check for it.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod wide {
    use std::mem::MaybeUninit;

    /// The CPU has AVX2. `is_x86_feature_detected!` caches its answer, so
    /// this is one atomic load after the first call; with AVX2 enabled at
    /// compile time it is a constant.
    #[inline]
    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
    }

    // SAFETY (for the calls below): calling a `target_feature`
    // function is sound exactly when the CPU has the feature, and each of
    // these is called only after `available()` said it has (checked again
    // in debug builds). The functions themselves are safe code.

    /// Masks the bytes before the first 64-byte boundary with the portable
    /// loop, and the rest, whose wide stores then never straddle two cache
    /// lines, with AVX2. With `ASCII`, returns whether the result is all
    /// ASCII. The caller checked [`available`].
    #[inline]
    pub(super) fn mask<const ASCII: bool>(buf: &mut [u8], key: [u8; 4]) -> bool {
        debug_assert!(available());
        let head = buf.as_ptr().align_offset(64).min(buf.len());
        let (head, rest) = buf.split_at_mut(head);
        let head_ascii = super::mask_blocks::<32, ASCII>(head, key);
        let mut key = key;
        key.rotate_left(head.len() % 4);
        // SAFETY: AVX2 was detected by the caller (see above).
        let rest_ascii = unsafe { mask_avx2::<ASCII>(rest, key) };
        head_ascii && rest_ascii
    }

    /// [`super::copy_masked`] with AVX2. The caller checked [`available`].
    #[inline]
    pub(super) fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) -> bool {
        debug_assert!(available());
        // SAFETY: AVX2 was detected by the caller (see above).
        unsafe { copy_masked_avx2(dst, src, key) }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn mask_avx2<const ASCII: bool>(buf: &mut [u8], key: [u8; 4]) -> bool {
        super::mask_blocks::<64, ASCII>(buf, key)
    }

    /// [`super::extend_masked`]'s copy with AVX2. The caller checked
    /// [`available`].
    #[inline]
    pub(super) fn copy_masked_uninit(
        dst: &mut [MaybeUninit<u8>],
        src: &[u8],
        key: [u8; 4],
    ) -> bool {
        debug_assert!(available());
        // SAFETY: AVX2 was detected by the caller (see above).
        unsafe { copy_masked_avx2(dst, src, key) }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn copy_masked_avx2<T: super::Slot>(dst: &mut [T], src: &[u8], key: [u8; 4]) -> bool {
        super::copy_masked_blocks::<64, T>(dst, src, key)
    }
}

/// XORs an 8-byte chunk with `wide`, returning the result.
#[inline(always)]
fn xor_word(word: &mut [u8], wide: u64) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(word);
    let masked = u64::from_ne_bytes(bytes) ^ wide;
    word.copy_from_slice(&masked.to_ne_bytes());
    masked
}

/// Writes the 8-byte chunk `from` XORed with `wide` to `to`, returning
/// the result: [`xor_word`] for a copy.
#[inline(always)]
fn copy_xor_word<T: Slot>(to: &mut [T], from: &[u8], wide: u64) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(from);
    let masked = u64::from_ne_bytes(bytes) ^ wide;
    for (to, byte) in to.iter_mut().zip(masked.to_ne_bytes()) {
        to.set(byte);
    }
    masked
}

/// A destination byte the copying loops can write: initialised memory, or
/// the spare capacity of a `Vec` that is filled before it is used.
trait Slot {
    fn set(&mut self, value: u8);
}

impl Slot for u8 {
    #[inline(always)]
    fn set(&mut self, value: u8) {
        *self = value;
    }
}

impl Slot for MaybeUninit<u8> {
    #[inline(always)]
    fn set(&mut self, value: u8) {
        self.write(value);
    }
}

/// Appends `src` masked with `key` to `dst`, in one pass, without
/// zero-filling the new bytes first (a fresh buffer would otherwise be
/// written twice: a message of 64 KiB spent half as long in `memset` as in
/// the copy itself). Returns whether the bytes appended are all ASCII.
pub(crate) fn extend_masked(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4]) -> bool {
    dst.reserve(src.len());
    let len = dst.len();
    let spare = &mut dst.spare_capacity_mut()[..src.len()];
    #[cfg(target_arch = "x86_64")]
    let ascii = if src.len() >= WIDE_MIN && wide::available() {
        wide::copy_masked_uninit(spare, src, key)
    } else {
        copy_masked_blocks::<32, _>(spare, src, key)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let ascii = copy_masked_blocks::<32, _>(spare, src, key);
    // SAFETY: `copy_masked_blocks` writes every one of the `src.len()`
    // slots it is given (`dst` and `src` are zipped at equal lengths, in
    // blocks, then words, then bytes; a block's words are zipped with the
    // ASCII lanes, and a compile-time assertion keeps a block to at most
    // `LANES` words, so no word is skipped: the tests check every length
    // and alignment against the reference, under Miri too), and `reserve` made
    // them part of the allocation; so the first `len + src.len()` bytes
    // are initialised.
    #[allow(unsafe_code)]
    unsafe {
        dst.set_len(len + src.len());
    }
    ascii
}

/// Copies `src` into `dst` (of the same length) masked with `key`: the copy
/// and the masking in one pass. Returns whether the bytes written are all
/// ASCII, for the UTF-8 validator.
///
/// # Panics
///
/// If the lengths differ.
pub(crate) fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) -> bool {
    assert_eq!(dst.len(), src.len(), "copy_masked needs equal lengths");
    #[cfg(target_arch = "x86_64")]
    if src.len() >= WIDE_MIN && wide::available() {
        return wide::copy_masked(dst, src, key);
    }
    copy_masked_blocks::<32, _>(dst, src, key)
}

/// Copies and masks in blocks of `BLOCK` bytes, then words, then bytes;
/// returns whether the result is all ASCII. Writes every slot of `dst`,
/// which is as long as `src`.
#[inline(always)]
fn copy_masked_blocks<const BLOCK: usize, T: Slot>(
    dst: &mut [T],
    src: &[u8],
    key: [u8; 4],
) -> bool {
    const { assert!(BLOCK % 8 == 0 && BLOCK <= 8 * LANES) };
    debug_assert_eq!(dst.len(), src.len());
    let wide = wide_key(key);
    // One OR per word position, folded at the end (see `mask_blocks`).
    let mut lanes = [0u64; LANES];
    let mut to = dst.chunks_exact_mut(BLOCK);
    let mut from = src.chunks_exact(BLOCK);
    for (to, from) in (&mut to).zip(&mut from) {
        let words = to.chunks_exact_mut(8).zip(from.chunks_exact(8));
        for (seen, (to, from)) in lanes.iter_mut().zip(words) {
            *seen |= copy_xor_word(to, from, wide);
        }
    }
    let mut seen = lanes.iter().fold(0, |all, lane| all | lane);
    // What is left a word at a time (still in phase), then byte by byte:
    // a short message is mostly this part.
    let mut to = to.into_remainder().chunks_exact_mut(8);
    let mut from = from.remainder().chunks_exact(8);
    for (to, from) in (&mut to).zip(&mut from) {
        seen |= copy_xor_word(to, from, wide);
    }
    let (to, from) = (to.into_remainder(), from.remainder());
    for (i, (to, from)) in to.iter_mut().zip(from).enumerate() {
        let byte = from ^ key[i % 4];
        to.set(byte);
        seen |= u64::from(byte);
    }
    seen & NOT_ASCII == 0
}

/// The byte-at-a-time definition of masking, for tests and benchmarks.
pub fn apply_mask_reference(buf: &mut [u8], key: [u8; 4]) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_mask_matches_the_reference_at_every_length_and_alignment() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        // Every offset from a 64-byte boundary: the wide loop starts at one.
        let starts = if cfg!(miri) { 0..8 } else { 0..64 };
        for start in starts {
            for len in 0..source.len() - start {
                let mut fast = source.clone();
                let mut slow = source.clone();
                apply_mask(&mut fast[start..start + len], key);
                apply_mask_reference(&mut slow[start..start + len], key);
                assert_eq!(fast, slow, "start {start} len {len}");
            }
        }
    }

    #[test]
    fn copy_masked_matches_the_reference_at_every_length_and_alignment() {
        let key = [0x9a, 0xbc, 0xde, 0xf0];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 13 + 5) as u8).collect();
        for from in 0..8 {
            for to in 0..8 {
                for len in 0..source.len() - from.max(to) {
                    let mut expected = source[from..from + len].to_vec();
                    apply_mask_reference(&mut expected, key);
                    let mut dst = vec![0; len + to];
                    copy_masked(&mut dst[to..], &source[from..from + len], key);
                    assert_eq!(dst[to..], expected, "from {from} to {to} len {len}");
                }
            }
        }
    }

    #[test]
    fn extend_masked_matches_the_reference_at_every_length_and_alignment() {
        let key = [0x9a, 0xbc, 0xde, 0xf0];
        let source: Vec<u8> = (0..300u32).map(|i| (i * 13 + 5) as u8).collect();
        // Miri (which checks every byte appended is written) runs a sample.
        let lens: Vec<usize> = if cfg!(miri) {
            vec![0, 1, 7, 8, 31, 63, 64, 65, 127, 128, 129, 200, 291]
        } else {
            (0..source.len() - 8).collect()
        };
        for from in 0..8 {
            for &len in &lens {
                let mut expected = b"kept".to_vec();
                let mut tail = source[from..from + len].to_vec();
                apply_mask_reference(&mut tail, key);
                expected.extend_from_slice(&tail);
                let mut dst = b"kept".to_vec();
                let ascii = extend_masked(&mut dst, &source[from..from + len], key);
                assert_eq!(dst, expected, "from {from} len {len}");
                assert_eq!(ascii, tail.is_ascii(), "from {from} len {len}");
            }
        }
    }

    #[test]
    fn unmasking_text_tells_ascii_at_every_length_alignment_and_position() {
        // Plain ASCII masked with the key, so unmasking gives ASCII back;
        // then one byte with its high bit set at each position in turn.
        let key = [0xa5, 0x5a, 0xff, 0x01];
        let plain: Vec<u8> = (0..256u32).map(|i| b'a' + (i % 26) as u8).collect();
        // Every offset from a 64-byte boundary (the wide loop starts at
        // one), so the high byte falls before it, on it and after it.
        for start in (0..64).step_by(if cfg!(miri) { 21 } else { 1 }) {
            for len in [0, 1, 7, 8, 31, 63, 64, 65, 127, 128, 129, 191] {
                let mut masked = plain.clone();
                apply_mask_reference(&mut masked[start..start + len], key);
                let mut fast = masked.clone();
                assert!(unmask_text(&mut fast[start..start + len], key));
                assert_eq!(fast, plain, "start {start} len {len}");
                let mut copy = vec![0; len];
                assert!(copy_masked(&mut copy, &masked[start..start + len], key));
                assert_eq!(copy, plain[start..start + len]);
                // Miri (which checks the AVX2 call) runs a sample of them.
                for high in (0..len).step_by(if cfg!(miri) { 37 } else { 1 }) {
                    let mut text = plain.clone();
                    text[start + high] = 0xc3;
                    let mut masked = text.clone();
                    apply_mask_reference(&mut masked[start..start + len], key);
                    let mut fast = masked.clone();
                    assert!(!unmask_text(&mut fast[start..start + len], key));
                    assert_eq!(fast, text, "start {start} len {len} high {high}");
                    assert!(!copy_masked(&mut copy, &masked[start..start + len], key));
                    assert_eq!(copy, text[start..start + len]);
                }
            }
        }
    }

    #[test]
    fn masking_twice_restores_the_payload() {
        let mut data: Vec<u8> = (0..=255).collect();
        apply_mask(&mut data, [9, 8, 7, 6]);
        apply_mask(&mut data, [9, 8, 7, 6]);
        assert_eq!(data, (0..=255).collect::<Vec<u8>>());
    }

    #[test]
    fn a_split_payload_continues_with_the_rotated_key() {
        let key = [1, 2, 3, 4];
        let mut whole = *b"a payload split in two pieces";
        let mut split = whole;
        apply_mask(&mut whole, key);
        let (first, second) = split.split_at_mut(7);
        apply_mask(first, key);
        let mut rotated = key;
        rotated.rotate_left(7 % 4);
        apply_mask(second, rotated);
        assert_eq!(whole, split);
    }
}
