//! The server read path in memory: the same pre-encoded masked frames read
//! by each library, the handshake skipped, next to `memcpy` of the same
//! bytes.
//!
//! ```text
//! cargo run --release --bin inmem -- [SAMPLES] [--mode warm|cold|both]
//!     [--kinds binary,ascii,mixed,cjk,emoji|text|all] [--sizes 16,125,...]
//!     [--only NAME,NAME] [--samples N] [--cold-mib 256]
//! ```
//!
//! Two modes, each its own table:
//!
//! - **warm** (the default): a wire of about 4 MiB, read again for every
//!   sample, so it stays in the last-level cache. This is the cost of the
//!   code alone.
//! - **cold**: a wire of at least `--cold-mib` MiB (256 by default, eight
//!   times this machine's 32 MiB L3), streamed once per sample: whatever
//!   a reader comes back to has been pushed out of the caches by the
//!   hundreds of MiB read since, as traffic from a socket is not in cache
//!   when it arrives. Here every extra pass over the payload costs memory
//!   bandwidth.
//!
//! Payloads are cut at random places from an 8 MiB pool of content (see
//! `Content` in the library: random bytes, or valid UTF-8 of one of four
//! mixes), so neither the caches nor the branch predictors can learn them;
//! text is cut on character boundaries and padded with ASCII to the exact
//! size. Every reader is long-lived (its own buffers warm, as on an open
//! connection) and reads the whole wire once per sample through an
//! in-memory transport that copies at most 64 KiB per read into whatever
//! buffer the library offers, as a socket would. One wire is shared, read
//! only, by all readers. Readers run interleaved, one sample each in turn,
//! the order rotated every round; the tables give medians. Before timing,
//! each reader's result is checked: the message count, the total payload
//! bytes, and the content of the first and the last message.
//!
//! Selection also works through the environment, for scripts and
//! profiling: `INMEM_MODE`, `INMEM_KINDS`, `INMEM_SIZES`, `INMEM_ONLY`
//! (substrings of reader names; a reader runs if it contains any),
//! `INMEM_SAMPLES`, `INMEM_COLD_MIB`. Flags win over the environment.

use std::future::Future;
use std::rc::Rc;
use std::time::Instant;

use futures_util::StreamExt;
use rfc6455_compare::{median, size_label, thousands, Content, Mem, Wire, READ_CHUNK};

/// What a reader saw in one pass.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seen {
    messages: usize,
    bytes: usize,
    /// The first and the last message, kept when checking.
    first: Option<Vec<u8>>,
    last: Option<Vec<u8>>,
}

impl Seen {
    fn message(&mut self, data: &[u8], keep: bool, count: usize) {
        if keep && self.messages == 0 {
            self.first = Some(data.to_vec());
        }
        if keep && self.messages + 1 == count {
            self.last = Some(data.to_vec());
        }
        self.messages += 1;
        self.bytes += data.len();
    }
}

/// A library's server read path over the wire: one call reads `count`
/// messages from the start of the wire.
trait Reader {
    fn name(&self) -> &'static str;
    /// True for rfc6455's own rows.
    fn ours(&self) -> bool {
        self.name().starts_with("rfc6455")
    }
    fn run(&mut self, count: usize, keep: bool) -> Seen;
}

fn block_on<F: Future>(rt: &tokio::runtime::Runtime, future: F) -> F::Output {
    rt.block_on(future)
}

/// rfc6455's core, the transport reading straight into the connection's
/// receive buffer (`receive_buffer` + `commit`), as the adapters do.
struct CoreRead {
    mem: Mem,
    conn: rfc6455::Connection,
}

impl Reader for CoreRead {
    fn name(&self) -> &'static str {
        "rfc6455 core (receive_buffer)"
    }

    fn run(&mut self, count: usize, keep: bool) -> Seen {
        use rfc6455::Event;
        self.mem.rewind();
        let mut seen = Seen::default();
        while seen.messages < count {
            let buf = self.conn.receive_buffer();
            let n = std::io::Read::read(&mut self.mem, buf).unwrap();
            assert!(n > 0, "the wire ended early");
            self.conn.commit(n);
            while let Some(event) = self.conn.poll_event().unwrap() {
                match event {
                    Event::Text(text) => seen.message(text.as_bytes(), keep, count),
                    Event::Binary(data) => seen.message(data, keep, count),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        seen
    }
}

/// rfc6455's core fed with `receive(&[u8])`: the sans-IO call for bytes an
/// application already holds (from TLS, a test, another event loop).
struct CoreReceive {
    mem: Mem,
    conn: rfc6455::Connection,
}

impl Reader for CoreReceive {
    fn name(&self) -> &'static str {
        "rfc6455 core (receive)"
    }

    fn run(&mut self, count: usize, keep: bool) -> Seen {
        use rfc6455::Event;
        self.mem.rewind();
        let mut seen = Seen::default();
        while seen.messages < count {
            let chunk = self.mem.next_chunk();
            assert!(!chunk.is_empty(), "the wire ended early");
            self.conn.receive(chunk);
            while let Some(event) = self.conn.poll_event().unwrap() {
                match event {
                    Event::Text(text) => seen.message(text.as_bytes(), keep, count),
                    Event::Binary(data) => seen.message(data, keep, count),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        seen
    }
}

/// rfc6455's tokio adapter, `read()`: an owned `Message` each.
struct TokioRead {
    mem: Mem,
    rt: Rc<tokio::runtime::Runtime>,
    ws: rfc6455::tokio::WebSocket<Mem>,
}

impl Reader for TokioRead {
    fn name(&self) -> &'static str {
        "rfc6455 tokio read()"
    }

    fn run(&mut self, count: usize, keep: bool) -> Seen {
        use rfc6455::Message;
        self.mem.rewind();
        let ws = &mut self.ws;
        block_on(&self.rt, async move {
            let mut seen = Seen::default();
            while seen.messages < count {
                match ws.read().await.unwrap().expect("a message") {
                    Message::Text(text) => seen.message(text.as_bytes(), keep, count),
                    Message::Binary(data) => seen.message(&data, keep, count),
                    other => panic!("unexpected {other:?}"),
                }
            }
            seen
        })
    }
}

/// rfc6455's tokio adapter, `read_with`: the borrowed event, no allocation.
struct TokioReadWith {
    mem: Mem,
    rt: Rc<tokio::runtime::Runtime>,
    ws: rfc6455::tokio::WebSocket<Mem>,
}

impl Reader for TokioReadWith {
    fn name(&self) -> &'static str {
        "rfc6455 tokio read_with()"
    }

    fn run(&mut self, count: usize, keep: bool) -> Seen {
        use rfc6455::Event;
        self.mem.rewind();
        let ws = &mut self.ws;
        block_on(&self.rt, async move {
            let mut seen = Seen::default();
            while seen.messages < count {
                ws.read_with(|event, _| match event {
                    Event::Text(text) => seen.message(text.as_bytes(), keep, count),
                    Event::Binary(data) => seen.message(data, keep, count),
                    other => panic!("unexpected {other:?}"),
                })
                .await
                .unwrap()
                .expect("a message");
            }
            seen
        })
    }
}

/// fastwebsockets, `FragmentCollector::read_frame` (whole messages, text
/// validated).
struct Fast {
    mem: Mem,
    rt: Rc<tokio::runtime::Runtime>,
    ws: fastwebsockets::FragmentCollector<Mem>,
}

impl Reader for Fast {
    fn name(&self) -> &'static str {
        "fastwebsockets"
    }

    fn run(&mut self, count: usize, keep: bool) -> Seen {
        use fastwebsockets::OpCode;
        self.mem.rewind();
        let ws = &mut self.ws;
        block_on(&self.rt, async move {
            let mut seen = Seen::default();
            while seen.messages < count {
                let frame = ws.read_frame().await.unwrap();
                match frame.opcode {
                    OpCode::Text | OpCode::Binary => seen.message(&frame.payload, keep, count),
                    other => panic!("unexpected {other:?}"),
                }
            }
            seen
        })
    }
}

/// tokio-websockets, `WebSocketStream::next`.
struct TokioWebsockets {
    mem: Mem,
    rt: Rc<tokio::runtime::Runtime>,
    ws: tokio_websockets::WebSocketStream<Mem>,
}

impl Reader for TokioWebsockets {
    fn name(&self) -> &'static str {
        "tokio-websockets"
    }

    fn run(&mut self, count: usize, keep: bool) -> Seen {
        self.mem.rewind();
        let ws = &mut self.ws;
        block_on(&self.rt, async move {
            let mut seen = Seen::default();
            while seen.messages < count {
                let message = ws.next().await.expect("a message").unwrap();
                assert!(message.is_text() || message.is_binary(), "{message:?}");
                seen.message(message.as_payload(), keep, count);
            }
            seen
        })
    }
}

/// tungstenite, the blocking `WebSocket::read` (tokio-tungstenite wraps the
/// same code with more layers).
struct Tungstenite {
    mem: Mem,
    ws: tungstenite::WebSocket<Mem>,
}

impl Reader for Tungstenite {
    fn name(&self) -> &'static str {
        "tungstenite"
    }

    fn run(&mut self, count: usize, keep: bool) -> Seen {
        use tungstenite::Message;
        self.mem.rewind();
        let mut seen = Seen::default();
        while seen.messages < count {
            match self.ws.read().unwrap() {
                Message::Text(text) => seen.message(text.as_bytes(), keep, count),
                Message::Binary(data) => seen.message(&data, keep, count),
                other => panic!("unexpected {other:?}"),
            }
        }
        seen
    }
}

/// `memcpy` of the whole wire into a buffer as large: what copying every
/// byte once into fresh memory costs.
struct MemcpyWhole {
    wire: Rc<Vec<u8>>,
    dst: Vec<u8>,
    payload_bytes: usize,
}

impl Reader for MemcpyWhole {
    fn name(&self) -> &'static str {
        "memcpy (whole wire)"
    }

    fn ours(&self) -> bool {
        false
    }

    fn run(&mut self, count: usize, _keep: bool) -> Seen {
        self.dst.copy_from_slice(std::hint::black_box(&self.wire));
        std::hint::black_box(&mut self.dst);
        Seen {
            messages: count,
            bytes: self.payload_bytes,
            ..Seen::default()
        }
    }
}

/// `memcpy` of the wire 64 KiB at a time into one reused buffer: the copy
/// the in-memory transport makes for every reader that reads from it, so
/// the floor of any read path that reads the bytes once.
struct MemcpyReads {
    wire: Rc<Vec<u8>>,
    dst: Vec<u8>,
    payload_bytes: usize,
}

impl Reader for MemcpyReads {
    fn name(&self) -> &'static str {
        "memcpy (64 KiB reads)"
    }

    fn ours(&self) -> bool {
        false
    }

    fn run(&mut self, count: usize, _keep: bool) -> Seen {
        for chunk in std::hint::black_box(&self.wire).chunks(READ_CHUNK) {
            self.dst[..chunk.len()].copy_from_slice(chunk);
            // Without this the copies into one buffer could be merged.
            std::hint::black_box(&mut self.dst);
        }
        Seen {
            messages: count,
            bytes: self.payload_bytes,
            ..Seen::default()
        }
    }
}

fn is_memcpy(name: &str) -> bool {
    name.starts_with("memcpy")
}

/// The reference the "vs memcpy" ratios divide by.
const MEMCPY_REFERENCE: &str = "memcpy (64 KiB reads)";

fn readers(wire: &Rc<Vec<u8>>, payload_bytes: usize) -> Vec<Box<dyn Reader>> {
    use rfc6455::{Config, Connection, Role};
    let rt = Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    );
    let mem = || Mem::new(Rc::clone(wire));
    let server = || Connection::new(Role::Server, Config::default());
    let mut list: Vec<Box<dyn Reader>> = Vec::new();
    let m = mem();
    list.push(Box::new(CoreRead {
        conn: server(),
        mem: m,
    }));
    let m = mem();
    list.push(Box::new(CoreReceive {
        conn: server(),
        mem: m,
    }));
    let m = mem();
    list.push(Box::new(TokioRead {
        ws: rfc6455::tokio::WebSocket::from_connection(m.clone(), server()),
        mem: m,
        rt: Rc::clone(&rt),
    }));
    let m = mem();
    list.push(Box::new(TokioReadWith {
        ws: rfc6455::tokio::WebSocket::from_connection(m.clone(), server()),
        mem: m,
        rt: Rc::clone(&rt),
    }));
    let m = mem();
    list.push(Box::new(Fast {
        ws: fastwebsockets::FragmentCollector::new(fastwebsockets::WebSocket::after_handshake(
            m.clone(),
            fastwebsockets::Role::Server,
        )),
        mem: m,
        rt: Rc::clone(&rt),
    }));
    let m = mem();
    list.push(Box::new(TokioWebsockets {
        ws: tokio_websockets::ServerBuilder::new().serve(m.clone()),
        mem: m,
        rt: Rc::clone(&rt),
    }));
    let m = mem();
    list.push(Box::new(Tungstenite {
        ws: tungstenite::WebSocket::from_raw_socket(
            m.clone(),
            tungstenite::protocol::Role::Server,
            None,
        ),
        mem: m,
    }));
    list.push(Box::new(MemcpyWhole {
        wire: Rc::clone(wire),
        dst: vec![0; wire.len()],
        payload_bytes,
    }));
    list.push(Box::new(MemcpyReads {
        wire: Rc::clone(wire),
        dst: vec![0; READ_CHUNK],
        payload_bytes,
    }));
    list
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Warm,
    Cold,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Warm => "warm",
            Mode::Cold => "cold",
        }
    }

    /// Samples when none are asked for: a cold sample streams 256 MiB, so
    /// fewer of them keep the run within minutes.
    fn default_samples(self) -> usize {
        match self {
            Mode::Warm => 21,
            Mode::Cold => 7,
        }
    }
}

/// Payload sizes run by default.
const SIZES: [usize; 5] = [16, 125, 1 << 10, 16 << 10, 1 << 20];

/// Bytes of content each pool holds: at least 4 MiB so nothing is learned,
/// and room for a 1 MiB payload at many offsets.
const POOL_BYTES: usize = 8 << 20;

/// Payload bytes of a warm wire (at least 8 messages).
const WARM_BYTES: usize = 4 << 20;

struct Options {
    modes: Vec<Mode>,
    samples: Option<usize>,
    contents: Vec<Content>,
    sizes: Vec<usize>,
    only: Vec<String>,
    cold_bytes: usize,
}

fn parse_sizes(list: &str) -> Vec<usize> {
    list.split(',')
        .map(|s| s.trim().parse().expect("sizes are numbers of bytes"))
        .collect()
}

fn parse_modes(value: &str) -> Vec<Mode> {
    match value {
        "warm" => vec![Mode::Warm],
        "cold" => vec![Mode::Cold],
        "both" | "warm,cold" => vec![Mode::Warm, Mode::Cold],
        "cold,warm" => vec![Mode::Cold, Mode::Warm],
        other => panic!("unknown mode {other} (warm, cold, both)"),
    }
}

/// The environment first, then the command line: `[SAMPLES]` alone (as
/// this binary has always been called) or flags.
fn options() -> Options {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut o = Options {
        modes: env("INMEM_MODE").map_or(vec![Mode::Warm], |v| parse_modes(&v)),
        samples: env("INMEM_SAMPLES").map(|v| v.parse().expect("INMEM_SAMPLES")),
        contents: env("INMEM_KINDS").map_or(Content::ALL.to_vec(), |v| Content::parse_list(&v)),
        sizes: env("INMEM_SIZES").map_or(SIZES.to_vec(), |v| parse_sizes(&v)),
        only: env("INMEM_ONLY").map_or(Vec::new(), |v| {
            v.split(',').map(|s| s.trim().to_owned()).collect()
        }),
        cold_bytes: env("INMEM_COLD_MIB").map_or(256, |v| v.parse().expect("INMEM_COLD_MIB")) << 20,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if let Ok(samples) = arg.parse() {
            o.samples = Some(samples);
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--mode" => o.modes = parse_modes(value),
            "--samples" => o.samples = Some(value.parse().expect("--samples")),
            "--kinds" => o.contents = Content::parse_list(value),
            "--sizes" => o.sizes = parse_sizes(value),
            "--only" => o.only = value.split(',').map(|s| s.trim().to_owned()).collect(),
            "--cold-mib" => o.cold_bytes = value.parse::<usize>().expect("--cold-mib") << 20,
            _ => panic!("unknown argument {arg}"),
        }
    }
    // Bounded: the wire and the whole-wire memcpy's copy of it must fit
    // in memory with room to spare.
    assert!(
        (32 << 20..=4 << 30).contains(&o.cold_bytes),
        "--cold-mib between 32 and 4096"
    );
    assert!(o.samples != Some(0), "at least one sample");
    o
}

struct Row {
    mode: Mode,
    content: Content,
    size: usize,
    name: &'static str,
    ours: bool,
    /// The median, fastest and slowest time of one pass over the wire.
    secs: f64,
    min_secs: f64,
    max_secs: f64,
    count: usize,
    /// Payload bytes, or wire bytes for memcpy.
    bytes: usize,
}

impl Row {
    fn ns_per_message(&self) -> f64 {
        self.secs * 1e9 / self.count as f64
    }

    fn gbps(&self) -> f64 {
        self.bytes as f64 / self.secs / 1e9
    }

    fn is_peer(&self) -> bool {
        !self.ours && !is_memcpy(self.name)
    }
}

/// Messages in a wire: about 4 MiB of payload when warm, at least
/// `cold_bytes` of wire when cold.
fn message_count(mode: Mode, size: usize, cold_bytes: usize) -> usize {
    match mode {
        Mode::Warm => (WARM_BYTES / size).max(8),
        Mode::Cold => cold_bytes.div_ceil(size + rfc6455_compare::frame_overhead(size)),
    }
}

/// Runs one mode, one content and one size; appends a row per reader.
fn measure(
    o: &Options,
    mode: Mode,
    content: Content,
    pool: &[u8],
    size: usize,
    rows: &mut Vec<Row>,
) {
    let samples = o.samples.unwrap_or(mode.default_samples());
    let count = message_count(mode, size, o.cold_bytes);
    let built = Wire::new(content, pool, size, count);
    let wire = Rc::new(built.bytes);
    let mut readers = readers(&wire, built.payload_bytes);
    if !o.only.is_empty() {
        readers.retain(|r| o.only.iter().any(|only| r.name().contains(only.as_str())));
    }
    // Check every reader once. That pass also grows each reader's buffers;
    // a warm wire gets one more pass so it is in cache when timing starts.
    for reader in &mut readers {
        let seen = reader.run(count, true);
        assert_eq!(seen.messages, count, "{} messages", reader.name());
        assert_eq!(seen.bytes, built.payload_bytes, "{} bytes", reader.name());
        if !is_memcpy(reader.name()) {
            assert!(
                seen.first.as_ref() == Some(&built.first),
                "{} first",
                reader.name()
            );
            assert!(
                seen.last.as_ref() == Some(&built.last),
                "{} last",
                reader.name()
            );
        }
        if mode == Mode::Warm {
            reader.run(count, false);
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); readers.len()];
    for round in 0..samples {
        // Rotated so no reader always follows the same one (the one before
        // decides what is left in the caches).
        for i in 0..readers.len() {
            let i = (round + i) % readers.len();
            let start = Instant::now();
            let seen = readers[i].run(count, false);
            times[i].push(start.elapsed().as_secs_f64());
            assert_eq!(seen.messages, count);
        }
    }
    for (reader, mut times) in readers.iter().zip(times) {
        let secs = median(&mut times);
        rows.push(Row {
            mode,
            content,
            size,
            name: reader.name(),
            ours: reader.ours(),
            secs,
            min_secs: times[0],
            max_secs: times[times.len() - 1],
            count,
            bytes: if is_memcpy(reader.name()) {
                wire.len()
            } else {
                built.payload_bytes
            },
        });
    }
}

fn main() {
    let o = options();
    let started = Instant::now();
    let mut rows = Vec::new();
    let pools: Vec<(Content, Vec<u8>)> = o
        .contents
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, c.pool(POOL_BYTES, 0xC0FFEE + i as u64)))
        .collect();
    for &mode in &o.modes {
        let mode_rows = rows.len();
        for (content, pool) in &pools {
            for &size in &o.sizes {
                let cell = Instant::now();
                measure(&o, mode, *content, pool, size, &mut rows);
                eprintln!(
                    "inmem {}: {} {} done in {:.1} s",
                    mode.name(),
                    content.label(),
                    size_label(size),
                    cell.elapsed().as_secs_f64()
                );
            }
        }
        print_tables(&o, mode, &rows[mode_rows..]);
    }
    eprintln!("inmem: {:.0} s in all", started.elapsed().as_secs_f64());
}

/// Nanoseconds as people read them: one decimal below 100.
fn ns_label(ns: f64) -> String {
    if ns < 100.0 {
        format!("{ns:.1}")
    } else {
        thousands(ns)
    }
}

fn print_tables(o: &Options, mode: Mode, rows: &[Row]) {
    let samples = o.samples.unwrap_or(mode.default_samples());
    let what = match mode {
        Mode::Warm => "a wire of about 4 MiB of payload, read again every sample (in cache)".into(),
        Mode::Cold => format!(
            "a wire of at least {} MiB, streamed once per sample (not in cache)",
            o.cold_bytes >> 20
        ),
    };
    println!(
        "### In memory, {}: server read path (medians of {samples} sample{})\n",
        mode.name(),
        if samples == 1 { "" } else { "s" }
    );
    println!(
        "{what}; payloads cut from an 8 MiB pool; 64 KiB reads. \
         \"×\" is the best peer's time divided by this reader's (above 1: \
         faster than the fastest of fastwebsockets, tokio-websockets and \
         tungstenite for that payload); \"vs memcpy\" is the time of \
         `{MEMCPY_REFERENCE}` (the transport's own copy of the same wire \
         bytes, in the same run) divided by this reader's. GB/s are 10^9 \
         payload bytes per second (wire bytes for memcpy).\n"
    );
    let mut names: Vec<&'static str> = Vec::new();
    for row in rows {
        if !names.contains(&row.name) {
            names.push(row.name);
        }
    }
    let mut cells: Vec<(Content, usize)> = Vec::new();
    for row in rows {
        if !cells.contains(&(row.content, row.size)) {
            cells.push((row.content, row.size));
        }
    }
    let group = |content: Content, size: usize| -> Vec<&Row> {
        rows.iter()
            .filter(|r| r.mode == mode && r.content == content && r.size == size)
            .collect()
    };
    let best_peer = |group: &[&Row]| {
        group
            .iter()
            .filter(|r| r.is_peer())
            .map(|r| r.secs)
            .fold(f64::INFINITY, f64::min)
    };
    let reference = |group: &[&Row]| {
        group
            .iter()
            .find(|r| r.name == MEMCPY_REFERENCE)
            .map(|r| r.secs)
    };
    for (title, value) in [
        ("ns per message (× vs the best peer)", true),
        ("payload GB/s (× vs the best peer)", false),
    ] {
        println!("#### {}, {title}\n", mode.name());
        print!("| payload |");
        for name in &names {
            print!(" {name} |");
        }
        print!("\n| --- |");
        for _ in &names {
            print!(" ---: |");
        }
        println!();
        for &(content, size) in &cells {
            let group = group(content, size);
            let best = best_peer(&group);
            print!("| {} {} |", size_label(size), content.label());
            for name in &names {
                let Some(row) = group.iter().find(|r| r.name == *name) else {
                    print!(" |");
                    continue;
                };
                let figure = if value {
                    ns_label(row.ns_per_message())
                } else {
                    format!("{:.2}", row.gbps())
                };
                if is_memcpy(row.name) || !best.is_finite() {
                    print!(" {figure} |");
                } else {
                    print!(" {figure} ({:.2}×) |", best / row.secs);
                }
            }
            println!();
        }
        println!();
    }
    println!("#### {}, every reader\n", mode.name());
    println!(
        "| payload | library | ns/message | range ns/message | GB/s | vs best peer | vs memcpy |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for &(content, size) in &cells {
        let group = group(content, size);
        let best = best_peer(&group);
        let memcpy = reference(&group);
        for row in &group {
            let name = if row.ours {
                format!("**{}**", row.name)
            } else {
                row.name.to_string()
            };
            let vs_peer = if is_memcpy(row.name) || !best.is_finite() {
                String::new()
            } else {
                format!("{:.2}×", best / row.secs)
            };
            let vs_memcpy = memcpy.map_or(String::new(), |m| format!("{:.2}×", m / row.secs));
            let per = |secs: f64| secs * 1e9 / row.count as f64;
            println!(
                "| {} {} | {} | {} | {}–{} | {:.2} | {} | {} |",
                size_label(size),
                content.label(),
                name,
                ns_label(row.ns_per_message()),
                ns_label(per(row.min_secs)),
                ns_label(per(row.max_secs)),
                row.gbps(),
                vs_peer,
                vs_memcpy,
            );
        }
    }
    println!();
}
