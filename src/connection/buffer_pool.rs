//! Buffers that the connections on one thread pass on to each other
//! between uses: receive buffers and write buffers.
//!
//! Kept by each connection, the buffer a thread reads into or writes from
//! is the one it used for that connection last, before it served (say)
//! the 255 others: no longer in the cache. A buffer that holds nothing
//! worth keeping is left here instead, and the next connection on the
//! thread that needs one takes the one left last, still cached.
//!
//! - A **receive buffer** holds nothing once everything in it was parsed,
//!   no reply queued from its bytes waits, and the socket has nothing more
//!   to read: the adapter then leaves it here
//!   ([`Connection::release_receive_buffer`]). A connection keeps its
//!   buffer while it holds part of a frame.
//! - A **write buffer** holds nothing once the transport has taken all of
//!   it: the connection leaves it here at once, and takes one back with the
//!   next bytes it queues. Small ones stay with their connection: handing
//!   those around saves nothing.
//!
//! Measured with `benches/compare` (loopback echo, server and load
//! generator pinned to one core each, interleaved rounds):
//! - receive buffers, four A/Bs: with 1 KiB messages, where the server is
//!   busy all the time, 8–10% more echoes per server CPU-second with 256
//!   connections and 9–14% with 16. With 64 KiB messages and 256
//!   connections 6–21% more echoes per second, and the server's user time
//!   per echo fell by a quarter (2.79 → 1.96 µs in one A/B): the library's
//!   pass over each message reads bytes the kernel has just written into
//!   cached lines (likely why; the kernel's own copy cost the same in a
//!   profile). Per server CPU-second that row went from 13% down to 2% up:
//!   the server, now the faster side of the loopback, was busy more of the
//!   time and took upon itself more of the kernel's work on the bytes both
//!   sides send (see the README's analysis of the 64 KiB rows).
//! - write buffers, on top: 1 KiB echoes 15% more per server CPU-second
//!   with 256 connections and 5% with 16; 32 B and 64 KiB echoes the same.
//! - A connection waiting for input holds about 400 bytes less
//!   (`loadgen memory`).
//!
//! Each pool is per thread, so taking and leaving a buffer need no lock,
//! and small: a thread serves one connection at a time.
//!
//! [`Connection::release_receive_buffer`]: crate::Connection::release_receive_buffer

use std::cell::RefCell;
use std::thread::LocalKey;

/// At most this many buffers wait in each of a thread's pools; past it the
/// one left first, the least likely to be cached, goes back to the
/// allocator.
const MAX_POOLED: usize = 4;

/// Buffers with less room than this are not worth passing on: a
/// connection's first, small read
/// ([`Connection::receive_buffer`](crate::Connection::receive_buffer)), or
/// the write buffer of a connection that sends a little at a time, which
/// keeps it.
const MIN_POOLED_ROOM: usize = 4 << 10;

/// Buffers with more room than this go back to the allocator: one grown
/// for an unusual burst should not stay held by a thread.
const MAX_POOLED_ROOM: usize = 1 << 20;

thread_local! {
    static RECEIVE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    static WRITE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// One of a thread's two pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pool {
    /// Receive buffers, whose length is their room: they are zero-filled
    /// once, when first allocated, and read into as they are.
    Receive,
    /// Write buffers, left empty: their capacity is their room.
    Write,
}

impl Pool {
    fn key(self) -> &'static LocalKey<RefCell<Vec<Vec<u8>>>> {
        match self {
            Pool::Receive => &RECEIVE,
            Pool::Write => &WRITE,
        }
    }

    fn room(self, buf: &[u8], capacity: usize) -> usize {
        match self {
            Pool::Receive => buf.len(),
            Pool::Write => capacity,
        }
    }

    /// The buffer with at least `min` bytes of room left here last on this
    /// thread, if any.
    pub(super) fn take(self, min: usize) -> Option<Vec<u8>> {
        self.key()
            .try_with(|pool| {
                let mut pool = pool.borrow_mut();
                let at = pool
                    .iter()
                    .rposition(|buf| self.room(buf, buf.capacity()) >= min)?;
                Some(pool.remove(at))
            })
            .ok()
            .flatten()
    }

    /// Whether a buffer with `room` bytes of room is worth passing on:
    /// [`Pool::leave`] drops any other, and a connection may keep it.
    pub(super) fn accepts(room: usize) -> bool {
        (MIN_POOLED_ROOM..=MAX_POOLED_ROOM).contains(&room)
    }

    /// Leaves `buf` for the next connection on this thread that needs one,
    /// or drops it if the pool does not [accept](Pool::accepts) its room.
    pub(super) fn leave(self, buf: Vec<u8>) {
        debug_assert!(self == Pool::Receive || buf.is_empty());
        if !Pool::accepts(self.room(&buf, buf.capacity())) {
            return;
        }
        // During the thread's teardown the pool may be gone: the buffer is
        // then simply dropped.
        let _ = self.key().try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() == MAX_POOLED {
                pool.remove(0);
            }
            pool.push(buf);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Empties this thread's pools (each test has a thread of its own, so
    /// this only guards against a harness that reuses threads).
    fn drain() {
        for pool in [Pool::Receive, Pool::Write] {
            while pool.take(0).is_some() {}
        }
    }

    #[test]
    fn the_buffer_left_last_is_taken_first() {
        drain();
        let first = vec![1u8; 64 << 10];
        let second = vec![2u8; 64 << 10];
        let second_at = second.as_ptr();
        Pool::Receive.leave(first);
        Pool::Receive.leave(second);
        let taken = Pool::Receive.take(8 << 10).unwrap();
        assert_eq!(taken.as_ptr(), second_at);
        assert_eq!(taken[0], 2, "a receive buffer keeps its length and bytes");
        assert_eq!(Pool::Receive.take(8 << 10).unwrap()[0], 1);
        assert!(Pool::Receive.take(0).is_none());
    }

    #[test]
    fn a_buffer_with_too_little_room_is_passed_over() {
        drain();
        Pool::Receive.leave(vec![1u8; 128 << 10]);
        Pool::Receive.leave(vec![2u8; 16 << 10]);
        assert_eq!(Pool::Receive.take(100 << 10).unwrap()[0], 1);
        assert!(Pool::Receive.take(100 << 10).is_none());
        assert_eq!(Pool::Receive.take(512).unwrap()[0], 2);
    }

    #[test]
    fn each_pool_holds_at_most_four_buffers_of_bounded_room() {
        drain();
        Pool::Receive.leave(vec![0u8; MIN_POOLED_ROOM - 1]);
        Pool::Receive.leave(vec![0u8; MAX_POOLED_ROOM + 1]);
        Pool::Write.leave(Vec::with_capacity(MIN_POOLED_ROOM - 1));
        Pool::Write.leave(Vec::with_capacity(MAX_POOLED_ROOM + 1));
        assert!(Pool::Receive.take(0).is_none(), "too small or too large");
        assert!(Pool::Write.take(0).is_none(), "too small or too large");
        for i in 0..6 {
            Pool::Receive.leave(vec![i; MIN_POOLED_ROOM]);
        }
        let kept: Vec<u8> = std::iter::from_fn(|| Pool::Receive.take(0))
            .map(|buf| buf[0])
            .collect();
        assert_eq!(kept, [5, 4, 3, 2], "the first ones left went");
    }

    #[test]
    fn write_buffers_are_pooled_by_capacity_apart_from_receive_buffers() {
        drain();
        let buf = Vec::with_capacity(32 << 10);
        let at = buf.as_ptr();
        Pool::Write.leave(buf);
        assert!(Pool::Receive.take(0).is_none());
        assert!(Pool::Write.take(64 << 10).is_none());
        let taken = Pool::Write.take(16 << 10).unwrap();
        assert_eq!((taken.as_ptr(), taken.len()), (at, 0));
    }

    #[test]
    fn each_thread_has_its_own_pools() {
        drain();
        Pool::Receive.leave(vec![7u8; 64 << 10]);
        Pool::Write.leave(Vec::with_capacity(64 << 10));
        std::thread::spawn(|| {
            assert!(Pool::Receive.take(0).is_none());
            assert!(Pool::Write.take(0).is_none());
        })
        .join()
        .unwrap();
        assert!(Pool::Receive.take(0).is_some());
        assert!(Pool::Write.take(0).is_some());
    }
}
