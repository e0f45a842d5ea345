//! The server read path in memory: the same pre-encoded masked frames read
//! by each library, the handshake skipped, next to `memcpy` of the same
//! buffer.
//!
//! ```text
//! cargo run --release --bin inmem -- [SAMPLES]
//! ```
//!
//! Every reader is long-lived (buffers warm, as on an open connection) and
//! reads the whole wire once per sample through an in-memory transport that
//! copies at most 64 KiB per read, as a socket would. Libraries run
//! interleaved, one sample each in turn; the table gives medians. Before
//! timing, each reader's result is checked: the message count, the total
//! payload bytes, and the content of the first and the last message.

use std::future::Future;
use std::rc::Rc;
use std::time::Instant;

use futures_util::StreamExt;
use rfc6455_compare::{median, payload, size_label, thousands, wire, Mem};

const SIZES: [usize; 5] = [16, 125, 1 << 10, 16 << 10, 1 << 20];

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

/// `memcpy` of the same buffer, the bandwidth bound of a copying read path.
struct Memcpy {
    wire: Rc<Vec<u8>>,
    dst: Vec<u8>,
    payload_per_message: usize,
}

impl Reader for Memcpy {
    fn name(&self) -> &'static str {
        "memcpy (same buffer)"
    }

    fn ours(&self) -> bool {
        false
    }

    fn run(&mut self, count: usize, _keep: bool) -> Seen {
        self.dst.copy_from_slice(std::hint::black_box(&self.wire));
        std::hint::black_box(&mut self.dst);
        Seen {
            messages: count,
            bytes: count * self.payload_per_message,
            ..Seen::default()
        }
    }
}

fn readers(wire: &Rc<Vec<u8>>, size: usize) -> Vec<Box<dyn Reader>> {
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
    list.push(Box::new(Memcpy {
        wire: Rc::clone(wire),
        dst: vec![0; wire.len()],
        payload_per_message: size,
    }));
    list
}

struct Row {
    kind: &'static str,
    size: usize,
    name: &'static str,
    ours: bool,
    /// Payload bytes per second (wire bytes for memcpy).
    bytes_per_sec: f64,
    messages_per_sec: f64,
    /// The median time of one pass over the wire.
    secs: f64,
}

fn main() {
    let samples: usize = std::env::args()
        .nth(1)
        .map_or(21, |s| s.parse().expect("SAMPLES is a number"));
    // For profiling: INMEM_ONLY=substring of a library's name,
    // INMEM_SIZES=16,1024 and INMEM_KINDS=binary,text narrow the run.
    let only = std::env::var("INMEM_ONLY").ok();
    let sizes: Vec<usize> = std::env::var("INMEM_SIZES").map_or(SIZES.to_vec(), |list| {
        list.split(',').map(|s| s.trim().parse().unwrap()).collect()
    });
    let kinds = std::env::var("INMEM_KINDS").unwrap_or_else(|_| "binary,text".into());
    let mut rows = Vec::new();
    for text in [false, true] {
        let kind = if text { "text" } else { "binary" };
        if !kinds.contains(kind) {
            continue;
        }
        for &size in &sizes {
            let count = ((4 << 20) / size).max(8);
            let wire = Rc::new(wire(text, size, count));
            let mut readers = readers(&wire, size);
            if let Some(only) = &only {
                readers.retain(|r| r.name().contains(only.as_str()));
            }
            // Check every reader once, then warm up once more.
            for reader in &mut readers {
                let seen = reader.run(count, true);
                assert_eq!(seen.messages, count, "{} messages", reader.name());
                assert_eq!(seen.bytes, count * size, "{} bytes", reader.name());
                if reader.name().starts_with("memcpy") {
                    continue;
                }
                assert_eq!(
                    seen.first,
                    Some(payload(size, 0)),
                    "{} first",
                    reader.name()
                );
                assert_eq!(
                    seen.last,
                    Some(payload(size, count - 1)),
                    "{} last",
                    reader.name()
                );
                reader.run(count, false);
            }
            let mut times: Vec<Vec<f64>> = vec![Vec::new(); readers.len()];
            for _ in 0..samples {
                for (reader, times) in readers.iter_mut().zip(&mut times) {
                    let start = Instant::now();
                    let seen = reader.run(count, false);
                    times.push(start.elapsed().as_secs_f64());
                    assert_eq!(seen.messages, count);
                }
            }
            for (reader, mut times) in readers.iter().zip(times) {
                let secs = median(&mut times);
                let memcpy = reader.name().starts_with("memcpy");
                let bytes = if memcpy { wire.len() } else { count * size };
                rows.push(Row {
                    kind,
                    size,
                    name: reader.name(),
                    ours: reader.ours(),
                    bytes_per_sec: bytes as f64 / secs,
                    messages_per_sec: count as f64 / secs,
                    secs,
                });
            }
            eprintln!("inmem: {kind} {} done", size_label(size));
        }
    }
    print_tables(&rows, samples);
}

fn print_tables(rows: &[Row], samples: usize) {
    println!("### In memory: server read path (medians of {samples} samples)\n");
    println!(
        "Payload throughput in GB/s (10^9 bytes; memcpy: wire bytes) and \
         messages per second. \"vs best peer\" divides by the fastest of \
         fastwebsockets, tokio-websockets and tungstenite for that payload; \
         \"vs memcpy\" is the time memcpy takes to copy the same wire bytes \
         divided by the reader's time.\n"
    );
    for kind in ["binary", "text"] {
        println!("#### {kind}\n");
        println!("| payload | library | GB/s | messages/s | vs best peer | vs memcpy |");
        println!("| --- | --- | ---: | ---: | ---: | ---: |");
        for size in SIZES {
            let group: Vec<&Row> = rows
                .iter()
                .filter(|r| r.kind == kind && r.size == size)
                .collect();
            let best_peer = group
                .iter()
                .filter(|r| !r.ours && !r.name.starts_with("memcpy"))
                .map(|r| r.bytes_per_sec)
                .fold(0.0, f64::max);
            let memcpy = group
                .iter()
                .find(|r| r.name.starts_with("memcpy"))
                .map_or(0.0, |r| r.secs);
            for row in &group {
                let (name, messages, vs_peer) = if row.name.starts_with("memcpy") {
                    (row.name.to_string(), "".to_string(), "".to_string())
                } else {
                    let name = if row.ours {
                        format!("**{}**", row.name)
                    } else {
                        row.name.to_string()
                    };
                    let vs_peer = format!("{:.2}×", row.bytes_per_sec / best_peer);
                    (name, thousands(row.messages_per_sec), vs_peer)
                };
                println!(
                    "| {} | {} | {:.2} | {} | {} | {:.2}× |",
                    size_label(size),
                    name,
                    row.bytes_per_sec / 1e9,
                    messages,
                    vs_peer,
                    memcpy / row.secs,
                );
            }
        }
        println!();
    }
}
