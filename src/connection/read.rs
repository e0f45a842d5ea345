//! The read side: frames parsed from the receive buffer, checked against the
//! rules that need context, and turned into messages.
//!
//! Three ways through, chosen when a data frame's header arrives:
//!
//! - **In place**: a whole message in one frame whose payload is already in
//!   the receive buffer when its header is parsed is unmasked and validated
//!   where it lies and lent from there; taken by ownership, it is unmasked
//!   while copied into a buffer of its length, in one step.
//! - **Assembled**: other messages are unmasked as they are copied, piece by
//!   piece, from the receive buffer into the message buffer (or read
//!   straight into it), so the receive buffer never holds a partial frame
//!   that would have to be moved to the front to make room: each payload
//!   byte is touched once on its way in.
//! - **Streamed** ([`crate::Config::streaming`]): each piece is handed out as
//!   it arrives.
//!
//! Text is validated as it arrives in every case, so invalid UTF-8 fails the
//! connection on the read that brought the bad byte.

use std::ops::ControlFlow::{self, Break, Continue};

use super::{Connection, State};
use crate::error::{Error, ProtocolError};
use crate::frame::{
    apply_mask, copy_masked, extend_masked, parse_close_payload, unmask_text, FrameHeader,
    MessageKind, OpCode,
};
use crate::utf8::{InvalidUtf8, Utf8Validator};
use crate::Role;

/// Where the reader is within the frame stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadState {
    Header,
    /// A control frame whose payload (at most 125 bytes) is awaited whole.
    Control(FrameHeader),
    /// A frame whose payload is taken out of the receive buffer as it comes;
    /// `done` bytes of it were taken (the mask's phase).
    Stream {
        header: FrameHeader,
        remaining: u64,
        done: u64,
    },
}

/// What a frame's header leads to ([`Connection::start_frame`]).
#[derive(Debug, Clone, Copy)]
enum FrameStart {
    /// A single-frame message whose payload is wholly in the receive
    /// buffer: handed out at once ([`Connection::whole`]), so it never
    /// becomes a state to come back to.
    Whole(FrameHeader),
    /// Read on in this state.
    Then(ReadState),
}

/// The data message being received.
#[derive(Debug, Default)]
pub(super) struct Incoming {
    /// The message's kind while one is open.
    pub(super) kind: Option<MessageKind>,
    pub(super) fragments: usize,
    /// Bytes so far: on the wire, or after decoding when `decode` is set.
    pub(super) size: u64,
    /// The extension transforms this message.
    pub(super) decode: bool,
    pub(super) utf8: Utf8Validator,
    /// The assembled message (or the last decoded chunk when streaming) is
    /// `buffer[..len]`. Bytes past `len` are left initialised, so reading
    /// straight into the buffer ([`Incoming::spare`]) zero-fills only when
    /// it grows.
    pub(super) buffer: Vec<u8>,
    pub(super) len: usize,
    /// The next chunk delivered is the message's first.
    pub(super) first_chunk: bool,
    /// `buffer` was handed out and is cleared on the next call.
    pub(super) delivered: bool,
}

impl Incoming {
    /// The message (or decoded chunk) so far.
    pub(super) fn message(&self) -> &[u8] {
        &self.buffer[..self.len]
    }

    /// `n` bytes of room after the message, to receive into.
    pub(super) fn spare(&mut self, n: usize) -> &mut [u8] {
        let end = self.len + n;
        if self.buffer.len() < end {
            self.buffer.resize(end, 0);
        }
        &mut self.buffer[self.len..end]
    }

    /// Room for `n` more bytes at once: a message buffer handed out by
    /// [`Connection::poll_message`] starts empty, and growing it piece by
    /// piece as a frame arrives would copy what came first. An empty buffer
    /// gets exactly `n`, without copying what a buffer too small for it
    /// held; a full one grows as a `Vec` does, by doubling, so a long
    /// message is copied a bounded number of times.
    fn reserve(&mut self, n: usize) {
        if self.buffer.capacity() >= self.len + n {
            return;
        }
        if self.len == 0 {
            self.buffer = Vec::with_capacity(n);
        } else {
            self.buffer.truncate(self.len);
            self.buffer.reserve(n);
        }
    }

    /// Hands out the message. A raw one is taken, leaving the buffer
    /// empty: it was reserved at the frame's size as its bytes arrived, so
    /// the next message's fresh buffer costs one allocation, or none when
    /// a sent payload is there to take its place
    /// ([`Connection::adopt_spent_for`]). A decoded one
    /// is copied and the buffer kept: the decoder grows its output as it
    /// goes, and growing a fresh buffer for every message would copy (and
    /// reallocate) more than the one copy out.
    pub(super) fn take(&mut self) -> Vec<u8> {
        if self.decode {
            return self.message().to_vec();
        }
        self.buffer.truncate(self.len);
        self.len = 0;
        std::mem::take(&mut self.buffer)
    }

    /// The buffer as a `Vec` holding exactly the message, for an
    /// extension's decoder to append to; set `len` after.
    fn as_vec(&mut self) -> &mut Vec<u8> {
        self.buffer.truncate(self.len);
        &mut self.buffer
    }

    /// Copies payload bytes that start `done` bytes into their frame after
    /// the message, unmasking them on the way, for
    /// [`Connection::take_direct`] to take; text is validated block by
    /// block as it is copied, so each byte makes one trip through memory.
    pub(super) fn copy_unmasked(
        &mut self,
        bytes: &[u8],
        mask: Option<[u8; 4]>,
        done: u64,
    ) -> Result<(), InvalidUtf8> {
        let key = key_at(mask.unwrap_or_default(), done);
        if self.kind != Some(MessageKind::Text) {
            self.put_unmasked(self.len, bytes, key);
            return Ok(());
        }
        let mut at = self.len;
        for src in bytes.chunks(TEXT_BLOCK) {
            let ascii = self.put_unmasked(at, src, key);
            self.utf8
                .feed_known(&self.buffer[at..at + src.len()], ascii)?;
            at += src.len();
        }
        Ok(())
    }

    /// Writes `src` unmasked at `at` (the end of what the buffer holds so
    /// far): over bytes already initialised when the buffer has them, else
    /// appended without zero-filling first, as in a buffer that
    /// [`Connection::poll_message`] just handed out. Returns whether the
    /// bytes are all ASCII.
    fn put_unmasked(&mut self, at: usize, src: &[u8], key: [u8; 4]) -> bool {
        let end = at + src.len();
        if self.buffer.len() >= end {
            return copy_masked(&mut self.buffer[at..end], src, key);
        }
        self.buffer.truncate(at);
        extend_masked(&mut self.buffer, src, key)
    }

    /// Empties the message, releasing the allocation if a message longer
    /// than `keep` bytes grew it.
    ///
    /// The test is on the buffer's high-water mark (`buffer.len()`), not
    /// its capacity: growth doubles, so a message of exactly `keep` bytes
    /// may leave a larger capacity behind, and dropping that buffer would
    /// make every such message allocate and zero-fill it again. Doubling
    /// bounds what is kept to about twice `keep`.
    fn clear(&mut self, keep: usize) {
        self.len = 0;
        if self.buffer.len() > keep || self.buffer.capacity() > 2 * keep {
            self.buffer = Vec::new();
        }
    }
}

/// The mask key in phase for payload bytes that start `done` bytes into
/// their frame.
fn key_at(mut key: [u8; 4], done: u64) -> [u8; 4] {
    key.rotate_left((done % 4) as usize);
    key
}

/// Text is unmasked and validated in blocks of this many bytes, so the
/// validator reads what the unmasking loop has just written while it is
/// still in the first-level cache: one trip through memory for the payload,
/// not two. A multiple of 4, so the mask key stays in phase from block to
/// block. 16 KiB is half a 32 KiB first-level data cache and takes a 16 KiB
/// frame in one validator call: against 8 KiB blocks, 16 KiB emoji text
/// read 3-5% faster and 1 MiB text no slower (benches/compare, warm and
/// cold).
const TEXT_BLOCK: usize = 16 << 10;

/// Unmasks a piece of payload that starts `done` bytes into its frame and,
/// given the message's validator, validates it as text, block by block.
/// ASCII text is not looked at twice: the unmasking loop finds out that a
/// block is ASCII.
fn unmask_piece(
    piece: &mut [u8],
    mask: Option<[u8; 4]>,
    done: u64,
    utf8: Option<&mut Utf8Validator>,
) -> Result<(), InvalidUtf8> {
    match (mask.map(|key| key_at(key, done)), utf8) {
        (Some(key), Some(utf8)) => {
            for block in piece.chunks_mut(TEXT_BLOCK) {
                let ascii = unmask_text(block, key);
                utf8.feed_known(block, ascii)?;
            }
            Ok(())
        }
        (Some(key), None) => {
            apply_mask(piece, key);
            Ok(())
        }
        (None, Some(utf8)) => utf8.feed(piece),
        (None, None) => Ok(()),
    }
}

/// Payload bytes of a frame read straight into the message buffer
/// ([`Connection::direct_read_len`]) at most per call, so the buffer grows
/// with the bytes that arrive, not with the length a header declares.
const DIRECT_READ_MAX: usize = 256 << 10;

/// What the next event is and where its bytes lie: at the front of the
/// receive buffer (a length) or in the message buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ready {
    InPlace(MessageKind, usize),
    Assembled(MessageKind),
    Chunk {
        kind: MessageKind,
        in_buffer: bool,
        len: usize,
        first: bool,
        last: bool,
    },
    Ping(usize),
    Pong(usize),
    Close(usize),
}

/// How the caller takes the next message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Take {
    /// Borrowed: a single-frame message already whole in the receive
    /// buffer is unmasked and handed out where it lies.
    Lent,
    /// By ownership ([`Connection::poll_message`]): every message is
    /// unmasked while it is copied into the buffer that becomes it, never
    /// unmasked in place first.
    Owned,
}

impl Connection {
    /// Parses until the next event, the end of the buffered bytes, or an
    /// error (which fails the connection).
    pub(super) fn advance(&mut self, take: Take) -> Result<Option<Ready>, Error> {
        self.settle_assembled_reply();
        self.recv.consume(std::mem::take(&mut self.consume));
        if std::mem::take(&mut self.incoming.delivered) {
            let keep = self.config.read_buffer_size.max(1 << 20);
            self.incoming.clear(keep);
        }
        if let Some(error) = self.link.pending_error.take() {
            return Err(error);
        }
        loop {
            if !matches!(self.link.state, State::Open | State::ClosingLocal) {
                // After the peer's close frame, or once failed, nothing
                // more is read (RFC 6455 §5.5.1).
                self.recv.clear();
                return Ok(None);
            }
            match self.read {
                ReadState::Header => {
                    let (header, len) = match FrameHeader::parse(self.recv.data()) {
                        Ok(Some(parsed)) => parsed,
                        Ok(None) => return self.need_more(),
                        Err(error) => return Err(self.fail(error)),
                    };
                    let buffered = self.recv.len() - len;
                    let start = match self.start_frame(&header, buffered) {
                        Ok(start) => start,
                        Err(error) => return Err(self.fail(error)),
                    };
                    self.recv.consume(len);
                    // Acted on with the fields as they are, not stored and
                    // read back from `self.read` (see `stream`).
                    match start {
                        FrameStart::Whole(header) => return self.whole(header, take),
                        FrameStart::Then(state) => {
                            self.read = state;
                            if let ReadState::Stream {
                                header,
                                remaining,
                                done,
                            } = state
                            {
                                if let Break(result) = self.stream(header, remaining, done) {
                                    return result;
                                }
                            }
                        }
                    }
                }
                ReadState::Control(header) => {
                    let len = header.payload_len as usize;
                    if self.recv.len() < len {
                        return self.need_more();
                    }
                    if let Some(key) = header.mask {
                        apply_mask(&mut self.recv.data_mut()[..len], key);
                    }
                    self.read = ReadState::Header;
                    self.consume = len;
                    return self.on_control(header.opcode, len).map(Some);
                }
                ReadState::Stream {
                    header,
                    remaining,
                    done,
                } => match self.stream(header, remaining, done) {
                    Break(result) => return result,
                    Continue(()) => {}
                },
            }
        }
    }

    /// One step of a frame whose payload is taken out of the receive buffer
    /// as it comes ([`ReadState::Stream`]): `Break` with what `advance`
    /// returns, or `Continue` to parse on. Called with the state's fields,
    /// so a frame whose header was just parsed goes on with them as they
    /// are, not read back from `self.read`: written and at once read back
    /// in different widths, they cost a stalled load (a store-forwarding
    /// failure) on every message.
    #[inline(always)]
    fn stream(
        &mut self,
        header: FrameHeader,
        remaining: u64,
        done: u64,
    ) -> ControlFlow<Result<Option<Ready>, Error>> {
        if remaining == 0 {
            // An empty frame, or one whose payload went straight into the
            // message buffer (`take_direct`).
            self.read = ReadState::Header;
            if header.fin {
                return Break(self.finish_message());
            }
            return Continue(());
        }
        let n = remaining.min(self.recv.len() as u64) as usize;
        if n == 0 {
            return Break(self.need_more());
        }
        if !self.incoming.decode && !self.config.streaming {
            // Assembled: unmasked while copied into the message buffer, one
            // pass, and validated like bytes read straight into it. Room
            // for the rest of the frame is made at once, up to one read
            // beyond what has arrived, so a header's claim alone allocates
            // no more than a read would.
            let rest = remaining.min((n + self.config.read_buffer_size) as u64);
            self.adopt_spent();
            self.incoming.reserve(rest as usize);
            let checked = self
                .incoming
                .copy_unmasked(&self.recv.data()[..n], header.mask, done);
            self.recv.consume(n);
            self.take_direct(n, Some(checked));
            if let Some(error) = self.link.pending_error.take() {
                return Break(Err(error));
            }
            return Continue(());
        }
        // Decoded or streamed pieces are unmasked in place. Raw text is
        // validated here, in the unmasking pass; decoded text after
        // decoding, in `take_piece`.
        let raw_text = self.incoming.kind == Some(MessageKind::Text) && !self.incoming.decode;
        if unmask_piece(
            &mut self.recv.data_mut()[..n],
            header.mask,
            done,
            raw_text.then_some(&mut self.incoming.utf8),
        )
        .is_err()
        {
            return Break(Err(self.fail(ProtocolError::InvalidUtf8)));
        }
        let remaining = remaining - n as u64;
        let last = remaining == 0 && header.fin;
        self.read = if remaining == 0 {
            ReadState::Header
        } else {
            ReadState::Stream {
                header,
                remaining,
                done: done + n as u64,
            }
        };
        match self.take_piece(n, last) {
            Ok(Some(ready)) => Break(Ok(Some(ready))),
            Ok(None) if last => Break(self.finish_message()),
            Ok(None) => Continue(()),
            Err(error) => Break(Err(self.fail(error))),
        }
    }

    /// [`Connection::adopt_spent_for`] the frame in progress, sized by
    /// what remains of it.
    pub(super) fn adopt_spent(&mut self) {
        if let ReadState::Stream { remaining, .. } = self.read {
            self.adopt_spent_for(usize::try_from(remaining).unwrap_or(usize::MAX));
        }
    }

    /// A message of `len` bytes that starts in a buffer of its own (the
    /// last one was handed out with its message) starts in the payload of
    /// a message that was sent, if one of the right size was kept
    /// ([`SpentPayloads`]): memory allocated, initialised and warm.
    fn adopt_spent_for(&mut self, len: usize) {
        if self.incoming.buffer.capacity() > 0 {
            return;
        }
        if let Some(buffer) = self.link.out.spent.take(len) {
            debug_assert_eq!(self.incoming.len, 0);
            self.incoming.buffer = buffer;
        }
    }

    /// Hands out the assembled message in its buffer
    /// ([`Incoming::take`]); a raw one earns the connection a sent payload
    /// to receive a later one into.
    pub(super) fn take_message(&mut self) -> Vec<u8> {
        let raw = !self.incoming.decode;
        let message = self.incoming.take();
        if raw {
            self.link.out.spent.handed_out(message.len());
        }
        message
    }

    /// Out of complete input: wait for more, or report a transport that
    /// ended mid-connection.
    fn need_more(&mut self) -> Result<Option<Ready>, Error> {
        if !self.eof {
            return Ok(None);
        }
        self.link.end(None);
        Err(Error::UnexpectedEof)
    }

    /// Fails the connection for a peer's error.
    pub(super) fn fail(&mut self, error: ProtocolError) -> Error {
        self.read = ReadState::Header;
        self.recv.clear();
        self.consume = 0;
        self.link.fail(error)
    }

    /// Checks a frame header against the rules that need context, before any
    /// of its payload is buffered, and opens the frame; `buffered` payload
    /// bytes already follow the header in the receive buffer.
    fn start_frame(
        &mut self,
        header: &FrameHeader,
        buffered: usize,
    ) -> Result<FrameStart, ProtocolError> {
        match (self.link.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if header.opcode.is_control() {
            if header.payload_len > 125 {
                return Err(ProtocolError::ControlFrameTooLong(header.payload_len));
            }
            if !header.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if header.rsv != 0 {
                return Err(ProtocolError::ReservedBits(header.rsv));
            }
            return Ok(FrameStart::Then(ReadState::Control(*header)));
        }
        let claimed = self.extension.as_ref().map_or(0, |ext| ext.reserved_bits());
        let continuation = header.opcode == OpCode::Continuation;
        match (continuation, self.incoming.kind.is_some()) {
            (true, false) => return Err(ProtocolError::UnexpectedContinuation),
            (false, true) => return Err(ProtocolError::ExpectedContinuation),
            _ => {}
        }
        let allowed = if continuation { 0 } else { claimed };
        if header.rsv & !allowed != 0 {
            return Err(ProtocolError::ReservedBits(header.rsv));
        }
        if header.payload_len > self.config.max_frame_size as u64 {
            return Err(ProtocolError::FrameTooBig {
                size: header.payload_len,
                max: self.config.max_frame_size,
            });
        }
        if continuation && self.incoming.fragments >= self.config.max_fragments {
            return Err(ProtocolError::TooManyFragments {
                max: self.config.max_fragments,
            });
        }
        if !continuation {
            let kind = if header.opcode == OpCode::Text {
                MessageKind::Text
            } else {
                MessageKind::Binary
            };
            let decode = match self.extension.as_mut() {
                Some(ext) => ext
                    .begin_decode(kind, header.rsv)
                    .map_err(ProtocolError::Extension)?,
                None => false,
            };
            self.incoming.kind = Some(kind);
            self.incoming.fragments = 0;
            self.incoming.size = 0;
            self.incoming.decode = decode;
            self.incoming.first_chunk = true;
            self.incoming.utf8.reset();
        }
        self.incoming.fragments += 1;
        if !self.incoming.decode {
            let size = self.incoming.size + header.payload_len;
            if size > self.config.max_message_size as u64 {
                return Err(ProtocolError::MessageTooBig {
                    size,
                    max: self.config.max_message_size,
                });
            }
            self.incoming.size = size;
        }
        let whole = !continuation
            && header.fin
            && !self.incoming.decode
            && !self.config.streaming
            && header.payload_len <= buffered as u64;
        Ok(if whole {
            FrameStart::Whole(*header)
        } else {
            FrameStart::Then(ReadState::Stream {
                header: *header,
                remaining: header.payload_len,
                done: 0,
            })
        })
    }

    /// Takes `n` unmasked payload bytes from the front of the receive
    /// buffer of a decoded or streamed message: decodes, validates and
    /// appends them, or hands them out as a chunk when streaming.
    fn take_piece(&mut self, n: usize, last: bool) -> Result<Option<Ready>, ProtocolError> {
        let kind = self.incoming.kind.unwrap_or(MessageKind::Binary);
        let text = kind == MessageKind::Text;
        let streaming = self.config.streaming;
        let incoming = &mut self.incoming;
        if incoming.decode {
            if streaming {
                incoming.len = 0;
            }
            let before = incoming.len;
            let room = (self.config.max_message_size as u64).saturating_sub(incoming.size) as usize;
            if let Some(ext) = self.extension.as_mut() {
                let decoded = ext.decode(&self.recv.data()[..n], last, incoming.as_vec(), room);
                incoming.len = incoming.buffer.len();
                decoded.map_err(ProtocolError::Extension)?;
            }
            self.recv.consume(n);
            let produced = incoming.len - before;
            incoming.size += produced as u64;
            if produced > room {
                return Err(ProtocolError::MessageTooBig {
                    size: incoming.size,
                    max: self.config.max_message_size,
                });
            }
            if text
                && incoming
                    .utf8
                    .feed(&incoming.buffer[before..incoming.len])
                    .is_err()
            {
                return Err(ProtocolError::InvalidUtf8);
            }
            if !streaming || (produced == 0 && !last) {
                return Ok(None);
            }
            return self.chunk(kind, true, produced, last).map(Some);
        }
        // Streamed raw bytes are handed out from the receive buffer; their
        // text was validated as it was unmasked.
        debug_assert!(streaming, "assembled raw bytes are copied in `advance`");
        self.consume = n;
        self.chunk(kind, false, n, last).map(Some)
    }

    /// How many payload bytes of the frame in progress may be read straight
    /// into the message buffer, skipping the receive buffer and the copy
    /// out of it: those of a frame larger than the read size being
    /// assembled (not streamed or decoded) once every byte received before
    /// it has been parsed. 0 when they may not. Smaller frames keep coming
    /// through the receive buffer, so one read takes the end of one and
    /// the start of the next.
    pub(super) fn direct_read_len(&self) -> usize {
        match self.read {
            ReadState::Stream {
                header, remaining, ..
            } if remaining > 0
                && header.payload_len > self.config.read_buffer_size as u64
                && self.recv.len() == 0
                && !self.incoming.decode
                && !self.config.streaming =>
            {
                remaining.min(DIRECT_READ_MAX as u64) as usize
            }
            _ => 0,
        }
    }

    /// `n` payload bytes of the frame in progress were put after the
    /// message ([`Incoming::spare`]): read straight into it, still masked
    /// (`None`), or copied from the receive buffer by
    /// [`Incoming::copy_unmasked`], which unmasked and validated them
    /// (`Some` with its verdict). Unmasks and validates the masked ones
    /// and moves the frame on. The frame's end is handled by `advance`,
    /// like an empty frame's. A validation failure fails the connection
    /// and is reported by the next `poll_event`.
    pub(super) fn take_direct(&mut self, n: usize, copied: Option<Result<(), InvalidUtf8>>) {
        let ReadState::Stream {
            header,
            remaining,
            done,
        } = self.read
        else {
            unreachable!("direct reads happen within a frame");
        };
        let text = self.incoming.kind == Some(MessageKind::Text);
        let checked = copied.unwrap_or_else(|| {
            // Read straight in: the bytes are after the message, masked.
            let start = self.incoming.len;
            unmask_piece(
                &mut self.incoming.buffer[start..start + n],
                header.mask,
                done,
                text.then_some(&mut self.incoming.utf8),
            )
        });
        // A copy that failed validation may have stopped short of `n`.
        if checked.is_err() {
            let error = self.fail(ProtocolError::InvalidUtf8);
            self.link.pending_error = Some(error);
            return;
        }
        self.incoming.len += n;
        self.read = ReadState::Stream {
            header,
            remaining: remaining - n as u64,
            done: done + n as u64,
        };
    }

    /// A single-frame message wholly in the receive buffer: lent where it
    /// lies, unmasked and validated there ([`Ready::InPlace`]), or taken
    /// by ownership ([`Connection::take_whole`]).
    #[inline(always)]
    fn whole(&mut self, header: FrameHeader, take: Take) -> Result<Option<Ready>, Error> {
        if take == Take::Owned {
            return self.take_whole(header);
        }
        let len = header.payload_len as usize;
        // Text is validated before it is handed out; delivery does not
        // look at it again.
        let text = header.opcode == OpCode::Text;
        let utf8 = &mut self.incoming.utf8;
        let valid = unmask_piece(
            &mut self.recv.data_mut()[..len],
            header.mask,
            0,
            text.then_some(&mut *utf8),
        )
        .and_then(|()| if text { utf8.finish() } else { Ok(()) });
        if valid.is_err() {
            return Err(self.fail(ProtocolError::InvalidUtf8));
        }
        let kind = self.end_message();
        self.consume = len;
        Ok(Some(Ready::InPlace(kind, len)))
    }

    /// A single-frame message wholly in the receive buffer, taken by
    /// ownership ([`Take::Owned`]): unmasked while it is copied into a
    /// buffer of its exact length (or a sent payload's, see
    /// [`Connection::adopt_spent_for`]), text validated block by block behind
    /// the copy, and handed out. The same one pass as an assembled frame's,
    /// without the frame-in-progress bookkeeping a message arriving in
    /// pieces needs: a short message spent more time in that than in its
    /// copy.
    fn take_whole(&mut self, header: FrameHeader) -> Result<Option<Ready>, Error> {
        let len = header.payload_len as usize;
        debug_assert_eq!(self.incoming.len, 0, "a single-frame message");
        self.adopt_spent_for(len);
        self.incoming.reserve(len);
        let checked = self
            .incoming
            .copy_unmasked(&self.recv.data()[..len], header.mask, 0);
        self.consume = len;
        if checked.is_err() {
            return Err(self.fail(ProtocolError::InvalidUtf8));
        }
        self.incoming.len = len;
        self.finish_message()
    }

    /// A streamed chunk; the last one ends the message.
    fn chunk(
        &mut self,
        kind: MessageKind,
        in_buffer: bool,
        len: usize,
        last: bool,
    ) -> Result<Ready, ProtocolError> {
        if last {
            self.end_message();
            if kind == MessageKind::Text && self.incoming.utf8.finish().is_err() {
                return Err(ProtocolError::InvalidUtf8);
            }
        }
        Ok(Ready::Chunk {
            kind,
            in_buffer,
            len,
            first: std::mem::take(&mut self.incoming.first_chunk),
            last,
        })
    }

    /// The final frame of an assembled message (or an empty final frame of
    /// a streamed one) is in. Inlined, and returning what `advance` returns
    /// as it is: a `Ready` returned through memory, or wrapped in `Some`
    /// after, is copied in overlapping pieces and read back stalled (a
    /// store-forwarding failure: 13% of the samples of `read()` on 16-byte
    /// messages landed on it).
    #[inline(always)]
    fn finish_message(&mut self) -> Result<Option<Ready>, Error> {
        let kind = self.incoming.kind.unwrap_or(MessageKind::Binary);
        if self.config.streaming {
            self.incoming.len = 0;
            return match self.chunk(kind, true, 0, true) {
                Ok(ready) => Ok(Some(ready)),
                Err(error) => Err(self.fail(error)),
            };
        }
        self.end_message();
        if kind == MessageKind::Text && self.incoming.utf8.finish().is_err() {
            return Err(self.fail(ProtocolError::InvalidUtf8));
        }
        self.incoming.delivered = true;
        Ok(Some(Ready::Assembled(kind)))
    }

    fn end_message(&mut self) -> MessageKind {
        self.incoming.kind.take().unwrap_or(MessageKind::Binary)
    }

    /// Acts on a complete, unmasked control frame at the front of the
    /// receive buffer.
    fn on_control(&mut self, opcode: OpCode, len: usize) -> Result<Ready, Error> {
        let payload = &self.recv.data()[..len];
        match opcode {
            OpCode::Ping => {
                if self.config.auto_pong && self.link.state == State::Open {
                    self.link.out.queue_pong(payload);
                }
                Ok(Ready::Ping(len))
            }
            OpCode::Pong => Ok(Ready::Pong(len)),
            _ => {
                let code = match parse_close_payload(payload) {
                    Ok(frame) => frame.map(|frame| frame.code),
                    Err(error) => return Err(self.fail(error)),
                };
                if self.link.state == State::ClosingLocal {
                    self.link.finish_close_handshake();
                } else if self.config.auto_close_reply {
                    // Echo the status code (RFC 6455 §5.5.1), without the
                    // reason; an empty close is answered with an empty one.
                    self.link.send_close(code, "");
                    self.link.finish_close_handshake();
                } else {
                    self.link.state = State::ClosingRemote;
                    self.link.timers.stop_keepalive();
                }
                Ok(Ready::Close(len))
            }
        }
    }
}
