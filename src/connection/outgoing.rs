//! The write side: frames encoded, masked and fragmented into one buffer
//! that the adapter drains.

use rand::RngCore;

use std::io::IoSlice;

use super::sender::WriteNow;
use crate::frame::{apply_mask, FrameHeader, MessageKind, OpCode, MAX_HEADER_LEN};

/// A buffer that held more than this, or than the write buffer's
/// high-water mark if that is more, is released once it drains, so an idle
/// connection does not keep the memory of its largest message. The test is
/// on the bytes it held, not its capacity: batches under the mark (a read's
/// worth of replies) are the buffer's working size, kept rather than
/// allocated anew for every batch.
const KEEP_CAPACITY: usize = 64 << 10;

/// Frames with at least this much payload are offered to the transport
/// directly ([`Outgoing::write_through`]) when nothing waits before them:
/// copying 32 KiB into the buffer costs about what a write call does, so
/// from here on one write call per frame beats a copy and a shared call.
pub(crate) const WRITE_THROUGH_MIN: usize = 32 << 10;

/// A control frame payload (at most 125 bytes) held outside the buffer.
#[derive(Debug, Clone, Copy)]
struct ControlPayload {
    len: u8,
    bytes: [u8; 125],
}

impl ControlPayload {
    fn new(payload: &[u8]) -> Self {
        let mut bytes = [0; 125];
        bytes[..payload.len()].copy_from_slice(payload);
        ControlPayload {
            len: payload.len() as u8,
            bytes,
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Encoded frames waiting for the transport.
pub(crate) struct Outgoing {
    buf: Vec<u8>,
    /// Bytes before this index have been written to the transport.
    start: usize,
    /// Clients mask every frame (RFC 6455 §5.3) with a fresh key.
    rng: Option<Box<dyn RngCore + Send>>,
    masked: bool,
    /// The end (index in `buf`) of the last pong put in the buffer, while
    /// it may still be unwritten.
    unwritten_pong_end: Option<usize>,
    /// A pong held back: once the buffer reaches `high_water` bytes
    /// (the peer is not reading) and a pong in it is still unwritten, a
    /// newer ping's pong replaces this one instead of queueing behind it
    /// (RFC 6455 §5.5.3 allows answering only the most recent ping), so a
    /// ping flood from a peer that does not read cannot grow the buffer.
    /// Below the mark every ping gets its own pong, however many arrive
    /// before the adapter next writes.
    pending_pong: Option<ControlPayload>,
    high_water: usize,
    /// The kind of an outgoing message sent in pieces that is not finished.
    pub(crate) streaming: Option<MessageKind>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("buffered", &self.buffered())
            .field("masked", &self.masked)
            .field("pending_pong", &self.pending_pong.is_some())
            .field("streaming", &self.streaming)
            .finish()
    }
}

impl Outgoing {
    /// An empty buffer; `high_water` (the connection's write buffer
    /// high-water mark) is the buffered size from which pongs are coalesced
    /// and above which a drained buffer's memory is released.
    pub(crate) fn new(
        masked: bool,
        rng: Option<Box<dyn RngCore + Send>>,
        high_water: usize,
    ) -> Self {
        Outgoing {
            buf: Vec::new(),
            start: 0,
            rng,
            masked,
            unwritten_pong_end: None,
            pending_pong: None,
            high_water,
            streaming: None,
        }
    }

    /// Bytes waiting to be written.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn next_mask(&mut self) -> [u8; 4] {
        let rng = self.rng.get_or_insert_with(default_rng);
        let mut key = [0; 4];
        rng.fill_bytes(&mut key);
        key
    }

    /// Appends one frame.
    pub(crate) fn write_frame(&mut self, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) {
        self.reclaim();
        let mask = self.masked.then(|| self.next_mask());
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        header.write_to(&mut self.buf);
        let at = self.buf.len();
        self.buf.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut self.buf[at..], key);
        }
    }

    /// Appends a data message, or a piece of one, split into frames of at
    /// most `fragment_size` payload bytes. `first` gives the first frame the
    /// message's opcode and `rsv`; `last` sets FIN on the final frame.
    pub(crate) fn write_data(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        rsv: u8,
        first: bool,
        last: bool,
        fragment_size: Option<usize>,
    ) {
        let size = fragment_size.unwrap_or(usize::MAX).max(1);
        let mut pieces = payload.chunks(size).peekable();
        let mut opcode = if first {
            kind.opcode()
        } else {
            OpCode::Continuation
        };
        let mut rsv = if first { rsv } else { 0 };
        if pieces.peek().is_none() {
            self.write_frame(last, rsv, opcode, &[]);
            return;
        }
        while let Some(piece) = pieces.next() {
            let fin = last && pieces.peek().is_none();
            self.write_frame(fin, rsv, opcode, piece);
            opcode = OpCode::Continuation;
            rsv = 0;
        }
    }

    /// Hands a data message that goes out as one unmasked frame straight to
    /// `transport` when nothing waits before it, and queues only what the
    /// transport did not take: a large reply then skips the copy into the
    /// buffer. Returns `false`, having done nothing, for a frame that must
    /// go through the buffer (small, masked, fragmented, or behind queued
    /// bytes).
    pub(crate) fn write_through(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        first: bool,
        last: bool,
        fragment_size: Option<usize>,
        transport: &mut dyn WriteNow,
    ) -> bool {
        let one_frame = !matches!(fragment_size, Some(size) if payload.len() > size);
        if self.masked || !one_frame || payload.len() < WRITE_THROUGH_MIN || self.buffered() > 0 {
            return false;
        }
        let header = FrameHeader {
            fin: last,
            rsv: 0,
            opcode: if first {
                kind.opcode()
            } else {
                OpCode::Continuation
            },
            mask: None,
            payload_len: payload.len() as u64,
        };
        let mut head = [0; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        let head = &head[..head_len];
        let written = transport
            .write_now(&[IoSlice::new(head), IoSlice::new(payload)])
            .min(head_len + payload.len());
        if written < head_len {
            self.buf.extend_from_slice(&head[written..]);
            self.buf.extend_from_slice(payload);
        } else {
            self.buf.extend_from_slice(&payload[written - head_len..]);
        }
        true
    }

    /// Queues a pong; past the high-water mark it replaces an older one
    /// that has not been written yet.
    pub(crate) fn queue_pong(&mut self, payload: &[u8]) {
        self.pending_pong = Some(ControlPayload::new(payload));
        self.flush_pending_pong();
    }

    /// Moves the pending pong into the buffer, unless the buffer is at the
    /// high-water mark and an earlier pong is still waiting in it.
    fn flush_pending_pong(&mut self) {
        let earlier_unwritten = self.unwritten_pong_end.is_some_and(|end| end > self.start);
        if earlier_unwritten && self.buffered() >= self.high_water {
            return;
        }
        if let Some(pong) = self.pending_pong.take() {
            self.write_frame(true, 0, OpCode::Pong, pong.as_slice());
            self.unwritten_pong_end = Some(self.buf.len());
        }
    }

    /// Appends the close frame: a pong still pending goes first (it answers
    /// a ping that came before the close), and nothing follows.
    pub(crate) fn write_close(&mut self, payload: &[u8]) {
        if let Some(pong) = self.pending_pong.take() {
            self.write_frame(true, 0, OpCode::Pong, pong.as_slice());
        }
        self.write_frame(true, 0, OpCode::Close, payload);
    }

    /// The bytes to write next, if any.
    pub(crate) fn poll(&mut self) -> Option<&[u8]> {
        self.flush_pending_pong();
        let waiting = &self.buf[self.start..];
        (!waiting.is_empty()).then_some(waiting)
    }

    /// Marks `n` bytes from [`Outgoing::poll`] as written.
    pub(crate) fn advance(&mut self, n: usize) {
        assert!(
            n <= self.buffered(),
            "advanced past the bytes poll_transmit returned"
        );
        self.start += n;
        if self.start == self.buf.len() {
            self.start = 0;
            self.unwritten_pong_end = None;
            if self.buf.len() > KEEP_CAPACITY.max(self.high_water) {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
        }
    }

    /// Drops everything waiting: the transport will never take it.
    pub(crate) fn discard(&mut self) {
        self.pending_pong = None;
        let n = self.buffered();
        self.advance(n);
    }

    /// Drops written bytes from the front when they are most of the buffer,
    /// so a transport that always writes partially does not make it grow.
    fn reclaim(&mut self) {
        if self.start >= KEEP_CAPACITY && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.unwritten_pong_end = self
                .unwritten_pong_end
                .and_then(|end| end.checked_sub(self.start));
            self.start = 0;
        }
    }
}

/// A CSPRNG seeded from the thread's generator: mask keys must be
/// unpredictable to the application (RFC 6455 §10.3).
pub(crate) fn default_rng() -> Box<dyn RngCore + Send> {
    use rand::SeedableRng;
    Box::new(rand::rngs::StdRng::from_rng(&mut rand::rng()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(out: &mut Outgoing) -> Vec<u8> {
        let bytes = out.poll().map(<[u8]>::to_vec).unwrap_or_default();
        out.advance(bytes.len());
        bytes
    }

    /// A transport that takes at most `room` bytes in all.
    struct Room {
        room: usize,
        taken: Vec<u8>,
    }

    impl WriteNow for Room {
        fn write_now(&mut self, bufs: &[IoSlice<'_>]) -> usize {
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min(self.room);
                self.taken.extend_from_slice(&buf[..take]);
                self.room -= take;
                n += take;
            }
            n
        }
    }

    #[test]
    fn written_through_and_queued_bytes_make_the_same_frame_as_the_buffer() {
        let payload: Vec<u8> = (0..WRITE_THROUGH_MIN as u32 + 5).map(|i| i as u8).collect();
        let mut expected = Outgoing::new(false, None, 0);
        expected.write_data(MessageKind::Binary, &payload, 0, true, true, None);
        let expected = drain(&mut expected);
        let header_len = expected.len() - payload.len();
        for room in [
            0,
            1,
            header_len - 1,
            header_len,
            header_len + 7,
            expected.len(),
            usize::MAX,
        ] {
            let mut out = Outgoing::new(false, None, 0);
            let mut transport = Room {
                room,
                taken: Vec::new(),
            };
            assert!(out.write_through(
                MessageKind::Binary,
                &payload,
                true,
                true,
                None,
                &mut transport
            ));
            let mut wire = transport.taken;
            assert_eq!(wire.len(), room.min(expected.len()), "room {room}");
            wire.extend(drain(&mut out));
            assert_eq!(wire, expected, "room {room}");
        }
    }

    #[test]
    fn small_masked_fragmented_or_queued_frames_are_not_written_through() {
        let big = vec![7; WRITE_THROUGH_MIN];
        let small = vec![7; WRITE_THROUGH_MIN - 1];
        let mut transport = Room {
            room: usize::MAX,
            taken: Vec::new(),
        };
        let mut out = Outgoing::new(false, None, 0);
        assert!(!out.write_through(
            MessageKind::Binary,
            &small,
            true,
            true,
            None,
            &mut transport
        ));
        assert!(!out.write_through(
            MessageKind::Binary,
            &big,
            true,
            true,
            Some(1000),
            &mut transport
        ));
        let mut masked = Outgoing::new(true, None, 0);
        assert!(!masked.write_through(MessageKind::Binary, &big, true, true, None, &mut transport));
        out.write_frame(true, 0, OpCode::Ping, b"");
        assert!(!out.write_through(MessageKind::Binary, &big, true, true, None, &mut transport));
        assert!(transport.taken.is_empty());
    }

    #[test]
    fn fragmentation_puts_the_opcode_first_and_fin_last() {
        let mut out = Outgoing::new(false, None, 0);
        out.write_data(MessageKind::Text, b"abcde", 0, true, true, Some(2));
        assert_eq!(
            drain(&mut out),
            [0x01, 2, b'a', b'b', 0x00, 2, b'c', b'd', 0x80, 1, b'e']
        );
    }

    #[test]
    fn at_the_high_water_mark_a_newer_pong_replaces_one_not_yet_written() {
        let mut out = Outgoing::new(false, None, 3);
        out.queue_pong(b"1");
        out.queue_pong(b"2");
        out.queue_pong(b"3");
        assert_eq!(drain(&mut out), [0x8A, 1, b'1']);
        assert_eq!(drain(&mut out), [0x8A, 1, b'3']);
        assert_eq!(out.poll(), None);
    }

    #[test]
    fn below_the_high_water_mark_every_pong_is_queued() {
        let mut out = Outgoing::new(false, None, 9);
        out.queue_pong(b"1");
        out.queue_pong(b"2");
        out.queue_pong(b"3");
        out.queue_pong(b"4");
        // Three pongs (9 bytes) reach the mark: the fourth waits.
        assert_eq!(
            drain(&mut out),
            [0x8A, 1, b'1', 0x8A, 1, b'2', 0x8A, 1, b'3']
        );
        assert_eq!(drain(&mut out), [0x8A, 1, b'4']);
        assert_eq!(out.poll(), None);
    }
}
