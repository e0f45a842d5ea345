//! What an endpoint is willing to negotiate and how it compresses.

/// The smallest window zlib compresses raw DEFLATE with; a peer's 8 is
/// decompressed with it (a 512-byte window holds every distance a 256-byte
/// one can produce).
pub(crate) const MIN_ZLIB_WINDOW_BITS: u8 = 9;

/// The largest window DEFLATE has (32 KiB), and what an unconstrained peer
/// may use.
pub(crate) const MAX_WINDOW_BITS: u8 = 15;

/// Settings for permessage-deflate (RFC 7692), for either role.
///
/// The same struct serves a client (it builds the offer with
/// [`DeflateConfig::offer`] and checks the answer with
/// [`DeflateConfig::accept_response`]) and a server (it picks an offer with
/// [`DeflateConfig::accept`]).
///
/// # Window sizes
///
/// `server_max_window_bits` and `client_max_window_bits` bound the LZ77
/// window of each side's compressor, as base-2 logarithms from 9 (512 B)
/// to 15 (32 KiB); values outside are clamped into that range. The window
/// an endpoint compresses with is at most its own setting and what the peer
/// asked for.
///
/// RFC 7692 allows 8, but zlib cannot compress raw DEFLATE with a 256-byte
/// window, so a configured 8 is used as 9, in both directions: asking a
/// zlib-based peer for 8 would only make it decline or fail, and reading
/// the peer's data gains nothing from it (the decompressor's memory does
/// not depend on the window, see below). When the *peer* brings up 8: its
/// own hint `client_max_window_bits=8` is accepted (it is read with 9); a
/// demand that this endpoint compress with 8 is declined by a server and
/// refused by a client ([`NegotiationError::UnsupportedWindowBits`]).
///
/// [`NegotiationError::UnsupportedWindowBits`]: super::NegotiationError::UnsupportedWindowBits
///
/// # Memory
///
/// Measured with a counting allocator (`tests/deflate_memory.rs`, which
/// prints this table), for the zlib-rs backend through flate2, after one
/// message each way. The compressor's cost is mostly fixed: zlib-rs keeps a
/// 64 Ki-entry hash table (128 KiB) whatever the window, and flate2 always
/// uses zlib's default `memLevel` of 8 (it has no setting for it); the
/// decompressor allocates a full 32 KiB window whatever was negotiated.
///
/// | window bits | compressor | decompressor | both (one connection) |
/// |-------------|-----------:|-------------:|----------------------:|
/// | 9           |    245 KiB |       46 KiB |               291 KiB |
/// | 10          |    247 KiB |       46 KiB |               293 KiB |
/// | 11          |    251 KiB |       46 KiB |               297 KiB |
/// | 12          |    259 KiB |       46 KiB |               305 KiB |
/// | 13          |    275 KiB |       46 KiB |               321 KiB |
/// | 14          |    307 KiB |       46 KiB |               353 KiB |
/// | 15          |    371 KiB |       46 KiB |               417 KiB |
///
/// Each is created on the first compressed message in its direction, so a
/// connection that exchanges none holds neither; after that they stay
/// for the connection's life (context takeover needs them, and without it
/// a reset is cheaper than a new allocation per message).
///
/// # Defaults
///
/// Chosen for a server holding many connections: 12-bit windows both ways
/// (python-websockets' choice too; typical JSON messages compress nearly as
/// well as with 15 bits, and the compressor is 112 KiB smaller per
/// connection), context takeover kept (it is where small, repetitive messages
/// gain most), level 6 (zlib's default) and messages under 32 bytes sent
/// uncompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateConfig {
    /// The largest window the server compresses with. A server never uses
    /// more; a client asks for this (`server_max_window_bits=N`) when it is
    /// below 15.
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with. A client never uses
    /// more and offers `client_max_window_bits` (bare at 15, with a value
    /// below); a server answers with it when the client offered the
    /// parameter. A client that did not offer it may use 15 bits, which a
    /// server then decompresses with.
    pub client_max_window_bits: u8,
    /// The server compresses every message on its own (no context carried
    /// over between messages): asked for by a client, applied by a server.
    pub server_no_context_takeover: bool,
    /// The client compresses every message on its own: applied by a
    /// client (and offered as a hint), asked for by a server.
    pub client_no_context_takeover: bool,
    /// Compression level, 0 (stored blocks only) to 9 (smallest, slowest);
    /// larger values are used as 9.
    pub level: u32,
    /// Messages sent whole and shorter than this go uncompressed (RSV1
    /// clear). A message sent in pieces is compressed whatever its size,
    /// since its size is not known at its first piece.
    pub min_size: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_max_window_bits: 12,
            client_max_window_bits: 12,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            level: 6,
            min_size: 32,
        }
    }
}

/// A configured window size as used: clamped into 9..=15 (see
/// [`DeflateConfig`] on why 8 is 9).
pub(crate) fn own_bits(bits: u8) -> u8 {
    bits.clamp(MIN_ZLIB_WINDOW_BITS, MAX_WINDOW_BITS)
}
