//! One room across several `chat` processes, through Redis
//! (`chat --redis redis://127.0.0.1:6379/`).
//!
//! Without `--redis` none of this runs and a process is a room of its own.
//! With it, every process is a peer: no process is special, any may start,
//! stop or crash, and the clients of each are in one room.
//!
//! # How messages travel
//!
//! A message a process accepts goes to its own clients at once, the sender
//! included (so the page's echo and its errors keep their order), and is
//! appended to a Redis **stream**, `chat:room` (`XADD`, trimmed to about
//! 100,000 entries). Every process reads the stream (`XREAD BLOCK`) from
//! the last entry it has read and delivers the entries of the other
//! processes to its clients; its own it skips. A stream and not pub/sub:
//! a pub/sub subscriber that is disconnected for a moment misses what is
//! published meanwhile, with no way to know; a stream reader picks up
//! where it stopped.
//!
//! Each entry carries its process's id (random per run) and a sequence
//! number counted per process. A reader drops an entry it has already
//! delivered (a retried write may land twice), and when a process's
//! numbers jump it tells its clients that updates were lost
//! (a `status` message), so a loss is never silent.
//!
//! # When Redis goes away
//!
//! Each process reconnects by itself, waiting 0.25 s after the first
//! failure and twice as long after each next one, up to 5 s (with
//! jitter). Meanwhile the room is **degraded**: the process sends its
//! clients `{"type":"status","degraded":true,"text":"…"}` (and
//! `"degraded":false` once it is back); the page shows it.
//!
//! While degraded, a process keeps accepting messages: its own clients get
//! them at once, and the others **once Redis is back**: every entry waits,
//! in order, until it is written. At most 1,000 chat messages may wait;
//! past that, a new one is **refused** with an `error` to its sender (the
//! page keeps it as "not sent", with Retry), and nobody else gets it. So a
//! message is either delivered to everyone or its sender is told it was
//! not: nothing is lost silently. (A process that crashes loses what it
//! had waiting, along with its clients' connections.)
//!
//! Redis restarted without persistence loses the stream, and with it
//! entries written but not yet read by every process. So each process
//! keeps what it wrote in the last 60 seconds (at most 4,096 entries) and,
//! when it finds a different Redis (its `run_id` changed), writes them
//! again before anything new; readers drop those they already have. An
//! entry lost anyway (one older than that) shows as a gap in its
//! process's numbers, reported as above.
//!
//! # Presence
//!
//! `online` counts the room's members across processes: this process's
//! own, plus each other process's count as it last said it. Every join
//! and leave entry carries its process's count; every process also writes
//! a heartbeat entry every 5 s, and keeps its members in a hash,
//! `chat:presence:<process id>` (member id → name), that expires 15 s
//! after its last refresh. A process starting (or reconnecting) reads
//! those hashes to learn who is there, and rewrites its own (Redis may
//! have restarted empty). A process not heard from for 15 s while this
//! one is connected is taken as gone: its members leave the count, and the
//! clients get a `status` message saying so, with the room's `online`
//! (the degraded and recovered ones carry no count). While a process is
//! degraded it keeps the counts it last heard.
//!
//! Joins and leaves while Redis is down go out once it is back, like
//! messages. The `online` count in every `join`, `leave` and `welcome`
//! is the room's; when only the count changes (a heartbeat corrects it,
//! a process appears), clients get `{"type":"online","online":N}`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamRangeReply, StreamReadReply};
use redis::{AsyncConnectionConfig, RedisResult};
use tokio::sync::mpsc;

use super::{broadcast, Frame, Json, Room};

#[path = "entry.rs"]
mod entry;
#[path = "remotes.rs"]
mod remotes;

use entry::{Entry, Kind};
use remotes::{Heard, Remotes};

/// The stream every process writes and reads.
const STREAM: &str = "chat:room";
/// Entries the stream keeps, about (`MAXLEN ~`).
const STREAM_LEN: usize = 100_000;
/// A process's members: this prefix and the process id.
const PRESENCE: &str = "chat:presence:";
/// How often a process says it is alive, and refreshes its hash's expiry.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// When a process's hash expires without a refresh, and when the others
/// count it gone.
const SILENCE: Duration = Duration::from_secs(15);
/// Chat messages that may wait for Redis before new ones are refused.
const MAX_WAITING: usize = 1000;
/// Entries written in one pipeline, at most.
const BATCH: usize = 512;
/// Entries read by one `XREAD`, at most, and how long it blocks.
const READ_COUNT: usize = 1024;
const READ_BLOCK: Duration = Duration::from_secs(2);
/// Bounds on connecting and on every command's answer (above `READ_BLOCK`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Reconnecting: the first wait and the longest.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// What is kept to write again to a Redis that restarted.
const REPLAY_AGE: Duration = Duration::from_secs(60);
const REPLAY_LEN: usize = 4096;

/// This process's end of the cluster; cloning shares it. The room holds
/// one when the chat runs with `--redis`.
#[derive(Clone)]
pub struct Cluster {
    shared: Arc<Shared>,
}

struct Shared {
    /// The members' joins, leaves and messages, in the order they happened
    /// here, for the task that writes them to Redis.
    events: mpsc::UnboundedSender<Event>,
    /// Chat messages accepted and not yet written.
    waiting: AtomicUsize,
    /// Members of the other processes.
    remote_online: AtomicUsize,
    /// The `status` frame while degraded, for members who join meanwhile.
    /// Changed with the room's lock held.
    degraded: Mutex<Option<Frame>>,
}

enum Event {
    Join { id: u64, name: String, here: usize },
    Leave { id: u64, name: String, here: usize },
    Message(Frame),
}

impl Cluster {
    /// Starts the task that connects to Redis at `url` (and reconnects),
    /// writes this process's events and delivers the others' to `room`'s
    /// members. Fails only on a malformed URL: a Redis that is not there
    /// yet makes the room degraded until it is.
    pub fn start(url: &str, room: Room) -> Result<Cluster, String> {
        let client = redis::Client::open(url).map_err(|error| format!("--redis {url}: {error}"))?;
        let (events, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events,
            waiting: AtomicUsize::new(0),
            remote_online: AtomicUsize::new(0),
            degraded: Mutex::new(None),
        });
        let origin = process_id();
        println!("cluster: process {origin}, Redis at {url}");
        let link = Link {
            origin: origin.clone(),
            client,
            shared: Arc::clone(&shared),
            room,
            events: receiver,
            seq: 0,
            local: HashMap::new(),
            pending: VecDeque::new(),
            written: VecDeque::new(),
            run_id: None,
            last_id: None,
            remotes: Remotes::new(origin, now_ms()),
            degraded: false,
        };
        tokio::spawn(link.run());
        Ok(Cluster { shared })
    }

    fn send(&self, event: Event) {
        // The task runs as long as the process; nothing to do otherwise.
        let _ = self.shared.events.send(event);
    }

    fn degraded_frame(&self) -> Option<Frame> {
        lock(&self.shared.degraded).clone()
    }
}

/// The hooks the room calls; each with the room's lock held, so that the
/// events reach Redis in the order they happened here.
impl Room {
    /// Members of the other processes (0 without `--redis`).
    pub(super) fn remote_online(&self) -> usize {
        self.cluster.as_ref().map_or(0, |cluster| {
            cluster.shared.remote_online.load(Ordering::Relaxed)
        })
    }

    /// After a member joined (`here` members on this process now): tells
    /// the other processes, and the newcomer if the room is degraded.
    pub(super) fn cluster_join(
        &self,
        id: u64,
        name: &str,
        here: usize,
        queue: &mpsc::Sender<Frame>,
    ) {
        if let Some(cluster) = &self.cluster {
            if let Some(status) = cluster.degraded_frame() {
                let _ = queue.try_send(status);
            }
            let name = name.to_owned();
            cluster.send(Event::Join { id, name, here });
        }
    }

    /// After a member left (`here` members on this process now).
    pub(super) fn cluster_leave(&self, id: u64, name: &str, here: usize) {
        if let Some(cluster) = &self.cluster {
            let name = name.to_owned();
            cluster.send(Event::Leave { id, name, here });
        }
    }

    /// Before a chat message goes to this process's members: queues it for
    /// the others, or refuses it (the error to send its author) when too
    /// many wait for Redis already.
    pub(super) fn cluster_say(&self, message: &Frame) -> Result<(), String> {
        let Some(cluster) = &self.cluster else {
            return Ok(());
        };
        let waiting = &cluster.shared.waiting;
        if waiting.fetch_add(1, Ordering::Relaxed) >= MAX_WAITING {
            waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(format!(
                "Not sent: the other chat servers are unreachable and \
                 {MAX_WAITING} messages already wait for them. Try again later."
            ));
        }
        cluster.send(Event::Message(Arc::clone(message)));
        Ok(())
    }
}

impl Json {
    fn bool(mut self, key: &str, value: bool) -> Self {
        self.key(key);
        self.0.push_str(if value { "true" } else { "false" });
        self
    }
}

/// Takes `--redis URL` out of the command line: the arguments left, and
/// the URL.
pub fn redis_arg(args: impl Iterator<Item = String>) -> (Vec<String>, Option<String>) {
    let mut rest = Vec::new();
    let mut url = None;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        if arg == "--redis" && args.peek().is_some() {
            url = args.next();
        } else if let Some(value) = arg.strip_prefix("--redis=") {
            url = Some(value.to_owned());
        } else {
            rest.push(arg);
        }
    }
    (rest, url)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A fresh id for this run of the process: its pid and the time.
fn process_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{:x}", std::process::id(), nanos & 0xffff_ffff_ffff)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

// ---------------------------------------------------------------------------
// The task: the connection to Redis, both ways.

struct Link {
    origin: String,
    client: redis::Client,
    shared: Arc<Shared>,
    /// The room, to deliver to (its clone without a cluster).
    room: Room,
    events: mpsc::UnboundedReceiver<Event>,
    /// The last sequence number used.
    seq: u64,
    /// This process's members, for its presence hash.
    local: HashMap<u64, String>,
    /// Entries not yet written, in order.
    pending: VecDeque<Entry>,
    /// Entries written recently, for a Redis that restarts.
    written: VecDeque<(Instant, Entry)>,
    /// The Redis server's `run_id` when last connected.
    run_id: Option<String>,
    /// The id of the last stream entry read.
    last_id: Option<String>,
    remotes: Remotes,
    degraded: bool,
}

impl Link {
    async fn run(mut self) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let started = Instant::now();
            let error = match self.session().await {
                Ok(()) => return, // the room is gone: the process is ending
                Err(error) => error,
            };
            if started.elapsed() > MAX_BACKOFF * 2 {
                backoff = MIN_BACKOFF; // it had been up a while
            }
            // Equal jitter: between half and all of the backoff.
            let wait = backoff.mul_f64(0.5 + jitter() * 0.5);
            println!(
                "cluster: Redis unreachable ({error}); retrying in {} ms",
                wait.as_millis()
            );
            self.set_degraded(Some(format!(
                "The other chat servers are unreachable (Redis: {}). Messages reach \
                 people on this server now, and the others once it is back.",
                brief(&error)
            )));
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection to Redis, until it fails.
    async fn session(&mut self) -> RedisResult<()> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let mut writer = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        // Its own connection: a blocked XREAD holds up what is behind it.
        let reader = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        // A different server (a restart, say) may have lost what this
        // process wrote lately: write it again, before anything newer.
        // (A server that refuses INFO has no run_id to compare: then only
        // the gaps in the sequence numbers tell of a restart.)
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut writer)
            .await
            .unwrap_or_default();
        let run_id = info
            .lines()
            .find_map(|line| line.strip_prefix("run_id:"))
            .unwrap_or("")
            .trim()
            .to_owned();
        if self.run_id.as_ref().is_some_and(|old| *old != run_id) {
            let again = std::mem::take(&mut self.written);
            for (_, entry) in again.into_iter().rev() {
                self.pending.push_front(entry);
            }
        }
        self.run_id = Some(run_id.clone());
        if self.last_id.is_none() {
            // The first time: what is in the stream already is history.
            let last: StreamRangeReply = redis::cmd("XREVRANGE")
                .arg(STREAM)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut writer)
                .await?;
            self.last_id = Some(last.ids.first().map_or("0-0".into(), |id| id.id.clone()));
        }
        while let Ok(event) = self.events.try_recv() {
            self.take(event);
        }
        self.write_presence(&mut writer).await?;
        self.read_presence(&mut writer).await?;
        self.remotes.heard_all(Instant::now());
        self.push_heartbeat();
        self.flush(&mut writer).await?;
        println!("cluster: connected to Redis (run id {run_id})");
        self.set_degraded(None);
        self.publish_count();

        let mut read = Box::pin(read_stream(
            reader.clone(),
            self.last_id.clone().unwrap_or_default(),
        ));
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        beat.tick().await;
        loop {
            if !self.pending.is_empty() {
                self.flush(&mut writer).await?;
            }
            tokio::select! {
                reply = &mut read => {
                    self.deliver(reply?);
                    let from = self.last_id.clone().unwrap_or_default();
                    read = Box::pin(read_stream(reader.clone(), from));
                }
                event = self.events.recv() => {
                    let Some(event) = event else { return Ok(()) };
                    self.take(event);
                    while self.pending.len() < BATCH {
                        let Ok(event) = self.events.try_recv() else { break };
                        self.take(event);
                    }
                }
                _ = beat.tick() => {
                    redis::cmd("PEXPIRE")
                        .arg(self.presence_key())
                        .arg(SILENCE.as_millis() as u64)
                        .exec_async(&mut writer)
                        .await?;
                    self.push_heartbeat();
                    let gone = self.remotes.expire(Instant::now());
                    if gone > 0 {
                        self.publish_count();
                        let text = if gone == 1 {
                            "1 person on another chat server left: that server stopped answering.".to_owned()
                        } else {
                            format!("{gone} people on another chat server left: that server stopped answering.")
                        };
                        self.status(&text);
                    }
                }
            }
        }
    }

    fn presence_key(&self) -> String {
        format!("{PRESENCE}{}", self.origin)
    }

    /// An event from the room becomes an entry to write.
    fn take(&mut self, event: Event) {
        self.seq += 1;
        let mut entry = Entry {
            origin: self.origin.clone(),
            seq: self.seq,
            kind: Kind::Message,
            at_ms: now_ms(),
            count: 0,
            member: 0,
            name: String::new(),
            frame: String::new(),
        };
        match event {
            Event::Join { id, name, here } => {
                self.local.insert(id, name.clone());
                entry.kind = Kind::Join;
                (entry.member, entry.name, entry.count) = (id, name, here);
            }
            Event::Leave { id, name, here } => {
                self.local.remove(&id);
                entry.kind = Kind::Leave;
                (entry.member, entry.name, entry.count) = (id, name, here);
            }
            Event::Message(frame) => entry.frame = frame.to_string(),
        }
        self.pending.push_back(entry);
    }

    fn push_heartbeat(&mut self) {
        self.pending.push_back(Entry {
            origin: self.origin.clone(),
            seq: self.seq,
            kind: Kind::Heartbeat,
            at_ms: now_ms(),
            count: self.local.len(),
            member: 0,
            name: String::new(),
            frame: String::new(),
        });
    }

    /// Writes the pending entries, a batch per round trip, and keeps them
    /// pending if that fails (so they may land twice; readers drop the
    /// second).
    async fn flush(&mut self, writer: &mut MultiplexedConnection) -> RedisResult<()> {
        let key = self.presence_key();
        while !self.pending.is_empty() {
            let batch = self.pending.len().min(BATCH);
            let mut pipe = redis::pipe();
            let mut presence = false;
            for entry in self.pending.iter().take(batch) {
                pipe.cmd("XADD")
                    .arg(STREAM)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(STREAM_LEN)
                    .arg("*")
                    .arg(entry.fields())
                    .ignore();
                match entry.kind {
                    Kind::Join => {
                        pipe.cmd("HSET")
                            .arg(&key)
                            .arg(entry.member)
                            .arg(&entry.name)
                            .ignore();
                        presence = true;
                    }
                    Kind::Leave => {
                        pipe.cmd("HDEL").arg(&key).arg(entry.member).ignore();
                    }
                    Kind::Message | Kind::Heartbeat => {}
                }
            }
            if presence {
                pipe.cmd("PEXPIRE")
                    .arg(&key)
                    .arg(SILENCE.as_millis() as u64)
                    .ignore();
            }
            pipe.exec_async(writer).await?;
            let now = Instant::now();
            for entry in self.pending.drain(..batch) {
                if entry.kind == Kind::Message && entry.origin == self.origin {
                    // Written for the first time (a replay is not counted).
                    let _ = self.shared.waiting.fetch_update(
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                        |n| n.checked_sub(1),
                    );
                }
                if entry.kind != Kind::Heartbeat {
                    self.written.push_back((now, entry));
                }
            }
            while self.written.len() > REPLAY_LEN
                || self
                    .written
                    .front()
                    .is_some_and(|(at, _)| now.duration_since(*at) > REPLAY_AGE)
            {
                self.written.pop_front();
            }
        }
        Ok(())
    }

    /// Rewrites this process's presence hash from its members.
    async fn write_presence(&mut self, writer: &mut MultiplexedConnection) -> RedisResult<()> {
        let key = self.presence_key();
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("DEL").arg(&key).ignore();
        if !self.local.is_empty() {
            // As the pending entries will leave it, joins and leaves too:
            // those are applied after.
            pipe.cmd("HSET").arg(&key);
            for (id, name) in &self.local {
                pipe.arg(id).arg(name);
            }
            pipe.ignore();
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(SILENCE.as_millis() as u64)
                .ignore();
        }
        pipe.exec_async(writer).await
    }

    /// Reads every other process's member count from its presence hash.
    async fn read_presence(&mut self, writer: &mut MultiplexedConnection) -> RedisResult<()> {
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{PRESENCE}*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(writer)
                .await?;
            keys.extend(batch);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        if keys.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("HLEN").arg(key);
        }
        let counts: Vec<usize> = pipe.query_async(writer).await?;
        let now = Instant::now();
        for (key, count) in keys.iter().zip(counts) {
            if let Some(origin) = key.strip_prefix(PRESENCE) {
                self.remotes.counted(origin, count, now);
            }
        }
        Ok(())
    }

    /// Delivers what other processes wrote to this one's members.
    fn deliver(&mut self, reply: Option<StreamReadReply>) {
        let Some(reply) = reply else { return };
        let now = Instant::now();
        let mut missed = 0;
        let mut count_changed = false;
        let before = self.remotes.total();
        for key in reply.keys {
            for id in key.ids {
                self.last_id = Some(id.id.clone());
                let Some(entry) = Entry::parse(&id) else {
                    continue; // not ours to read
                };
                let heard = self.remotes.apply(entry, now, &mut missed);
                let remote = self.remotes.total();
                self.shared.remote_online.store(remote, Ordering::Relaxed);
                let frame =
                    |members: &HashMap<u64, super::Member>, kind, name: &str, time: &str| {
                        Json::new(kind)
                            .str("name", name)
                            .num("online", members.len() + remote)
                            .str("time", time)
                            .finish()
                    };
                match heard {
                    Heard::Nothing => {}
                    Heard::Count => count_changed = true,
                    Heard::Message(frame) => {
                        broadcast(&mut self.room.lock(), &Frame::from(frame), None);
                    }
                    Heard::Join { name, time } => {
                        let mut members = self.room.lock();
                        let joined = frame(&members, "join", &name, &time);
                        broadcast(&mut members, &joined, None);
                    }
                    Heard::Leave { name, time } => {
                        let mut members = self.room.lock();
                        let left = frame(&members, "leave", &name, &time);
                        broadcast(&mut members, &left, None);
                    }
                }
            }
        }
        if count_changed && self.remotes.total() != before {
            self.publish_count();
        }
        if missed > 0 {
            println!("cluster: {missed} entries of other processes never arrived");
            self.status(&format!(
                "Some updates from another chat server were lost ({missed}): Redis lost \
                 them before this server read them. Messages may be missing."
            ));
        }
    }

    /// Sets the remote count, and tells the members the room's.
    fn publish_count(&self) {
        let remote = self.remotes.total();
        self.shared.remote_online.store(remote, Ordering::Relaxed);
        let mut members = self.room.lock();
        let online = Json::new("online")
            .num("online", members.len() + remote)
            .finish();
        broadcast(&mut members, &online, None);
    }

    /// Tells every member something about the room, with its state.
    fn status(&self, text: &str) {
        let mut members = self.room.lock();
        let online = members.len() + self.remotes.total();
        let frame = status_frame(self.degraded, text, Some(online));
        broadcast(&mut members, &frame, None);
    }

    /// Enters (`Some(why)`) or leaves (`None`) the degraded state, and
    /// tells the members when that changes.
    fn set_degraded(&mut self, why: Option<String>) {
        let degraded = why.is_some();
        if degraded == self.degraded {
            return;
        }
        self.degraded = degraded;
        let mut members = self.room.lock();
        let text = why.unwrap_or_else(|| {
            "Connected to the other chat servers again; \
             messages sent meanwhile are being delivered."
                .into()
        });
        // No count: the frame is kept for members who join later.
        let frame = status_frame(degraded, &text, None);
        *lock(&self.shared.degraded) = degraded.then(|| Arc::clone(&frame));
        broadcast(&mut members, &frame, None);
    }
}

fn status_frame(degraded: bool, text: &str, online: Option<usize>) -> Frame {
    let frame = Json::new("status")
        .bool("degraded", degraded)
        .str("text", text);
    match online {
        Some(online) => frame.num("online", online).finish(),
        None => frame.finish(),
    }
}

/// One blocking read of the stream after `from`: `None` when nothing came.
async fn read_stream(
    mut reader: MultiplexedConnection,
    from: String,
) -> RedisResult<Option<StreamReadReply>> {
    redis::cmd("XREAD")
        .arg("COUNT")
        .arg(READ_COUNT)
        .arg("BLOCK")
        .arg(READ_BLOCK.as_millis() as u64)
        .arg("STREAMS")
        .arg(STREAM)
        .arg(from)
        .query_async(&mut reader)
        .await
}

/// A Redis error in a few words, for the page.
fn brief(error: &redis::RedisError) -> String {
    if error.is_connection_refusal() {
        "connection refused".into()
    } else if error.is_timeout() {
        "timed out".into()
    } else if error.is_connection_dropped() || error.is_io_error() {
        "connection lost".into()
    } else {
        let text = error.to_string();
        text.chars().take(80).collect()
    }
}

/// A number in [0, 1), different each call; jitter needs no more.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_past_the_waiting_limit_are_refused_and_reach_nobody() {
        let (events, mut written) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events,
            waiting: AtomicUsize::new(MAX_WAITING - 1),
            remote_online: AtomicUsize::new(2),
            degraded: Mutex::new(None),
        });
        let room = Room {
            cluster: Some(Cluster { shared }),
            ..Room::default()
        };
        let (queue, mut outgoing) = mpsc::channel(super::super::QUEUE_LEN);
        let (kick, _kicked) = tokio::sync::oneshot::channel();
        room.join(1, "ann", queue, kick);
        let welcome = outgoing.try_recv().unwrap();
        assert!(welcome.contains(r#""online":3"#), "{welcome}");
        assert!(room.say("ann", "last one in").is_ok());
        let why = room.say("ann", "one too many").unwrap_err();
        assert!(why.starts_with("Not sent"), "{why}");
        assert!(outgoing.try_recv().unwrap().contains("last one in"));
        assert!(outgoing.try_recv().is_err());
        assert!(matches!(
            written.try_recv(),
            Ok(Event::Join { id: 1, here: 1, .. })
        ));
        assert!(matches!(written.try_recv(), Ok(Event::Message(_))));
        assert!(written.try_recv().is_err());
    }

    #[test]
    fn a_member_joining_while_degraded_is_told_after_its_welcome() {
        let (events, _written) = mpsc::unbounded_channel();
        let status = status_frame(true, "Redis is down.", None);
        let shared = Arc::new(Shared {
            events,
            waiting: AtomicUsize::new(0),
            remote_online: AtomicUsize::new(4),
            degraded: Mutex::new(Some(status)),
        });
        let room = Room {
            cluster: Some(Cluster { shared }),
            ..Room::default()
        };
        let (queue, mut outgoing) = mpsc::channel(super::super::QUEUE_LEN);
        let (kick, _kicked) = tokio::sync::oneshot::channel();
        room.join(1, "ann", queue, kick);
        assert!(outgoing.try_recv().unwrap().contains(r#""online":5"#));
        // No count in it: it was made before this member joined.
        let told = outgoing.try_recv().unwrap();
        assert_eq!(
            &*told,
            r#"{"type":"status","degraded":true,"text":"Redis is down."}"#
        );
    }

    #[test]
    fn the_redis_url_is_taken_out_of_the_arguments() {
        let args = |list: &[&str]| list.iter().map(|arg| arg.to_string()).collect::<Vec<_>>();
        let (rest, url) =
            redis_arg(args(&["127.0.0.1:1", "--redis", "redis://h/", "-x"]).into_iter());
        assert_eq!(
            (rest, url.as_deref()),
            (args(&["127.0.0.1:1", "-x"]), Some("redis://h/"))
        );
        let (rest, url) = redis_arg(args(&["--redis=redis://h/"]).into_iter());
        assert_eq!((rest.len(), url.as_deref()), (0, Some("redis://h/")));
        // Without its value it is left for the other options to refuse.
        let (rest, url) = redis_arg(args(&["--redis"]).into_iter());
        assert_eq!((rest, url), (args(&["--redis"]), None));
    }
}
