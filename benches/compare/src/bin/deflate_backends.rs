//! flate2's three backends side by side, to decide which one the crate's
//! permessage-deflate uses: zlib-rs (`zlib_rs::{Deflate, Inflate}`, what
//! flate2's `zlib-rs` feature calls), miniz_oxide (its stream API, what
//! flate2's default `rust_backend` calls) and C zlib (`libz-sys`, built from
//! the zlib source it ships), each called directly, since flate2 builds
//! with one backend only.
//!
//! ```text
//! cargo run --release --bin deflate_backends -- [--samples 7] [--sample-mib 8]
//! ```
//!
//! Each backend does what `rfc6455::deflate::PerMessageDeflate` asks of
//! flate2: raw DEFLATE at the crate's default level, context takeover (one
//! compressor and one decompressor for the whole run), a sync flush at the
//! end of every message with its `00 00 ff ff` tail removed, and the tail
//! put back before decompressing (RFC 7692 §7.2). Windows of 15 bits and of
//! the crate's default (12); miniz_oxide compresses with 15 only (it has no
//! window setting) but decompresses either.
//!
//! The payloads are those of `benches/deflate.rs` (the same generator,
//! `benches/support/deflate_payloads.rs`): JSON-like text and random bytes
//! at 125 B, 16 KiB and 1 MiB, distinct messages, `samples × sample-mib`
//! of them per content and size (56 MiB by default, more than the last-level
//! cache). Each sample takes the next `sample-mib` of messages, which every
//! backend compresses in turn (the order rotating from sample to sample);
//! then every backend decompresses what C zlib made of them, so all
//! decompress the same bytes. Every compressed stream is checked by
//! decompressing it with C zlib, every decompressed one against the input.
//! Figures are MB/s (10^6 bytes) of uncompressed payload, the median of the
//! samples, and each backend's over zlib-rs's.
//!
//! zlib-rs is built with its `std` feature here (yawc's flate2 turns on
//! `runtime_detection`), the main crate builds it without (flate2 with
//! `default-features = false`); with and without measured the same.

use std::ffi::CStr;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

#[path = "../../../support/deflate_payloads.rs"]
mod payloads;
use payloads::Content;

const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
const SIZES: [usize; 3] = [125, 16 << 10, 1 << 20];

/// A compressor with context takeover: every call compresses one message
/// with a sync flush into `out` (large enough for it) and returns the bytes
/// written, the tail removed.
trait Compressor {
    fn compress(&mut self, input: &[u8], out: &mut [u8]) -> usize;
}

/// The matching decompressor: one message, tail put back, into `out`;
/// returns the bytes written.
trait Decompressor {
    fn decompress(&mut self, input: &[u8], out: &mut [u8]) -> usize;
}

fn strip_tail(out: &[u8], n: usize) -> usize {
    if out[..n].ends_with(&TAIL) {
        n - TAIL.len()
    } else {
        n
    }
}

// ----- zlib-rs -----

struct ZlibRsCompress(zlib_rs::Deflate);
struct ZlibRsDecompress(zlib_rs::Inflate);

impl Compressor for ZlibRsCompress {
    fn compress(&mut self, input: &[u8], out: &mut [u8]) -> usize {
        let (in0, out0) = (self.0.total_in(), self.0.total_out());
        self.0
            .compress(input, out, zlib_rs::DeflateFlush::SyncFlush)
            .expect("zlib-rs deflate");
        let consumed = (self.0.total_in() - in0) as usize;
        let written = (self.0.total_out() - out0) as usize;
        assert!(
            consumed == input.len() && written < out.len(),
            "output too small"
        );
        strip_tail(out, written)
    }
}

impl Decompressor for ZlibRsDecompress {
    fn decompress(&mut self, input: &[u8], out: &mut [u8]) -> usize {
        let out0 = self.0.total_out();
        let mut at = 0;
        for part in [input, &TAIL[..]] {
            let before = self.0.total_out();
            self.0
                .decompress(part, &mut out[at..], zlib_rs::InflateFlush::SyncFlush)
                .expect("zlib-rs inflate");
            at += (self.0.total_out() - before) as usize;
        }
        (self.0.total_out() - out0) as usize
    }
}

// ----- miniz_oxide -----

struct MinizCompress(Box<miniz_oxide::deflate::core::CompressorOxide>);
struct MinizDecompress(Box<miniz_oxide::inflate::stream::InflateState>);

impl MinizCompress {
    fn new(level: u8) -> Self {
        let mut inner: Box<miniz_oxide::deflate::core::CompressorOxide> = Box::default();
        inner.set_format_and_level(miniz_oxide::DataFormat::Raw, level);
        MinizCompress(inner)
    }
}

impl Compressor for MinizCompress {
    fn compress(&mut self, input: &[u8], out: &mut [u8]) -> usize {
        let result = miniz_oxide::deflate::stream::deflate(
            &mut self.0,
            input,
            out,
            miniz_oxide::MZFlush::Sync,
        );
        result.status.expect("miniz_oxide deflate");
        assert!(
            result.bytes_consumed == input.len() && result.bytes_written < out.len(),
            "output too small"
        );
        strip_tail(out, result.bytes_written)
    }
}

impl Decompressor for MinizDecompress {
    fn decompress(&mut self, input: &[u8], out: &mut [u8]) -> usize {
        let mut at = 0;
        for part in [input, &TAIL[..]] {
            let result = miniz_oxide::inflate::stream::inflate(
                &mut self.0,
                part,
                &mut out[at..],
                miniz_oxide::MZFlush::Sync,
            );
            match result.status {
                Ok(_) | Err(miniz_oxide::MZError::Buf) => {}
                Err(e) => panic!("miniz_oxide inflate: {e:?}"),
            }
            at += result.bytes_written;
        }
        at
    }
}

// ----- C zlib -----

unsafe extern "C" fn zalloc(
    _: libz_sys::voidpf,
    items: libz_sys::uInt,
    size: libz_sys::uInt,
) -> libz_sys::voidpf {
    libc::malloc(items as usize * size as usize)
}

unsafe extern "C" fn zfree(_: libz_sys::voidpf, address: libz_sys::voidpf) {
    libc::free(address)
}

/// A z_stream, boxed: zlib's state points back at it.
fn z_stream() -> Box<libz_sys::z_stream> {
    Box::new(libz_sys::z_stream {
        next_in: std::ptr::null_mut(),
        avail_in: 0,
        total_in: 0,
        next_out: std::ptr::null_mut(),
        avail_out: 0,
        total_out: 0,
        msg: std::ptr::null_mut(),
        state: std::ptr::null_mut(),
        zalloc,
        zfree,
        opaque: std::ptr::null_mut(),
        data_type: 0,
        adler: 0,
        reserved: 0,
    })
}

fn zlib_version() -> String {
    unsafe { CStr::from_ptr(libz_sys::zlibVersion()) }
        .to_string_lossy()
        .into_owned()
}

struct ZlibCompress(Box<libz_sys::z_stream>);
struct ZlibDecompress(Box<libz_sys::z_stream>);

impl ZlibCompress {
    fn new(level: i32, bits: u8) -> Self {
        let mut stream = z_stream();
        let rc = unsafe {
            libz_sys::deflateInit2_(
                &mut *stream,
                level,
                libz_sys::Z_DEFLATED,
                -i32::from(bits),
                8, // memLevel: zlib's default, as flate2 and zlib-rs use
                libz_sys::Z_DEFAULT_STRATEGY,
                libz_sys::zlibVersion(),
                std::mem::size_of::<libz_sys::z_stream>() as i32,
            )
        };
        assert_eq!(rc, libz_sys::Z_OK, "deflateInit2");
        ZlibCompress(stream)
    }
}

impl Drop for ZlibCompress {
    fn drop(&mut self) {
        unsafe { libz_sys::deflateEnd(&mut *self.0) };
    }
}

impl Compressor for ZlibCompress {
    fn compress(&mut self, input: &[u8], out: &mut [u8]) -> usize {
        let s = &mut *self.0;
        s.next_in = input.as_ptr().cast_mut();
        s.avail_in = input.len() as u32;
        s.next_out = out.as_mut_ptr();
        s.avail_out = out.len() as u32;
        let rc = unsafe { libz_sys::deflate(s, libz_sys::Z_SYNC_FLUSH) };
        assert!(
            rc == libz_sys::Z_OK || rc == libz_sys::Z_BUF_ERROR,
            "deflate: {rc}"
        );
        assert!(s.avail_in == 0 && s.avail_out > 0, "output too small");
        strip_tail(out, out.len() - s.avail_out as usize)
    }
}

impl ZlibDecompress {
    fn new(bits: u8) -> Self {
        let mut stream = z_stream();
        let rc = unsafe {
            libz_sys::inflateInit2_(
                &mut *stream,
                -i32::from(bits),
                libz_sys::zlibVersion(),
                std::mem::size_of::<libz_sys::z_stream>() as i32,
            )
        };
        assert_eq!(rc, libz_sys::Z_OK, "inflateInit2");
        ZlibDecompress(stream)
    }
}

impl Drop for ZlibDecompress {
    fn drop(&mut self) {
        unsafe { libz_sys::inflateEnd(&mut *self.0) };
    }
}

impl Decompressor for ZlibDecompress {
    fn decompress(&mut self, input: &[u8], out: &mut [u8]) -> usize {
        let s = &mut *self.0;
        s.next_out = out.as_mut_ptr();
        s.avail_out = out.len() as u32;
        for part in [input, &TAIL[..]] {
            s.next_in = part.as_ptr().cast_mut();
            s.avail_in = part.len() as u32;
            let rc = unsafe { libz_sys::inflate(s, libz_sys::Z_SYNC_FLUSH) };
            assert!(
                rc == libz_sys::Z_OK || rc == libz_sys::Z_BUF_ERROR,
                "inflate: {rc}"
            );
        }
        out.len() - s.avail_out as usize
    }
}

// ----- The run -----

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    ZlibRs,
    Miniz,
    Zlib,
}

const BACKENDS: [Backend; 3] = [Backend::ZlibRs, Backend::Miniz, Backend::Zlib];

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::ZlibRs => "zlib-rs",
            Backend::Miniz => "miniz_oxide",
            Backend::Zlib => "zlib (C)",
        }
    }

    /// `None`: this backend cannot compress with that window.
    fn compressor(self, level: u32, bits: u8) -> Option<Box<dyn Compressor>> {
        Some(match self {
            Backend::ZlibRs => Box::new(ZlibRsCompress(zlib_rs::Deflate::new(
                level as i32,
                false,
                bits,
            ))),
            Backend::Miniz if bits == 15 => Box::new(MinizCompress::new(level as u8)),
            Backend::Miniz => return None,
            Backend::Zlib => Box::new(ZlibCompress::new(level as i32, bits)),
        })
    }

    fn decompressor(self, bits: u8) -> Box<dyn Decompressor> {
        match self {
            Backend::ZlibRs => Box::new(ZlibRsDecompress(zlib_rs::Inflate::new(false, bits))),
            Backend::Miniz => Box::new(MinizDecompress(
                miniz_oxide::inflate::stream::InflateState::new_boxed(miniz_oxide::DataFormat::Raw),
            )),
            Backend::Zlib => Box::new(ZlibDecompress::new(bits)),
        }
    }
}

/// Room for one compressed message of `size` bytes: zlib's
/// `deflateBound` for windows under 15 bits (which may have to code
/// incompressible data with Huffman codes instead of storing it, the block
/// having left the window), and the flush.
fn bound(size: usize) -> usize {
    size + (size >> 3) + (size >> 8) + (size >> 9) + 64
}

/// Compresses the messages back to back into `out`; returns where each
/// message ends.
fn compress_all(
    c: &mut dyn Compressor,
    messages: &[u8],
    size: usize,
    out: &mut Vec<u8>,
) -> Vec<usize> {
    let count = messages.len() / size;
    out.clear();
    out.resize(count * bound(size), 0);
    let mut ends = Vec::with_capacity(count);
    let mut at = 0;
    for message in messages.chunks_exact(size) {
        at += c.compress(black_box(message), &mut out[at..at + bound(size)]);
        ends.push(at);
    }
    out.truncate(at);
    ends
}

/// Decompresses the messages of `wire` (ending at `ends`) back to back into
/// `out`, checking each one's size.
fn decompress_all(
    d: &mut dyn Decompressor,
    wire: &[u8],
    ends: &[usize],
    size: usize,
    out: &mut [u8],
) {
    let mut start = 0;
    let len = out.len();
    for (i, &end) in ends.iter().enumerate() {
        let slot = &mut out[i * size..(i + 1) * size + 64.min(len - (i + 1) * size)];
        let n = d.decompress(black_box(&wire[start..end]), slot);
        assert_eq!(n, size, "message {i} decompressed to {n} bytes");
        start = end;
    }
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

struct Row {
    content: Content,
    size: usize,
    bits: u8,
    /// Per backend: median MB/s (None: cannot), and compressed share.
    compress: Vec<Option<(f64, f64)>>,
    decompress: Vec<f64>,
}

fn run_cell(
    content: Content,
    size: usize,
    bits: u8,
    level: u32,
    pool: &[u8],
    samples: usize,
) -> Row {
    let count = pool.len() / size;
    let per = (count / samples).max(1);
    let mut compressors: Vec<Option<Box<dyn Compressor>>> =
        BACKENDS.iter().map(|b| b.compressor(level, bits)).collect();
    let mut decompressors: Vec<Box<dyn Decompressor>> =
        BACKENDS.iter().map(|b| b.decompressor(bits)).collect();
    let mut compress_rates = vec![Vec::new(); BACKENDS.len()];
    let mut decompress_rates = vec![Vec::new(); BACKENDS.len()];
    let mut wire_bytes = vec![0usize; BACKENDS.len()];
    // C zlib reads every backend's output of the first sample, from a
    // fresh state as the first sample starts from one.
    let mut checked = vec![false; BACKENDS.len()];
    let zlib = BACKENDS.iter().position(|b| *b == Backend::Zlib).unwrap();
    let mut out = Vec::new();
    let mut plain = vec![0u8; per * size + 64];
    for sample in 0..samples {
        let messages = &pool[sample * per * size..(sample + 1) * per * size];
        let bytes = messages.len() as f64;
        let order: Vec<usize> = (0..BACKENDS.len())
            .map(|i| (i + sample) % BACKENDS.len())
            .collect();
        let mut reference = None;
        for &b in &order {
            let Some(compressor) = compressors[b].as_mut() else {
                continue;
            };
            let start = Instant::now();
            let ends = compress_all(&mut **compressor, messages, size, &mut out);
            let secs = start.elapsed().as_secs_f64();
            compress_rates[b].push(bytes / secs / 1e6);
            wire_bytes[b] += out.len();
            if !checked[b] {
                let mut check = ZlibDecompress::new(bits);
                decompress_all(&mut check, &out, &ends, size, &mut plain);
                assert!(
                    plain[..messages.len()] == *messages,
                    "{} made a wrong stream",
                    BACKENDS[b].name()
                );
                checked[b] = true;
            }
            if b == zlib {
                reference = Some((out.clone(), ends));
            }
        }
        let (wire, ends) = reference.expect("C zlib compresses every window");
        for &b in &order {
            plain.fill(0);
            let start = Instant::now();
            decompress_all(&mut *decompressors[b], &wire, &ends, size, &mut plain);
            let secs = start.elapsed().as_secs_f64();
            decompress_rates[b].push(bytes / secs / 1e6);
            assert!(
                plain[..messages.len()] == *messages,
                "{} decompressed wrongly",
                BACKENDS[b].name()
            );
        }
    }
    let total = (samples * per * size) as f64;
    Row {
        content,
        size,
        bits,
        compress: (0..BACKENDS.len())
            .map(|b| {
                compressors[b]
                    .as_ref()
                    .map(|_| (median(&mut compress_rates[b]), wire_bytes[b] as f64 / total))
            })
            .collect(),
        decompress: (0..BACKENDS.len())
            .map(|b| median(&mut decompress_rates[b]))
            .collect(),
    }
}

fn size_name(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

fn cell(rate: f64, base: f64, is_base: bool) -> String {
    if is_base {
        format!("{rate:.1}")
    } else {
        format!("{rate:.1} ({:.2}x)", rate / base)
    }
}

fn geomean(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

/// The version of `name` in this project's Cargo.lock.
fn locked_version(name: &str) -> &'static str {
    let lock = include_str!("../../Cargo.lock");
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .map(|at| {
            let rest = &lock[at + needle.len()..];
            &rest[..rest.find('"').unwrap_or(0)]
        })
        .unwrap_or("?")
}

fn main() {
    let mut samples = 7;
    let mut sample_mib = 8;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .and_then(|v| v.parse().ok())
                .expect("a number after the option")
        };
        match arg.as_str() {
            "--samples" => samples = value(),
            "--sample-mib" => sample_mib = value(),
            other => panic!("unknown option {other} (--samples N, --sample-mib N)"),
        }
    }
    let defaults = rfc6455::deflate::DeflateConfig::default();
    let level = defaults.level;
    let windows = [15u8, defaults.server_max_window_bits];
    let pool_bytes = samples * (sample_mib << 20);

    let mut rows = Vec::new();
    for content in Content::ALL {
        for size in SIZES {
            let started = Instant::now();
            let pool = payloads::pool(content, size, pool_bytes);
            for bits in windows {
                rows.push(run_cell(content, size, bits, level, &pool, samples));
            }
            eprintln!(
                "{} {}: {:.1} s",
                content.name(),
                size_name(size),
                started.elapsed().as_secs_f64()
            );
        }
    }

    let mut md = String::new();
    let names: Vec<&str> = BACKENDS.iter().map(|b| b.name()).collect();
    let _ = writeln!(md, "### permessage-deflate backends\n");
    let _ = writeln!(
        md,
        "zlib-rs {}, miniz_oxide {}, C zlib {} (libz-sys {}, built from source). Level {level} (the crate's default), \
         context takeover, a sync flush per message; {samples} samples of {sample_mib} MiB per row, \
         backends interleaved. MB/s of uncompressed payload, the median; in brackets, over zlib-rs. \
         miniz_oxide cannot compress with a window under 15 bits.\n",
        locked_version("zlib-rs"),
        locked_version("miniz_oxide"),
        zlib_version(),
        locked_version("libz-sys"),
    );
    for phase in ["Compress", "Decompress"] {
        let _ = writeln!(md, "**{phase}**\n");
        let mut header = format!("| content | size | window | {} |", names.join(" | "));
        let mut rule = String::from("|---|---:|---:|");
        for _ in &names {
            rule.push_str("---:|");
        }
        if phase == "Compress" {
            header.push_str(" compressed size (zlib-rs / miniz_oxide / zlib) |");
            rule.push_str("---:|");
        }
        let _ = writeln!(md, "{header}\n{rule}");
        for row in &rows {
            let mut line = format!(
                "| {} | {} | {} |",
                row.content.name(),
                size_name(row.size),
                row.bits
            );
            if phase == "Compress" {
                let base = row.compress[0].expect("zlib-rs compresses every window").0;
                for (b, c) in row.compress.iter().enumerate() {
                    let _ = write!(
                        line,
                        " {} |",
                        c.map_or("n/a".into(), |(rate, _)| cell(rate, base, b == 0))
                    );
                }
                let shares: Vec<String> = row
                    .compress
                    .iter()
                    .map(|c| c.map_or("n/a".into(), |(_, share)| format!("{:.1}%", share * 100.0)))
                    .collect();
                let _ = write!(line, " {} |", shares.join(" / "));
            } else {
                let base = row.decompress[0];
                for (b, &rate) in row.decompress.iter().enumerate() {
                    let _ = write!(line, " {} |", cell(rate, base, b == 0));
                }
            }
            let _ = writeln!(md, "{line}");
        }
        let _ = writeln!(md);
    }
    // One figure per backend and direction: the geometric mean of its
    // ratios over zlib-rs across the rows it ran.
    let _ = writeln!(
        md,
        "**Geometric mean over zlib-rs** (all rows each backend ran)\n"
    );
    let _ = writeln!(md, "| backend | compress | decompress |\n|---|---:|---:|");
    for (b, name) in names.iter().enumerate().skip(1) {
        let compress: Vec<f64> = rows
            .iter()
            .filter_map(|r| r.compress[b].map(|(rate, _)| rate / r.compress[0].unwrap().0))
            .collect();
        let decompress: Vec<f64> = rows
            .iter()
            .map(|r| r.decompress[b] / r.decompress[0])
            .collect();
        let _ = writeln!(
            md,
            "| {name} | {:.2}x | {:.2}x |",
            geomean(&compress),
            geomean(&decompress)
        );
    }
    print!("{md}");
}
