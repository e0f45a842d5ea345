//! `apply_mask` equals the byte loop of `apply_mask_reference` for any
//! data, key and alignment; masking twice restores the data; a payload split
//! anywhere and continued with the rotated key (as the docs prescribe) is
//! masked as if it were whole.
//!
//! Input: a 4-byte key, an alignment byte, a split byte, then the data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::frame::{apply_mask, apply_mask_reference};
use rfc6455_fuzz as _; // the allocator that caps any one allocation

fuzz_target!(|input: &[u8]| {
    let [k0, k1, k2, k3, align, split, ref data @ ..] = *input else {
        return;
    };
    let key = [k0, k1, k2, k3];
    // Place the data at an offset from the allocation's start (itself at
    // least 8-aligned), with guard bytes around it that must stay untouched.
    let offset = usize::from(align % 32);
    let mut buffer = vec![0xA5; offset + data.len() + 8];
    buffer[offset..offset + data.len()].copy_from_slice(data);
    let original = buffer.clone();
    let range = offset..offset + data.len();

    let mut fast = buffer.clone();
    apply_mask(&mut fast[range.clone()], key);
    let mut reference = buffer.clone();
    apply_mask_reference(&mut reference[range.clone()], key);
    assert_eq!(
        fast,
        reference,
        "key {key:?} offset {offset} len {}",
        data.len()
    );
    for (i, byte) in data.iter().enumerate() {
        assert_eq!(fast[offset + i], byte ^ key[i % 4]);
    }

    apply_mask(&mut fast[range.clone()], key);
    assert_eq!(fast, original, "masking twice restores the data");

    // Two pieces: the second continues with the key rotated by the length
    // of the first.
    let at = usize::from(split).min(data.len());
    let mut pieces = buffer;
    let (first, second) = pieces[range].split_at_mut(at);
    apply_mask(first, key);
    let mut rotated = key;
    rotated.rotate_left(at % 4);
    apply_mask(second, rotated);
    assert_eq!(pieces, reference, "split at {at}");
});
