//! The per-message compression itself (RFC 7692 §6, §7.2): an
//! [`Extension`] that owns RSV1.

use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::config::MIN_ZLIB_WINDOW_BITS;
use super::negotiation::Agreed;
use crate::extension::{Extension, ExtensionError};
use crate::frame::MessageKind;
use crate::Role;

/// RSV1, the bit permessage-deflate claims (RFC 7692 §6).
const RSV1: u8 = 0b100;

/// The empty stored block a sync flush ends with; removed from every sent
/// message and put back on every received one (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Room kept free in the output while compressing, above the six bytes
/// zlib asks for to avoid repeating a flush marker.
const COMPRESS_SLACK: usize = 64;

/// The window the peer's messages are inflated with, whatever window it
/// agreed to compress with: a 32 KiB window decodes any smaller one's
/// stream, and zlib-rs allocates the whole 32 KiB either way. With any
/// other size flate2 (1.1) rebuilds the inflate state from scratch at every
/// reset, so under `*_no_context_takeover` each message would pay for a
/// new state: 15 bits inflates 125-byte JSON messages without context
/// takeover 1.15-1.3x faster (benches/deflate.rs). What it gives up is
/// catching a peer that compresses with more window than it agreed to,
/// which RFC 7692 forbids the sender but does not ask the receiver to
/// detect.
const INFLATE_WINDOW_BITS: u8 = 15;

/// Output bytes decompressed through the stack when the message buffer's
/// spare capacity is more than the room left (so the decompressor cannot
/// be given the buffer directly without overrunning the limit).
const SCRATCH: usize = 8 << 10;

/// permessage-deflate for one connection: a compressor for what this end
/// sends, a decompressor for what it receives.
///
/// Build it from a negotiation ([`Agreement::into_extension`]) and install
/// it with [`Connection::with_extension`]. The connection calls it; it sets
/// RSV1 on the first frame of each compressed message and decodes only
/// messages that carry RSV1.
///
/// Decompression writes at most the room the connection gives it (what is
/// left under `max_message_size`) and fails with
/// [`ExtensionError::TooBig`] (close code 1009) the moment the message
/// would produce more; a corrupt stream fails with
/// [`ExtensionError::InvalidData`] (1007).
///
/// [`Agreement::into_extension`]: super::Agreement::into_extension
/// [`Connection::with_extension`]: crate::Connection::with_extension
pub struct PerMessageDeflate {
    /// Created on the first compressed message sent: a connection that
    /// never sends one never pays for it (about 250 KiB with zlib-rs).
    compress: Option<Compress>,
    /// Created on the first compressed message received.
    decompress: Option<Decompress>,
    level: Compression,
    own_bits: u8,
    /// This end compresses each message on its own.
    reset_compress: bool,
    /// The peer compresses each message on its own.
    reset_decompress: bool,
    min_size: usize,
    /// The message being sent is compressed.
    sending_compressed: bool,
    /// The peer ended its DEFLATE stream (a block with BFINAL set,
    /// RFC 7692 §7.2.3.4): the rest of that message is ignored and the
    /// next compressed message starts a new stream.
    stream_ended: bool,
    /// The decompressor holds no state worth a reset.
    decompress_fresh: bool,
}

impl fmt::Debug for PerMessageDeflate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerMessageDeflate")
            .field("reset_compress", &self.reset_compress)
            .field("reset_decompress", &self.reset_decompress)
            .field("min_size", &self.min_size)
            .finish_non_exhaustive()
    }
}

impl PerMessageDeflate {
    /// A codec for `role` with the agreed parameters, compressing at
    /// `level` (0 to 9) the messages of at least `min_size` bytes.
    ///
    /// An agreed window of 8 bits is compressed with 9 (zlib's smallest
    /// for raw DEFLATE; every message received is inflated with a 15-bit
    /// window, which decodes what any smaller one encodes); negotiation
    /// through [`DeflateConfig`](super::DeflateConfig) never lets this end
    /// compress with an 8 the peer insists on.
    #[must_use]
    pub fn new(role: Role, agreed: Agreed, level: u32, min_size: usize) -> Self {
        let (own_bits, own_reset, peer_reset) = match role {
            Role::Server => (
                agreed.server_max_window_bits,
                agreed.server_no_context_takeover,
                agreed.client_no_context_takeover,
            ),
            Role::Client => (
                agreed.client_max_window_bits,
                agreed.client_no_context_takeover,
                agreed.server_no_context_takeover,
            ),
        };
        let window = |bits: u8| bits.clamp(MIN_ZLIB_WINDOW_BITS, 15);
        PerMessageDeflate {
            compress: None,
            decompress: None,
            level: Compression::new(level.min(9)),
            own_bits: window(own_bits),
            reset_compress: own_reset,
            reset_decompress: peer_reset,
            min_size,
            sending_compressed: false,
            stream_ended: false,
            decompress_fresh: true,
        }
    }

    /// Compresses `input` into `out`, with a sync flush at the end so
    /// everything given is in `out` (and `out` ends with [`TAIL`] unless
    /// there was nothing new to flush).
    fn deflate(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), ExtensionError> {
        let (level, bits) = (self.level, self.own_bits);
        let compress = self
            .compress
            .get_or_insert_with(|| Compress::new_with_window_bits(level, false, bits));
        out.reserve(input.len() / 2 + COMPRESS_SLACK);
        loop {
            if out.capacity() - out.len() < COMPRESS_SLACK {
                out.reserve(out.capacity().max(COMPRESS_SLACK));
            }
            let before = compress.total_in();
            let status = compress
                .compress_vec(input, out, FlushCompress::Sync)
                .map_err(|e| ExtensionError::Failed(format!("deflate: {e}")))?;
            let consumed = (compress.total_in() - before) as usize;
            input = &input[consumed..];
            // Done once the input is in and the flush did not fill the
            // output (zlib's sign that nothing is held back).
            let flushed = out.capacity() > out.len();
            if input.is_empty() && (flushed || status == Status::BufError) {
                return Ok(());
            }
        }
    }

    /// Decompresses `input` into `out`, writing at most `max_output` bytes
    /// past `start`; [`ExtensionError::TooBig`] once more would come.
    fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        start: usize,
        max_output: usize,
    ) -> Result<(), ExtensionError> {
        let decompress = self
            .decompress
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, INFLATE_WINDOW_BITS));
        while !self.stream_ended {
            let room = max_output - (out.len() - start);
            let in_before = decompress.total_in();
            let out_before = decompress.total_out();
            let offered;
            let status = if room == 0 {
                // No room left: any further byte is one too many.
                let mut probe = [0u8; 1];
                offered = probe.len();
                let status = decompress
                    .decompress(input, &mut probe, FlushDecompress::Sync)
                    .map_err(invalid)?;
                if decompress.total_out() > out_before {
                    return Err(ExtensionError::TooBig { max: max_output });
                }
                status
            } else {
                let mut spare = out.capacity() - out.len();
                if spare == 0 {
                    // Grow geometrically, but never past the room left, so
                    // a bomb cannot make the buffer outgrow the limit.
                    let grow = (out.len() - start)
                        .max(input.len().saturating_mul(4))
                        .max(4 << 10)
                        .min(room);
                    out.reserve_exact(grow);
                    spare = out.capacity() - out.len();
                }
                if spare <= room {
                    offered = spare;
                    decompress
                        .decompress_vec(input, out, FlushDecompress::Sync)
                        .map_err(invalid)?
                } else {
                    let mut scratch = [0u8; SCRATCH];
                    let n = room.min(SCRATCH);
                    offered = n;
                    let status = decompress
                        .decompress(input, &mut scratch[..n], FlushDecompress::Sync)
                        .map_err(invalid)?;
                    let produced = (decompress.total_out() - out_before) as usize;
                    out.extend_from_slice(&scratch[..produced]);
                    status
                }
            };
            self.decompress_fresh = false;
            let consumed = (decompress.total_in() - in_before) as usize;
            let produced = (decompress.total_out() - out_before) as usize;
            input = &input[consumed..];
            if status == Status::StreamEnd {
                self.stream_ended = true;
            } else if (input.is_empty() && produced < offered) || (consumed == 0 && produced == 0) {
                // All input is in and nothing is held back (the output was
                // not filled), or no progress is possible until more comes.
                return Ok(());
            }
        }
        Ok(())
    }
}

fn invalid(error: flate2::DecompressError) -> ExtensionError {
    ExtensionError::InvalidData(format!("inflate: {error}"))
}

impl Extension for PerMessageDeflate {
    fn reserved_bits(&self) -> u8 {
        RSV1
    }

    fn encode(
        &mut self,
        _kind: MessageKind,
        payload: &[u8],
        first: bool,
        last: bool,
        out: &mut Vec<u8>,
    ) -> Result<u8, ExtensionError> {
        if first {
            // A whole message below the threshold goes as it is; a message
            // sent in pieces is compressed, its size being unknown.
            self.sending_compressed = !(last && payload.len() < self.min_size);
        }
        if !self.sending_compressed {
            out.extend_from_slice(payload);
            return Ok(0);
        }
        let start = out.len();
        // Every piece is flushed, so a streamed piece is on the wire when
        // sent, as it would be uncompressed; the tail is removed from the
        // last piece only (RFC 7692 §7.2.1).
        self.deflate(payload, out)?;
        if last {
            if out[start..].ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            }
            if self.reset_compress {
                if let Some(compress) = self.compress.as_mut() {
                    compress.reset();
                }
            }
        }
        Ok(if first { RSV1 } else { 0 })
    }

    fn begin_decode(&mut self, _kind: MessageKind, rsv: u8) -> Result<bool, ExtensionError> {
        let compressed = rsv & RSV1 != 0;
        if compressed && (self.stream_ended || self.reset_decompress) && !self.decompress_fresh {
            if let Some(decompress) = self.decompress.as_mut() {
                decompress.reset(false);
            }
            self.decompress_fresh = true;
        }
        if compressed {
            self.stream_ended = false;
        }
        Ok(compressed)
    }

    fn decode(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        max_output: usize,
    ) -> Result<(), ExtensionError> {
        let start = out.len();
        self.inflate(input, out, start, max_output)?;
        if last {
            self.inflate(&TAIL, out, start, max_output)?;
        }
        Ok(())
    }
}
