//! An entry of the room's Redis stream: what one process tells the others
//! (a chat message, a join or leave, a heartbeat), and its stream fields.

use std::time::{Duration, UNIX_EPOCH};

use redis::streams::StreamId;

use crate::rfc3339;

/// What an entry says.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kind {
    /// A chat message: `frame` is its JSON, as sent to clients.
    Message,
    /// `name` joined or left; `count` is its process's members after.
    Join,
    Leave,
    /// Alive, with `count` members, and `seq` the last number used.
    Heartbeat,
}

impl Kind {
    pub(super) fn code(&self) -> &'static str {
        match self {
            Kind::Message => "msg",
            Kind::Join => "join",
            Kind::Leave => "leave",
            Kind::Heartbeat => "hb",
        }
    }

    pub(super) fn parse(code: &str) -> Option<Kind> {
        Some(match code {
            "msg" => Kind::Message,
            "join" => Kind::Join,
            "leave" => Kind::Leave,
            "hb" => Kind::Heartbeat,
            _ => return None,
        })
    }
}

/// One entry of the stream, as written and as read back; the fields a
/// kind does not use are left at their defaults.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Entry {
    pub(super) origin: String,
    pub(super) seq: u64,
    pub(super) kind: Kind,
    /// When it happened, in milliseconds since the epoch.
    pub(super) at_ms: u64,
    pub(super) count: usize,
    /// The member's id and name (join and leave).
    pub(super) member: u64,
    pub(super) name: String,
    /// The message's JSON (messages).
    pub(super) frame: String,
}

impl Entry {
    pub(super) fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("o", self.origin.clone()),
            ("s", self.seq.to_string()),
            ("k", self.kind.code().to_owned()),
            ("t", self.at_ms.to_string()),
            ("n", self.count.to_string()),
        ];
        match self.kind {
            Kind::Message => fields.push(("f", self.frame.clone())),
            Kind::Join | Kind::Leave => {
                fields.push(("m", self.member.to_string()));
                fields.push(("name", self.name.clone()));
            }
            Kind::Heartbeat => {}
        }
        fields
    }

    pub(super) fn parse(id: &StreamId) -> Option<Entry> {
        let text = |key: &str| id.get::<String>(key);
        let number = |key: &str| text(key)?.parse::<u64>().ok();
        Some(Entry {
            origin: text("o")?,
            seq: number("s")?,
            kind: Kind::parse(&text("k")?)?,
            at_ms: number("t")?,
            count: usize::try_from(number("n")?).ok()?,
            member: number("m").unwrap_or(0),
            name: text("name").unwrap_or_default(),
            frame: text("f").unwrap_or_default(),
        })
    }

    /// `time` for join and leave frames.
    pub(super) fn time(&self) -> String {
        rfc3339(UNIX_EPOCH + Duration::from_millis(self.at_ms))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An entry of `kind` from `origin`, for the tests of its readers too.
    pub(in super::super) fn entry(origin: &str, seq: u64, kind: Kind) -> Entry {
        Entry {
            origin: origin.into(),
            seq,
            kind,
            at_ms: 2_000,
            count: 3,
            member: 7,
            name: "bob".into(),
            frame: r#"{"type":"message"}"#.into(),
        }
    }

    #[test]
    fn entries_round_trip_through_stream_fields() {
        for kind in [Kind::Message, Kind::Join, Kind::Leave, Kind::Heartbeat] {
            let sent = entry("a", 5, kind);
            let map = sent
                .fields()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), redis::Value::BulkString(v.into_bytes())))
                .collect();
            let id = StreamId {
                id: "1-0".into(),
                map,
                ..StreamId::default()
            };
            let got = Entry::parse(&id).unwrap();
            assert_eq!(got.kind, sent.kind);
            assert_eq!((got.origin.as_str(), got.seq, got.count), ("a", 5, 3));
        }
    }
}
