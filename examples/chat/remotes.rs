//! What this process knows of the others, from the entries it reads: their
//! member counts, the last number delivered from each, when each was last
//! heard; and what an entry means for this process's clients.

use std::collections::HashMap;
use std::time::Instant;

use super::entry::{Entry, Kind};
use super::SILENCE;

struct Remote {
    count: usize,
    /// The last sequence number delivered from it.
    seq: Option<u64>,
    seen: Instant,
}

/// The other processes, and the rules for their entries.
pub(super) struct Remotes {
    origin: String,
    /// This process's start: messages written before it are not news here
    /// (a process writes its last minute again to a restarted Redis).
    started_ms: u64,
    by_origin: HashMap<String, Remote>,
}

/// What an entry from another process means for this one's clients.
#[derive(Debug, PartialEq)]
pub(super) enum Heard {
    Nothing,
    Message(String),
    Join {
        name: String,
        time: String,
    },
    Leave {
        name: String,
        time: String,
    },
    /// Only the count may have changed.
    Count,
}

impl Remotes {
    pub(super) fn new(origin: String, started_ms: u64) -> Self {
        Remotes {
            origin,
            started_ms,
            by_origin: HashMap::new(),
        }
    }

    pub(super) fn total(&self) -> usize {
        self.by_origin.values().map(|remote| remote.count).sum()
    }

    /// Takes in an entry read from the stream; adds to `*missed` the
    /// entries of its process that never arrived.
    pub(super) fn apply(&mut self, entry: Entry, now: Instant, missed: &mut u64) -> Heard {
        if entry.origin == self.origin {
            return Heard::Nothing;
        }
        let remote = self
            .by_origin
            .entry(entry.origin.clone())
            .or_insert_with(|| Remote {
                count: 0,
                seq: None,
                seen: now,
            });
        remote.seen = now;
        if entry.kind == Kind::Heartbeat {
            // Everything up to `seq` was written before it.
            if let Some(last) = remote.seq {
                *missed += entry.seq.saturating_sub(last);
            }
            remote.seq = Some(remote.seq.map_or(entry.seq, |last| last.max(entry.seq)));
            remote.count = entry.count;
            return Heard::Count;
        }
        if let Some(last) = remote.seq {
            if entry.seq <= last {
                return Heard::Nothing; // written twice
            }
            *missed += entry.seq - last - 1;
        }
        remote.seq = Some(entry.seq);
        match entry.kind {
            Kind::Message if entry.at_ms < self.started_ms => Heard::Nothing,
            Kind::Message => Heard::Message(entry.frame),
            Kind::Join | Kind::Leave => {
                remote.count = entry.count;
                let time = entry.time();
                if entry.kind == Kind::Join {
                    Heard::Join {
                        name: entry.name,
                        time,
                    }
                } else {
                    Heard::Leave {
                        name: entry.name,
                        time,
                    }
                }
            }
            Kind::Heartbeat => unreachable!(),
        }
    }

    /// Takes in a process's member count read from its presence hash.
    pub(super) fn counted(&mut self, origin: &str, count: usize, now: Instant) {
        if origin == self.origin {
            return;
        }
        self.by_origin
            .entry(origin.to_owned())
            .and_modify(|remote| remote.count = count)
            .or_insert(Remote {
                count,
                seq: None,
                seen: now,
            });
    }

    /// Forgets the processes not heard from since `SILENCE` before `now`;
    /// returns how many members they had.
    pub(super) fn expire(&mut self, now: Instant) -> usize {
        let mut gone = 0;
        self.by_origin.retain(|_, remote| {
            let alive = now.saturating_duration_since(remote.seen) < SILENCE;
            if !alive {
                gone += remote.count;
            }
            alive
        });
        gone
    }

    /// After a time this process could not hear: the silence counts anew.
    pub(super) fn heard_all(&mut self, now: Instant) {
        for remote in self.by_origin.values_mut() {
            remote.seen = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::entry::tests::entry;
    use super::*;

    #[test]
    fn own_entries_and_duplicates_are_dropped_and_gaps_counted() {
        let now = Instant::now();
        let mut remotes = Remotes::new("me".into(), 1_000);
        let mut missed = 0;
        assert_eq!(
            remotes.apply(entry("me", 1, Kind::Message), now, &mut missed),
            Heard::Nothing
        );
        let message = Heard::Message(r#"{"type":"message"}"#.into());
        assert_eq!(
            remotes.apply(entry("a", 1, Kind::Message), now, &mut missed),
            message
        );
        assert_eq!(
            remotes.apply(entry("a", 1, Kind::Message), now, &mut missed),
            Heard::Nothing
        );
        assert_eq!(
            remotes.apply(entry("a", 2, Kind::Message), now, &mut missed),
            message
        );
        assert_eq!(missed, 0);
        // 3 and 4 lost; 5 is a join.
        let heard = remotes.apply(entry("a", 5, Kind::Join), now, &mut missed);
        assert!(matches!(heard, Heard::Join { ref name, .. } if name == "bob"));
        assert_eq!((missed, remotes.total()), (2, 3));
        // A heartbeat saying 6 was written: 6 was lost too.
        let mut beat = entry("a", 6, Kind::Heartbeat);
        beat.count = 2;
        assert_eq!(remotes.apply(beat, now, &mut missed), Heard::Count);
        assert_eq!((missed, remotes.total()), (3, 2));
    }

    #[test]
    fn messages_from_before_this_process_started_are_not_news() {
        let now = Instant::now();
        let mut remotes = Remotes::new("me".into(), 5_000);
        let mut missed = 0;
        assert_eq!(
            remotes.apply(entry("a", 1, Kind::Message), now, &mut missed),
            Heard::Nothing
        );
    }

    #[test]
    fn silent_processes_expire_with_their_members() {
        let start = Instant::now();
        let mut remotes = Remotes::new("me".into(), 0);
        remotes.counted("a", 4, start);
        remotes.counted("b", 2, start + SILENCE);
        remotes.counted("me", 9, start);
        assert_eq!(remotes.total(), 6);
        assert_eq!(remotes.expire(start + SILENCE + Duration::from_secs(1)), 4);
        assert_eq!(remotes.total(), 2);
        remotes.heard_all(start + SILENCE * 3);
        assert_eq!(remotes.expire(start + SILENCE * 3), 0);
    }
}
