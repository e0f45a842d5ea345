//! Incremental UTF-8 validation of text messages (RFC 6455 §8.1).
//!
//! Text arrives in pieces: fragments, and within a frame whatever each read
//! returned. The validator fails on the first piece that holds an invalid
//! byte, so a connection is failed as soon as the bad byte arrives rather
//! than when the message ends, while a code point split between pieces is
//! carried over and checked when its remaining bytes arrive.
//!
//! Each piece is cut where its last code point is complete, and the
//! complete part is validated with SIMD: by the C++ simdutf library with
//! the `simdutf` feature (on by default) where the CPU has AVX-512 and for
//! pieces under 512 bytes, else by `simdutf8` (AVX2 or SSE 4.2, chosen at
//! run time), the faster of the two on long pieces without AVX-512. The
//! byte-at-a-time `str::from_utf8` manages about 0.2 GB/s on text that
//! mixes ASCII with multi-byte characters at random; `benches/utf8.rs`
//! measures all three.
//! The at most three bytes after the cut are checked by `str::from_utf8`,
//! which tells a truncated but so-far valid sequence (`error_len() ==
//! None`) from an invalid one, so a bad lead or continuation byte fails on
//! the piece that holds it.

/// The bytes of a text message as `&str`, without looking at them again.
///
/// The read path feeds every byte of a text message to its
/// [`Utf8Validator`], in order, as the bytes arrive, and delivers the
/// message only after [`Utf8Validator::finish`] accepted the whole; a second
/// validation pass at delivery would cost as much as the first (a tenth of
/// the time of reading a 1 MiB text message). Debug builds, which every
/// test, proptest and fuzz target runs, check the claim anyway.
#[allow(unsafe_code)]
pub(crate) fn validated(bytes: &[u8]) -> &str {
    debug_assert!(
        std::str::from_utf8(bytes).is_ok(),
        "text delivered without validation"
    );
    // SAFETY: the caller delivers only text whose every byte went through
    // `Utf8Validator::feed` and was accepted, followed by a successful
    // `finish`: that is, valid UTF-8 (see the tests below, which check the
    // validator against `str::from_utf8` on valid and invalid input in every
    // chunking).
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// [`validated`] for an owned buffer: the text message as a `String`,
/// without a second pass, on the same grounds.
#[allow(unsafe_code)]
pub(crate) fn validated_string(bytes: Vec<u8>) -> String {
    debug_assert!(
        std::str::from_utf8(&bytes).is_ok(),
        "text delivered without validation"
    );
    // SAFETY: as in `validated`: every byte went through the message's
    // `Utf8Validator`, which accepted them and then `finish`ed.
    unsafe { String::from_utf8_unchecked(bytes) }
}

/// The text seen so far is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

/// Validates a stream of bytes piece by piece.
#[derive(Debug, Default, Clone)]
pub(crate) struct Utf8Validator {
    /// The start of a code point cut off at the end of the last piece.
    partial: [u8; 4],
    partial_len: u8,
}

/// The length of the sequence a valid lead byte starts.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Whether `bytes` is entirely valid UTF-8, with SIMD: simdutf, but for
/// pieces of [`SIMDUTF8_MIN`] bytes or more on x86 CPUs without the
/// AVX-512 kernel of simdutf, which simdutf8 validates faster.
///
/// On AVX2 alone simdutf8 is the faster of the two on long text
/// (`benches/utf8.rs` on an AMD EPYC, family 25, GiB/s simdutf8 /
/// simdutf: mixed text 11.9 / 9.8 at 16 KiB, 12.9 / 9.3 at 1 MiB; emoji
/// 9.9 / 8.5 and 13.4 / 9.5; CJK 16 KiB 10.0 / 8.6), and slower on short
/// pieces through the read path, where simdutf's scalar start wins; with
/// AVX-512 simdutf was 1.5-3x simdutf8 at every length (an Intel Xeon,
/// family 6 model 167).
#[cfg(all(feature = "simdutf", not(miri)))]
fn is_utf8(bytes: &[u8]) -> bool {
    if bytes.len() < SIMDUTF8_MIN || simdutf_is_faster() {
        simdutf::validate_utf8(bytes)
    } else {
        simdutf8::basic::from_utf8(bytes).is_ok()
    }
}

/// Pieces at least this long go to simdutf8 on CPUs without simdutf's
/// AVX-512 kernel. Measured through the read path in memory
/// (`benches/compare`, warm, interleaved runs, ratio to tokio-websockets,
/// which validates with simdutf8): with simdutf8 for every piece, 16 B
/// text that is not ASCII fell from 1.26-1.71x to 1.04-1.16x and 125 B
/// from 1.09-1.12x to 1.04-1.07x, while 1 KiB rose by about 6% and
/// 16 KiB by 1-23%. The cut lies between the two sizes measured.
#[cfg(all(feature = "simdutf", not(miri)))]
const SIMDUTF8_MIN: usize = 512;

/// Whether the CPU has what simdutf's AVX-512 kernel needs (it picks that
/// kernel itself; VBMI2 is the newest part of it). The standard library
/// caches the answer: each call is a load and a test.
#[cfg(all(feature = "simdutf", not(miri), target_arch = "x86_64"))]
fn simdutf_is_faster() -> bool {
    std::arch::is_x86_feature_detected!("avx512vbmi2")
        && std::arch::is_x86_feature_detected!("avx512bw")
}

/// Away from x86 simdutf's kernels were not measured against simdutf8's;
/// the feature's choice stands.
#[cfg(all(feature = "simdutf", not(miri), not(target_arch = "x86_64")))]
fn simdutf_is_faster() -> bool {
    true
}

/// Whether `bytes` is entirely valid UTF-8, with SIMD.
#[cfg(all(not(feature = "simdutf"), not(miri)))]
fn is_utf8(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

/// Whether `bytes` is entirely valid UTF-8, under Miri, which checks the
/// code around it: Miri cannot run simdutf's C++, and it stops at
/// simdutf8 0.1.5's AVX2 prefetch, whose pointer arithmetic runs past the
/// input (fixed upstream in rusticstuff/simdutf8#120, not yet released).
#[cfg(miri)]
fn is_utf8(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok()
}

/// Where the last complete code point of `bytes` ends: before a lead byte
/// within the last three bytes whose sequence runs past the end, else at
/// the end. Bytes after it are a sequence still to be finished, or invalid.
fn complete_len(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0xC0 != 0x80 {
            // The last byte that is not a continuation: ASCII or a lead.
            let cut = byte >= 0xC0 && sequence_len(byte) > back;
            return if cut { bytes.len() - back } else { bytes.len() };
        }
    }
    bytes.len()
}

impl Utf8Validator {
    /// Validates the next piece of the stream.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let take = (sequence_len(self.partial[0]) - have).min(bytes.len());
            self.partial[have..have + take].copy_from_slice(&bytes[..take]);
            let len = have + take;
            match std::str::from_utf8(&self.partial[..len]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_none() => {
                    // Still short: this piece was too small to finish it.
                    self.partial_len = len as u8;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
            bytes = &bytes[take..];
        }
        let (complete, tail) = bytes.split_at(complete_len(bytes));
        if !is_utf8(complete) {
            return Err(InvalidUtf8);
        }
        match std::str::from_utf8(tail) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// [`Utf8Validator::feed`] for a piece the caller already knows to be
    /// all ASCII when `ascii` is set (the unmasking loop finds out for
    /// free): then only a code point carried over from the last piece
    /// needs a look.
    pub(crate) fn feed_known(&mut self, bytes: &[u8], ascii: bool) -> Result<(), InvalidUtf8> {
        if ascii && self.partial_len == 0 {
            return Ok(());
        }
        self.feed(bytes)
    }

    /// Ends the stream: fails if it stopped inside a code point. Leaves the
    /// validator ready for the next message.
    pub(crate) fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.partial_len == 0;
        self.partial_len = 0;
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }

    /// Forgets any carried bytes.
    pub(crate) fn reset(&mut self) {
        self.partial_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block size of simdutf8's SIMD loop: shorter input goes to
    /// `str::from_utf8`.
    const SIMD_BLOCK: usize = 64;

    fn validate_in_pieces(bytes: &[u8], piece: usize) -> Result<(), InvalidUtf8> {
        let mut validator = Utf8Validator::default();
        for chunk in bytes.chunks(piece.max(1)) {
            validator.feed(chunk)?;
        }
        validator.finish()
    }

    #[test]
    fn validated_text_keeps_its_bytes_borrowed_or_owned() {
        let text = "κόσμε 𝄞 € ascii";
        let mut validator = Utf8Validator::default();
        validator.feed(text.as_bytes()).unwrap();
        validator.finish().unwrap();
        assert_eq!(validated(text.as_bytes()), text);
        assert_eq!(validated_string(text.as_bytes().to_vec()), text);
    }

    #[test]
    fn a_code_point_split_across_pieces_is_valid() {
        let text = "κόσμε 𝄞 €".as_bytes();
        for piece in 1..=text.len() {
            assert_eq!(validate_in_pieces(text, piece), Ok(()), "piece {piece}");
        }
    }

    #[test]
    fn invalid_sequences_fail_in_any_chunking() {
        let cases: &[&[u8]] = &[
            b"\xff",
            b"\xc0\xaf",                 // overlong '/'
            b"\xe0\x80\xaf",             // overlong
            b"\xed\xa0\x80",             // surrogate U+D800
            b"\xf4\x90\x80\x80",         // above U+10FFFF
            b"\xce\xba\xe1\xbd\xb9\xcf", // truncated at the end
            b"\x80",                     // lone continuation byte
        ];
        for case in cases {
            for piece in 1..=case.len() {
                assert_eq!(
                    validate_in_pieces(case, piece),
                    Err(InvalidUtf8),
                    "{case:x?} piece {piece}"
                );
            }
        }
    }

    #[test]
    fn the_piece_holding_the_bad_byte_fails_before_the_end() {
        let mut validator = Utf8Validator::default();
        assert_eq!(validator.feed("κόσμε".as_bytes()), Ok(()));
        assert_eq!(validator.feed(b"\xf4"), Ok(()));
        // The second byte already rules out any valid code point.
        assert_eq!(validator.feed(b"\x90"), Err(InvalidUtf8));
    }

    /// What the validator says of `bytes` fed in pieces of `piece` bytes.
    fn accepts(bytes: &[u8], piece: usize) -> bool {
        validate_in_pieces(bytes, piece).is_ok()
    }

    #[test]
    fn the_validator_agrees_with_from_utf8_on_both_sides_of_the_simd_block() {
        // Both sides of the length where simdutf8 leaves `str::from_utf8`
        // for SIMD blocks, and a non-ASCII character or an invalid byte at
        // the start, the middle and the end, fed whole and in pieces
        // around a block.
        for len in [0, 1, SIMD_BLOCK - 1, SIMD_BLOCK, SIMD_BLOCK + 1, 1000] {
            let ascii = "a".repeat(len);
            let mut inputs = vec![ascii.clone().into_bytes()];
            for at in [0, len / 2, len.saturating_sub(1)] {
                if len > 0 {
                    let mut text = ascii.clone();
                    text.replace_range(at..=at, "é");
                    inputs.push(text.into_bytes());
                }
                let mut bytes = ascii.clone().into_bytes();
                bytes.insert(at.min(bytes.len()), 0xff);
                inputs.push(bytes);
            }
            for bytes in &inputs {
                let expected = std::str::from_utf8(bytes).is_ok();
                for piece in [1, 3, SIMD_BLOCK - 1, SIMD_BLOCK, usize::MAX] {
                    assert_eq!(accepts(bytes, piece), expected, "len {len} piece {piece}");
                }
                if expected {
                    assert_eq!(validated(bytes).as_bytes(), &bytes[..]);
                }
            }
        }
    }

    /// Both sides of the length at which, on a CPU without simdutf's
    /// AVX-512 kernel, pieces go from simdutf to simdutf8: text of 2-, 3-
    /// and 4-byte characters, valid, cut short, and with a bad byte near
    /// the start and the end, fed whole.
    #[cfg(all(feature = "simdutf", not(miri)))]
    #[test]
    fn pieces_either_side_of_the_simdutf8_cut_are_judged_alike() {
        for len in [
            SIMDUTF8_MIN - 1,
            SIMDUTF8_MIN,
            SIMDUTF8_MIN + 1,
            4 * SIMDUTF8_MIN,
        ] {
            let text: Vec<u8> = "aé€𝄞".bytes().cycle().take(len).collect();
            let mut inputs = vec![text.clone()];
            for at in [1, len - 2] {
                let mut bad = text.clone();
                bad[at] = 0xff;
                inputs.push(bad);
            }
            for bytes in &inputs {
                let expected = std::str::from_utf8(bytes).is_ok();
                assert_eq!(accepts(bytes, usize::MAX), expected, "len {len}");
            }
        }
    }

    proptest::proptest! {
        /// The claim `validated` rests on: fed in any pieces, the validator
        /// accepts exactly what `str::from_utf8` accepts. Inputs are mostly
        /// UTF-8 with some bytes replaced, so both answers come up often.
        #[test]
        fn the_validator_accepts_exactly_utf8_in_any_pieces(
            text in "\\PC{0,300}",
            edits in proptest::collection::vec((0usize..400, proptest::num::u8::ANY), 0..3),
            cuts in proptest::collection::vec(1usize..300, 0..8),
        ) {
            let mut bytes = text.into_bytes();
            for (at, byte) in edits {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = byte;
                }
            }
            let mut validator = Utf8Validator::default();
            let mut rest = &bytes[..];
            let mut ok = true;
            for cut in cuts.iter().chain(std::iter::once(&usize::MAX)) {
                let (piece, tail) = rest.split_at((*cut).min(rest.len()));
                rest = tail;
                ok &= validator.feed(piece).is_ok();
                if !ok {
                    break;
                }
            }
            ok = ok && validator.finish().is_ok();
            proptest::prop_assert_eq!(ok, std::str::from_utf8(&bytes).is_ok());
        }
    }

    proptest::proptest! {
        /// The same on arbitrary bytes, split at arbitrary points, and on
        /// valid text of mostly multi-byte characters with an arbitrary
        /// tail: long enough for SIMD blocks, cut inside code points.
        #[test]
        fn the_validator_matches_from_utf8_on_any_bytes_split_anywhere(
            head in "[a-zé€𝄞\u{80}-\u{7ff}\u{800}-\u{ffff}\u{10000}-\u{10ffff}]{0,200}",
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..8),
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            cuts in proptest::collection::vec(1usize..200, 0..8),
        ) {
            for bytes in [[head.as_bytes(), &tail].concat(), noise] {
                let mut validator = Utf8Validator::default();
                let mut rest = &bytes[..];
                let mut ok = true;
                for cut in cuts.iter().chain(std::iter::once(&usize::MAX)) {
                    let (piece, after) = rest.split_at((*cut).min(rest.len()));
                    rest = after;
                    ok = validator.feed(piece).is_ok();
                    if !ok {
                        break;
                    }
                }
                ok = ok && validator.finish().is_ok();
                proptest::prop_assert_eq!(ok, std::str::from_utf8(&bytes).is_ok(), "{:x?}", bytes);
            }
        }
    }

    // Not under Miri, which cannot call simdutf's C++.
    #[cfg(all(feature = "simdutf", not(miri)))]
    proptest::proptest! {
        /// Both SIMD validators (the feature picks one; Miri runs the
        /// other) say what `str::from_utf8` says, on valid text and on
        /// arbitrary bytes.
        #[test]
        fn both_simd_validators_agree_with_from_utf8(
            text in "[a-zé€𝄞\u{80}-\u{7ff}\u{800}-\u{ffff}\u{10000}-\u{10ffff}]{0,300}",
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            at in 0usize..1200,
            byte in proptest::num::u8::ANY,
        ) {
            let mut edited = text.clone().into_bytes();
            if !edited.is_empty() {
                let at = at % edited.len();
                edited[at] = byte;
            }
            for bytes in [text.as_bytes(), &noise, &edited] {
                let expected = std::str::from_utf8(bytes).is_ok();
                proptest::prop_assert_eq!(simdutf::validate_utf8(bytes), expected);
                proptest::prop_assert_eq!(simdutf8::basic::from_utf8(bytes).is_ok(), expected);
            }
        }
    }

    #[test]
    fn long_ascii_pieces_keep_a_split_code_point_pending() {
        let mut validator = Utf8Validator::default();
        validator.feed(b"\xe2\x82").unwrap();
        // The carried bytes need their continuation, not an ASCII byte.
        assert_eq!(
            validator.feed("a".repeat(4 * SIMD_BLOCK).as_bytes()),
            Err(InvalidUtf8)
        );
        let mut validator = Utf8Validator::default();
        validator
            .feed("a".repeat(4 * SIMD_BLOCK).as_bytes())
            .unwrap();
        validator.feed(b"\xe2\x82").unwrap();
        validator.feed(b"\xac").unwrap();
        assert_eq!(validator.finish(), Ok(()));
    }

    #[test]
    fn finish_resets_for_the_next_message() {
        let mut validator = Utf8Validator::default();
        validator.feed(b"\xe2\x82").unwrap();
        assert_eq!(validator.finish(), Err(InvalidUtf8));
        assert_eq!(validator.feed(b"ok"), Ok(()));
        assert_eq!(validator.finish(), Ok(()));
    }
}
