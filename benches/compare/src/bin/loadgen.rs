//! One load generator for every library's echo server, and the idle-memory
//! probe. It knows nothing of the libraries: raw TCP, a real handshake,
//! pre-encoded masked frames.
//!
//! ```text
//! loadgen echo   [--rounds 3] [--warmup 0.3] [--secs 1] [--conns 1,16,256]
//!                [--sizes 32,1024,65536] [--variants a,b] [--server PATH]
//!                [--server-cpu 0] [--out DIR] [--deflate]
//! loadgen memory [--conns 10000] [--variants a,b] [--server PATH]
//!                [--server-cpu 0] [--out DIR]
//! ```
//!
//! `echo` starts every variant's server once (pinned with `taskset` when it
//! exists), then for each round, each connection count and each payload
//! runs the variants one after another in a rotated order: connect and
//! handshake every connection, keep up to a window of messages in flight on
//! each (a new batch is written as echoes come back), count echoes for
//! `--secs` after `--warmup`, then drain and reset the connections. Each
//! echo is checked (binary opcode, FIN, unmasked, the length sent) and the
//! first one on every connection byte for byte. Prints the medians as
//! markdown tables (messages per second, per server CPU-second, and the
//! server's CPU time per echo with its user-space part, which tells a
//! library's own cost from the kernel's, and the CPU time per echo of the
//! server and the load generator together), and writes the raw samples as
//! CSV.
//!
//! With `--deflate` the load generator offers permessage-deflate and sends
//! JSON-like text messages, each compressed on its own (as with
//! `client_no_context_takeover`, so the same pre-encoded frames are valid
//! every time); the servers must negotiate it, and each echo is checked to
//! be a text frame, the first one inflated and compared with what was sent.
//! The tables then go to `echo-deflate.md` and `echo-deflate-raw.csv`, with
//! the mean size of the compressed replies beside them.
//!
//! When every variant is a blocking server (`rfc6455-blocking`,
//! `tungstenite-blocking`: a thread per connection), the tables go to
//! `echo-blocking.md` and `echo-blocking-raw.csv`. When any variant is
//! the floor (`floor`, `floor-batched`: `rfc6455_compare::floor`, no
//! library), they go to `echo-floor.md` and `echo-floor-raw.csv`, and the
//! floor is not counted among the peers.
//!
//! `memory` starts each server afresh, reads its VmRSS, opens `--conns`
//! connections with handshakes and leaves them idle, reads VmRSS again and
//! reports the difference per connection.
//!
//! Everything targets 127.0.0.1, and every run is bounded in time.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use rfc6455_compare::{
    encode_masked, json_message, median, payload, size_label, thousands, XorShift,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The variants run by default. `tokio-websockets-feed` is left out: its
/// `next()` flushes whatever `feed` queued, so it behaves as `send`.
const ALL_VARIANTS: [&str; 6] = [
    "rfc6455",
    "rfc6455-read_with",
    "fastwebsockets",
    "tokio-websockets",
    "tungstenite",
    "tungstenite-feed",
];

/// The key of RFC 6455 §1.3 and its accept value.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct Options {
    rounds: usize,
    warmup: f64,
    secs: f64,
    conns: Vec<usize>,
    sizes: Vec<usize>,
    variants: Vec<String>,
    server: String,
    server_cpu: String,
    out: Option<String>,
    /// Offer permessage-deflate and send compressed JSON-like text.
    deflate: bool,
}

fn parse_list(value: &str) -> Vec<usize> {
    value
        .split(',')
        .map(|s| s.trim().parse().expect("a number"))
        .collect()
}

fn options(args: &[String], memory: bool) -> Options {
    let exe = std::env::current_exe().expect("own path");
    let server = exe.with_file_name("echo_server");
    let mut o = Options {
        rounds: 3,
        warmup: 0.3,
        secs: 1.0,
        conns: if memory {
            vec![10_000]
        } else {
            vec![1, 16, 256]
        },
        sizes: vec![32, 1024, 64 << 10],
        variants: ALL_VARIANTS.iter().map(|v| v.to_string()).collect(),
        server: server.to_string_lossy().into_owned(),
        server_cpu: "0".into(),
        out: None,
        deflate: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--deflate" {
            o.deflate = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--rounds" => o.rounds = value.parse().expect("rounds"),
            "--warmup" => o.warmup = value.parse().expect("warmup"),
            "--secs" => o.secs = value.parse().expect("secs"),
            "--conns" => o.conns = parse_list(value),
            "--sizes" => o.sizes = parse_list(value),
            "--variants" => o.variants = value.split(',').map(str::to_owned).collect(),
            "--server" => o.server = value.clone(),
            "--server-cpu" => o.server_cpu = value.clone(),
            "--out" => o.out = Some(value.clone()),
            _ => panic!("unknown flag {flag}"),
        }
    }
    o
}

/// A running echo server.
struct Server {
    variant: String,
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(o: &Options, variant: &str) -> Server {
        let pinned = !o.server_cpu.is_empty() && Command::new("taskset").arg("-V").output().is_ok();
        let mut command = if pinned {
            let mut c = Command::new("taskset");
            c.args(["-c", &o.server_cpu, &o.server]);
            c
        } else {
            Command::new(&o.server)
        };
        let mut child = command
            .args([variant, "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", o.server));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("server output");
        let addr = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("{variant} said {line:?}"))
            .parse()
            .expect("an address");
        Server {
            variant: variant.to_owned(),
            child,
            addr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// CPU time so far, in user space and in the kernel.
    fn cpu_times(&self) -> CpuTimes {
        CpuTimes::of(&format!("/proc/{}/stat", self.pid()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's CPU time in seconds, from `/proc/PID/stat`: what it ran
/// in user space (its own code and its libraries'), and what the kernel ran
/// for it (system calls, and the network stack's work done on its CPU).
#[derive(Clone, Copy)]
struct CpuTimes {
    user: f64,
    system: f64,
}

impl CpuTimes {
    fn of(path: &str) -> CpuTimes {
        let stat = std::fs::read_to_string(path).unwrap_or_default();
        // The fields after the command name, which is in parentheses.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime, in USER_HZ ticks (100 a second on Linux).
        let seconds = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 100.0
        };
        CpuTimes {
            user: seconds(11),
            system: seconds(12),
        }
    }

    fn total(self) -> f64 {
        self.user + self.system
    }

    /// The time spent between `self` and `later`.
    fn until(self, later: CpuTimes) -> CpuTimes {
        CpuTimes {
            user: later.user - self.user,
            system: later.system - self.system,
        }
    }
}

/// The offer made with `--deflate`: the load generator compresses every
/// message on its own, so it says so.
const DEFLATE_OFFER: &str = "permessage-deflate; client_no_context_takeover";

/// Opens a connection and runs the opening handshake, offering
/// permessage-deflate when `deflate` is set (and then requiring it).
async fn connect(addr: SocketAddr, deflate: bool) -> Result<TcpStream, BoxError> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    // Reset on close: no TIME_WAIT pile-up over thousands of connections.
    stream.set_zero_linger()?;
    let extensions = if deflate {
        format!("Sec-WebSocket-Extensions: {DEFLATE_OFFER}\r\n")
    } else {
        String::new()
    };
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extensions}\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte so nothing after the head is consumed (the servers send
    // nothing before the first frame anyway).
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err("eof during the handshake".into());
        }
        head.push(byte[0]);
        if head.len() > 4096 {
            return Err("handshake response too long".into());
        }
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 101") {
        return Err(format!("handshake refused: {head}").into());
    }
    let accepted = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("sec-websocket-accept") && value.trim() == ACCEPT
        })
    });
    if !accepted {
        return Err(format!("bad Sec-WebSocket-Accept: {head}").into());
    }
    let compressing = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("sec-websocket-extensions")
                && value.trim_start().starts_with("permessage-deflate")
        })
    });
    if deflate && !compressing {
        return Err(format!("permessage-deflate was not negotiated: {head}").into());
    }
    Ok(stream)
}

/// Counts the echoed frames in a byte stream, checking each header and the
/// first payload (inflated first when the server compressed it).
struct Echoes {
    size: usize,
    deflate: bool,
    expected_first: Vec<u8>,
    header: [u8; 10],
    have: usize,
    /// Header bytes of the current frame: 2 until its length code is read.
    need: usize,
    /// Payload bytes of the current frame still to come.
    remaining: usize,
    /// The first payload, while it is being collected.
    first: Option<Vec<u8>>,
    /// The first echo had RSV1 set.
    first_compressed: bool,
    /// Payload bytes of every echo so far.
    payload_bytes: u64,
}

impl Echoes {
    fn new(size: usize, deflate: bool) -> Self {
        Echoes {
            size,
            deflate,
            expected_first: message(size, 0, deflate),
            header: [0; 10],
            have: 0,
            need: 2,
            remaining: 0,
            first: Some(Vec::with_capacity(size)),
            first_compressed: false,
            payload_bytes: 0,
        }
    }

    /// Consumes `data`, returning how many echoes it completed.
    fn feed(&mut self, mut data: &[u8]) -> Result<u64, String> {
        let mut done = 0;
        while !data.is_empty() {
            if self.remaining > 0 {
                let take = self.remaining.min(data.len());
                if let Some(first) = &mut self.first {
                    first.extend_from_slice(&data[..take]);
                }
                self.remaining -= take;
                data = &data[take..];
                if self.remaining == 0 {
                    done += 1;
                    self.end_frame()?;
                }
                continue;
            }
            let take = (self.need - self.have).min(data.len());
            self.header[self.have..self.have + take].copy_from_slice(&data[..take]);
            self.have += take;
            data = &data[take..];
            if self.have < self.need {
                break;
            }
            if self.need == 2 {
                let extended = match self.header[1] & 0x7F {
                    126 => 2,
                    127 => 8,
                    _ => 0,
                };
                if extended > 0 {
                    self.need += extended;
                    continue;
                }
            }
            let h = &self.header[..self.need];
            let len = match self.need {
                2 => usize::from(h[1] & 0x7F),
                4 => usize::from(u16::from_be_bytes([h[2], h[3]])),
                _ => u64::from_be_bytes(h[2..10].try_into().unwrap()) as usize,
            };
            self.check_header(h[0], h[1], len)?;
            self.need = 2;
            self.have = 0;
            self.payload_bytes += len as u64;
            self.remaining = len;
            if len == 0 {
                done += 1;
                self.end_frame()?;
            }
        }
        Ok(done)
    }

    /// An echo is one unmasked frame with FIN: binary and as long as the
    /// message sent, or with `--deflate` text, compressed (RSV1) or not.
    fn check_header(&mut self, first: u8, second: u8, len: usize) -> Result<(), String> {
        let fits = if self.deflate {
            matches!(first, 0x81 | 0xC1)
        } else {
            first == 0x82 && len == self.size
        };
        if !fits || second & 0x80 != 0 {
            return Err(format!(
                "unexpected frame header {first:02x} {second:02x}, {len} bytes"
            ));
        }
        if self.first.as_ref().is_some_and(Vec::is_empty) {
            self.first_compressed = first & 0x40 != 0;
        }
        Ok(())
    }

    fn end_frame(&mut self) -> Result<(), String> {
        if let Some(first) = self.first.take() {
            let first = if self.first_compressed {
                inflate(&first, self.size)?
            } else {
                first
            };
            if first != self.expected_first {
                return Err("the first echo differs from the message sent".into());
            }
        }
        Ok(())
    }
}

/// Message `index` of `size` bytes: the payload of a binary message, or
/// with `deflate` a JSON-like text.
fn message(size: usize, index: usize, deflate: bool) -> Vec<u8> {
    if deflate {
        json_message(size, index)
    } else {
        payload(size, index)
    }
}

/// A message compressed on its own as permessage-deflate sends it: raw
/// DEFLATE at zlib's default level, sync flush, the `00 00 ff ff` tail
/// removed (RFC 7692 §7.2.1).
fn deflate_message(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 128);
    let mut compress = Compress::new(Compression::new(6), false);
    compress
        .compress_vec(data, &mut out, FlushCompress::Sync)
        .expect("deflate");
    assert_eq!(compress.total_in() as usize, data.len(), "output room");
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]), "a sync flush's tail");
    out.truncate(out.len() - 4);
    out
}

/// Inflates the first compressed echo (the first message of the server's
/// stream, so no earlier context is needed).
fn inflate(compressed: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let mut input = compressed.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(size + 64);
    Decompress::new(false)
        .decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .map_err(|e| format!("the first echo does not inflate: {e}"))?;
    Ok(out)
}

/// What every connection of one measurement shares.
struct Shared {
    echoes: AtomicU64,
    /// Payload bytes of the echoes read by connections that finished.
    reply_bytes: AtomicU64,
    /// Echoes those connections read.
    replies: AtomicU64,
    stop: AtomicBool,
    errors: AtomicU64,
}

async fn write_loop(
    mut writer: OwnedWriteHalf,
    frames: Arc<Vec<u8>>,
    ends: Arc<Vec<usize>>,
    window: Arc<Semaphore>,
    window_len: usize,
    shared: Arc<Shared>,
) {
    // Write in batches: wait until half the window is free, then fill it,
    // with the next messages of the pool, going round it.
    let half = (window_len / 2).max(1);
    let mut next = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        let Ok(permit) = window.acquire_many(half as u32).await else {
            return;
        };
        permit.forget();
        let mut n = half;
        let extra = window.available_permits();
        if let Ok(permit) = window.try_acquire_many(extra as u32) {
            permit.forget();
            n += extra;
        }
        if shared.stop.load(Ordering::Relaxed) {
            window.add_permits(n);
            return;
        }
        while n > 0 {
            let take = n.min(ends.len() - next);
            let start = if next == 0 { 0 } else { ends[next - 1] };
            if writer
                .write_all(&frames[start..ends[next + take - 1]])
                .await
                .is_err()
            {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
            next = (next + take) % ends.len();
            n -= take;
        }
    }
}

async fn read_loop(
    mut reader: OwnedReadHalf,
    size: usize,
    deflate: bool,
    window: Arc<Semaphore>,
    window_len: usize,
    shared: Arc<Shared>,
    stop_rx: tokio::sync::watch::Receiver<bool>,
) {
    let mut echoes = Echoes::new(size, deflate);
    let mut count = 0u64;
    read_echoes(
        &mut reader,
        &mut echoes,
        &mut count,
        &window,
        window_len,
        &shared,
        stop_rx,
    )
    .await;
    shared
        .reply_bytes
        .fetch_add(echoes.payload_bytes, Ordering::Relaxed);
    shared.replies.fetch_add(count, Ordering::Relaxed);
}

/// The body of [`read_loop`]: reads and counts echoes (`count`) until the
/// measurement stops and every message sent came back.
async fn read_echoes(
    reader: &mut OwnedReadHalf,
    echoes: &mut Echoes,
    count: &mut u64,
    window: &Semaphore,
    window_len: usize,
    shared: &Shared,
    stop_rx: tokio::sync::watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 256 << 10];
    let mut stopping = stop_rx.clone();
    loop {
        if shared.stop.load(Ordering::Relaxed) && window.available_permits() >= window_len {
            return; // everything sent came back
        }
        let read = tokio::select! {
            read = reader.read(&mut buf) => read,
            _ = stopping.changed() => continue,
        };
        let n = match read {
            Ok(0) | Err(_) => {
                if !shared.stop.load(Ordering::Relaxed) {
                    shared.errors.fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
            Ok(n) => n,
        };
        match echoes.feed(&buf[..n]) {
            Ok(0) => {}
            Ok(done) => {
                *count += done;
                shared.echoes.fetch_add(done, Ordering::Relaxed);
                window.add_permits(done as usize);
            }
            Err(error) => {
                eprintln!("echo check failed: {error}");
                shared.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// Messages in flight per connection: 64, or as many as fit in 512 KiB
/// (8 of 64 KiB), so every library always has a backlog to batch replies
/// from and large payloads do not flood the socket buffers.
fn window_for(size: usize) -> usize {
    ((512 << 10) / (size + 14)).clamp(4, 64)
}

struct Sample {
    messages_per_sec: f64,
    /// Mean payload bytes of an echo (the compressed size with deflate).
    reply_bytes: f64,
    /// The server's CPU time per second, both parts.
    server_cpu: f64,
    /// The part of `server_cpu` spent in user space.
    server_user: f64,
    loadgen_cpu: f64,
    errors: u64,
}

/// The masked client frames a connection sends, over and over, one after
/// the other, and where each ends. The first carries message 0, which the
/// echo check expects. A window's worth of binary messages; with
/// `deflate`, JSON-like text, each message compressed on its own (RSV1
/// set), and enough different ones (about 1 MiB, at most 4,096) that a
/// server's compressor never finds a whole earlier message in its 32 KiB
/// window, as it would if a few messages came round again and again.
fn client_frames(size: usize, window_len: usize, deflate: bool) -> (Vec<u8>, Vec<usize>) {
    let count = if deflate {
        ((1 << 20) / size.max(1)).clamp(window_len, 4096)
    } else {
        window_len
    };
    let mut frames = Vec::new();
    let mut ends = Vec::with_capacity(count);
    let mut rng = XorShift(0x1234_5678);
    for i in 0..count {
        let data = message(size, i, deflate);
        if deflate {
            // FIN, RSV1, text.
            encode_masked(&mut frames, 0x41, &deflate_message(&data), rng.next_key());
        } else {
            encode_masked(&mut frames, 0x2, &data, rng.next_key());
        }
        ends.push(frames.len());
    }
    (frames, ends)
}

async fn measure(
    server: &Server,
    conns: usize,
    size: usize,
    o: &Options,
) -> Result<Sample, BoxError> {
    let (warmup, secs, deflate) = (o.warmup, o.secs, o.deflate);
    let window_len = window_for(size);
    let (frames, ends) = client_frames(size, window_len, deflate);
    let (frames, ends) = (Arc::new(frames), Arc::new(ends));
    let shared = Arc::new(Shared {
        reply_bytes: AtomicU64::new(0),
        replies: AtomicU64::new(0),
        echoes: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        errors: AtomicU64::new(0),
    });
    let mut streams = Vec::with_capacity(conns);
    for chunk in (0..conns).collect::<Vec<_>>().chunks(64) {
        let opened =
            futures_util::future::join_all(chunk.iter().map(|_| connect(server.addr, deflate)))
                .await;
        for stream in opened {
            streams.push(stream?);
        }
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for stream in streams {
        let (reader, writer) = stream.into_split();
        let window = Arc::new(Semaphore::new(window_len));
        tasks.push(tokio::spawn(read_loop(
            reader,
            size,
            deflate,
            Arc::clone(&window),
            window_len,
            Arc::clone(&shared),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(write_loop(
            writer,
            Arc::clone(&frames),
            Arc::clone(&ends),
            window,
            window_len,
            Arc::clone(&shared),
        )));
    }
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
    let (c0, t0) = (shared.echoes.load(Ordering::Relaxed), Instant::now());
    let (s0, l0) = (server.cpu_times(), CpuTimes::of("/proc/self/stat"));
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let (c1, t1) = (shared.echoes.load(Ordering::Relaxed), Instant::now());
    let (s1, l1) = (server.cpu_times(), CpuTimes::of("/proc/self/stat"));
    shared.stop.store(true, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    let drain = futures_util::future::join_all(tasks.iter_mut());
    if tokio::time::timeout(Duration::from_secs(3), drain)
        .await
        .is_err()
    {
        shared.errors.fetch_add(1, Ordering::Relaxed);
        eprintln!("{}: connections did not drain in 3 s", server.variant);
    }
    for task in &tasks {
        task.abort();
    }
    let elapsed = (t1 - t0).as_secs_f64();
    let server_time = s0.until(s1);
    let replies = shared.replies.load(Ordering::Relaxed).max(1);
    Ok(Sample {
        messages_per_sec: (c1 - c0) as f64 / elapsed,
        reply_bytes: shared.reply_bytes.load(Ordering::Relaxed) as f64 / replies as f64,
        server_cpu: server_time.total() / elapsed,
        server_user: server_time.user / elapsed,
        loadgen_cpu: l0.until(l1).total() / elapsed,
        errors: shared.errors.load(Ordering::Relaxed),
    })
}

fn write_out(o: &Options, name: &str, text: &str) {
    if let Some(dir) = &o.out {
        std::fs::create_dir_all(dir).expect("results folder");
        std::fs::write(format!("{dir}/{name}"), text).expect("results file");
    }
}

fn echo(o: &Options) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let servers: Vec<Server> = o.variants.iter().map(|v| Server::start(o, v)).collect();
    let mut samples = Samples::new();
    // Server CPU microseconds per echoed message, in all and in user space.
    let mut costs = Samples::new();
    let mut user_costs = Samples::new();
    // Server and load generator CPU microseconds per echoed message.
    let mut total_costs = Samples::new();
    // Mean payload bytes of an echo.
    let mut reply_sizes = Samples::new();
    let mut raw = String::from(
        "round,conns,payload,variant,messages_per_sec,server_cpu,loadgen_cpu,errors,server_user\n",
    );
    let mut failures = 0;
    for round in 0..o.rounds {
        for &conns in &o.conns {
            for &size in &o.sizes {
                // Rotate the order each round and configuration.
                let shift = (round + conns + size) % servers.len();
                for k in 0..servers.len() {
                    let server = &servers[(k + shift) % servers.len()];
                    let sample = runtime.block_on(measure(server, conns, size, o))?;
                    eprintln!(
                        "round {} conns {conns:>3} payload {:>6} {:<22} {:>12} msg/s  server cpu {:.2} (user {:.2}) loadgen cpu {:.2}{}",
                        round + 1,
                        size_label(size),
                        server.variant,
                        thousands(sample.messages_per_sec),
                        sample.server_cpu,
                        sample.server_user,
                        sample.loadgen_cpu,
                        if sample.errors > 0 { format!("  ERRORS {}", sample.errors) } else { String::new() },
                    );
                    failures += sample.errors;
                    raw.push_str(&format!(
                        "{},{conns},{size},{},{:.0},{:.3},{:.3},{},{:.3}\n",
                        round + 1,
                        server.variant,
                        sample.messages_per_sec,
                        sample.server_cpu,
                        sample.loadgen_cpu,
                        sample.errors,
                        sample.server_user,
                    ));
                    let key = (conns, size, server.variant.clone());
                    record(&mut samples, &key, sample.messages_per_sec);
                    record(&mut reply_sizes, &key, sample.reply_bytes);
                    if sample.messages_per_sec > 0.0 {
                        let per_message = 1e6 / sample.messages_per_sec;
                        record(&mut costs, &key, sample.server_cpu * per_message);
                        record(&mut user_costs, &key, sample.server_user * per_message);
                        let both = sample.server_cpu + sample.loadgen_cpu;
                        record(&mut total_costs, &key, both * per_message);
                    }
                }
            }
        }
    }
    let (name, what) = if o.deflate {
        (
            "echo-deflate",
            format!(
                " with permessage-deflate: JSON-like text, each message \
                 compressed by the load generator on its own (offer: \
                 `{DEFLATE_OFFER}`) and by the server as it is configured"
            ),
        )
    } else if o.variants.iter().all(|v| v.ends_with("-blocking")) {
        (
            "echo-blocking",
            " through blocking servers, a thread per connection".to_owned(),
        )
    } else if o.variants.iter().any(|v| v.starts_with("floor")) {
        (
            "echo-floor",
            " beside the floor (no library: the least work an echo can do)".to_owned(),
        )
    } else {
        ("echo", String::new())
    };
    write_out(o, &format!("{name}-raw.csv"), &raw);
    let peer_names: Vec<&str> = o
        .variants
        .iter()
        .map(String::as_str)
        .filter(|v| is_peer(v))
        .collect();
    let mut table = format!(
        "### Loopback echo{what}: messages per second (median of {} rounds)\n\n\
         Each cell: median echoes per second over {} s after {} s of warm-up, \
         and the ratio to the best peer variant ({}) in the same \
         configuration.\n\n",
        o.rounds,
        o.secs,
        o.warmup,
        peer_names.join(", ")
    );
    table.push_str(&median_grid(o, &samples, |_, _, medians| {
        // The fastest peer; a cell gives its variant's rate over that one.
        let best_peer = peers(o, medians).fold(0.0, f64::max);
        medians
            .iter()
            .map(|m| {
                if best_peer > 0.0 {
                    format!("{} ({:.2}×)", thousands(*m), m / best_peer)
                } else {
                    thousands(*m)
                }
            })
            .collect()
    }));
    table.push_str(&format!(
        "\n### Loopback echo: messages per server CPU-second (median of {} rounds)\n\n\
         Echoed messages per second of the server's CPU time (user + system, \
         from /proc/PID/stat), and the ratio to the best peer variant. This \
         is what a server's cost comes to, and it stays meaningful where the \
         load generator, not the server, limits the rate.\n\n",
        o.rounds
    ));
    table.push_str(&median_grid(o, &costs, |_, _, medians| {
        // `costs` holds CPU microseconds per message: the best peer is the
        // cheapest that measured anything.
        let best_peer = peers(o, medians)
            .filter(|m| *m > 0.0)
            .fold(f64::INFINITY, f64::min);
        medians
            .iter()
            .map(|m| format!("{} ({:.2}×)", thousands(1e6 / m), best_peer / m))
            .collect()
    }));
    table.push_str(&format!(
        "\n### Loopback echo: server CPU microseconds per echo, in all and in user space \
         (median of {} rounds)\n\n\
         Each cell: the server's CPU time per echoed message, then the part of \
         it spent in user space (the library, the runtime and the allocator; \
         the rest is the kernel's: system calls and, on loopback, the network \
         stack's work on both ends of the bytes the server sends). The user \
         part is what a library's own code costs; the kernel's part is \
         mostly the copying of payload bytes in and out, and otherwise \
         depends on how many system calls and wake-ups the library's reads \
         and writes take. A library whose user space cost nothing would \
         still cost its kernel part, which bounds its ratio in the table \
         above. Read from /proc/PID/stat, which counts in hundredths of a \
         second.\n\n",
        o.rounds
    ));
    table.push_str(&median_grid(o, &costs, |conns, size, medians| {
        let user = row_medians(o, &user_costs, conns, size);
        medians
            .iter()
            .zip(user)
            .map(|(all, user)| format!("{all:.2} (user {user:.2})"))
            .collect()
    }));
    table.push_str(&format!(
        "\n### Loopback echo: server and load generator CPU microseconds per echo \
         (median of {} rounds)\n\n\
         Each cell: the CPU time of the server and of the load generator \
         together per echoed message. On loopback each side's CPU does part \
         of the other side's network stack work (the receive path of the \
         bytes it sends runs in its own CPU's softirq, unless the receiver \
         holds the socket at that moment), so a server that leaves more of \
         that work to the load generator looks cheaper in the tables above \
         than it is; this sum does not move with that split. The load \
         generator is the same for every variant.\n\n",
        o.rounds
    ));
    table.push_str(&median_grid(o, &total_costs, |_, _, medians| {
        medians.iter().map(|m| format!("{m:.2}")).collect()
    }));
    if o.deflate {
        table.push_str(
            "\n### Loopback echo with permessage-deflate: mean bytes of payload per \
             echo (median of rounds)\n\n\
             What each server's compression makes of a message of the size \
             in the row: fewer bytes is better compressed.\n\n",
        );
        table.push_str(&median_grid(o, &reply_sizes, |_, _, medians| {
            medians.iter().map(|m| format!("{m:.0}")).collect()
        }));
    }
    println!("{table}");
    write_out(o, &format!("{name}.md"), &table);
    if failures > 0 {
        return Err(format!("{failures} connection errors or failed checks").into());
    }
    Ok(())
}

/// Samples of one echo measurement: (connections, payload size, variant).
type Samples = BTreeMap<(usize, usize, String), Vec<f64>>;

/// Adds `value` to the samples of the configuration `key`.
fn record(samples: &mut Samples, key: &(usize, usize, String), value: f64) {
    samples.entry(key.clone()).or_default().push(value);
}

/// The medians of the peer variants (not rfc6455's own), in variant order.
fn peers<'a>(o: &'a Options, medians: &'a [f64]) -> impl Iterator<Item = f64> + 'a {
    o.variants
        .iter()
        .zip(medians)
        .filter(|(v, _)| is_peer(v))
        .map(|(_, m)| *m)
}

/// Whether a variant is another library's server: not rfc6455's, and not
/// the floor (`rfc6455_compare::floor`), which is no library.
fn is_peer(variant: &str) -> bool {
    !variant.starts_with("rfc6455") && !variant.starts_with("floor")
}

/// The median of each variant's samples for one connection count and
/// payload, in variant order.
fn row_medians(o: &Options, samples: &Samples, conns: usize, size: usize) -> Vec<f64> {
    o.variants
        .iter()
        .map(|v| {
            let mut values = samples
                .get(&(conns, size, v.clone()))
                .cloned()
                .unwrap_or_default();
            median(&mut values)
        })
        .collect()
}

/// A markdown table with a row per connection count and payload and a
/// column per variant: the median of each cell's samples, written by
/// `cells` from the row's connection count, payload and medians.
fn median_grid(
    o: &Options,
    samples: &Samples,
    cells: impl Fn(usize, usize, &[f64]) -> Vec<String>,
) -> String {
    let mut table = String::from("| connections | payload |");
    for v in &o.variants {
        table.push_str(&format!(" {v} |"));
    }
    table.push_str("\n| ---: | ---: |");
    for _ in &o.variants {
        table.push_str(" ---: |");
    }
    table.push('\n');
    for &conns in &o.conns {
        for &size in &o.sizes {
            let medians = row_medians(o, samples, conns, size);
            table.push_str(&format!("| {conns} | {} |", size_label(size)));
            for cell in cells(conns, size, &medians) {
                table.push_str(&format!(" {cell} |"));
            }
            table.push('\n');
        }
    }
    table
}

fn memory(o: &Options) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let conns = o.conns[0];
    let mut table = format!(
        "### Idle memory per connection ({conns} connections)\n\n\
         Resident memory (VmRSS) of each echo server holding {conns} idle \
         connections after the handshake, minus its VmRSS before connecting, \
         divided by {conns}.\n\n\
         | server | RSS before | RSS with {conns} connections | per connection | vs leanest peer |\n\
         | --- | ---: | ---: | ---: | ---: |\n"
    );
    let mut rows = Vec::new();
    for variant in &o.variants {
        let server = Server::start(o, variant);
        std::thread::sleep(Duration::from_millis(200));
        let before = server.rss_kib();
        let streams = runtime.block_on(async {
            let mut streams = Vec::with_capacity(conns);
            for chunk in (0..conns).collect::<Vec<_>>().chunks(100) {
                let opened = futures_util::future::join_all(
                    chunk.iter().map(|_| connect(server.addr, false)),
                )
                .await;
                for stream in opened {
                    streams.push(stream?);
                }
            }
            Ok::<_, BoxError>(streams)
        })?;
        // Let the server take the last handshakes' tasks to their idle read.
        std::thread::sleep(Duration::from_millis(500));
        let after = server.rss_kib();
        drop(streams);
        let per = (after.saturating_sub(before)) as f64 * 1024.0 / conns as f64;
        eprintln!(
            "memory {variant:<22} before {before} KiB after {after} KiB: {per:.0} B per connection"
        );
        rows.push((variant.clone(), before, after, per));
    }
    let leanest = rows
        .iter()
        .filter(|r| !r.0.starts_with("rfc6455"))
        .map(|r| r.3)
        .fold(f64::INFINITY, f64::min);
    for (variant, before, after, per) in &rows {
        table.push_str(&format!(
            "| {variant} | {:.1} MiB | {:.1} MiB | {} B | {:.2}× |\n",
            *before as f64 / 1024.0,
            *after as f64 / 1024.0,
            thousands(*per),
            per / leanest
        ));
    }
    println!("{table}");
    write_out(o, "memory.md", &table);
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("echo") => echo(&options(&args[1..], false)),
        Some("memory") => memory(&options(&args[1..], true)),
        _ => {
            eprintln!("usage: loadgen echo|memory [options]; see the source");
            std::process::exit(2);
        }
    };
    let _ = std::io::stdout().flush();
    if let Err(error) = result {
        eprintln!("loadgen: {error}");
        std::process::exit(1);
    }
}
