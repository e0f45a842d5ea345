//! The payloads of the permessage-deflate benchmarks, shared by
//! `benches/deflate.rs` (through the connection) and
//! `benches/compare/src/bin/deflate_backends.rs` (flate2's backends on
//! their own), so both measure the same bytes.
//!
//! - [`Content::Json`]: JSON-like API and chat traffic (chat messages,
//!   presence, trades, orders, page views, metrics), with varied keys,
//!   words, names, ids, numbers and timestamps from a seeded generator; a
//!   message bigger than 512 bytes is an array of records.
//! - [`Content::Random`]: seeded random bytes, incompressible.
//!
//! [`pool`] lays distinct messages of one size back to back; the same
//! arguments give the same bytes on every run and machine.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Content {
    /// JSON-like text.
    Json,
    /// Random bytes.
    Random,
}

impl Content {
    pub const ALL: [Content; 2] = [Content::Json, Content::Random];

    pub fn name(self) -> &'static str {
        match self {
            Content::Json => "json",
            Content::Random => "random",
        }
    }
}

#[path = "xorshift.rs"]
mod xorshift;
use xorshift::XorShift;

impl XorShift {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

// ----- JSON-like messages -----

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "a", "to", "and", "of", "is", "it", "you", "that", "in", "for", "on", "this", "we",
    "be", "have", "not", "with", "are", "just", "can", "so", "but", "what", "was", "my", "if",
    "do", "at", "all", "about", "get", "will", "they", "me", "up", "out", "no", "yes", "ok",
    "think", "know", "now", "time", "see", "when", "like", "one", "make", "from", "how", "good",
    "meeting", "tomorrow", "deploy", "build", "release", "today", "thanks", "please", "issue",
    "review", "merge", "branch", "server", "client", "latency", "looks", "great", "lunch",
    "coffee", "later", "morning", "team", "update", "ticket", "customer", "order", "shipped",
    "price", "market", "payment", "failed", "retry", "logs", "error", "fixed", "test", "works",
    "again", "weekend", "plan", "project", "design", "draft", "document", "call", "minutes",
    "schedule", "friday", "monday", "dashboard", "metrics", "alert", "cpu", "memory", "disk",
    "database", "query", "index", "cache", "session", "login", "password", "account", "invoice",
    "refund", "support", "question", "answer", "idea", "problem", "solution", "feature", "bug",
    "version", "config", "network", "timeout", "connection", "message", "channel", "video",
    "photo", "link", "page", "docs", "api", "endpoint", "request", "response", "status",
    "really", "maybe", "probably", "definitely", "sure", "sorry", "awesome", "nice", "cool",
    "weird", "broken", "slow", "fast", "new", "old", "big", "small", "first", "last", "next",
];

#[rustfmt::skip]
const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yusuf", "zoë",
    "josé", "łukasz", "søren", "aiko", "mei", "ravi", "fatima", "oluwaseun", "chloé",
];

#[rustfmt::skip]
const ROOMS: &[&str] = &[
    "general", "random", "dev", "ops", "support", "sales", "design", "release-2024", "oncall",
    "frontend", "backend", "announcements", "help", "watercooler",
];

const STATUSES: &[&str] = &["online", "away", "busy", "offline", "in_a_meeting"];
const SYMBOLS: &[&str] = &[
    "BTCUSDT", "ETHUSDT", "SOLUSDT", "EURUSD", "AAPL", "MSFT", "NVDA",
];
const ORDER_STATES: &[&str] = &[
    "pending",
    "paid",
    "packed",
    "shipped",
    "delivered",
    "refunded",
];
const CURRENCIES: &[&str] = &["EUR", "USD", "GBP", "JPY", "CHF"];
const COUNTRIES: &[&str] = &["DE", "FR", "US", "GB", "JP", "BR", "IN", "NG", "PL", "SE"];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.test",
    "corp.example",
    "inbox.example.org",
];
const EVENTS: &[&str] = &[
    "page_view",
    "click",
    "scroll",
    "signup",
    "add_to_cart",
    "search",
];
const PATHS: &[&str] = &[
    "/", "/docs", "/pricing", "/blog", "/account", "/cart", "/search",
];
const METRICS: &[&str] = &[
    "cpu.load", "mem.used", "disk.io", "net.rx", "net.tx", "http.p99",
];
const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
];

/// `n` words, sometimes capitalised or followed by punctuation.
fn sentence(rng: &mut XorShift, n: u64) -> String {
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        let word = rng.pick(WORDS);
        if i == 0 || rng.chance(3) {
            let mut chars = word.chars();
            if let Some(c) = chars.next() {
                out.extend(c.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push_str(word);
        }
        if rng.chance(6) {
            out.push_str(rng.pick(&[",", ".", "!", "?", " :)"]));
        }
    }
    out
}

fn hex(rng: &mut XorShift, digits: usize) -> String {
    let mut out = String::with_capacity(digits);
    while out.len() < digits {
        out.push_str(&format!("{:016x}", rng.next_u64()));
    }
    out.truncate(digits);
    out
}

fn uuid(rng: &mut XorShift) -> String {
    let h = hex(rng, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Milliseconds around mid-2024.
fn timestamp(rng: &mut XorShift) -> u64 {
    1_718_000_000_000 + rng.below(1 << 31)
}

fn iso_time(rng: &mut XorShift) -> String {
    format!(
        "2024-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60),
        rng.below(1000)
    )
}

fn user_name(rng: &mut XorShift) -> String {
    let name = rng.pick(NAMES);
    if rng.chance(50) {
        format!("{name}{}", rng.below(1000))
    } else {
        format!(
            "{name}_{}",
            rng.pick(&["dev", "ops", "w", "k", "x", "the_great"])
        )
    }
}

/// One JSON object of one of eight kinds (chat messages twice as often), 40 to a few hundred bytes.
fn record(rng: &mut XorShift) -> String {
    match rng.below(9) {
        0 | 1 => {
            let reactions = match rng.below(4) {
                0 => String::new(),
                n => {
                    let list: Vec<String> = (0..n)
                        .map(|_| {
                            format!(
                                r#"{{"emoji":"{}","count":{}}}"#,
                                rng.pick(&["👍", "🎉", "😂", "❤️", "👀", "🚀"]),
                                1 + rng.below(12)
                            )
                        })
                        .collect();
                    format!(r#","reactions":[{}]"#, list.join(","))
                }
            };
            let words = 3 + rng.below(25);
            format!(
                r#"{{"type":"message","id":"{}","room":"{}","user":{{"id":{},"name":"{}"}},"text":"{}","ts":{}{}}}"#,
                uuid(rng),
                rng.pick(ROOMS),
                rng.below(100_000),
                user_name(rng),
                sentence(rng, words),
                timestamp(rng),
                reactions
            )
        }
        2 => format!(
            r#"{{"type":"presence","user_id":{},"status":"{}","last_seen":{}}}"#,
            rng.below(100_000),
            rng.pick(STATUSES),
            timestamp(rng)
        ),
        3 => format!(
            r#"{{"e":"trade","E":{},"s":"{}","t":{},"p":"{}.{:02}","q":"{}.{:08}","m":{}}}"#,
            timestamp(rng),
            rng.pick(SYMBOLS),
            rng.below(4_000_000_000),
            rng.below(70_000),
            rng.below(100),
            rng.below(20),
            rng.below(100_000_000),
            rng.chance(50)
        ),
        4 => {
            let items: Vec<String> = (0..1 + rng.below(4))
                .map(|_| {
                    let words = 1 + rng.below(3);
                    format!(
                        r#"{{"sku":"SKU-{:05}","name":"{}","qty":{},"unit_price":{}.{:02}}}"#,
                        rng.below(100_000),
                        sentence(rng, words),
                        1 + rng.below(5),
                        rng.below(500),
                        rng.below(100)
                    )
                })
                .collect();
            format!(
                r#"{{"order_id":"ORD-{}","customer":{{"email":"{}@{}","country":"{}"}},"items":[{}],"total":{}.{:02},"currency":"{}","status":"{}","created_at":"{}"}}"#,
                hex(rng, 10).to_uppercase(),
                user_name(rng),
                rng.pick(DOMAINS),
                rng.pick(COUNTRIES),
                items.join(","),
                rng.below(2000),
                rng.below(100),
                rng.pick(CURRENCIES),
                rng.pick(ORDER_STATES),
                iso_time(rng)
            )
        }
        5 => format!(
            r#"{{"event":"{}","session":"{}","path":"{}/{}","referrer":{},"ua":"{}","duration_ms":{}}}"#,
            rng.pick(EVENTS),
            hex(rng, 24),
            rng.pick(PATHS),
            rng.pick(WORDS),
            if rng.chance(40) {
                "null".to_owned()
            } else {
                format!(r#""https://{}/{}""#, rng.pick(DOMAINS), rng.pick(WORDS))
            },
            rng.pick(AGENTS),
            rng.below(30_000)
        ),
        6 => format!(
            r#"{{"metric":"{}","host":"web-{:02}","value":{}.{:03},"tags":{{"region":"{}","env":"{}"}},"at":"{}"}}"#,
            rng.pick(METRICS),
            rng.below(64),
            rng.below(100),
            rng.below(1000),
            rng.pick(REGIONS),
            rng.pick(&["prod", "staging"]),
            iso_time(rng)
        ),
        7 => {
            let words = 1 + rng.below(10);
            format!(
                r#"{{"type":"chat","room":"{}","from":"{}","text":"{}","ts":{}}}"#,
                rng.pick(ROOMS),
                user_name(rng),
                sentence(rng, words),
                timestamp(rng)
            )
        }
        _ => format!(
            r#"{{"type":"typing","room":"{}","user":"{}","active":{}}}"#,
            rng.pick(ROOMS),
            user_name(rng),
            rng.chance(70)
        ),
    }
}

/// A JSON message of exactly `size` bytes: one record when it is small
/// (up to 512 bytes), an array of records otherwise, and then what is left
/// filled with a note record whose text is words, or a `"ref"` of hex
/// digits (and a `"memo"` of words after 16 of them) added to the last
/// record when there is no room for a note or the message is one record
/// (spaces for the last few bytes when even that does not fit).
pub fn json_message(rng: &mut XorShift, size: usize) -> String {
    const NOTE_START: &str = r#"{"type":"note","text":""#;
    const NOTE_END: &str = r#""}"#;
    const REF_START: &str = r#","ref":""#;
    const MEMO_START: &str = r#","memo":""#;
    let array = size > 512;
    // The object closes with `}`, the array (when there is one) with `]`.
    let end = size - usize::from(array);
    let mut out = String::with_capacity(size);
    if array {
        out.push('[');
    }
    let mut records = 0;
    let mut misses = 0;
    while misses < 8 && (array || records == 0) {
        let record = record(rng);
        let comma = usize::from(records > 0);
        if out.len() + comma + record.len() <= end {
            if comma == 1 {
                out.push(',');
            }
            out.push_str(&record);
            records += 1;
        } else {
            misses += 1;
        }
    }
    let room = end - out.len();
    let comma = usize::from(records > 0);
    if (array || records == 0) && room >= comma + NOTE_START.len() + NOTE_END.len() + 12 {
        if comma == 1 {
            out.push(',');
        }
        out.push_str(NOTE_START);
        let text_end = end - NOTE_END.len();
        while out.len() < text_end {
            let word = rng.pick(WORDS);
            let take = word.len().min(text_end - out.len());
            out.push_str(&word[..take]);
            if out.len() < text_end {
                out.push(' ');
            }
        }
        out.push_str(NOTE_END);
    } else if records > 0 && room > REF_START.len() + 1 {
        // `…}` becomes `…,"ref":"0f3a…"}`, or `…,"ref":"0f3a…","memo":"…"}`
        // with words after 16 digits.
        out.pop();
        out.push_str(REF_START);
        let digits = (end - out.len() - 2).min(16);
        out.push_str(&hex(rng, digits));
        out.push('"');
        if end - out.len() > MEMO_START.len() + 2 {
            out.push_str(MEMO_START);
            let text_end = end - 2;
            while out.len() < text_end {
                let word = rng.pick(WORDS);
                let take = word.len().min(text_end - out.len());
                out.push_str(&word[..take]);
                if out.len() < text_end {
                    out.push(' ');
                }
            }
            out.push('"');
        }
        out.push('}');
    }
    while out.len() < end {
        out.push(' ');
    }
    if array {
        out.push(']');
    }
    assert_eq!(out.len(), size);
    out
}

/// `bytes` (rounded down to whole messages) of distinct messages of
/// `size` bytes, back to back.
pub fn pool(content: Content, size: usize, bytes: usize) -> Vec<u8> {
    let count = bytes / size;
    let mut rng = XorShift(0x5EED_DEF1 ^ (size as u64) << 20);
    let mut out = Vec::with_capacity(count * size);
    match content {
        Content::Json => {
            for _ in 0..count {
                out.extend_from_slice(json_message(&mut rng, size).as_bytes());
            }
        }
        Content::Random => {
            out.resize(count * size, 0);
            for chunk in out.chunks_mut(8) {
                let bytes = rng.next_u64().to_le_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
        }
    }
    out
}
