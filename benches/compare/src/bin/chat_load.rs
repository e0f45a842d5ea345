//! Load on the chat example (`examples/chat.rs`): many WebSocket clients
//! in one room, across one or more chat processes.
//!
//! ```text
//! chat_load --addrs 127.0.0.1:8080[,127.0.0.1:8081] --clients 1000
//!           [--senders 100] [--rate 2] [--secs 20] [--pids PID[,PID]]
//!           [--join-window 24] [--deflate] [--label TEXT]
//! ```
//!
//! 1. Opens `--clients` connections, round-robin over `--addrs` (at most
//!    256 handshakes at a time), without permessage-deflate unless
//!    `--deflate`.
//! 2. Joins them, one name each. Every join is announced to every member
//!    already there, so N joins are N(N-1)/2 messages (50 million for
//!    10,000): joins go out at the pace the slowest client reads them,
//!    one at a time, each once the previous one was welcomed and no
//!    client is more than `--join-window` notices behind. The chat drops
//!    a client that falls 64 messages behind, so this keeps every queue
//!    short. Then it waits for the notices to settle.
//! 3. Reads the chat processes' VmRSS (`/proc/PID/status`) before the
//!    connections and after the joins: memory per connection.
//! 4. The first `--senders` clients each send `--rate` messages a second
//!    for `--secs` seconds (the chat takes 5 a second from a client), each
//!    text holding its sender, a sequence number and the time it was
//!    sent. Every client counts what it receives: every message must reach
//!    every client (the sender too), each sender's in order. Latency is
//!    send to receipt, at every receiver.
//! 5. Waits (10 s at most) for the last deliveries, and prints one
//!    markdown table row: delivered messages per second, latency
//!    p50/p99/p999, memory per connection, losses, refusals and drops.
//!
//! Everything is loopback and bounded: every phase has a deadline, and the
//! run fails (exit 1) when anything is lost, refused or dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rfc6455::handshake::ClientOptions;
use rfc6455::tokio::{client, WebSocket};
use rfc6455::{Config, Message};
use rfc6455_compare::thousands;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Handshakes in progress at once.
const CONNECTING: usize = 256;
const CONNECT_DEADLINE: Duration = Duration::from_secs(120);
const JOIN_DEADLINE: Duration = Duration::from_secs(1200);
const SETTLE_QUIET: Duration = Duration::from_secs(1);
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

struct Options {
    addrs: Vec<String>,
    clients: usize,
    senders: usize,
    rate: f64,
    secs: f64,
    pids: Vec<u32>,
    join_window: usize,
    deflate: bool,
    label: String,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addrs: vec!["127.0.0.1:8080".into()],
        clients: 1000,
        senders: 100,
        rate: 2.0,
        secs: 20.0,
        pids: Vec::new(),
        join_window: 24,
        deflate: false,
        label: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--addrs" => options.addrs = value()?.split(',').map(str::to_owned).collect(),
            "--clients" => options.clients = number(&value()?)?,
            "--senders" => options.senders = number(&value()?)?,
            "--rate" => options.rate = number(&value()?)?,
            "--secs" => options.secs = number(&value()?)?,
            "--pids" => options.pids = value()?.split(',').map(number).collect::<Result<_, _>>()?,
            "--join-window" => options.join_window = number(&value()?)?,
            "--deflate" => options.deflate = true,
            "--label" => options.label = value()?,
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if options.senders > options.clients {
        return Err("--senders cannot exceed --clients".into());
    }
    if !(options.rate > 0.0 && options.rate <= 5.0) {
        return Err("--rate is per sender, above 0 and at most 5 (the chat's limit)".into());
    }
    if !(options.secs > 0.0 && options.secs <= 300.0) {
        return Err("--secs: above 0, at most 300".into());
    }
    for addr in &options.addrs {
        let ip: std::net::SocketAddr = addr.parse().map_err(|_| format!("bad address {addr}"))?;
        if !ip.ip().is_loopback() {
            return Err(format!("{addr} is not a loopback address"));
        }
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

/// What every client adds to, read by the coordinator.
#[derive(Default)]
struct Counters {
    connected: AtomicUsize,
    welcomed: AtomicUsize,
    join_notices: AtomicU64,
    /// Join notices received, per client.
    notices: Vec<AtomicU64>,
    /// Measurement messages received, by all clients.
    delivered: AtomicU64,
    /// Measurement messages sent.
    sent: AtomicU64,
    /// `error` replies (refusals), and other unexpected frames.
    errors: AtomicU64,
    /// Connections that ended before the run did.
    dropped: AtomicUsize,
    /// Set once the deliveries are counted: connections may end now (the
    /// leaves of the first to go are N² notices again, and the chat drops
    /// clients that stopped reading).
    stopping: AtomicBool,
    /// Microseconds since `base` of the last delivery.
    last_delivery_us: AtomicU64,
}

enum Command {
    Join,
    /// Send `rate` a second until the deadline (a sender), with a phase.
    Send {
        until: Instant,
        offset: Duration,
    },
    Stop,
}

/// What a client reports at the end.
#[derive(Default)]
struct Report {
    received: u64,
    /// Messages that came out of order or twice, per sender.
    disorder: u64,
    latencies_us: Vec<u32>,
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(why) => {
            eprintln!("chat_load: {why}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(error) => {
            eprintln!("chat_load: {error}");
            std::process::exit(1);
        }
    }
}

async fn run(options: Options) -> Result<bool, BoxError> {
    let options = Arc::new(options);
    let n = options.clients;
    let base = Instant::now();
    let counters = Arc::new(Counters {
        notices: (0..n).map(|_| AtomicU64::new(0)).collect(),
        ..Counters::default()
    });
    let rss_before = rss_kib(&options.pids);
    eprintln!(
        "chat_load: {n} clients over {} ({} sending {}/s for {} s), VmRSS before {} KiB",
        options.addrs.join(", "),
        options.senders,
        options.rate,
        options.secs,
        rss_before.iter().sum::<u64>()
    );

    // 1. Connect.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let mut commands = Vec::with_capacity(n);
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (tx, rx) = mpsc::unbounded_channel();
        commands.push(tx);
        let addr = options.addrs[i % options.addrs.len()].clone();
        let task = Client {
            index: i,
            options: Arc::clone(&options),
            counters: Arc::clone(&counters),
            base,
        };
        let gate = Arc::clone(&gate);
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.expect("gate");
            let ws = task.connect(&addr).await;
            drop(permit);
            match ws {
                Ok(ws) => task.run(ws, rx).await,
                Err(error) => {
                    eprintln!("client {i}: {error}");
                    task.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    Report::default()
                }
            }
        }));
    }
    wait_until(CONNECT_DEADLINE, "connect", || {
        counters.connected.load(Ordering::Relaxed) + counters.dropped.load(Ordering::Relaxed) >= n
    })
    .await?;
    let connect_secs = started.elapsed().as_secs_f64();
    if counters.dropped.load(Ordering::Relaxed) > 0 {
        return Err(format!(
            "{} connections failed",
            counters.dropped.load(Ordering::Relaxed)
        )
        .into());
    }
    eprintln!("chat_load: {n} connected in {connect_secs:.1} s");

    // 2. Join, at the pace the notices are read.
    let started = Instant::now();
    let notices_for = |joins: usize| (joins as u64) * (joins as u64).saturating_sub(1) / 2;
    let deadline = started + JOIN_DEADLINE;
    let window = options.join_window as u64;
    // How far behind the slowest client is, with `i` joins done: client
    // `c` is to hear of the `i - c - 1` after its own.
    let behind = |i: usize| {
        (0..i)
            .map(|c| {
                let expected = (i - c - 1) as u64;
                expected.saturating_sub(counters.notices[c].load(Ordering::Relaxed))
            })
            .max()
            .unwrap_or(0)
    };
    for (i, command) in commands.iter().enumerate() {
        while counters.welcomed.load(Ordering::Relaxed) < i || behind(i) >= window {
            if Instant::now() > deadline {
                return Err(format!("joins did not keep up: {i} of {n} joined").into());
            }
            if counters.dropped.load(Ordering::Relaxed) > 0 {
                return Err("a client was dropped while joining".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let _ = command.send(Command::Join);
        if i > 0 && i % 1000 == 0 {
            eprintln!(
                "chat_load: {i} joined, {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    // Every notice in: at least N(N-1)/2 (with several processes a pair
    // joining at once may each hear of the other), then quiet.
    let all = notices_for(n);
    wait_until(JOIN_DEADLINE, "welcome", || {
        counters.welcomed.load(Ordering::Relaxed) >= n
            && counters.join_notices.load(Ordering::Relaxed) >= all
    })
    .await?;
    let mut last = counters.join_notices.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(SETTLE_QUIET).await;
        let now = counters.join_notices.load(Ordering::Relaxed);
        if now == last {
            break;
        }
        last = now;
    }
    let join_secs = started.elapsed().as_secs_f64();
    let rss_after = rss_kib(&options.pids);
    let per_conn = (rss_after.iter().sum::<u64>() as f64 - rss_before.iter().sum::<u64>() as f64)
        * 1024.0
        / n as f64;
    eprintln!(
        "chat_load: {n} joined in {join_secs:.1} s ({last} join notices); VmRSS after {} KiB, \
         {per_conn:.0} bytes per connection",
        rss_after.iter().sum::<u64>()
    );
    if counters.dropped.load(Ordering::Relaxed) > 0 {
        return Err("clients were dropped while joining".into());
    }

    // 4. Send.
    let cpu_before = cpu_ticks(&options.pids);
    let send_start = Instant::now() + Duration::from_millis(200);
    let until = send_start + Duration::from_secs_f64(options.secs);
    let period = Duration::from_secs_f64(1.0 / options.rate);
    for (i, command) in commands.iter().take(options.senders).enumerate() {
        // Spread the senders' phases over one period.
        let offset = period.mul_f64(i as f64 / options.senders as f64);
        let _ = command.send(Command::Send { until, offset });
    }
    tokio::time::sleep_until((until + Duration::from_millis(100)).into()).await;
    let sent = counters.sent.load(Ordering::Relaxed);

    // 5. Drain: every message to every client, or the deadline.
    let expected = |sent: u64, errors: u64| sent.saturating_sub(errors) * n as u64;
    let _ = wait_until(DRAIN_DEADLINE, "drain", || {
        counters.delivered.load(Ordering::Relaxed)
            >= expected(sent, counters.errors.load(Ordering::Relaxed))
    })
    .await;
    let cpu_after = cpu_ticks(&options.pids);
    let last_us = counters.last_delivery_us.load(Ordering::Relaxed);
    let window = (base + Duration::from_micros(last_us))
        .saturating_duration_since(send_start)
        .as_secs_f64()
        .max(options.secs);
    let dropped = counters.dropped.load(Ordering::Relaxed);
    counters.stopping.store(true, Ordering::Relaxed);
    for command in &commands {
        let _ = command.send(Command::Stop);
    }
    let mut received = Vec::with_capacity(n);
    let mut disorder = 0;
    let mut latencies = Vec::new();
    for task in tasks {
        let report = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .map_err(|_| "a client did not stop")??;
        received.push(report.received);
        disorder += report.disorder;
        latencies.extend(report.latencies_us);
    }
    latencies.sort_unstable();
    let errors = counters.errors.load(Ordering::Relaxed);
    let accepted = sent.saturating_sub(errors);
    let lost: u64 = received
        .iter()
        .map(|&got| accepted.saturating_sub(got))
        .sum();
    let extra: u64 = received
        .iter()
        .map(|&got| got.saturating_sub(accepted))
        .sum();
    let delivered: u64 = received.iter().sum();
    let pct = |p: f64| {
        if latencies.is_empty() {
            f64::NAN
        } else {
            let at = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
            f64::from(latencies[at]) / 1000.0
        }
    };
    let ticks = cpu_after.saturating_sub(cpu_before) as f64 / clock_ticks();
    // The columns of scripts/chat-load.sh's table.
    println!(
        "| {} | {} | {} | {} | {} | {:.0} | {} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {} | {} | {} |",
        if options.label.is_empty() { "-" } else { &options.label },
        thousands(n as f64),
        options.addrs.len(),
        options.senders,
        thousands(sent as f64),
        accepted as f64 / options.secs,
        thousands(delivered as f64 / window),
        pct(0.50),
        pct(0.99),
        pct(0.999),
        thousands(per_conn),
        ticks,
        lost,
        errors,
        dropped,
    );
    eprintln!(
        "chat_load: {sent} sent, {errors} refused, {} deliveries in {window:.1} s, \
         {lost} lost, {extra} extra, {disorder} out of order, {dropped} dropped; \
         chat CPU {ticks:.1} s; join {join_secs:.1} s",
        thousands(delivered as f64)
    );
    Ok(lost == 0 && extra == 0 && disorder == 0 && errors == 0 && dropped == 0)
}

struct Client {
    index: usize,
    options: Arc<Options>,
    counters: Arc<Counters>,
    base: Instant,
}

impl Client {
    async fn connect(&self, addr: &str) -> Result<WebSocket<TcpStream>, BoxError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut options = ClientOptions::new();
        if !self.options.deflate {
            options.config.deflate = None;
        }
        let url = format!("ws://{addr}/ws");
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(30),
            client(&url, options, stream, Config::default()),
        )
        .await
        .map_err(|_| "handshake timed out")??;
        self.counters.connected.fetch_add(1, Ordering::Relaxed);
        Ok(ws)
    }

    async fn run(
        self,
        mut ws: WebSocket<TcpStream>,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) -> Report {
        let senders = self.options.senders;
        let mut report = Report::default();
        // The next sequence number expected from each sender.
        let mut next = vec![0u32; senders];
        let mut seq = 0u32;
        let mut sending: Option<(tokio::time::Interval, Instant)> = None;
        let period = Duration::from_secs_f64(1.0 / self.options.rate);
        let name = format!("c{}", self.index);
        loop {
            let tick = async {
                match &mut sending {
                    Some((interval, _)) => {
                        interval.tick().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Join) => {
                        if ws.send(Message::Text(name.clone())).await.is_err() {
                            break;
                        }
                    }
                    Some(Command::Send { until, offset }) => {
                        let start = tokio::time::Instant::from_std(Instant::now() + offset);
                        let mut interval = tokio::time::interval_at(start, period);
                        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                        sending = Some((interval, until));
                    }
                    Some(Command::Stop) | None => {
                        let _ = tokio::time::timeout(
                            Duration::from_secs(2),
                            ws.close(rfc6455::CloseCode::NORMAL, ""),
                        )
                        .await;
                        return report;
                    }
                },
                () = tick => {
                    let until = sending.as_ref().map(|(_, until)| *until);
                    if until.is_some_and(|until| Instant::now() >= until) {
                        sending = None;
                        continue;
                    }
                    let sent_us = self.base.elapsed().as_micros() as u64;
                    let text = format!("L {} {seq} {sent_us}", self.index);
                    seq += 1;
                    if ws.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                    self.counters.sent.fetch_add(1, Ordering::Relaxed);
                }
                message = ws.read() => match message {
                    Ok(Some(Message::Text(text))) => self.on_text(&text, &mut report, &mut next),
                    Ok(Some(Message::Close(_)) | None) | Err(_) => break,
                    Ok(Some(_)) => {}
                },
            }
        }
        if !self.counters.stopping.load(Ordering::Relaxed) {
            // The server ended the connection before the run did.
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            eprintln!("client {}: connection ended early", self.index);
        }
        report
    }

    fn on_text(&self, text: &str, report: &mut Report, next: &mut [u32]) {
        let kind = field(text, "type").unwrap_or("");
        match kind {
            "message" => {
                let Some(body) = field(text, "text") else {
                    return;
                };
                let mut parts = body.split(' ');
                if parts.next() != Some("L") {
                    return;
                }
                let parsed = (|| -> Option<(usize, u32, u64)> {
                    Some((
                        parts.next()?.parse().ok()?,
                        parts.next()?.parse().ok()?,
                        parts.next()?.parse().ok()?,
                    ))
                })();
                let Some((sender, seq, sent_us)) = parsed else {
                    return;
                };
                let now_us = self.base.elapsed().as_micros() as u64;
                report
                    .latencies_us
                    .push(now_us.saturating_sub(sent_us).min(u64::from(u32::MAX)) as u32);
                report.received += 1;
                if let Some(expected) = next.get_mut(sender) {
                    if seq != *expected {
                        report.disorder += 1;
                    }
                    *expected = seq + 1;
                }
                self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .last_delivery_us
                    .fetch_max(now_us, Ordering::Relaxed);
            }
            "join" => {
                self.counters.join_notices.fetch_add(1, Ordering::Relaxed);
                self.counters.notices[self.index].fetch_add(1, Ordering::Relaxed);
            }
            "welcome" => {
                self.counters.welcomed.fetch_add(1, Ordering::Relaxed);
            }
            "error" => {
                eprintln!("client {}: error {text}", self.index);
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
            }
            // leave, online, status
            _ => {}
        }
    }
}

/// The value of a string field in the chat's flat JSON, when it has no
/// escapes (the load's own texts and names have none).
fn field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\":\"");
    let start = json.find(&pattern)? + pattern.len();
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

async fn wait_until(
    limit: Duration,
    what: &str,
    mut done: impl FnMut() -> bool,
) -> Result<(), BoxError> {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("{what}: not done within {} s", limit.as_secs()).into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// VmRSS of each process, in KiB.
fn rss_kib(pids: &[u32]) -> Vec<u64> {
    pids.iter()
        .map(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|status| {
                    status
                        .lines()
                        .find_map(|line| line.strip_prefix("VmRSS:"))
                        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                })
                .unwrap_or(0)
        })
        .collect()
}

/// User and system CPU time of the processes, in clock ticks.
fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command name in parentheses: fields 3 onwards.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split(' ').collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .sum()
}

fn clock_ticks() -> f64 {
    // sysconf(_SC_CLK_TCK) is 100 on Linux everywhere that matters here.
    100.0
}
