//! The write side: frames encoded, masked and fragmented into one buffer
//! that the adapter drains.

use rand::RngCore;

use std::collections::VecDeque;
use std::io::IoSlice;

use super::buffer_pool::Pool;
use super::lent::{LentAt, ReadBuffers};
use super::sender::WriteNow;
use super::spent::SpentPayloads;
use crate::frame::{apply_mask, FrameHeader, MessageKind, OpCode, MAX_HEADER_LEN};

/// A buffer that held more than this, or than the write buffer's
/// high-water mark if that is more, goes back to the allocator once it
/// drains, so no connection or thread keeps the memory of its largest
/// message. The test is on the bytes it held, not its capacity: batches
/// under the mark (a read's worth of replies) are the buffer's working
/// size, passed on to the next connection on the thread that writes
/// ([`Pool::Write`]) rather than allocated anew for every batch.
const KEEP_CAPACITY: usize = 64 << 10;

/// Frames with at least this much payload are offered to the transport
/// directly ([`Outgoing::write_through`]) when nothing waits before them:
/// copying 32 KiB into the buffer costs about what a write call does, so
/// from here on one write call per frame beats a copy and a shared call.
pub(crate) const WRITE_THROUGH_MIN: usize = 32 << 10;

/// Owned payloads of at least this many bytes are queued as they are
/// ([`Outgoing::write_owned`]) rather than copied into the buffer. Below
/// it a copy costs less than the extra piece of a vectored write; the
/// same size as [`WRITE_THROUGH_MIN`], where a copy starts to cost what a
/// write call does.
pub(super) const SPLICE_MIN: usize = WRITE_THROUGH_MIN;

/// At most this many pieces are offered to one vectored write: a batch of
/// replies of 64 KiB each is a few pieces, and the kernel's limit
/// (`IOV_MAX`, 1024) is far away.
pub(crate) const MAX_WRITE_PIECES: usize = 64;

/// A payload queued without a copy into the buffer: its bytes go out
/// after `buf[..at]` and before `buf[at..]`.
struct Spliced {
    at: usize,
    payload: Payload,
    /// Bytes of `payload` already written.
    written: usize,
}

/// Where a spliced payload's bytes are.
enum Payload {
    /// Given away by the caller ([`Outgoing::write_owned`]).
    Owned(Vec<u8>),
    /// Still in one of the connection's read buffers: a reply sent from
    /// the bytes of the event it answers ([`Outgoing::write_lent`]). The
    /// connection keeps them there until they are written or the reply
    /// owns them ([`Outgoing::own_received`], [`Outgoing::own_assembled`]).
    Lent(LentAt),
}

impl Spliced {
    fn len(&self) -> usize {
        match &self.payload {
            Payload::Owned(bytes) => bytes.len(),
            Payload::Lent(at) => at.len(),
        }
    }

    /// The bytes not written yet.
    fn rest<'a>(&'a self, buffers: ReadBuffers<'a>) -> &'a [u8] {
        match &self.payload {
            Payload::Owned(bytes) => &bytes[self.written..],
            Payload::Lent(at) => at.bytes(buffers, self.written),
        }
    }
}

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
    /// Owned payloads spliced into the byte stream, in order; none is
    /// empty, and each one's `at` is at or after `start`.
    spliced: VecDeque<Spliced>,
    /// Unwritten bytes of `spliced`.
    spliced_len: usize,
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
    /// Owned payloads that were written in full, for the read side to
    /// receive into.
    pub(crate) spent: SpentPayloads,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("buffered", &self.buffered())
            .field("spliced", &self.spliced.len())
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
            spliced: VecDeque::new(),
            spliced_len: 0,
            rng,
            masked,
            unwritten_pong_end: None,
            pending_pong: None,
            high_water,
            streaming: None,
            spent: SpentPayloads::default(),
        }
    }

    /// Bytes waiting to be written.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len() - self.start + self.spliced_len
    }

    fn next_mask(&mut self) -> [u8; 4] {
        let rng = self.rng.get_or_insert_with(default_rng);
        let mut key = [0; 4];
        rng.fill_bytes(&mut key);
        key
    }

    /// Before bytes are put in the buffer: one whose memory went to the
    /// thread's pool when it drained ([`Outgoing::advance`]) is replaced by
    /// the write buffer left there last, still cached, if there is one.
    fn acquire(&mut self) {
        if self.buf.capacity() == 0 {
            if let Some(buf) = Pool::Write.take(0) {
                self.buf = buf;
            }
        }
    }

    /// Appends `bytes` to the buffer.
    fn append(&mut self, bytes: &[u8]) {
        self.acquire();
        self.buf.extend_from_slice(bytes);
    }

    /// Appends one frame.
    pub(crate) fn write_frame(&mut self, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) {
        self.acquire();
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

    /// Appends a whole data message whose payload the caller gives away:
    /// one that goes out as a single frame of at least [`SPLICE_MIN`] bytes
    /// is queued as it is (masked in place for a client), not copied, and
    /// written with the bytes around it in one vectored write. Given a
    /// transport (`through`) and nothing waiting before it, such a frame is
    /// offered to the transport at once and only what it leaves is queued,
    /// still without a copy. A payload written in full is offered to
    /// [`Outgoing::spent`]. Others are copied as by
    /// [`Outgoing::write_data`].
    pub(crate) fn write_owned(
        &mut self,
        kind: MessageKind,
        mut payload: Vec<u8>,
        fragment_size: Option<usize>,
        through: Option<&mut (dyn WriteNow + '_)>,
    ) {
        let one_frame = !matches!(fragment_size, Some(size) if payload.len() > size);
        if !one_frame || payload.len() < SPLICE_MIN {
            self.write_data(kind, &payload, 0, true, true, fragment_size);
            return;
        }
        self.reclaim();
        let mask = self.masked.then(|| self.next_mask());
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: kind.opcode(),
            mask,
            payload_len: payload.len() as u64,
        };
        if let Some(key) = mask {
            apply_mask(&mut payload, key);
        }
        let written = self.write_now_or_head(&header, &payload, through);
        if written == payload.len() {
            self.spent.put(payload);
        } else {
            self.splice(Payload::Owned(payload), written);
        }
    }

    /// Appends a whole data message whose payload (`payload`) lies in one
    /// of the connection's read buffers (`at`), where it stays until it is
    /// written: a reply from the bytes of the event it answers, queued
    /// without a copy. Given a transport and nothing waiting before it,
    /// the frame is offered to the transport at once, as by
    /// [`Outgoing::write_owned`]. Returns `false`, having done nothing, for
    /// a frame that is copied instead (small, masked or fragmented): a
    /// client masks what it sends, and the read buffers are not its to
    /// change.
    pub(crate) fn write_lent(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        at: LentAt,
        fragment_size: Option<usize>,
        through: Option<&mut (dyn WriteNow + '_)>,
    ) -> bool {
        debug_assert_eq!(payload.len(), at.len());
        let one_frame = !matches!(fragment_size, Some(size) if payload.len() > size);
        if self.masked || !one_frame || payload.len() < SPLICE_MIN {
            return false;
        }
        self.reclaim();
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: kind.opcode(),
            mask: None,
            payload_len: payload.len() as u64,
        };
        let written = self.write_now_or_head(&header, payload, through);
        if written < payload.len() {
            self.splice(Payload::Lent(at), written);
        }
        true
    }

    /// The end of the last receive-buffer range a queued reply still
    /// needs ([`Outgoing::write_lent`]); `None` when none does.
    pub(crate) fn received_end(&self) -> Option<usize> {
        self.spliced
            .iter()
            .filter_map(|spliced| match &spliced.payload {
                Payload::Lent(LentAt::Received(range)) => Some(range.end),
                _ => None,
            })
            .max()
    }

    /// Copies the unwritten bytes of every reply queued from the receive
    /// buffer (`received`) out of it, so that the buffer may be refilled.
    pub(crate) fn own_received(&mut self, received: &[u8]) {
        let buffers = ReadBuffers {
            received,
            assembled: &[],
        };
        for spliced in &mut self.spliced {
            if let Payload::Lent(LentAt::Received(_)) = spliced.payload {
                spliced.payload = Payload::Owned(spliced.rest(buffers).to_vec());
                spliced.written = 0;
            }
        }
    }

    /// Whether a queued reply still needs the assembled message's bytes.
    /// Asked before every message read; nothing queued is the usual answer,
    /// and looking at the length first saves setting up an iterator over
    /// the queue's two halves (42 instructions a 16-byte message read).
    #[inline]
    pub(crate) fn needs_assembled(&self) -> bool {
        !self.spliced.is_empty()
            && self
                .spliced
                .iter()
                .any(|spliced| matches!(spliced.payload, Payload::Lent(LentAt::Assembled(_))))
    }

    /// Gives the replies queued from the assembled message that message's
    /// buffer, `message`, before it is reused: the first takes the buffer
    /// itself, any other (the same bytes sent twice) a copy of its part.
    pub(crate) fn own_assembled(&mut self, mut message: Vec<u8>) {
        let mut first = None;
        for (i, spliced) in self.spliced.iter_mut().enumerate() {
            let Payload::Lent(LentAt::Assembled(range)) = &spliced.payload else {
                continue;
            };
            if first.is_none() {
                first = Some((i, range.clone()));
                continue;
            }
            let part = message[range.start + spliced.written..range.end].to_vec();
            spliced.payload = Payload::Owned(part);
            spliced.written = 0;
        }
        if let Some((i, range)) = first {
            message.truncate(range.end);
            let spliced = &mut self.spliced[i];
            spliced.payload = Payload::Owned(message);
            spliced.written += range.start;
        }
    }

    /// Offers a frame to `through` when nothing waits before it
    /// ([`Outgoing::write_now`]), or else queues its header; returns how
    /// many payload bytes were written, for the caller to queue the rest.
    fn write_now_or_head(
        &mut self,
        header: &FrameHeader,
        payload: &[u8],
        through: Option<&mut (dyn WriteNow + '_)>,
    ) -> usize {
        match through {
            Some(transport) if self.buffered() == 0 => self.write_now(header, payload, transport),
            _ => {
                self.acquire();
                header.write_to(&mut self.buf);
                0
            }
        }
    }

    /// Queues the unwritten rest of a payload after the buffer's bytes.
    fn splice(&mut self, payload: Payload, written: usize) {
        let spliced = Spliced {
            at: self.buf.len(),
            payload,
            written,
        };
        self.spliced_len += spliced.len() - written;
        self.spliced.push_back(spliced);
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
        let written = self.write_now(&header, payload, transport);
        if written < payload.len() {
            self.append(&payload[written..]);
        }
        true
    }

    /// Offers a frame (`header`, then `payload`, masked already if it is to
    /// be) to `transport`, with nothing queued before it. Whatever part of
    /// the header the transport leaves is queued; returns how many payload
    /// bytes it took, for the caller to queue the rest.
    fn write_now(
        &mut self,
        header: &FrameHeader,
        payload: &[u8],
        transport: &mut dyn WriteNow,
    ) -> usize {
        debug_assert_eq!(self.buffered(), 0);
        let mut head = [0; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        let written = transport
            .write_now(&[IoSlice::new(&head[..head_len]), IoSlice::new(payload)])
            .min(head_len + payload.len());
        if written < head_len {
            self.append(&head[written..head_len]);
        }
        written.saturating_sub(head_len)
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

    /// The bytes to write next, if any: the first contiguous piece.
    /// `buffers` are the connection's read buffers, which replies queued
    /// by [`Outgoing::write_lent`] are in.
    pub(crate) fn poll<'a>(&'a mut self, buffers: ReadBuffers<'a>) -> Option<&'a [u8]> {
        self.flush_pending_pong();
        self.pieces(buffers).next()
    }

    /// The bytes to write next as pieces in order, for a vectored write:
    /// fills the front of `pieces` and returns how many it filled (0 when
    /// nothing waits). `buffers` are as for [`Outgoing::poll`].
    pub(crate) fn poll_vectored<'a>(
        &'a mut self,
        pieces: &mut [IoSlice<'a>],
        buffers: ReadBuffers<'a>,
    ) -> usize {
        self.flush_pending_pong();
        let mut filled = 0;
        for (slot, piece) in pieces.iter_mut().zip(self.pieces(buffers)) {
            *slot = IoSlice::new(piece);
            filled += 1;
        }
        filled
    }

    /// What waits, in the order it goes out, without empty pieces: the
    /// write buffer's bytes up to each spliced payload, then the unwritten
    /// rest of that payload, and after the last one the buffer's tail.
    fn pieces<'a>(&'a self, buffers: ReadBuffers<'a>) -> impl Iterator<Item = &'a [u8]> {
        let mut at = self.start;
        let tail = self.spliced.back().map_or(self.start, |last| last.at);
        self.spliced
            .iter()
            .flat_map(move |spliced| {
                let before = &self.buf[at..spliced.at];
                at = spliced.at;
                [before, spliced.rest(buffers)]
            })
            .chain(std::iter::once(&self.buf[tail..]))
            .filter(|piece| !piece.is_empty())
    }

    /// Marks `n` bytes from [`Outgoing::poll`] or
    /// [`Outgoing::poll_vectored`] as written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        assert!(
            n <= self.buffered(),
            "advanced past the bytes poll_transmit returned"
        );
        while n > 0 {
            match self.spliced.front_mut() {
                Some(first) if first.at == self.start => {
                    let taken = n.min(first.len() - first.written);
                    first.written += taken;
                    self.spliced_len -= taken;
                    n -= taken;
                    if first.written == first.len() {
                        if let Some(Payload::Owned(done)) =
                            self.spliced.pop_front().map(|done| done.payload)
                        {
                            self.spent.put(done);
                        }
                    }
                }
                Some(first) => {
                    let taken = n.min(first.at - self.start);
                    self.start += taken;
                    n -= taken;
                }
                None => {
                    self.start += n;
                    n = 0;
                }
            }
        }
        if self.start == self.buf.len() && self.spliced.is_empty() {
            self.start = 0;
            self.unwritten_pong_end = None;
            if self.buf.len() > KEEP_CAPACITY.max(self.high_water) {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
                // Drained: the memory goes to the next connection on this
                // thread that writes, still cached (see `buffer_pool`); one
                // the pool would not take stays.
                if Pool::accepts(self.buf.capacity()) {
                    Pool::Write.leave(std::mem::take(&mut self.buf));
                }
            }
        }
    }

    /// Drops everything waiting: the transport will never take it.
    pub(crate) fn discard(&mut self) {
        self.pending_pong = None;
        self.spliced.clear();
        self.spliced_len = 0;
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
            for spliced in &mut self.spliced {
                spliced.at -= self.start;
            }
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
        let bytes = out
            .poll(ReadBuffers::default())
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        out.advance(bytes.len());
        bytes
    }

    /// A transport that takes at most `room` bytes in all.
    struct Room {
        room: usize,
        taken: Vec<u8>,
    }

    impl Room {
        /// A transport that takes `room` bytes, then nothing.
        fn taking(room: usize) -> Room {
            Room {
                room,
                taken: Vec::new(),
            }
        }
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
    fn a_drained_buffer_goes_to_the_next_connection_on_the_thread_that_writes() {
        while Pool::Write.take(0).is_some() {}
        let mut first = Outgoing::new(false, None, 0);
        first.write_frame(true, 0, OpCode::Binary, &[1; 10 << 10]);
        let memory = first.poll(ReadBuffers::default()).unwrap().as_ptr();
        assert_eq!(drain(&mut first).len(), 4 + (10 << 10));
        let mut second = Outgoing::new(false, None, 0);
        second.write_frame(true, 0, OpCode::Text, b"hi");
        assert_eq!(
            second.poll(ReadBuffers::default()).unwrap().as_ptr(),
            memory
        );
        assert_eq!(drain(&mut second), [0x81, 2, b'h', b'i']);
        // The first writes on, in a buffer of its own.
        first.write_frame(true, 0, OpCode::Text, b"on");
        assert_eq!(drain(&mut first), [0x81, 2, b'o', b'n']);
        // A buffer that stayed small stays with its connection.
        let mut small = Outgoing::new(false, None, 0);
        small.write_frame(true, 0, OpCode::Text, b"small");
        let memory = small.poll(ReadBuffers::default()).unwrap().as_ptr();
        drain(&mut small);
        small.write_frame(true, 0, OpCode::Text, b"again");
        assert_eq!(small.poll(ReadBuffers::default()).unwrap().as_ptr(), memory);
        // So does one larger than the pool takes, under a high-water mark
        // that lets the connection keep it.
        let mut large = Outgoing::new(false, None, 4 << 20);
        large.write_frame(true, 0, OpCode::Binary, &[3; 2 << 20]);
        let memory = large.poll(ReadBuffers::default()).unwrap().as_ptr();
        drain(&mut large);
        large.write_frame(true, 0, OpCode::Binary, &[4; 2 << 20]);
        assert_eq!(large.poll(ReadBuffers::default()).unwrap().as_ptr(), memory);
        assert!(Pool::Write.take(0).is_none());
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
            let mut transport = Room::taking(room);
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
    fn an_owned_payload_written_through_leaves_only_the_rest_queued_uncopied() {
        let payload: Vec<u8> = (0..SPLICE_MIN as u32 + 5).map(|i| i as u8).collect();
        let mut expected = Outgoing::new(false, None, 0);
        expected.write_data(MessageKind::Binary, &payload, 0, true, true, None);
        let expected = drain(&mut expected);
        let header_len = expected.len() - payload.len();
        for room in [0, 1, header_len, header_len + 7, expected.len(), usize::MAX] {
            let mut out = Outgoing::new(false, None, 0);
            let mut transport = Room::taking(room);
            out.write_owned(
                MessageKind::Binary,
                payload.clone(),
                None,
                Some(&mut transport),
            );
            let mut wire = transport.taken;
            assert_eq!(wire.len(), room.min(expected.len()), "room {room}");
            let whole = room >= expected.len();
            assert_eq!(out.spliced.len(), usize::from(!whole), "room {room}");
            assert!(
                out.buf.len() <= header_len,
                "no payload byte copied (room {room})"
            );
            wire.extend(drain_vectored(&mut out, usize::MAX));
            assert_eq!(wire, expected, "room {room}");
        }
    }

    #[test]
    fn a_client_writes_an_owned_payload_through_masked_in_place() {
        let payload = vec![0x5a; SPLICE_MIN];
        let mut out = Outgoing::new(true, None, 0);
        let mut transport = Room::taking(usize::MAX);
        out.write_owned(
            MessageKind::Text,
            payload.clone(),
            None,
            Some(&mut transport),
        );
        assert_eq!(out.buffered(), 0);
        let (header, len) = FrameHeader::parse(&transport.taken).unwrap().unwrap();
        let mut unmasked = transport.taken[len..].to_vec();
        apply_mask(&mut unmasked, header.mask.expect("a client masks"));
        assert_eq!(unmasked, payload);
    }

    #[test]
    fn small_masked_fragmented_or_queued_frames_are_not_written_through() {
        let big = vec![7; WRITE_THROUGH_MIN];
        let small = vec![7; WRITE_THROUGH_MIN - 1];
        let mut transport = Room::taking(usize::MAX);
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
        assert_eq!(out.poll(ReadBuffers::default()), None);
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
        assert_eq!(out.poll(ReadBuffers::default()), None);
    }

    /// Everything waiting, drained through `poll_vectored` in writes of at
    /// most `step` bytes, so writes end inside pieces and across them.
    fn drain_vectored(out: &mut Outgoing, step: usize) -> Vec<u8> {
        drain_vectored_from(out, ReadBuffers::default(), step)
    }

    /// [`drain_vectored`], with replies lent from `buffers`.
    fn drain_vectored_from(out: &mut Outgoing, buffers: ReadBuffers<'_>, step: usize) -> Vec<u8> {
        drain_vectored_from_at_most(out, buffers, usize::MAX / 2, step)
    }

    /// At most about `limit` bytes of [`drain_vectored_from`] (whole
    /// writes of `step`).
    fn drain_vectored_from_at_most(
        out: &mut Outgoing,
        buffers: ReadBuffers<'_>,
        limit: usize,
        step: usize,
    ) -> Vec<u8> {
        let mut wire = Vec::new();
        while wire.len() < limit {
            let mut pieces = [IoSlice::new(&[]); MAX_WRITE_PIECES];
            let filled = out.poll_vectored(&mut pieces, buffers);
            if filled == 0 {
                return wire;
            }
            let mut room = step;
            for piece in &pieces[..filled] {
                let take = piece.len().min(room);
                wire.extend_from_slice(&piece[..take]);
                room -= take;
            }
            let written = step - room;
            out.advance(written);
        }
        wire
    }

    /// `bytes` as the receive buffer or as the assembled message.
    fn buffers(bytes: &[u8], assembled: bool) -> ReadBuffers<'_> {
        if assembled {
            ReadBuffers {
                received: &[],
                assembled: bytes,
            }
        } else {
            ReadBuffers {
                received: bytes,
                assembled: &[],
            }
        }
    }

    fn lent_at(range: std::ops::Range<usize>, assembled: bool) -> LentAt {
        if assembled {
            LentAt::Assembled(range)
        } else {
            LentAt::Received(range)
        }
    }

    #[test]
    fn a_lent_reply_goes_out_from_the_read_buffer_or_from_what_it_took() {
        let payload: Vec<u8> = (0..SPLICE_MIN as u32 + 5).map(|i| (i * 7) as u8).collect();
        let mut expected = Outgoing::new(false, None, 0);
        expected.write_data(MessageKind::Binary, &payload, 0, true, true, None);
        let expected = drain(&mut expected);
        let header_len = expected.len() - payload.len();
        let read = [&[0xee; 3][..], &payload, &[0xdd; 9]].concat();
        let range = 3..3 + payload.len();
        for room in [0, 1, header_len, header_len + 7, expected.len(), usize::MAX] {
            for (assembled, owned) in [(false, false), (false, true), (true, false), (true, true)] {
                let case = format!("room {room}, assembled {assembled}, owned {owned}");
                let mut out = Outgoing::new(false, None, 0);
                let mut transport = Room::taking(room);
                assert!(out.write_lent(
                    MessageKind::Binary,
                    &read[range.clone()],
                    lent_at(range.clone(), assembled),
                    None,
                    Some(&mut transport),
                ));
                assert!(
                    out.buf.len() <= header_len,
                    "no payload byte copied ({case})"
                );
                let whole = room >= expected.len();
                let received_end = (!whole && !assembled).then_some(range.end);
                assert_eq!(out.received_end(), received_end, "{case}");
                assert_eq!(out.needs_assembled(), !whole && assembled, "{case}");
                let mut read = read.clone();
                if owned {
                    // The buffer is about to be reused: the reply takes a
                    // copy of what it still needs, or the message's buffer.
                    if assembled {
                        out.own_assembled(std::mem::take(&mut read));
                    } else {
                        out.own_received(&read);
                        read.fill(0);
                    }
                    assert_eq!(out.received_end(), None, "{case}");
                    assert!(!out.needs_assembled(), "{case}");
                }
                let mut wire = transport.taken;
                wire.extend(drain_vectored_from(
                    &mut out,
                    buffers(&read, assembled),
                    5000,
                ));
                assert_eq!(wire, expected, "{case}");
            }
        }
    }

    #[test]
    fn lent_replies_keep_their_place_between_queued_frames() {
        let read: Vec<u8> = (0..3 * SPLICE_MIN as u32).map(|i| (i / 3) as u8).collect();
        let first = 0..SPLICE_MIN;
        let second = SPLICE_MIN + 1..3 * SPLICE_MIN;
        for assembled in [false, true] {
            let mut expected = Outgoing::new(false, None, 0);
            let mut out = Outgoing::new(false, None, 0);
            for target in [&mut expected, &mut out] {
                target.write_frame(true, 0, OpCode::Ping, b"p");
            }
            expected.write_data(MessageKind::Text, &read[first.clone()], 0, true, true, None);
            assert!(out.write_lent(
                MessageKind::Text,
                &read[first.clone()],
                lent_at(first.clone(), assembled),
                None,
                None
            ));
            for target in [&mut expected, &mut out] {
                target.write_frame(true, 0, OpCode::Pong, b"q");
            }
            expected.write_data(
                MessageKind::Binary,
                &read[second.clone()],
                0,
                true,
                true,
                None,
            );
            let mut transport = Room::taking(usize::MAX);
            assert!(out.write_lent(
                MessageKind::Binary,
                &read[second.clone()],
                lent_at(second.clone(), assembled),
                None,
                Some(&mut transport),
            ));
            assert!(transport.taken.is_empty(), "queued behind the others");
            let expected = drain(&mut expected);
            let mut wire = Vec::new();
            if assembled {
                // Both replies are of the one message: the first takes its
                // buffer, the second a copy of its part, after some of
                // the queue is written.
                wire = drain_vectored_from_at_most(&mut out, buffers(&read, true), 100, 40);
                out.own_assembled(read.clone());
                wire.extend(drain_vectored(&mut out, 1000));
            } else {
                assert_eq!(out.received_end(), Some(second.end));
                wire.extend(drain_vectored_from(&mut out, buffers(&read, false), 1000));
            }
            assert_eq!(wire, expected, "assembled {assembled}");
            assert_eq!(out.received_end(), None);
            assert!(!out.needs_assembled());
        }
    }

    #[test]
    fn small_fragmented_or_masked_replies_are_not_lent() {
        let read = vec![1; 2 * SPLICE_MIN];
        let mut server = Outgoing::new(false, None, 0);
        let small = 0..SPLICE_MIN - 1;
        assert!(!server.write_lent(
            MessageKind::Binary,
            &read[small.clone()],
            LentAt::Received(small),
            None,
            None
        ));
        let large = 0..SPLICE_MIN + 1;
        assert!(!server.write_lent(
            MessageKind::Binary,
            &read[large.clone()],
            LentAt::Assembled(large.clone()),
            Some(SPLICE_MIN),
            None
        ));
        let mut client = Outgoing::new(true, None, 0);
        assert!(!client.write_lent(
            MessageKind::Binary,
            &read[large.clone()],
            LentAt::Received(large),
            None,
            None
        ));
        assert_eq!(server.buffered() + client.buffered(), 0);
    }

    #[test]
    fn owned_payloads_go_out_in_order_between_buffered_frames() {
        let big = |byte: u8| vec![byte; SPLICE_MIN + 3];
        let mut expected = Outgoing::new(false, None, 0);
        let mut out = Outgoing::new(false, None, 0);
        for target in [&mut expected, &mut out] {
            target.write_frame(true, 0, OpCode::Ping, b"p");
        }
        expected.write_data(MessageKind::Binary, &big(1), 0, true, true, None);
        out.write_owned(MessageKind::Binary, big(1), None, None);
        expected.write_data(MessageKind::Binary, &big(2), 0, true, true, None);
        out.write_owned(MessageKind::Binary, big(2), None, None);
        for target in [&mut expected, &mut out] {
            target.write_frame(true, 0, OpCode::Pong, b"q");
        }
        expected.write_data(MessageKind::Text, &big(b'a'), 0, true, true, None);
        out.write_owned(MessageKind::Text, big(b'a'), None, None);
        // Two owned payloads side by side, nothing between them but a header.
        assert_eq!(out.spliced.len(), 3);
        assert_eq!(out.buffered(), expected.buffered());
        let expected = drain(&mut expected);
        for step in [1, 7, SPLICE_MIN, SPLICE_MIN + 5, usize::MAX] {
            let mut again = Outgoing::new(false, None, 0);
            again.write_frame(true, 0, OpCode::Ping, b"p");
            again.write_owned(MessageKind::Binary, big(1), None, None);
            again.write_owned(MessageKind::Binary, big(2), None, None);
            again.write_frame(true, 0, OpCode::Pong, b"q");
            again.write_owned(MessageKind::Text, big(b'a'), None, None);
            let wire = drain_vectored(&mut again, step);
            assert_eq!(wire, expected, "writes of {step} bytes");
            assert_eq!(again.buffered(), 0);
            assert!(again.spliced.is_empty() && again.start == 0 && again.buf.is_empty());
        }
        assert_eq!(drain_vectored(&mut out, usize::MAX), expected);
    }

    #[test]
    fn poll_gives_the_pieces_one_at_a_time() {
        let mut out = Outgoing::new(false, None, 0);
        out.write_owned(MessageKind::Binary, vec![9; SPLICE_MIN], None, None);
        let header = out.poll(ReadBuffers::default()).unwrap().to_vec();
        assert_eq!(header, [0x82, 126, 0x80, 0x00]);
        out.advance(header.len());
        assert_eq!(
            out.poll(ReadBuffers::default()).unwrap(),
            &vec![9; SPLICE_MIN][..]
        );
        out.advance(SPLICE_MIN);
        assert_eq!(out.poll(ReadBuffers::default()), None);
    }

    #[test]
    fn a_client_masks_an_owned_payload_in_place() {
        let payload: Vec<u8> = (0..SPLICE_MIN as u32 + 1).map(|i| i as u8).collect();
        let mut out = Outgoing::new(true, None, 0);
        out.write_owned(MessageKind::Binary, payload.clone(), None, None);
        assert_eq!(out.spliced.len(), 1);
        let wire = drain_vectored(&mut out, usize::MAX);
        let (header, len) = FrameHeader::parse(&wire).unwrap().unwrap();
        let key = header.mask.expect("a client's frame is masked");
        let mut unmasked = wire[len..].to_vec();
        apply_mask(&mut unmasked, key);
        assert_eq!(unmasked, payload);
    }

    #[test]
    fn small_or_fragmented_owned_payloads_are_copied() {
        let mut out = Outgoing::new(false, None, 0);
        out.write_owned(MessageKind::Binary, vec![1; SPLICE_MIN - 1], None, None);
        out.write_owned(
            MessageKind::Binary,
            vec![2; SPLICE_MIN + 1],
            Some(SPLICE_MIN),
            None,
        );
        assert!(out.spliced.is_empty());
        let wire = drain(&mut out);
        assert_eq!(wire.len(), 4 + SPLICE_MIN - 1 + 4 + SPLICE_MIN + 2 + 1);
    }

    #[test]
    fn reclaiming_the_buffer_keeps_owned_payloads_in_place() {
        let filler = vec![5; KEEP_CAPACITY];
        let mut reference = Outgoing::new(false, None, 0);
        reference.write_data(MessageKind::Binary, &filler, 0, true, true, None);
        reference.write_data(MessageKind::Binary, &[6; SPLICE_MIN], 0, true, true, None);
        reference.write_data(MessageKind::Binary, &[7; SPLICE_MIN], 0, true, true, None);
        let reference = drain(&mut reference);

        let mut out = Outgoing::new(false, None, 0);
        out.write_data(MessageKind::Binary, &filler, 0, true, true, None);
        let filler_frame = out.buf.len();
        out.write_owned(MessageKind::Binary, vec![6; SPLICE_MIN], None, None);
        // The filler frame is written; the owned payload's header is not.
        let mut wire = out.poll(ReadBuffers::default()).unwrap()[..filler_frame].to_vec();
        out.advance(filler_frame);
        // Queueing more drops the written front from the buffer, and must
        // move the owned payload's place along with the bytes.
        out.write_owned(MessageKind::Binary, vec![7; SPLICE_MIN], None, None);
        assert_eq!(out.start, 0, "the written front was reclaimed");
        wire.extend(drain_vectored(&mut out, 1000));
        assert_eq!(wire, reference);
    }

    #[test]
    fn discarding_drops_owned_payloads_too() {
        let mut out = Outgoing::new(false, None, 0);
        out.write_frame(true, 0, OpCode::Ping, b"");
        out.write_owned(MessageKind::Binary, vec![1; SPLICE_MIN], None, None);
        out.discard();
        assert_eq!(out.buffered(), 0);
        assert_eq!(out.poll(ReadBuffers::default()), None);
        let mut pieces = [IoSlice::new(&[]); 4];
        assert_eq!(out.poll_vectored(&mut pieces, ReadBuffers::default()), 0);
    }

    #[test]
    fn a_vectored_poll_fills_no_more_pieces_than_it_is_given() {
        let mut out = Outgoing::new(false, None, 0);
        for byte in 0..4 {
            out.write_owned(MessageKind::Binary, vec![byte; SPLICE_MIN], None, None);
        }
        let mut pieces = [IoSlice::new(&[]); 3];
        assert_eq!(out.poll_vectored(&mut pieces, ReadBuffers::default()), 3);
        assert_eq!(pieces[2].len(), 4, "header, payload, header");
        assert_eq!(
            drain_vectored(&mut out, usize::MAX).len(),
            4 * (4 + SPLICE_MIN)
        );
    }
}
