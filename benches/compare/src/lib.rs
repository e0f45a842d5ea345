//! What the comparison binaries share: the pre-encoded wire, an in-memory
//! stream, statistics and markdown tables.
//!
//! - `inmem`: the same masked frames read by each library's server read
//!   path, in memory (`src/bin/inmem.rs`).
//! - `echo_server`: each library's echo server (`src/bin/echo_server.rs`).
//! - `loadgen`: one load generator for all of them, and the idle-memory
//!   probe (`src/bin/loadgen.rs`).

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

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

/// `count` masked single-frame messages of `size` bytes, text or binary,
/// each with its own payload and mask key.
pub fn wire(text: bool, size: usize, count: usize) -> Vec<u8> {
    let mut rng = XorShift(0x9E37_79B9);
    let mut out = Vec::with_capacity(count * (size + 14));
    for i in 0..count {
        let opcode = if text { 0x1 } else { 0x2 };
        encode_masked(&mut out, opcode, &payload(size, i), rng.next_key());
    }
    out
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
