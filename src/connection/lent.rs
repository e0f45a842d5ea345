//! Replies made of the bytes an event lends, queued where those bytes lie
//! instead of copied.
//!
//! An echo, or any reply that forwards what it received, sends the very
//! bytes the event borrows from the connection's read buffers. A large one
//! (a single frame of at least [`SPLICE_MIN`](super::outgoing::SPLICE_MIN)
//! bytes from a server, which sends unmasked) is queued as a reference to
//! them: the write queue holds *where* the bytes are, and the connection
//! keeps them there until they are written.
//!
//! - In the **receive buffer** (a message that arrived whole in one read
//!   and was unmasked in place): the buffer is not refilled over them; where
//!   new input would land on them the reply takes a copy first
//!   ([`Connection::keep_received_replies`](super::Connection)).
//! - In the **message buffer** (a message assembled from several reads):
//!   before the connection touches that buffer again, the reply takes the
//!   buffer itself, a move and no copy, as [`Connection::poll_message`]
//!   would have handed it out ([`Connection::settle_assembled_reply`](super::Connection)).
//!
//! A 64 KiB echo over `read_with` then costs at most the one copy that
//! assembling a message across reads makes, and none for a message that
//! came whole.
//!
//! [`Connection::poll_message`]: crate::Connection::poll_message

use std::ops::Range;

/// Where a queued reply's bytes lie in the connection's read buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LentAt {
    /// At these indices of the receive buffer ([`ReadBuffers::received`]).
    Received(Range<usize>),
    /// At these indices of the assembled message ([`ReadBuffers::assembled`]).
    Assembled(Range<usize>),
}

impl LentAt {
    pub(super) fn len(&self) -> usize {
        match self {
            LentAt::Received(range) | LentAt::Assembled(range) => range.len(),
        }
    }

    /// The bytes from `skip` on.
    pub(super) fn bytes<'a>(&self, buffers: ReadBuffers<'a>, skip: usize) -> &'a [u8] {
        match self {
            LentAt::Received(range) => &buffers.received[range.start + skip..range.end],
            LentAt::Assembled(range) => &buffers.assembled[range.start + skip..range.end],
        }
    }
}

/// The connection's read buffers, for the write queue to find lent
/// replies in.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadBuffers<'a> {
    /// The whole receive buffer, consumed bytes too.
    pub(super) received: &'a [u8],
    /// The message assembled last.
    pub(super) assembled: &'a [u8],
}

/// Which buffer an event's bytes are in.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    /// The receive buffer, from this index.
    Received { at: usize },
    /// The message buffer, from its start.
    Assembled,
}

/// The bytes an event lends, for its [`Sender`](super::Sender) to recognise
/// a reply made of them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lent {
    /// The address of the lent bytes' first byte.
    pub(super) addr: usize,
    pub(super) len: usize,
    pub(super) source: Source,
}

impl Lent {
    /// The lent bytes `bytes`, in `source`.
    pub(super) fn new(bytes: &[u8], source: Source) -> Lent {
        Lent {
            addr: bytes.as_ptr() as usize,
            len: bytes.len(),
            source,
        }
    }

    /// Where `payload` lies, if it is made of the lent bytes. They are
    /// borrowed for as long as the sender lives, so no other live slice
    /// can have an address among theirs.
    pub(super) fn locate(&self, payload: &[u8]) -> Option<LentAt> {
        let offset = (payload.as_ptr() as usize).checked_sub(self.addr)?;
        let end = offset.checked_add(payload.len())?;
        if end > self.len {
            return None;
        }
        Some(match self.source {
            Source::Received { at } => LentAt::Received(at + offset..at + end),
            Source::Assembled => LentAt::Assembled(offset..end),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_slices_of_the_lent_bytes_are_located() {
        let buffer = vec![0u8; 100];
        let lent = Lent::new(&buffer[10..60], Source::Received { at: 10 });
        assert_eq!(lent.locate(&buffer[10..60]), Some(LentAt::Received(10..60)));
        assert_eq!(lent.locate(&buffer[20..30]), Some(LentAt::Received(20..30)));
        assert_eq!(lent.locate(&buffer[9..60]), None);
        assert_eq!(lent.locate(&buffer[10..61]), None);
        assert_eq!(lent.locate(&buffer[60..70]), None);
        let other = buffer.clone();
        assert_eq!(lent.locate(&other[10..60]), None);
        let message = Lent::new(&buffer[..50], Source::Assembled);
        assert_eq!(
            message.locate(&buffer[5..50]),
            Some(LentAt::Assembled(5..50))
        );
    }
}
