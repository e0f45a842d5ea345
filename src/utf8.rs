//! Incremental UTF-8 validation of text messages (RFC 6455 §8.1).
//!
//! Text arrives in pieces: fragments, and within a frame whatever each read
//! returned. The validator fails on the first piece that holds an invalid
//! byte, so a connection is failed as soon as the bad byte arrives rather
//! than when the message ends, while a code point split between pieces is
//! carried over and checked when its remaining bytes arrive.
//!
//! `std::str::from_utf8` does the work: it rejects a bad byte as soon as it
//! sees it (overlongs, surrogates and code points past U+10FFFF are caught at
//! their second byte), and tells a truncated but so-far valid sequence at the
//! end of its input (`error_len() == None`) apart from an invalid one.

/// Pieces of text at least this long are first checked for ASCII, which
/// `<[u8]>::is_ascii` does several times faster than `str::from_utf8`
/// validates (about 110 against 29 GB/s on 16 KiB here); below it the
/// check costs more than it saves.
const ASCII_FAST_PATH: usize = 256;

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

impl Utf8Validator {
    /// Validates the next piece of the stream.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len == 0 && bytes.len() >= ASCII_FAST_PATH && bytes.is_ascii() {
            return Ok(());
        }
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
        match std::str::from_utf8(bytes) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let tail = &bytes[e.valid_up_to()..];
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

    fn validate_in_pieces(bytes: &[u8], piece: usize) -> Result<(), InvalidUtf8> {
        let mut validator = Utf8Validator::default();
        for chunk in bytes.chunks(piece.max(1)) {
            validator.feed(chunk)?;
        }
        validator.finish()
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
    fn the_validator_agrees_with_from_utf8_on_both_sides_of_the_ascii_path() {
        // Both sides of the ASCII fast path's length threshold, and a
        // non-ASCII character or an invalid byte at the start, the middle
        // and the end, fed whole and in pieces around the threshold.
        for len in [0, 1, ASCII_FAST_PATH - 1, ASCII_FAST_PATH, 1000] {
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
                for piece in [1, 3, ASCII_FAST_PATH - 1, ASCII_FAST_PATH, usize::MAX] {
                    assert_eq!(accepts(bytes, piece), expected, "len {len} piece {piece}");
                }
                if expected {
                    assert_eq!(validated(bytes).as_bytes(), &bytes[..]);
                }
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

    #[test]
    fn long_ascii_pieces_keep_a_split_code_point_pending() {
        let mut validator = Utf8Validator::default();
        validator.feed(b"\xe2\x82").unwrap();
        // The carried bytes need their continuation, not an ASCII byte.
        assert_eq!(
            validator.feed("a".repeat(ASCII_FAST_PATH).as_bytes()),
            Err(InvalidUtf8)
        );
        let mut validator = Utf8Validator::default();
        validator
            .feed("a".repeat(ASCII_FAST_PATH).as_bytes())
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
