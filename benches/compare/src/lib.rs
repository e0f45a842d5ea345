//! What the comparison binaries share: the pre-encoded wire, an in-memory
//! stream, statistics and markdown tables.
//!
//! - `inmem`: the same masked frames read by each library's server read
//!   path, in memory (`src/bin/inmem.rs`).
//! - `echo_server`: each library's echo server (`src/bin/echo_server.rs`).
//! - `loadgen`: one load generator for all of them, and the idle-memory
//!   probe (`src/bin/loadgen.rs`).
//! - [`floor`]: the least work an echo server can do, the yardstick for
//!   what a library can win over the peers.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub mod floor;

/// The largest read the in-memory stream serves at once, like a socket
/// whose receive buffer holds this much.
pub const READ_CHUNK: usize = 64 << 10;

/// A deterministic payload: ASCII text (so the same bytes serve text and
/// binary messages), different for every message index.
pub fn payload(size: usize, index: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,";
    (0..size)
        .map(|i| ALPHABET[(i * 7 + index * 13) % ALPHABET.len()])
        .collect()
}

/// A JSON-like text message of exactly `size` bytes, different for every
/// `index`: an array of chat/API objects whose keys repeat and whose values
/// (ids, names, words, timestamps) vary, as the traffic permessage-deflate
/// is negotiated for does. Cut at `size`, so the last object may be
/// unfinished; all ASCII.
pub fn json_message(size: usize, index: usize) -> Vec<u8> {
    const WORDS: [&str; 48] = [
        "the", "a", "to", "and", "of", "in", "is", "it", "you", "that", "for", "on", "with",
        "this", "was", "are", "we", "be", "have", "not", "at", "but", "they", "from", "hello",
        "thanks", "meeting", "today", "tomorrow", "build", "release", "error", "fixed", "please",
        "review", "deploy", "server", "client", "latency", "message", "room", "update", "status",
        "green", "failed", "retry", "ok", "ship",
    ];
    const KINDS: [&str; 4] = ["message", "join", "leave", "typing"];
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15 ^ (index as u64).wrapping_mul(0x1000_0001));
    let mut out = String::with_capacity(size + 256);
    out.push('[');
    while out.len() < size {
        let words = 3 + rng.below(12) as usize;
        let text: Vec<&str> = (0..words)
            .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
            .collect();
        out.push_str(&format!(
            "{{\"id\":{},\"type\":\"{}\",\"user\":\"user{}\",\"room\":\"room-{}\",\"text\":\"{}\",\"ts\":{}}},",
            rng.below(1 << 30),
            KINDS[rng.below(KINDS.len() as u64) as usize],
            rng.below(500),
            rng.below(8),
            text.join(" "),
            1_733_000_000_000 + rng.below(1 << 31),
        ));
    }
    out.truncate(size);
    out.into_bytes()
}

/// A 32-bit xorshift, for mask keys: the load generator and the wire need
/// no cryptographic keys.
pub struct XorShift(pub u32);

impl XorShift {
    pub fn next_key(&mut self) -> [u8; 4] {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x.to_le_bytes()
    }
}

/// Appends one masked frame (FIN set) as a client sends it.
pub fn encode_masked(out: &mut Vec<u8>, opcode: u8, payload: &[u8], key: [u8; 4]) {
    out.push(0x80 | opcode);
    match payload.len() {
        len @ 0..=125 => out.push(0x80 | len as u8),
        len @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    let at = out.len();
    out.extend_from_slice(payload);
    for (i, byte) in out[at..].iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// The benchmarks' seeded generator (xorshift64*, shared with the crate's
/// own benches), for payload content: the same seed gives the same wire on
/// every machine, and its output has no pattern a branch predictor or a
/// cache line could learn.
#[path = "../../support/xorshift.rs"]
mod xorshift;
pub use xorshift::XorShift as Rng;

impl Rng {
    /// A scalar value in `lo..=hi`, drawn again where it lands on a
    /// surrogate.
    fn char_in(&mut self, lo: u32, hi: u32) -> char {
        loop {
            let c = lo + self.below(u64::from(hi - lo + 1)) as u32;
            if let Some(c) = char::from_u32(c) {
                return c;
            }
        }
    }
}

/// What the messages carry. Every text mix is valid UTF-8 built from a
/// seeded [`Rng`]; the shares below count characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Binary frames of random bytes.
    Binary,
    /// Text, printable ASCII only.
    Ascii,
    /// Text, 80% printable ASCII and 20% split about evenly between 2-, 3-
    /// and 4-byte characters drawn from their whole ranges, so every lead
    /// byte (and the E0/ED/F0/F4 cases validators treat apart) shows up.
    Mixed,
    /// Text, 90% CJK ideographs (U+4E00–U+9FFF) and 5% CJK punctuation
    /// (U+3000–U+303F), all 3 bytes; 5% ASCII.
    Cjk,
    /// Text, 80% emoji (U+1F300–U+1FAFF, 4 bytes), 5% joiners and variation
    /// selectors (U+200D, U+FE0F, 3 bytes) as emoji sequences carry, 15%
    /// ASCII.
    Emoji,
}

impl Content {
    pub const ALL: [Content; 5] = [
        Content::Binary,
        Content::Ascii,
        Content::Mixed,
        Content::Cjk,
        Content::Emoji,
    ];

    /// The name used on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Content::Binary => "binary",
            Content::Ascii => "ascii",
            Content::Mixed => "mixed",
            Content::Cjk => "cjk",
            Content::Emoji => "emoji",
        }
    }

    /// The name used in tables.
    pub fn label(self) -> &'static str {
        match self {
            Content::Binary => "binary",
            Content::Ascii => "ASCII text",
            Content::Mixed => "mixed 80/20 text",
            Content::Cjk => "CJK text",
            Content::Emoji => "emoji text",
        }
    }

    pub fn is_text(self) -> bool {
        self != Content::Binary
    }

    /// The contents a comma-separated list names: keys as above, `text`
    /// for the four text mixes, `all` for everything.
    pub fn parse_list(list: &str) -> Vec<Content> {
        let mut out = Vec::new();
        for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let named: Vec<Content> = match word.to_ascii_lowercase().as_str() {
                "all" => Content::ALL.to_vec(),
                "text" => Content::ALL[1..].to_vec(),
                key => vec![*Content::ALL
                    .iter()
                    .find(|c| c.key() == key)
                    .unwrap_or_else(|| {
                        panic!(
                            "unknown content {key} (binary, ascii, mixed, cjk, emoji, text, all)"
                        )
                    })],
            };
            for c in named {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    fn push_char(self, rng: &mut Rng, out: &mut Vec<u8>) {
        let c = match (self, rng.below(100)) {
            (Content::Binary, _) => {
                out.push(rng.next_u64() as u8);
                return;
            }
            (Content::Ascii, _) | (Content::Mixed, 0..=79) => rng.char_in(0x20, 0x7E),
            (Content::Mixed, 80..=86) => rng.char_in(0x80, 0x7FF),
            (Content::Mixed, 87..=93) => rng.char_in(0x800, 0xFFFF),
            (Content::Mixed, _) => rng.char_in(0x1_0000, 0x10_FFFF),
            (Content::Cjk, 0..=89) => rng.char_in(0x4E00, 0x9FFF),
            (Content::Cjk, 90..=94) => rng.char_in(0x3000, 0x303F),
            (Content::Cjk, _) => rng.char_in(0x20, 0x7E),
            (Content::Emoji, 0..=79) => rng.char_in(0x1_F300, 0x1_FAFF),
            (Content::Emoji, 80..=84) => {
                if rng.below(2) == 0 {
                    '\u{200D}'
                } else {
                    '\u{FE0F}'
                }
            }
            (Content::Emoji, _) => rng.char_in(0x20, 0x7E),
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }

    /// At least `bytes` of content (whole characters), the pool messages
    /// are cut from.
    pub fn pool(self, bytes: usize, seed: u64) -> Vec<u8> {
        let mut rng = Rng::new(seed);
        let mut out = Vec::with_capacity(bytes + 4);
        while out.len() < bytes {
            self.push_char(&mut rng, &mut out);
        }
        if self.is_text() {
            debug_assert!(std::str::from_utf8(&out).is_ok());
        }
        out
    }

    /// Appends to `out` a payload of exactly `size` bytes cut from `pool`
    /// at a random place. Text starts and ends on character boundaries
    /// and is padded with 0 to 3 ASCII letters to the exact size, so every
    /// content carries the same bytes per message and stays valid UTF-8.
    pub fn cut(self, pool: &[u8], size: usize, rng: &mut Rng, out: &mut Vec<u8>) {
        // A margin so the boundary search never runs off the pool.
        assert!(pool.len() >= size + 8, "pool smaller than a payload");
        let continuation = |b: u8| b & 0xC0 == 0x80;
        let mut start = rng.below((pool.len() - size - 4) as u64) as usize;
        let mut end = start + size;
        if self.is_text() {
            while continuation(pool[start]) {
                start += 1;
            }
            while continuation(pool[end]) {
                end -= 1;
            }
        }
        let at = out.len();
        out.extend_from_slice(&pool[start..end]);
        while out.len() - at < size {
            out.push(b'a' + rng.below(26) as u8);
        }
    }
}

/// The bytes of a frame header with a mask key, for a payload of `size`.
pub fn frame_overhead(size: usize) -> usize {
    match size {
        0..=125 => 6,
        126..=0xFFFF => 8,
        _ => 14,
    }
}

/// Masked single-frame messages as a client sends them, each with its own
/// payload and mask key, and what a reader must see.
pub struct Wire {
    pub bytes: Vec<u8>,
    pub count: usize,
    /// The payload bytes of all messages.
    pub payload_bytes: usize,
    pub first: Vec<u8>,
    pub last: Vec<u8>,
}

impl Wire {
    /// `count` messages of `size` bytes cut from `pool` (see
    /// [`Content::cut`]).
    pub fn new(content: Content, pool: &[u8], size: usize, count: usize) -> Wire {
        let opcode = if content.is_text() { 0x1 } else { 0x2 };
        let mut keys = XorShift(0x9E37_79B9);
        let mut rng = Rng::new(0x5EED ^ size as u64);
        let mut bytes = Vec::with_capacity(count * (size + frame_overhead(size)));
        let mut scratch = Vec::with_capacity(size);
        let mut first = Vec::new();
        for i in 0..count {
            scratch.clear();
            content.cut(pool, size, &mut rng, &mut scratch);
            if content.is_text() {
                debug_assert!(std::str::from_utf8(&scratch).is_ok());
            }
            if i == 0 {
                first = scratch.clone();
            }
            encode_masked(&mut bytes, opcode, &scratch, keys.next_key());
        }
        Wire {
            bytes,
            count,
            payload_bytes: count * size,
            first,
            last: scratch,
        }
    }
}

/// An in-memory transport: reads copy from a shared buffer (at most
/// [`READ_CHUNK`] at a time, as a socket would), writes are counted and
/// dropped. The read position is shared so a long-lived reader can be
/// rewound between samples.
#[derive(Clone)]
pub struct Mem {
    data: Rc<Vec<u8>>,
    pos: Rc<Cell<usize>>,
    pub written: Rc<Cell<usize>>,
}

impl Mem {
    pub fn new(data: Rc<Vec<u8>>) -> Self {
        Mem {
            data,
            pos: Rc::new(Cell::new(0)),
            written: Rc::new(Cell::new(0)),
        }
    }

    pub fn rewind(&self) {
        self.pos.set(0);
    }

    /// Copies the next bytes into `out`, returning how many.
    fn read_into(&self, out: &mut [u8]) -> usize {
        let pos = self.pos.get();
        let n = out.len().min(self.data.len() - pos).min(READ_CHUNK);
        out[..n].copy_from_slice(&self.data[pos..pos + n]);
        self.pos.set(pos + n);
        n
    }

    /// The next bytes, for the sans-IO `receive(&[u8])`.
    pub fn next_chunk(&self) -> &[u8] {
        let pos = self.pos.get();
        let n = (self.data.len() - pos).min(READ_CHUNK);
        self.pos.set(pos + n);
        &self.data[pos..pos + n]
    }
}

impl io::Read for Mem {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_into(buf))
    }
}

impl io::Write for Mem {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.set(self.written.get() + buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for Mem {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.read_into(buf.initialize_unfilled());
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Mem {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written.set(self.written.get() + buf.len());
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The median of `values` (sorted in place); 0 when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// A number with thousands separators and no decimals.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A payload size as people write it: 16 B, 1 KiB, 1 MiB.
pub fn size_label(size: usize) -> String {
    match size {
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 && s % (1 << 10) == 0 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// The Sec-WebSocket-Accept value for a key (RFC 6455 §4.2.2), for the
/// servers whose library has no handshake of its own without hyper.
pub fn accept_key(key: &[u8]) -> String {
    use base64::Engine as _;
    use sha1::{Digest, Sha1};
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}
