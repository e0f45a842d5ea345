//! Payload buffers of sent messages, kept to receive the next messages
//! into.
//!
//! A server that answers each large message it reads with a large message
//! it sends (an echo, a request and its reply) is handed a buffer with
//! every message it reads ([`Connection::poll_message`](crate::Connection::poll_message))
//! and gives one back with every message it sends
//! ([`Connection::send_owned`](crate::Connection::send_owned)). Past the
//! allocator's threshold for mapping memory (128 KiB with glibc),
//! receiving the next message into the buffer of one just sent saves
//! mapping, faulting in and zero-filling fresh pages for every message:
//! 256 KiB echoes went from about 2,500 page faults a second to none.
//!
//! Below that threshold the buffers go back to the allocator. Its free
//! lists hand the chunk freed last to whichever connection allocates
//! next, still in the cache, where a buffer kept by one connection waits
//! for that connection's next message: with 256 connections, 255 others
//! have been served in between, and the copy into the kept buffer wrote
//! to memory no longer cached. 64 KiB echoes with 256 connections got
//! 7.5% and 17% more done per server CPU-second with the allocator's
//! buffers in two measurements (about 1 µs less user time per echo);
//! with 16 connections -1% and +6%, with one the same within noise
//! (`benches/compare`, interleaved rounds). Buffers kept for every large
//! message had been measured 5-6% ahead on another machine, with 16 and
//! 256 connections; this one's, with a 2 MiB second-level cache per
//! core, is the one the benchmarks in the README come from.

use super::outgoing::SPLICE_MIN;

/// At most this many buffers are kept: one for the next message while
/// the reply to the one before may still wait in the write queue.
const MAX_KEPT: usize = 2;

/// At most this many bytes of capacity are kept in all: the bound on the
/// message buffer a connection keeps between messages it lends
/// ([`Connection::poll_event`](crate::Connection::poll_event)).
const MAX_KEPT_BYTES: usize = 1 << 20;

/// Messages shorter than this neither earn a kept buffer nor take one:
/// glibc's threshold for mapping memory, below which the allocator's own
/// free lists serve better (see the module's documentation). A sent
/// payload is kept only if it was queued as it is, which takes at least
/// [`SPLICE_MIN`], and a short message handed out in a large buffer would
/// hold the memory for as long as the application keeps the message.
const RECYCLE_MIN: usize = 128 << 10;

const _: () = assert!(RECYCLE_MIN >= SPLICE_MIN);

/// The payload buffers of sent messages, kept for messages being read.
///
/// A buffer is kept only against a large message read before it (a
/// *credit*), so a connection that only sends (a broadcast to readers that
/// say nothing) or reads only short messages keeps none, and one that
/// stops reading keeps at most what its last large messages earned.
#[derive(Debug, Default)]
pub(crate) struct SpentPayloads {
    kept: Vec<Vec<u8>>,
    /// Large messages handed out that no kept buffer answered yet.
    credits: usize,
}

impl SpentPayloads {
    /// A message of `len` bytes was handed out in its own buffer.
    pub(crate) fn handed_out(&mut self, len: usize) {
        if len >= RECYCLE_MIN {
            self.credits = (self.credits + 1).min(MAX_KEPT);
        }
    }

    /// Offers the buffer of a message that was sent in full. Its length is
    /// kept too: those bytes are initialised, so receiving into them needs
    /// no zero-filling first.
    pub(crate) fn put(&mut self, payload: Vec<u8>) {
        let held: usize = self.kept.iter().map(Vec::capacity).sum();
        if self.credits > 0
            && self.kept.len() < MAX_KEPT
            && held + payload.capacity() <= MAX_KEPT_BYTES
        {
            self.credits -= 1;
            self.kept.push(payload);
        }
    }

    /// A kept buffer with room for `len` bytes and not more than twice
    /// that, if there is one. Its bytes are those of a message already
    /// sent.
    pub(crate) fn take(&mut self, len: usize) -> Option<Vec<u8>> {
        if len < RECYCLE_MIN {
            return None;
        }
        let fits = |buffer: &Vec<u8>| (len..=len.saturating_mul(2)).contains(&buffer.capacity());
        let at = self.kept.iter().rposition(fits)?;
        Some(self.kept.swap_remove(at))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.kept.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(len: usize) -> Vec<u8> {
        vec![1; len]
    }

    #[test]
    fn a_buffer_is_kept_only_against_a_large_message_read() {
        let mut spent = SpentPayloads::default();
        spent.put(sent(RECYCLE_MIN));
        assert_eq!(
            spent.len(),
            0,
            "nothing was read: a send-only connection keeps none"
        );
        spent.handed_out(RECYCLE_MIN - 1);
        spent.put(sent(RECYCLE_MIN));
        assert_eq!(spent.len(), 0, "a short message earns nothing");
        spent.handed_out(RECYCLE_MIN);
        spent.put(sent(RECYCLE_MIN));
        spent.put(sent(RECYCLE_MIN));
        assert_eq!(spent.len(), 1, "one message read, one buffer kept");
    }

    #[test]
    fn at_most_two_buffers_and_a_mebibyte_are_kept() {
        let mut spent = SpentPayloads::default();
        for _ in 0..5 {
            spent.handed_out(RECYCLE_MIN);
        }
        for _ in 0..5 {
            spent.put(sent(RECYCLE_MIN));
        }
        assert_eq!(spent.len(), MAX_KEPT);

        let mut spent = SpentPayloads::default();
        spent.handed_out(MAX_KEPT_BYTES);
        spent.handed_out(MAX_KEPT_BYTES);
        spent.put(Vec::with_capacity(MAX_KEPT_BYTES / 2 + 1));
        spent.put(Vec::with_capacity(MAX_KEPT_BYTES / 2));
        assert_eq!(spent.len(), 1, "the second would pass the byte bound");
    }

    #[test]
    fn a_buffer_is_taken_only_by_a_message_it_fits() {
        let mut spent = SpentPayloads::default();
        spent.handed_out(RECYCLE_MIN);
        spent.put(sent(4 * RECYCLE_MIN));
        assert_eq!(
            spent.take(RECYCLE_MIN),
            None,
            "too large: held as long as the message"
        );
        assert_eq!(
            spent.take(8 * RECYCLE_MIN),
            None,
            "too small: it would grow"
        );
        assert_eq!(
            spent.take(RECYCLE_MIN - 1),
            None,
            "a short message takes none"
        );
        let taken = spent.take(3 * RECYCLE_MIN).expect("fits");
        assert_eq!(
            taken.len(),
            4 * RECYCLE_MIN,
            "the sent bytes stay initialised"
        );
        assert_eq!(spent.len(), 0);
    }
}
