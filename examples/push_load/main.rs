//! The measuring client of `scripts/polling-vs-push.sh`: many clients follow
//! the `polling_vs_push` example's stream one way at a time, and the
//! delivery delay, the bytes on the wire and the server's work per update
//! are measured.
//!
//! ```text
//! cargo run --release --example push_load -- 127.0.0.1:8080 --server-pid PID \
//!     [--clients 100] [--warmup-secs 2] [--secs 10] [--interval-ms 100] \
//!     [--ways poll:100,poll:1000,long-poll,sse,ws,ws-deflate] \
//!     [--md FILE] [--svg FILE] [--csv FILE]
//! ```
//!
//! # Ways
//!
//! - `poll:MS`: short polling, each client `GET /poll?since=N` every `MS`
//!   milliseconds over one kept-alive connection, the clients' polls spread
//!   evenly over the period;
//! - `long-poll`: each client `GET /long-poll?since=N`, the next request
//!   sent as soon as an answer arrives;
//! - `sse`: each client one `GET /events` and its event stream;
//! - `ws`, `ws-deflate`: each client one WebSocket over the crate's tokio
//!   adapter, without and with permessage-deflate.
//!
//! # What is measured
//!
//! The clients connect, run for `--warmup-secs`, then for `--secs` the
//! following is counted (connections and handshakes happen in the warm-up,
//! so the figures are the steady state):
//!
//! - **latency** of each update delivered, from the time the server stamped
//!   in it (`time_us`) to the moment the client has read and parsed it; the
//!   server runs on the same machine, so both read the same clock;
//! - **bytes** read and written on the clients' sockets (HTTP heads and
//!   WebSocket frame headers included; TCP/IP headers not), per update
//!   delivered;
//! - **HTTP requests** answered per second;
//! - the **server's CPU time** per update delivered, from the scheduler's
//!   run time of each of its threads (`/proc/PID/task/*/schedstat`) before
//!   and after (`--server-pid`);
//! - updates **missed** (a gap in the sequence) or received twice: both
//!   should be 0.
//!
//! The clients run on one thread (a current-thread runtime), so that they
//! take one CPU: the script pins them and the server to different ones.
//!
//! Output: a markdown table on stdout (and in `--md`), one CSV line per
//! way (`--csv`), and a plot of the table (`--svg`).

use std::collections::HashMap;
use std::error::Error;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rfc6455::handshake::ClientOptions;
use rfc6455::{Config, Message};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

mod report;

use report::{csv_line, markdown, svg, CSV_HEADER};

type BoxError = Box<dyn Error + Send + Sync>;

/// One way of following the stream.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Way {
    Poll(Duration),
    LongPoll,
    Sse,
    Ws { deflate: bool },
}

impl Way {
    fn parse(text: &str) -> Result<Way, String> {
        Ok(match text {
            "long-poll" => Way::LongPoll,
            "sse" => Way::Sse,
            "ws" => Way::Ws { deflate: false },
            "ws-deflate" => Way::Ws { deflate: true },
            _ => {
                let ms = text
                    .strip_prefix("poll:")
                    .and_then(|ms| ms.parse::<u64>().ok())
                    .filter(|&ms| ms > 0)
                    .ok_or_else(|| format!("unknown way: {text}"))?;
                Way::Poll(Duration::from_millis(ms))
            }
        })
    }

    /// The name in the table.
    fn label(self) -> String {
        match self {
            Way::Poll(period) if period.as_millis() % 1000 == 0 => {
                format!("short polling, every {} s", period.as_secs())
            }
            Way::Poll(period) => format!("short polling, every {} ms", period.as_millis()),
            Way::LongPoll => "long polling".into(),
            Way::Sse => "Server-Sent Events".into(),
            Way::Ws { deflate: false } => "WebSocket".into(),
            Way::Ws { deflate: true } => "WebSocket, permessage-deflate".into(),
        }
    }

    /// A shorter name, for the plot.
    fn short_label(self) -> String {
        match self {
            Way::Poll(period) if period.as_millis() % 1000 == 0 => {
                format!("poll every {} s", period.as_secs())
            }
            Way::Poll(period) => format!("poll every {} ms", period.as_millis()),
            Way::LongPoll => "long poll".into(),
            Way::Sse => "SSE".into(),
            Way::Ws { deflate: false } => "WebSocket".into(),
            Way::Ws { deflate: true } => "WebSocket + deflate".into(),
        }
    }
}

struct Options {
    addr: String,
    ways: Vec<Way>,
    clients: usize,
    warmup: Duration,
    secs: Duration,
    rounds: usize,
    interval_ms: u64,
    server_pid: Option<u32>,
    md: Option<String>,
    svg: Option<String>,
    csv: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        addr: String::new(),
        ways: "poll:100,poll:1000,long-poll,sse,ws,ws-deflate"
            .split(',')
            .map(Way::parse)
            .collect::<Result<_, _>>()?,
        clients: 100,
        warmup: Duration::from_secs(2),
        secs: Duration::from_secs(10),
        rounds: 1,
        interval_ms: 100,
        server_pid: None,
        md: None,
        svg: None,
        csv: None,
    };
    let secs = |value: String| -> Result<Duration, String> {
        value
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 600.0)
            .map(Duration::from_secs_f64)
            .ok_or(format!("not a number of seconds (0 to 600): {value}"))
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--ways" => {
                options.ways = value()?
                    .split(',')
                    .map(Way::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--clients" => {
                options.clients = value()?
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or("--clients: 1 to 10000")?;
            }
            "--warmup-secs" => options.warmup = secs(value()?)?,
            "--secs" => options.secs = secs(value()?)?,
            "--rounds" => {
                options.rounds = value()?
                    .parse()
                    .ok()
                    .filter(|n| (1..=20).contains(n))
                    .ok_or("--rounds: 1 to 20")?;
            }
            "--interval-ms" => {
                options.interval_ms = value()?.parse().map_err(|_| "--interval-ms: a number")?;
            }
            "--server-pid" => {
                options.server_pid = Some(value()?.parse().map_err(|_| "--server-pid: a pid")?);
            }
            "--md" => options.md = Some(value()?),
            "--svg" => options.svg = Some(value()?),
            "--csv" => options.csv = Some(value()?),
            _ if arg.starts_with("--") || !options.addr.is_empty() => {
                return Err(format!("unexpected argument: {arg}"));
            }
            _ => options.addr = arg,
        }
    }
    if options.addr.is_empty() {
        return Err("give the server's address, e.g. 127.0.0.1:8080".into());
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(why) => {
            eprintln!("{why}\nusage: push_load ADDR [--server-pid PID] [--clients N] [--warmup-secs S] [--secs S] [--ways LIST] [--md FILE] [--svg FILE] [--csv FILE]");
            std::process::exit(2);
        }
    };
    let load_before = load_average();
    // Rounds of every way in turn, so that a stretch of time when the
    // machine is busy with something else falls on every way alike.
    let mut samples: Vec<Vec<Row>> = options.ways.iter().map(|_| Vec::new()).collect();
    let mut csv = String::from(CSV_HEADER);
    for round in 1..=options.rounds {
        for (&way, samples) in options.ways.iter().zip(&mut samples) {
            eprintln!(
                "round {round}/{}, {}: {} clients, {:?} warm-up, {:?} measured",
                options.rounds,
                way.label(),
                options.clients,
                options.warmup,
                options.secs
            );
            let row = measure(way, &options).await;
            let line = csv_line(round, &row);
            eprintln!("  {line}");
            csv.push_str(&line);
            csv.push('\n');
            samples.push(row);
        }
    }
    let rows: Vec<Row> = samples.iter().map(|samples| median_row(samples)).collect();
    let load = format!("{load_before} before, {} after", load_average());
    let table = markdown(&rows, &options, &load);
    print!("{table}");
    let write = |path: &Option<String>, text: String| {
        if let Some(path) = path {
            if let Err(error) = std::fs::write(path, text) {
                eprintln!("cannot write {path}: {error}");
                std::process::exit(1);
            }
        }
    };
    write(&options.md, table);
    write(&options.svg, svg(&rows, &options));
    write(&options.csv, csv);
    if rows.iter().any(|row| row.missed + row.repeated > 0) {
        eprintln!("updates were missed or repeated: see the table");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------
// Counting.

/// What the clients of one way have seen. Updated from one thread (the
/// runtime is current-thread); atomics only to share it between tasks.
#[derive(Default)]
struct Stats {
    /// Set during the measured window: updates, requests and errors are
    /// counted only then. Bytes are counted always and read at both ends.
    measuring: AtomicBool,
    read: AtomicU64,
    written: AtomicU64,
    requests: AtomicU64,
    updates: AtomicU64,
    missed: AtomicU64,
    repeated: AtomicU64,
    errors: AtomicU64,
    /// Errors printed so far, measuring or not.
    reported: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
    /// Bytes each push connection took before its first update: the
    /// request and the answer's head, or the WebSocket handshake.
    setup_bytes: Mutex<Vec<u64>>,
}

impl Stats {
    fn measuring(&self) -> bool {
        self.measuring.load(Relaxed)
    }

    fn request(&self) {
        if self.measuring() {
            self.requests.fetch_add(1, Relaxed);
        }
    }

    /// Takes in the updates of a JSON text, received now; `last` is the
    /// client's latest sequence number.
    fn deliver(&self, last: &mut u64, json: &str) {
        let now = now_us();
        for (seq, time_us) in updates_in(json) {
            if self.measuring() {
                self.updates.fetch_add(1, Relaxed);
                if *last != 0 && seq > *last + 1 {
                    self.missed.fetch_add(seq - *last - 1, Relaxed);
                } else if seq <= *last {
                    self.repeated.fetch_add(1, Relaxed);
                }
                let mut latencies = self.latencies_us.lock().unwrap();
                latencies.push(now.saturating_sub(time_us));
            }
            *last = (*last).max(seq);
        }
    }
}

/// Microseconds since the Unix epoch: the clock the server stamps with.
fn now_us() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}

/// `(seq, time_us)` of every update in a JSON text (one object, or an
/// array of them), in order.
fn updates_in(json: &str) -> Vec<(u64, u64)> {
    fn number_after(text: &str, key: &str) -> Option<(u64, usize)> {
        let at = text.find(key)? + key.len();
        let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
        Some((text[at..at + digits].parse().ok()?, at + digits))
    }
    let mut found = Vec::new();
    let mut rest = json;
    while let Some((seq, end)) = number_after(rest, "\"seq\":") {
        let Some((time_us, end_time)) = number_after(&rest[end..], "\"time_us\":") else {
            break;
        };
        found.push((seq, time_us));
        rest = &rest[end + end_time..];
    }
    found
}

/// A TCP stream that counts the bytes read from it and written to it.
struct Counted {
    inner: TcpStream,
    stats: Arc<Stats>,
    /// This stream's own bytes, both ways.
    bytes: u64,
}

impl Counted {
    async fn connect(addr: &str, stats: &Arc<Stats>) -> io::Result<Counted> {
        let inner = TcpStream::connect(addr).await?;
        inner.set_nodelay(true)?;
        Ok(Counted {
            inner,
            stats: Arc::clone(stats),
            bytes: 0,
        })
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            let n = (buf.filled().len() - before) as u64;
            this.stats.read.fetch_add(n, Relaxed);
            this.bytes += n;
        }
        poll
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            this.stats.written.fetch_add(n as u64, Relaxed);
            this.bytes += n as u64;
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll {
            this.stats.written.fetch_add(n as u64, Relaxed);
            this.bytes += n as u64;
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------
// The clients.

/// One client: follows the stream `way` until aborted, reconnecting (after
/// 100 ms) when its connection fails.
async fn client(way: Way, addr: String, stats: Arc<Stats>, phase: Duration) {
    let mut last = 0;
    loop {
        let result = match way {
            Way::Poll(period) => short_poll(&addr, &stats, &mut last, period, phase).await,
            Way::LongPoll => long_poll(&addr, &stats, &mut last).await,
            Way::Sse => events(&addr, &stats, &mut last).await,
            Way::Ws { deflate } => websocket(&addr, &stats, &mut last, deflate).await,
        };
        if stats.measuring() {
            stats.errors.fetch_add(1, Relaxed);
        }
        // The first few say what went wrong; the count is in the table.
        if stats.reported.fetch_add(1, Relaxed) < 5 {
            eprintln!("  {} client: {result:?}", way.label());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `path` with `?since=N` once an update has been seen.
fn target(path: &str, last: u64) -> String {
    if last == 0 {
        path.to_owned()
    } else {
        format!("{path}?since={last}")
    }
}

/// A kept-alive HTTP/1.1 connection for GET requests.
struct Http {
    stream: Counted,
    host: String,
    buf: Vec<u8>,
}

impl Http {
    async fn connect(addr: &str, stats: &Arc<Stats>) -> io::Result<Http> {
        Ok(Http {
            stream: Counted::connect(addr, stats).await?,
            host: addr.to_owned(),
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends a GET as a browser's `fetch` would at the least (`Host` and
    /// `Accept`), and returns the body of a 200 answer.
    async fn get(&mut self, target: &str) -> Result<String, BoxError> {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n\r\n",
            self.host
        );
        self.stream.write_all(request.as_bytes()).await?;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = response.parse(&self.buf)? {
                let status = response.code.unwrap_or(0);
                let length: usize = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("Content-Length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                    .ok_or("a response without Content-Length")?;
                while self.buf.len() < head + length {
                    self.read_more().await?;
                }
                let body = String::from_utf8(self.buf[head..head + length].to_vec())?;
                self.buf.drain(..head + length);
                if status != 200 {
                    return Err(format!("{target}: status {status}: {body}").into());
                }
                return Ok(body);
            }
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> Result<(), BoxError> {
        self.buf.reserve(4096);
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }
}

async fn short_poll(
    addr: &str,
    stats: &Arc<Stats>,
    last: &mut u64,
    period: Duration,
    phase: Duration,
) -> Result<(), BoxError> {
    let mut http = Http::connect(addr, stats).await?;
    // The clients' polls spread over the period, as independent browsers'.
    let mut ticks = tokio::time::interval_at(Instant::now() + phase, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let body = http.get(&target("/poll", *last)).await?;
        stats.request();
        stats.deliver(last, &body);
    }
}

async fn long_poll(addr: &str, stats: &Arc<Stats>, last: &mut u64) -> Result<(), BoxError> {
    let mut http = Http::connect(addr, stats).await?;
    loop {
        let body = http.get(&target("/long-poll", *last)).await?;
        stats.request();
        stats.deliver(last, &body);
    }
}

async fn events(addr: &str, stats: &Arc<Stats>, last: &mut u64) -> Result<(), BoxError> {
    let mut stream = Counted::connect(addr, stats).await?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n",
        target("/events", *last)
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(4096);
    let mut head_done = false;
    loop {
        buf.reserve(4096);
        if stream.read_buf(&mut buf).await? == 0 {
            return Err("the server closed the event stream".into());
        }
        if !head_done {
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            if !buf.starts_with(b"HTTP/1.1 200 ") {
                return Err(String::from_utf8_lossy(&buf[..end]).into_owned().into());
            }
            buf.drain(..end + 4);
            head_done = true;
            let setup = request.len() + end + 4;
            stats.setup_bytes.lock().unwrap().push(setup as u64);
        }
        // Events end with an empty line; the server writes `\n` only.
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let event = std::str::from_utf8(&buf[..end])?;
            for data in event.lines().filter_map(|l| l.strip_prefix("data: ")) {
                stats.deliver(last, data);
            }
            buf.drain(..end + 2);
        }
    }
}

async fn websocket(
    addr: &str,
    stats: &Arc<Stats>,
    last: &mut u64,
    deflate: bool,
) -> Result<(), BoxError> {
    let stream = Counted::connect(addr, stats).await?;
    let url = format!("ws://{addr}{}", target("/ws", *last));
    let options = ClientOptions::new();
    #[cfg(feature = "deflate")]
    let options = match deflate {
        true => options,
        false => options.config(rfc6455::handshake::HandshakeConfig::default().deflate(None)),
    };
    #[cfg(not(feature = "deflate"))]
    if deflate {
        return Err("ws-deflate needs the deflate feature (on by default)".into());
    }
    let (mut ws, response) =
        rfc6455::tokio::client(&url, options, stream, Config::default()).await?;
    if response.negotiated().extension_name().is_some() != deflate {
        return Err(format!("deflate {deflate}, negotiated {:?}", response.negotiated()).into());
    }
    // What was read may hold a first frame too if an update came during
    // the handshake; the median over the clients leaves those out.
    stats.setup_bytes.lock().unwrap().push(ws.get_ref().bytes);
    loop {
        match ws.read().await? {
            Some(Message::Text(text)) => stats.deliver(last, &text),
            Some(_) => {}
            None => return Err("the server closed the WebSocket".into()),
        }
    }
}

// ---------------------------------------------------------------------------
// One measurement.

/// What one way cost.
struct Row {
    way: Way,
    clients: usize,
    secs: f64,
    updates: u64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Bytes the clients wrote (requests) and read (answers), per update.
    up_per_update: f64,
    down_per_update: f64,
    requests_per_sec: f64,
    /// The server's CPU time per update delivered, if it could be read.
    cpu_us_per_update: Option<f64>,
    /// How many times a second the server's threads were given the CPU:
    /// each time follows a wake-up, for a request or an update.
    runs_per_sec: Option<f64>,
    /// The median bytes a push connection took before its first update.
    setup_bytes: Option<f64>,
    missed: u64,
    repeated: u64,
    errors: u64,
}

async fn measure(way: Way, options: &Options) -> Row {
    let stats = Arc::new(Stats::default());
    let period = match way {
        Way::Poll(period) => period,
        _ => Duration::ZERO,
    };
    let clients: Vec<_> = (0..options.clients)
        .map(|i| {
            let phase = period * u32::try_from(i).unwrap_or(0) / options.clients as u32;
            tokio::spawn(client(way, options.addr.clone(), Arc::clone(&stats), phase))
        })
        .collect();
    tokio::time::sleep(options.warmup).await;

    // No client task runs between these lines and the matching ones below:
    // the counters are read exactly at the window's ends.
    let cpu_before = options.server_pid.and_then(server_threads);
    let (read_before, written_before) = (stats.read.load(Relaxed), stats.written.load(Relaxed));
    stats.measuring.store(true, Relaxed);
    let start = Instant::now();
    tokio::time::sleep(options.secs).await;
    stats.measuring.store(false, Relaxed);
    let secs = start.elapsed().as_secs_f64();
    let (read_after, written_after) = (stats.read.load(Relaxed), stats.written.load(Relaxed));
    let cpu_after = options.server_pid.and_then(server_threads);

    for client in &clients {
        client.abort();
    }
    for client in clients {
        let _ = client.await;
    }
    // Let the server see the connections go before the next way starts.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let updates = stats.updates.load(Relaxed);
    let per_update = |bytes: u64| bytes as f64 / updates.max(1) as f64;
    let mut latencies = std::mem::take(&mut *stats.latencies_us.lock().unwrap());
    latencies.sort_unstable();
    // Per thread: what it ran since the first reading (all it ran if it
    // started since).
    let (cpu_ns, runs) = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) => {
            let mut total = (0, 0);
            for (tid, after) in &after {
                let before = before.get(tid).copied().unwrap_or_default();
                total.0 += after.ns.saturating_sub(before.ns);
                total.1 += after.runs.saturating_sub(before.runs);
            }
            (Some(total.0), Some(total.1))
        }
        _ => (None, None),
    };
    Row {
        way,
        clients: options.clients,
        secs,
        updates,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        max_ms: latencies.last().map_or(0.0, |&us| us as f64 / 1000.0),
        up_per_update: per_update(written_after - written_before),
        down_per_update: per_update(read_after - read_before),
        requests_per_sec: stats.requests.load(Relaxed) as f64 / secs,
        cpu_us_per_update: cpu_ns.map(|ns| ns as f64 / 1000.0 / updates.max(1) as f64),
        runs_per_sec: runs.map(|runs| runs as f64 / secs),
        setup_bytes: {
            let mut setup = std::mem::take(&mut *stats.setup_bytes.lock().unwrap());
            setup.sort_unstable();
            setup.get(setup.len() / 2).map(|&bytes| bytes as f64)
        },
        missed: stats.missed.load(Relaxed),
        repeated: stats.repeated.load(Relaxed),
        errors: stats.errors.load(Relaxed),
    }
}

/// The median of each figure over the rounds of one way; the counts of
/// updates, missed, repeated and errors are summed.
fn median_row(rows: &[Row]) -> Row {
    let median = |figure: &dyn Fn(&Row) -> f64| {
        let mut values: Vec<f64> = rows.iter().map(figure).collect();
        values.sort_by(f64::total_cmp);
        match values.len() {
            0 => 0.0,
            n if n % 2 == 1 => values[n / 2],
            n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        }
    };
    let optional = |figure: &dyn Fn(&Row) -> Option<f64>| {
        let all: Option<Vec<f64>> = rows.iter().map(figure).collect();
        all.filter(|all| !all.is_empty()).map(|all| {
            let mut all = all;
            all.sort_by(f64::total_cmp);
            let n = all.len();
            if n % 2 == 1 {
                all[n / 2]
            } else {
                (all[n / 2 - 1] + all[n / 2]) / 2.0
            }
        })
    };
    Row {
        way: rows[0].way,
        clients: rows[0].clients,
        secs: rows.iter().map(|r| r.secs).sum(),
        updates: rows.iter().map(|r| r.updates).sum(),
        p50_ms: median(&|r| r.p50_ms),
        p99_ms: median(&|r| r.p99_ms),
        max_ms: rows.iter().map(|r| r.max_ms).fold(0.0, f64::max),
        up_per_update: median(&|r| r.up_per_update),
        down_per_update: median(&|r| r.down_per_update),
        requests_per_sec: median(&|r| r.requests_per_sec),
        cpu_us_per_update: optional(&|r| r.cpu_us_per_update),
        runs_per_sec: optional(&|r| r.runs_per_sec),
        setup_bytes: optional(&|r| r.setup_bytes),
        missed: rows.iter().map(|r| r.missed).sum(),
        repeated: rows.iter().map(|r| r.repeated).sum(),
        errors: rows.iter().map(|r| r.errors).sum(),
    }
}

/// The 1-, 5- and 15-minute load averages (`/proc/loadavg`).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted_us.len() as f64).ceil() as usize;
    sorted_us[rank.clamp(1, sorted_us.len()) - 1] as f64 / 1000.0
}

/// What one of the server's threads has had of the CPU so far.
#[derive(Clone, Copy, Default)]
struct ThreadTime {
    /// Time on the CPU, in nanoseconds.
    ns: u64,
    /// Times it was given the CPU.
    runs: u64,
}

/// Each thread of the server and what it has run so far (the first and
/// third fields of `/proc/PID/task/TID/schedstat`). A thread that ends
/// between two readings takes its time with it; the server's threads live
/// as long as it does.
fn server_threads(pid: u32) -> Option<HashMap<u32, ThreadTime>> {
    let mut threads = HashMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let task = task.ok()?;
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        // A thread may end between listing and reading.
        if let Ok(schedstat) = std::fs::read_to_string(task.path().join("schedstat")) {
            let mut fields = schedstat.split_whitespace().map(str::parse);
            let (Some(Ok(ns)), _, Some(Ok(runs))) = (fields.next(), fields.next(), fields.next())
            else {
                return None;
            };
            threads.insert(tid, ThreadTime { ns, runs });
        }
    }
    Some(threads)
}

#[cfg(test)]
mod tests;
