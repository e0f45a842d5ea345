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
            let mut bytes = [0; 8];
            bytes.copy_from_slice(word);
            word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ wide).to_ne_bytes());
        }
    }
    apply_mask_reference(blocks.into_remainder(), key);
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
