//! The receive buffer: bytes read from the transport, not yet parsed.

use super::buffer_pool::Pool;

/// A byte buffer consumed from the front and filled at the back.
///
/// The adapter reads into [`RecvBuffer::spare`] and commits what it read, or
/// copies with [`RecvBuffer::extend`]. Consumed bytes are reclaimed by
/// moving the unconsumed tail to the front only when room is needed, so each
/// byte is moved at most once per compaction and compaction happens only
/// when the tail is small relative to the buffer.
#[derive(Debug, Default)]
pub(crate) struct RecvBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The memory went to the thread's pool ([`RecvBuffer::release`]); the
    /// next [`RecvBuffer::spare`] takes a buffer from there.
    released: bool,
}

impl RecvBuffer {
    /// The unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The unconsumed bytes, for unmasking in place.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }

    /// The whole buffer, consumed bytes too, for what is addressed by
    /// index ([`RecvBuffer::start`]): replies queued from the bytes of
    /// events already consumed are still there.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.buf
    }

    /// The index in [`RecvBuffer::raw`] of the first unconsumed byte.
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// Whether `min` bytes of [`RecvBuffer::spare`] (or an
    /// [`RecvBuffer::extend`] by that much) leave the bytes before index
    /// `kept` where they are: they fill the buffer after them, and no
    /// unconsumed tail moves to the front. Growing the buffer keeps every
    /// byte at its index.
    pub(crate) fn fills_after(&self, kept: usize, min: usize) -> bool {
        self.end >= kept && (self.start == 0 || self.buf.len() - self.end >= min)
    }

    /// Nothing was ever buffered: no memory is held, and none was left to
    /// the thread's pool.
    pub(crate) fn is_unallocated(&self) -> bool {
        self.buf.is_empty() && !self.released
    }

    /// Leaves the memory to the next connection on this thread that reads
    /// ([`Pool::Receive`]) if no byte is buffered; returns whether it did.
    pub(crate) fn release(&mut self) -> bool {
        if self.start != self.end || self.buf.is_empty() {
            return false;
        }
        Pool::Receive.leave(std::mem::take(&mut self.buf));
        self.start = 0;
        self.end = 0;
        self.released = true;
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Drops `n` bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n.min(self.len());
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Drops everything, keeping the allocation.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Free space after the data, at least `min` bytes long.
    pub(crate) fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.buf.is_empty() {
            if let Some(buf) = Pool::Receive.take(min) {
                self.buf = buf;
            }
        }
        if self.buf.len() - self.end < min {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < min {
                self.buf.resize(self.end + min, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Marks `n` bytes of [`RecvBuffer::spare`] as received.
    pub(crate) fn commit(&mut self, n: usize) {
        assert!(
            n <= self.buf.len() - self.end,
            "committed more bytes than the receive buffer had room for"
        );
        self.end += n;
    }

    /// Copies `bytes` in.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.spare(bytes.len())[..bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_survive_compaction_in_order() {
        let mut buf = RecvBuffer::default();
        buf.extend(b"hello world");
        buf.consume(6);
        let spare = buf.spare(100);
        assert!(spare.len() >= 100);
        spare[..3].copy_from_slice(b"!!!");
        buf.commit(3);
        assert_eq!(buf.data(), b"world!!!");
    }

    #[test]
    fn only_an_empty_buffer_is_released_and_the_next_reader_takes_it() {
        while Pool::Receive.take(0).is_some() {}
        let mut held = RecvBuffer::default();
        held.extend(&[1; 20 << 10]);
        assert!(!held.release(), "bytes are buffered");
        held.consume(20 << 10);
        let memory = held.raw().as_ptr();
        assert!(held.release());
        assert!(held.raw().is_empty() && held.len() == 0);
        assert!(!held.is_unallocated(), "it held memory before");

        let mut next = RecvBuffer::default();
        let spare = next.spare(8 << 10);
        assert_eq!(spare.as_ptr(), memory, "the same memory, still cached");
        spare[..3].copy_from_slice(b"new");
        next.commit(3);
        assert_eq!(next.data(), b"new", "no byte of the last reader shows");

        let spare = held.spare(8 << 10);
        assert_ne!(spare.as_ptr(), memory, "taken already: a new buffer");
        assert!(spare.len() >= 8 << 10);
    }

    #[test]
    fn consuming_everything_resets_to_the_front() {
        let mut buf = RecvBuffer::default();
        buf.extend(b"abc");
        buf.consume(3);
        assert_eq!(buf.len(), 0);
        buf.extend(b"d");
        assert_eq!(buf.data(), b"d");
    }
}
