//! Receive buffers that connections waiting for input leave to the next
//! connection on the same thread that reads.
//!
//! A read copies what the socket holds into the connection's receive
//! buffer. Were each connection to keep its own, a thread serving many
//! connections would read each time into a buffer that the 255 others
//! (say) have pushed out of the cache since it was last used, and the
//! kernel's copy would first fetch every line it is about to overwrite.
//! A connection that has parsed everything it received and finds the
//! socket empty has nothing in its buffer worth keeping, so it leaves the
//! buffer here ([`Connection::release_receive_buffer`]), and the next
//! connection on the thread to read takes that very buffer, still in the
//! cache. A connection keeps its buffer while it holds bytes of a frame
//! not yet complete, or replies queued from its bytes.
//!
//! Measured with `benches/compare` (loopback echo, interleaved rounds,
//! four A/Bs): with 1 KiB messages, where the server is busy all the
//! time, 8–10% more echoes per server CPU-second with 256 connections and
//! 9–14% more with 16; with 64 KiB messages and 256 connections, 6–21%
//! more echoes per second. Per server CPU-second that last row went
//! anywhere from 13% down to 2% up: the server, now the faster side of
//! the loopback, was busy more of the time and took upon itself more of
//! the kernel's work on the bytes both sides send (see the README's
//! analysis of the 64 KiB rows). A connection waiting for input holds
//! about 400 bytes less (`loadgen memory`).
//!
//! The pool is per thread, so taking and leaving a buffer need no lock,
//! and small: a thread reads for one connection at a time.
//!
//! [`Connection::release_receive_buffer`]: crate::Connection::release_receive_buffer

use std::cell::RefCell;

/// At most this many buffers wait in a thread's pool; past it the one
/// left first, the least likely to be in the cache, goes back to the
/// allocator.
const MAX_POOLED: usize = 4;

/// Buffers shorter than this are not worth keeping: a connection's first,
/// small read ([`Connection::receive_buffer`](crate::Connection::receive_buffer)).
const MIN_POOLED_LEN: usize = 8 << 10;

/// Buffers longer than this go back to the allocator: one grown for an
/// unusual input should not stay held by a thread.
const MAX_POOLED_LEN: usize = 1 << 20;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// The buffer of at least `min` bytes left here last on this thread, if
/// any.
pub(super) fn take(min: usize) -> Option<Vec<u8>> {
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let at = pool.iter().rposition(|buf| buf.len() >= min)?;
        Some(pool.remove(at))
    })
    .ok()
    .flatten()
}

/// Leaves `buf` for the next connection on this thread that reads, or
/// drops it if it is too small or too large to keep.
pub(super) fn leave(buf: Vec<u8>) {
    if !(MIN_POOLED_LEN..=MAX_POOLED_LEN).contains(&buf.len()) {
        return;
    }
    // During the thread's teardown the pool may be gone: the buffer is
    // then simply dropped.
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() == MAX_POOLED {
            pool.remove(0);
        }
        pool.push(buf);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Empties this thread's pool (each test has a thread of its own, so
    /// this only guards against a harness that reuses threads).
    fn drain() {
        while take(0).is_some() {}
    }

    #[test]
    fn the_buffer_left_last_is_taken_first() {
        drain();
        let first = vec![1u8; 64 << 10];
        let second = vec![2u8; 64 << 10];
        let second_at = second.as_ptr();
        leave(first);
        leave(second);
        let taken = take(8 << 10).unwrap();
        assert_eq!(taken.as_ptr(), second_at);
        assert_eq!(taken[0], 2, "a pooled buffer keeps its length and bytes");
        assert_eq!(take(8 << 10).unwrap()[0], 1);
        assert!(take(0).is_none());
    }

    #[test]
    fn a_buffer_too_short_for_the_read_is_passed_over() {
        drain();
        leave(vec![1u8; 128 << 10]);
        leave(vec![2u8; 16 << 10]);
        assert_eq!(take(100 << 10).unwrap()[0], 1);
        assert!(take(100 << 10).is_none());
        assert_eq!(take(512).unwrap()[0], 2);
    }

    #[test]
    fn the_pool_holds_at_most_four_buffers_of_bounded_size() {
        drain();
        leave(vec![0u8; MIN_POOLED_LEN - 1]);
        leave(vec![0u8; MAX_POOLED_LEN + 1]);
        assert!(take(0).is_none(), "too small or too large to keep");
        for i in 0..6 {
            leave(vec![i; MIN_POOLED_LEN]);
        }
        let kept: Vec<u8> = std::iter::from_fn(|| take(0)).map(|buf| buf[0]).collect();
        assert_eq!(kept, [5, 4, 3, 2], "the first ones left went");
    }

    #[test]
    fn each_thread_has_its_own_pool() {
        drain();
        leave(vec![7u8; 64 << 10]);
        std::thread::spawn(|| assert!(take(0).is_none()))
            .join()
            .unwrap();
        assert!(take(0).is_some());
    }
}
