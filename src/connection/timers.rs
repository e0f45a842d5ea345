//! The connection's timers, driven by the time the adapter passes in.
//!
//! The core reads no clock. A timer is *requested* by a state change (our
//! close frame was queued) and *armed* the next time the adapter tells the
//! time, through `poll_timeout(now)` or `handle_timeout(now)`, which it does
//! after every turn of its loop. Received bytes are noted the same way: the
//! first time told after a receive counts as the moment of activity.

use std::time::{Duration, Instant};

use crate::config::Keepalive;

/// One deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Timer {
    #[default]
    Off,
    /// Arm at the next time told, for this long.
    Requested(Duration),
    Armed(Instant),
}

impl Timer {
    fn arm(&mut self, now: Instant) {
        if let Timer::Requested(after) = *self {
            *self = Timer::Armed(now + after);
        }
    }

    fn deadline(self) -> Option<Instant> {
        match self {
            Timer::Armed(at) => Some(at),
            _ => None,
        }
    }

    /// Whether the timer is armed and has passed; disarms it if so.
    fn take_expired(&mut self, now: Instant) -> bool {
        match *self {
            Timer::Armed(at) if at <= now => {
                *self = Timer::Off;
                true
            }
            _ => false,
        }
    }
}

/// What a keepalive timer is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeepalivePhase {
    /// Silence long enough to send a ping.
    Idle,
    /// Anything from the peer after our ping.
    AwaitingPong,
}

/// What expired in a call to [`Timers::expire`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expired {
    pub(crate) close: bool,
    pub(crate) send_ping: bool,
    pub(crate) keepalive_failed: bool,
    pub(crate) write_stalled: bool,
}

#[derive(Debug)]
pub(crate) struct Timers {
    pub(crate) close: Timer,
    /// Runs while bytes wait to be written; restarts when the transport
    /// takes some.
    write: Timer,
    write_timeout: Option<Duration>,
    keepalive: Option<Keepalive>,
    keepalive_timer: Timer,
    phase: KeepalivePhase,
    /// Bytes arrived since the time was last told.
    activity: bool,
}

impl Timers {
    pub(crate) fn new(keepalive: Option<Keepalive>, write_timeout: Option<Duration>) -> Self {
        Timers {
            close: Timer::Off,
            write: Timer::Off,
            write_timeout,
            keepalive,
            keepalive_timer: keepalive.map_or(Timer::Off, |k| Timer::Requested(k.interval)),
            phase: KeepalivePhase::Idle,
            activity: false,
        }
    }

    pub(crate) fn note_activity(&mut self) {
        self.activity = true;
    }

    /// Keeps the write timer in step with the write buffer: off while it is
    /// empty, started when bytes wait, restarted when some were written.
    pub(crate) fn track_output(&mut self, waiting: bool, progressed: bool) {
        let Some(limit) = self.write_timeout else {
            return;
        };
        if !waiting {
            self.write = Timer::Off;
        } else if progressed || self.write == Timer::Off {
            self.write = Timer::Requested(limit);
        }
    }

    /// Stops keepalive for good (the connection is closing).
    pub(crate) fn stop_keepalive(&mut self) {
        self.keepalive = None;
        self.keepalive_timer = Timer::Off;
    }

    /// Takes the time in: arms requested timers and restarts the idle
    /// countdown if bytes arrived.
    pub(crate) fn observe(&mut self, now: Instant) {
        if let (true, Some(keepalive)) = (self.activity, self.keepalive) {
            self.phase = KeepalivePhase::Idle;
            self.keepalive_timer = Timer::Armed(now + keepalive.interval);
        }
        self.activity = false;
        self.close.arm(now);
        self.write.arm(now);
        self.keepalive_timer.arm(now);
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [
            self.close.deadline(),
            self.write.deadline(),
            self.keepalive_timer.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires what has passed at `now`.
    pub(crate) fn expire(&mut self, now: Instant) -> Expired {
        let mut expired = Expired {
            close: self.close.take_expired(now),
            write_stalled: self.write.take_expired(now),
            ..Expired::default()
        };
        if let Some(keepalive) = self.keepalive {
            if self.keepalive_timer.take_expired(now) {
                match self.phase {
                    KeepalivePhase::Idle => {
                        expired.send_ping = true;
                        self.phase = KeepalivePhase::AwaitingPong;
                        self.keepalive_timer = Timer::Armed(now + keepalive.timeout);
                    }
                    KeepalivePhase::AwaitingPong => expired.keepalive_failed = true,
                }
            }
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requested_timer_arms_from_the_next_time_told() {
        let mut timers = Timers::new(None, None);
        let start = Instant::now();
        timers.close = Timer::Requested(Duration::from_secs(5));
        assert_eq!(timers.next_deadline(), None);
        timers.observe(start);
        assert_eq!(timers.next_deadline(), Some(start + Duration::from_secs(5)));
        assert!(!timers.expire(start + Duration::from_secs(4)).close);
        assert!(timers.expire(start + Duration::from_secs(5)).close);
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn keepalive_pings_after_silence_and_fails_after_the_timeout() {
        let second = Duration::from_secs(1);
        let mut timers = Timers::new(Some(Keepalive::new(10 * second, 3 * second)), None);
        let start = Instant::now();
        timers.observe(start);
        assert_eq!(timers.next_deadline(), Some(start + 10 * second));
        assert!(timers.expire(start + 10 * second).send_ping);
        assert_eq!(timers.next_deadline(), Some(start + 13 * second));
        assert!(timers.expire(start + 13 * second).keepalive_failed);
    }

    #[test]
    fn activity_restarts_the_idle_countdown() {
        let second = Duration::from_secs(1);
        let mut timers = Timers::new(Some(Keepalive::new(10 * second, 3 * second)), None);
        let start = Instant::now();
        timers.observe(start);
        timers.note_activity();
        timers.observe(start + 8 * second);
        assert_eq!(timers.next_deadline(), Some(start + 18 * second));
        assert_eq!(timers.expire(start + 10 * second), Expired::default());
    }
}

#[cfg(test)]
mod write_timer_tests {
    use super::*;

    #[test]
    fn the_write_timer_runs_only_while_bytes_wait_and_restarts_on_progress() {
        let second = Duration::from_secs(1);
        let mut timers = Timers::new(None, Some(30 * second));
        let start = Instant::now();
        timers.track_output(false, false);
        timers.observe(start);
        assert_eq!(timers.next_deadline(), None);
        timers.track_output(true, false);
        timers.observe(start);
        assert_eq!(timers.next_deadline(), Some(start + 30 * second));
        // Still waiting, no progress: the deadline stays.
        timers.track_output(true, false);
        timers.observe(start + 10 * second);
        assert_eq!(timers.next_deadline(), Some(start + 30 * second));
        // Some bytes written: it restarts.
        timers.track_output(true, true);
        timers.observe(start + 20 * second);
        assert_eq!(timers.next_deadline(), Some(start + 50 * second));
        assert!(timers.expire(start + 50 * second).write_stalled);
        timers.track_output(false, false);
        assert_eq!(timers.next_deadline(), None);
    }
}
