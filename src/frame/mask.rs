//! Payload masking (RFC 6455 §5.3): byte `i` is XORed with `key[i % 4]`.
//!
//! Masking touches every payload byte a client sends and a server receives,
//! so it is the hottest loop of the crate. [`apply_mask`] works eight bytes at
//! a time in blocks the compiler vectorises; [`apply_mask_reference`] is the
//! plain byte loop of the RFC, kept as the definition the fast one is tested
//! against at every length and alignment.

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
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    // Blocks of 32 bytes keep the key in phase (32 % 4 == 0) and give the
    // optimiser four independent words to vectorise.
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for word in block.chunks_exact_mut(8) {
            xor_word(word, wide);
        }
    }
    // What is left, a word at a time (still in phase), then byte by byte:
    // short messages and control frames are mostly this part.
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for word in &mut words {
        xor_word(word, wide);
    }
    apply_mask_reference(words.into_remainder(), key);
}

/// XORs an 8-byte chunk with `wide`.
#[inline(always)]
fn xor_word(word: &mut [u8], wide: u64) {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(word);
    word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ wide).to_ne_bytes());
}

/// Copies `src` into `dst` (of the same length) masked with `key`: the copy
/// and the masking in one pass.
///
/// # Panics
///
/// If the lengths differ.
pub(crate) fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "copy_masked needs equal lengths");
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut to = dst.chunks_exact_mut(32);
    let mut from = src.chunks_exact(32);
    for (to, from) in (&mut to).zip(&mut from) {
        for (to, from) in to.chunks_exact_mut(8).zip(from.chunks_exact(8)) {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(from);
            to.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ wide).to_ne_bytes());
        }
    }
    let (to, from) = (to.into_remainder(), from.remainder());
    for (i, (to, from)) in to.iter_mut().zip(from).enumerate() {
        *to = from ^ key[i % 4];
    }
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
        for start in 0..8 {
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
