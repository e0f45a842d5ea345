//! The connection state machine: frames in, events out, the close handshake
//! and the timers.

mod buffer_pool;
mod lent;
mod outgoing;
mod read;
mod recv_buffer;
mod sender;
mod spent;
mod timers;

use std::io::IoSlice;
use std::time::Instant;

use rand::RngCore;

use crate::config::Config;
use crate::error::{Error, ProtocolError, UsageError};
use crate::event::{Chunk, Event, Message};
use crate::extension::Extension;
use crate::frame::{
    encode_close_payload, parse_close_payload, CloseCode, CloseFrame, FrameHeader, MessageKind,
    OpCode,
};
use crate::utf8::{validated, validated_string};

use lent::{Lent, ReadBuffers, Source};
use outgoing::Outgoing;
pub(crate) use outgoing::MAX_WRITE_PIECES;
use read::{Incoming, ReadState, Ready, Take};
use recv_buffer::RecvBuffer;
use sender::Hold;
pub use sender::{Sender, WriteNow};
use timers::{Timer, Timers};

/// Which end of the connection this is. Clients mask what they send and
/// expect unmasked frames; servers the reverse (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that sent the opening handshake.
    Client,
    /// The end that accepted it.
    Server,
}

/// Where the close handshake stands (RFC 6455 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's. Received messages are
    /// still delivered; nothing more can be sent.
    ClosingLocal,
    /// The peer sent a close frame that we have not answered (only with
    /// [`Config::auto_close_reply`] off). We may still send, then
    /// [`Connection::close`].
    ClosingRemote,
    /// Both close frames were exchanged, or the connection failed. Drain
    /// [`Connection::poll_transmit`], then close the transport when
    /// [`Connection::should_close_transport`] says so.
    Closed,
}

/// A WebSocket connection after the opening handshake, without I/O.
///
/// # Methods
///
/// - **Input**: [`receive`](Self::receive) (or
///   [`receive_buffer`](Self::receive_buffer) +
///   [`commit`](Self::commit) to read straight into the connection's
///   buffer), [`receive_eof`](Self::receive_eof), the sends
///   ([`send_text`](Self::send_text), [`send_binary`](Self::send_binary),
///   [`send_chunk`](Self::send_chunk), [`send_ping`](Self::send_ping),
///   [`send_pong`](Self::send_pong), [`close`](Self::close)) and
///   [`handle_timeout`](Self::handle_timeout).
/// - **Output**: [`poll_event`](Self::poll_event) (or
///   [`poll_event_with_sender`](Self::poll_event_with_sender) to reply
///   while the event is borrowed),
///   [`poll_transmit`](Self::poll_transmit) +
///   [`advance_transmit`](Self::advance_transmit),
///   [`poll_timeout`](Self::poll_timeout), and
///   [`should_close_transport`](Self::should_close_transport).
///
/// # The adapter's loop
///
/// 1. Hand received bytes in; at end of stream call `receive_eof`.
/// 2. Call `poll_event` until it returns `Ok(None)` (or an error, once),
///    acting on each event before the next call: events borrow the
///    connection's buffers. Reading more only after this keeps the receive
///    buffer bounded.
/// 3. Write everything `poll_transmit` returns, marking what was written
///    with `advance_transmit`.
/// 4. Call `poll_timeout(now)` and wake up at the deadline it returns to call
///    `handle_timeout(now)` (then back to step 2).
/// 5. Once `should_close_transport()` is true and nothing is left to
///    transmit, close the transport.
///
/// The connection reads no clock: `poll_timeout(now)` is also how it learns
/// the time, so call it after every turn of the loop.
///
/// ```
/// use rfc6455::{Config, Connection, Event, Role};
///
/// let mut server = Connection::new(Role::Server, Config::default());
/// // A masked text frame "Hello" from RFC 6455 §5.7.
/// server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
/// server.send_text("Hello").unwrap();
/// assert_eq!(server.poll_transmit(), Some(&[0x81, 0x05, b'H', b'e', b'l', b'l', b'o'][..]));
/// server.advance_transmit(7);
/// ```
pub struct Connection {
    config: Config,
    recv: RecvBuffer,
    /// The last `receive_buffer` lent this much room in the message buffer
    /// (`Incoming::spare`), not in `recv`.
    lent_direct: Option<usize>,
    /// The room the last `receive_buffer` lent in `recv`.
    lent_recv: usize,
    /// The least room `receive_buffer` offers: [`MIN_READ`], and
    /// [`Config::read_buffer_size`] once a read filled what it offered.
    read_size: usize,
    /// Bytes at the front of `recv` that the last event lent out.
    consume: usize,
    read: ReadState,
    incoming: Incoming,
    eof: bool,
    extension: Option<Box<dyn Extension>>,
    /// Scratch space for an extension's output.
    encoded: Vec<u8>,
    link: Link,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.link.role)
            .field("state", &self.link.state)
            .field("buffered_in", &self.recv.len())
            .field("out", &self.link.out)
            .field("extension", &self.extension.is_some())
            .finish_non_exhaustive()
    }
}

/// The smallest free space [`Connection::receive_buffer`] offers.
const MIN_READ: usize = 8 << 10;

/// The free space the first [`Connection::receive_buffer`] offers, while
/// nothing has been received: an idle connection (one that has sent
/// nothing since the handshake) holds this much, not [`MIN_READ`].
const FIRST_READ: usize = 512;

impl Connection {
    /// A connection in the given role. Clients draw mask keys from a CSPRNG
    /// seeded from `rand`'s thread generator.
    #[must_use]
    pub fn new(role: Role, config: Config) -> Self {
        Connection::build(role, config, None)
    }

    /// A connection whose mask keys come from `rng`, for deterministic tests.
    /// Use a cryptographically secure generator in production (RFC 6455
    /// §10.3).
    #[must_use]
    pub fn with_rng(role: Role, config: Config, rng: Box<dyn RngCore + Send>) -> Self {
        Connection::build(role, config, Some(rng))
    }

    fn build(role: Role, config: Config, rng: Option<Box<dyn RngCore + Send>>) -> Self {
        Connection {
            recv: RecvBuffer::default(),
            lent_direct: None,
            lent_recv: 0,
            read_size: MIN_READ,
            consume: 0,
            read: ReadState::Header,
            incoming: Incoming::default(),
            eof: false,
            extension: None,
            encoded: Vec::new(),
            link: Link {
                state: State::Open,
                out: Outgoing::new(role == Role::Client, rng, config.write_buffer_high_water),
                timers: Timers::new(config.keepalive, config.write_timeout),
                pending_error: None,
                close_transport: false,
                role,
                close_timeout: config.close_timeout,
            },
            config,
        }
    }

    /// Installs the extension negotiated in the handshake (see
    /// [`crate::extension`]).
    #[must_use]
    pub fn with_extension(mut self, extension: Box<dyn Extension>) -> Self {
        self.extension = Some(extension);
        self
    }

    /// This end's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.link.role
    }

    /// The close handshake's state.
    #[must_use]
    pub fn state(&self) -> State {
        self.link.state
    }

    /// The configuration the connection runs with.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ----- input -----

    /// Hands in bytes read from the transport. Bytes that arrive after the
    /// connection stopped reading (closed, or after the peer's close frame)
    /// are dropped.
    pub fn receive(&mut self, mut bytes: &[u8]) {
        self.lent_direct = None;
        self.settle_assembled_reply();
        if !self.is_reading() || bytes.is_empty() {
            return;
        }
        self.link.timers.note_activity();
        // Payload of a large frame goes straight to the message buffer,
        // unmasked as it is copied: one pass over the bytes.
        let n = self.direct_read_len().min(bytes.len());
        if n > 0 {
            if let ReadState::Stream { header, done, .. } = self.read {
                let checked = self.incoming.copy_unmasked(&bytes[..n], header.mask, done);
                self.take_direct(n, Some(checked));
            }
            bytes = &bytes[n..];
        }
        if self.is_reading() && !bytes.is_empty() {
            self.keep_received_replies(bytes.len());
            self.recv.extend(bytes);
        }
    }

    /// A reply queued from the bytes of the message assembled last takes
    /// that message's buffer (a move, not a copy) before the buffer is
    /// cleared or received into ([`lent`]).
    #[inline]
    pub(super) fn settle_assembled_reply(&mut self) {
        if self.link.out.needs_assembled() {
            let message = self.take_message();
            self.link.out.own_assembled(message);
        }
    }

    /// Replies queued from the bytes of events they answer stay in the
    /// receive buffer until written; before `room` bytes are put in the
    /// buffer where they could land on those (it was emptied, or its
    /// unconsumed tail would move to the front), the replies take copies.
    /// An adapter that writes what is queued before it reads never pays
    /// for the copy ([`lent`]).
    fn keep_received_replies(&mut self, room: usize) {
        if let Some(end) = self.link.out.received_end() {
            if !self.recv.fills_after(end, room) {
                self.link.out.own_received(self.recv.raw());
            }
        }
    }

    /// Free space to read into, at least 8 KiB: in the receive buffer, or
    /// for the payload of a frame larger than
    /// [`Config::read_buffer_size`], in the message it is assembled into.
    /// Report what was read with [`Connection::commit`]. This saves the
    /// copy [`Connection::receive`] makes.
    ///
    /// Until the first bytes arrive it offers only 512 bytes, so a
    /// connection that stays idle after the handshake holds next to no
    /// buffer memory.
    pub fn receive_buffer(&mut self) -> &mut [u8] {
        self.lent_direct = None;
        self.settle_assembled_reply();
        if self.recv.is_unallocated() {
            return self.recv.spare(FIRST_READ);
        }
        // The payload of a large frame is read straight into the message
        // buffer, in reads of at least `MIN_READ`.
        let direct = self.direct_read_len();
        if direct >= MIN_READ {
            self.lent_direct = Some(direct);
            self.adopt_spent();
            return self.incoming.spare(direct);
        }
        self.keep_received_replies(self.read_size);
        let spare = self.recv.spare(self.read_size);
        self.lent_recv = spare.len();
        spare
    }

    /// Leaves the receive buffer's memory to the next connection on this
    /// thread that reads, if the buffer holds no byte (no part of a frame
    /// still incomplete) and no reply queued from its bytes waits to be
    /// written. The next [`Connection::receive_buffer`] takes a buffer
    /// from the thread's pool, or allocates one.
    ///
    /// Call it when the transport has no input ready, when a read would
    /// wait. With many connections on one thread the kernel then copies
    /// each read into memory still in the cache, not into a buffer that
    /// waited while the other connections were served; and a connection
    /// waiting for input holds no receive buffer. The async adapter calls
    /// it whenever a read would wait; the blocking adapter does not (its
    /// reads wait in the kernel, usually on a thread of their own).
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Event, Role};
    ///
    /// // A masked text frame "Hello" from RFC 6455 §5.7, in two reads.
    /// let hello = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.receive(&hello[..4]);
    /// assert_eq!(server.poll_event(), Ok(None));
    /// // The rest has not arrived: the buffer keeps the frame's first bytes.
    /// server.release_receive_buffer();
    /// server.receive(&hello[4..]);
    /// assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
    /// assert_eq!(server.poll_event(), Ok(None));
    /// // Everything received was parsed: the memory goes to the pool.
    /// server.release_receive_buffer();
    /// server.receive(&hello);
    /// assert_eq!(server.poll_event(), Ok(Some(Event::Text("Hello"))));
    /// ```
    pub fn release_receive_buffer(&mut self) {
        if self.link.out.received_end().is_none() {
            self.recv.release();
        }
    }

    /// Marks `n` bytes of [`Connection::receive_buffer`] as received.
    ///
    /// # Panics
    ///
    /// If `n` is larger than the slice `receive_buffer` returned.
    pub fn commit(&mut self, n: usize) {
        if let Some(lent) = self.lent_direct.take() {
            assert!(
                n <= lent,
                "committed more bytes than the receive buffer had room for"
            );
            if self.is_reading() && n > 0 {
                self.take_direct(n, None);
                self.link.timers.note_activity();
            }
            return;
        }
        self.recv.commit(n);
        // A read that filled the buffer likely left more waiting: from then
        // on offer `read_buffer_size`, so a busy connection takes many
        // messages per read while a quiet one keeps the small buffer.
        if n == self.lent_recv && n > 0 {
            self.read_size = self.read_size.max(self.config.read_buffer_size);
        }
        if !self.is_reading() {
            self.recv.clear();
            self.consume = 0;
        } else if n > 0 {
            self.link.timers.note_activity();
        }
    }

    /// The transport's read side ended. Complete frames already received are
    /// still delivered; after them `poll_event` reports
    /// [`Error::UnexpectedEof`] unless the close handshake was done.
    pub fn receive_eof(&mut self) {
        match self.link.state {
            State::Closed => self.link.close_transport = true,
            State::ClosingRemote => self.link.end(None),
            State::Open | State::ClosingLocal => self.eof = true,
        }
    }

    /// Sends a text message, fragmented per [`Config::fragment_size`].
    pub fn send_text(&mut self, text: &str) -> Result<(), UsageError> {
        self.sender().send_text(text)
    }

    /// Sends a binary message, fragmented per [`Config::fragment_size`].
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), UsageError> {
        self.sender().send_binary(data)
    }

    /// Sends a whole data message of the given kind. For text, `payload`
    /// must be UTF-8; [`Connection::send_text`] guarantees it.
    pub fn send(&mut self, kind: MessageKind, payload: &[u8]) -> Result<(), UsageError> {
        self.sender().send(kind, payload)
    }

    /// Sends a message in pieces: the first call starts a message of `kind`,
    /// later calls continue it (with the same `kind`), and the call with
    /// `last` set ends it. Each piece goes out as one or more frames at once,
    /// so a large message never has to be held whole. Control frames may be
    /// sent between pieces; other messages may not.
    ///
    /// For text, each piece need not end on a code point boundary, but the
    /// pieces together must be UTF-8.
    pub fn send_chunk(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), UsageError> {
        self.sender().send_chunk(kind, data, last)
    }

    /// Sends an owned [`Message`]: text, binary, ping, pong, or close
    /// (a close without a frame closes with 1000).
    pub fn send_message(&mut self, message: &Message) -> Result<(), UsageError> {
        self.sender().send_message(message)
    }

    /// Sends an owned [`Message`], as [`Connection::send_message`] does, but
    /// takes the payload instead of copying it: a large single-frame message
    /// waits in the write queue as it is (a client masks it in
    /// place) and leaves with the bytes around it in one vectored write
    /// ([`Connection::poll_transmit_vectored`]). Small, fragmented and
    /// compressed messages are copied as usual.
    ///
    /// Once such a payload of at least 128 KiB (where glibc starts to map
    /// fresh pages for each allocation) is written, the connection may
    /// keep its buffer to receive a later message into: one for each
    /// message of at least 128 KiB that [`Connection::poll_message`]
    /// handed out, at most two buffers and 1 MiB, and only for a message
    /// that fits it (not more than twice its size). A server that answers
    /// such messages with such messages then allocates nothing per
    /// message; a connection that only sends keeps nothing. Smaller
    /// payloads go back to the allocator, which hands the chunk freed last
    /// to the next allocation, still in the cache.
    ///
    /// ```
    /// use std::io::IoSlice;
    /// use rfc6455::{Config, Connection, Message, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.send_owned(Message::Binary(vec![7; 40_000])).unwrap();
    /// server.send_owned(Message::Binary(vec![8; 40_000])).unwrap();
    /// let mut pieces = [IoSlice::new(&[]); 8];
    /// let n = server.poll_transmit_vectored(&mut pieces);
    /// // Header, payload, header, payload: one write for both.
    /// assert_eq!(n, 4);
    /// let written: usize = pieces[..n].iter().map(|piece| piece.len()).sum();
    /// assert_eq!(written, 2 * (4 + 40_000));
    /// server.advance_transmit(written);
    /// assert_eq!(server.buffered_amount(), 0);
    /// ```
    pub fn send_owned(&mut self, message: Message) -> Result<(), UsageError> {
        self.sender().send_owned(message)
    }

    /// Sends a ping with up to 125 bytes of payload.
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), UsageError> {
        self.sender().send_ping(payload)
    }

    /// Sends a pong with up to 125 bytes of payload: an answer to a ping
    /// when [`Config::auto_pong`] is off, or an unsolicited heartbeat.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), UsageError> {
        self.sender().send_pong(payload)
    }

    /// Starts the close handshake with a code and a reason of at most 123
    /// bytes, or answers the peer's close when [`Config::auto_close_reply`]
    /// is off. Nothing can be sent afterwards. The write buffer cap does not
    /// apply: a close can always be queued.
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), UsageError> {
        self.sender().close(code, reason)
    }

    /// The send side, with a transport that a large message may be written
    /// to at once, straight from the caller's bytes, when nothing is queued
    /// before it (see [`WriteNow`]); what the transport does not take is
    /// queued as usual. The tokio adapter's `send` works this way.
    pub fn sender_write_through<'a>(&'a mut self, transport: &'a mut dyn WriteNow) -> Sender<'a> {
        let mut sender = self.sender();
        sender.through = Some(transport);
        sender
    }

    /// The send side alone.
    fn sender(&mut self) -> Sender<'_> {
        Sender {
            through: None,
            lent: None,
            hold: Hold::Decided(false),
            config: &self.config,
            link: &mut self.link,
            extension: &mut self.extension,
            encoded: &mut self.encoded,
        }
    }

    /// Tells the connection the time when the deadline from
    /// [`Connection::poll_timeout`] has passed. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.track_output(false);
        self.link.timers.observe(now);
        let expired = self.link.timers.expire(now);
        if expired.write_stalled && self.link.out.buffered() > 0 {
            // The peer takes nothing: what waits cannot be delivered.
            self.link.out.discard();
            let timeout = self.config.write_timeout.unwrap_or_default();
            self.link.end(Some(Error::WriteTimeout(timeout)));
            return;
        }
        if expired.close {
            match self.link.state {
                State::ClosingLocal => self
                    .link
                    .end(Some(Error::CloseTimeout(self.config.close_timeout))),
                // A client waited for the server to close the transport
                // after the handshake; it may close it now (RFC 6455 §7.1.1).
                State::Closed => self.link.close_transport = true,
                _ => {}
            }
        }
        if self.link.state == State::Open {
            if expired.send_ping {
                self.link.out.write_frame(true, 0, OpCode::Ping, b"");
            }
            if expired.keepalive_failed {
                let timeout = self.config.keepalive.map(|k| k.timeout).unwrap_or_default();
                self.link
                    .send_close(Some(CloseCode::INTERNAL_ERROR), "keepalive timeout");
                self.link.end(Some(Error::KeepaliveTimeout(timeout)));
            }
        }
    }

    // ----- output -----

    /// The next event, `Ok(None)` when more input is needed, or the error
    /// that ended the connection (reported once; a close frame with its code
    /// is already queued for a protocol error).
    ///
    /// The event borrows the connection's buffers until the next call.
    #[must_use = "events must be handled; errors end the connection"]
    pub fn poll_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        Ok(self.poll_event_with_sender()?.map(|(event, _)| event))
    }

    /// The next message, ping, pong or close as an owned [`Message`];
    /// `Ok(None)` when more input is needed; errors as from
    /// [`Connection::poll_event`]. Pieces of messages
    /// ([`Config::streaming`]) are skipped.
    ///
    /// A message is unmasked (and its text validated) as it is copied out of
    /// the receive buffer into the buffer that becomes the message, and
    /// that buffer is handed over, not copied again: one pass over the
    /// payload, where [`Event::to_message`] after `poll_event` makes two.
    /// A message that an extension decoded is copied once out of the
    /// buffer the decoder filled. A large message may arrive in the buffer
    /// of one sent with [`Connection::send_owned`]. The adapters' `read`
    /// works this way.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Message, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    /// assert_eq!(server.poll_message(), Ok(Some(Message::Text("Hello".into()))));
    /// assert_eq!(server.poll_message(), Ok(None));
    /// ```
    #[must_use = "messages must be handled; errors end the connection"]
    pub fn poll_message(&mut self) -> Result<Option<Message>, Error> {
        loop {
            let Some(ready) = self.advance(Take::Owned)? else {
                return Ok(None);
            };
            let front = self.recv.data();
            return Ok(Some(match ready {
                Ready::Assembled(MessageKind::Binary) => Message::Binary(self.take_message()),
                Ready::Assembled(MessageKind::Text) => {
                    Message::Text(validated_string(self.take_message()))
                }
                // Not made for `Take::Owned`; copied if it were.
                Ready::InPlace(MessageKind::Binary, len) => Message::Binary(front[..len].to_vec()),
                Ready::InPlace(MessageKind::Text, len) => {
                    Message::Text(validated(&front[..len]).to_owned())
                }
                Ready::Chunk { .. } => continue,
                Ready::Ping(len) => Message::Ping(front[..len].to_vec()),
                Ready::Pong(len) => Message::Pong(front[..len].to_vec()),
                Ready::Close(len) => Message::Close(
                    parse_close_payload(&front[..len])
                        .ok()
                        .flatten()
                        .map(CloseFrame::into_owned),
                ),
            }));
        }
    }

    /// [`Connection::poll_event`], with a [`Sender`] that queues messages
    /// while the event is borrowed: a reply can be sent straight from the
    /// event's bytes, with no copy of them first.
    ///
    /// A server's large reply (a single frame of 32 KiB or more) made of
    /// the bytes of a message that arrived whole in one read is not copied
    /// at all: it is queued as a reference to the receive buffer, which
    /// keeps those bytes until they are written. Input handed in before
    /// then goes elsewhere in the buffer, or, where it would land on them,
    /// the reply takes a copy first; writing what is queued before reading
    /// more, as the adapter's loop does, avoids that copy. Such a reply made
    /// of a message assembled from several reads is queued as a reference to
    /// that message's buffer, and takes the buffer itself (a move, no copy)
    /// before the connection next uses it.
    #[must_use = "events must be handled; errors end the connection"]
    pub fn poll_event_with_sender(&mut self) -> Result<Option<(Event<'_>, Sender<'_>)>, Error> {
        self.poll_event_inner(None)
    }

    /// [`Connection::poll_event_with_sender`], with a transport the
    /// [`Sender`] may write a large reply to at once, straight from the
    /// caller's bytes, when nothing is queued before it (see [`WriteNow`]);
    /// what the transport does not take is queued as usual. The tokio
    /// adapter echoes a 64 KiB message this way without copying it.
    ///
    /// Except in a burst: while a further whole frame is buffered after
    /// the event ([`Connection::has_buffered_frame`]), what the sender
    /// sends waits in the queue, so that the replies to the burst leave
    /// together in one write once the buffered frames are handled; a
    /// large reply made of the event's bytes waits there as a reference to
    /// the receive buffer (see [`Connection::poll_event_with_sender`]).
    ///
    /// ```
    /// use std::io::IoSlice;
    /// use rfc6455::{Config, Connection, Event, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// // A masked 40,000-byte binary frame, all zeros masked with 0.
    /// let mut frame = vec![0x82, 0xFE, 0x9C, 0x40, 0, 0, 0, 0];
    /// frame.resize(frame.len() + 40_000, 0);
    /// server.receive(&frame);
    /// let mut wire = Vec::new();
    /// let mut transport = |bufs: &[IoSlice<'_>]| {
    ///     bufs.iter().map(|buf| { wire.extend_from_slice(buf); buf.len() }).sum()
    /// };
    /// let (event, mut sender) = server.poll_event_write_through(&mut transport).unwrap().unwrap();
    /// let Event::Binary(data) = event else { unreachable!() };
    /// sender.send_binary(data).unwrap();
    /// assert_eq!(wire.len(), 4 + 40_000); // written through whole
    /// assert_eq!(server.poll_transmit(), None); // nothing was queued
    /// ```
    #[must_use = "events must be handled; errors end the connection"]
    pub fn poll_event_write_through<'a>(
        &'a mut self,
        transport: &'a mut dyn WriteNow,
    ) -> Result<Option<(Event<'a>, Sender<'a>)>, Error> {
        self.poll_event_inner(Some(transport))
    }

    fn poll_event_inner<'a>(
        &'a mut self,
        through: Option<&'a mut dyn WriteNow>,
    ) -> Result<Option<(Event<'a>, Sender<'a>)>, Error> {
        let Some(ready) = self.advance(Take::Lent)? else {
            return Ok(None);
        };
        let lent = match ready {
            Ready::InPlace(_, len) => Some(Lent::new(
                &self.recv.data()[..len],
                Source::Received {
                    at: self.recv.start(),
                },
            )),
            Ready::Assembled(_) if !self.incoming.decode => {
                Some(Lent::new(self.incoming.message(), Source::Assembled))
            }
            _ => None,
        };
        // Whether replies wait is decided when one is sent
        // (`Hold::IfWholeFrame`): an event that gets no reply costs no
        // look at the next frame's header.
        let hold = if through.is_some() && self.header_next() {
            Hold::IfWholeFrame(unparsed(&self.recv, self.consume))
        } else {
            Hold::Decided(false)
        };
        let front = self.recv.data();
        let event = match ready {
            Ready::InPlace(MessageKind::Binary, len) => Event::Binary(&front[..len]),
            // Text was validated as it arrived (`advance` fails the
            // connection on the piece with a bad byte), so delivery only
            // produces the `&str`.
            Ready::InPlace(MessageKind::Text, len) => Event::Text(validated(&front[..len])),
            Ready::Assembled(MessageKind::Binary) => Event::Binary(self.incoming.message()),
            Ready::Assembled(MessageKind::Text) => Event::Text(validated(self.incoming.message())),
            Ready::Chunk {
                kind,
                in_buffer,
                len,
                first,
                last,
            } => Event::Chunk(Chunk {
                kind,
                data: if in_buffer {
                    &self.incoming.message()[..len]
                } else {
                    &front[..len]
                },
                first,
                last,
            }),
            Ready::Ping(len) => Event::Ping(&front[..len]),
            Ready::Pong(len) => Event::Pong(&front[..len]),
            // Checked when it arrived.
            Ready::Close(len) => Event::Close(parse_close_payload(&front[..len]).ok().flatten()),
        };
        let sender = Sender {
            through,
            lent,
            hold,
            config: &self.config,
            link: &mut self.link,
            extension: &mut self.extension,
            encoded: &mut self.encoded,
        };
        Ok(Some((event, sender)))
    }

    /// The bytes to write to the transport next, if any. Mark what was
    /// written with [`Connection::advance_transmit`]; until then the same
    /// bytes (and possibly more) are returned.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        self.link.out.poll(read_buffers(&self.recv, &self.incoming))
    }

    /// The bytes to write next as pieces, in order, for a vectored write:
    /// fills the front of `pieces` and returns how many it filled, 0 when
    /// nothing waits. The first piece is what [`Connection::poll_transmit`]
    /// returns; there are several when owned payloads were queued
    /// ([`Connection::send_owned`]). Mark what was written with
    /// [`Connection::advance_transmit`].
    pub fn poll_transmit_vectored<'a>(&'a mut self, pieces: &mut [IoSlice<'a>]) -> usize {
        self.link
            .out
            .poll_vectored(pieces, read_buffers(&self.recv, &self.incoming))
    }

    /// Marks `n` bytes of [`Connection::poll_transmit`] (or of the pieces
    /// from [`Connection::poll_transmit_vectored`]) as written.
    ///
    /// # Panics
    ///
    /// If `n` is more than the bytes waiting.
    pub fn advance_transmit(&mut self, n: usize) {
        self.link.out.advance(n);
        self.track_output(n > 0);
    }

    fn track_output(&mut self, progressed: bool) {
        let waiting = self.link.out.buffered() > 0;
        self.link.timers.track_output(waiting, progressed);
    }

    /// Bytes waiting to be written.
    #[must_use]
    pub fn buffered_amount(&self) -> usize {
        self.link.out.buffered()
    }

    /// Whether the write buffer is above [`Config::write_buffer_high_water`]:
    /// an adapter should flush before accepting more messages.
    #[must_use]
    pub fn is_write_buffer_high(&self) -> bool {
        self.link.out.buffered() >= self.config.write_buffer_high_water
    }

    /// Whether the bytes received hold a whole frame not yet parsed, after
    /// the event last handed out: the next [`Connection::poll_event`] has
    /// something to work on without reading. An adapter may hold back the
    /// reply to a message while this is true, and write the replies to a
    /// burst of requests together before it next waits for input.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// // Two masked text frames, "Hi" and "Ho", in one read.
    /// server.receive(&[0x81, 0x82, 0, 0, 0, 0, b'H', b'i', 0x81, 0x82, 0, 0, 0, 0, b'H', b'o']);
    /// assert!(server.has_buffered_frame());
    /// assert!(server.poll_event().unwrap().is_some()); // "Hi"
    /// assert!(server.has_buffered_frame()); // "Ho" is in
    /// assert!(server.poll_event().unwrap().is_some()); // "Ho"
    /// assert!(!server.has_buffered_frame());
    /// ```
    #[must_use]
    pub fn has_buffered_frame(&self) -> bool {
        self.header_next() && holds_whole_frame(unparsed(&self.recv, self.consume))
    }

    /// Frames are still read, and what comes next is a frame's header (no
    /// frame is part-read).
    fn header_next(&self) -> bool {
        self.read == ReadState::Header && self.is_reading()
    }

    /// Takes the current time and returns the next deadline at which
    /// [`Connection::handle_timeout`] must be called, if any.
    #[must_use]
    pub fn poll_timeout(&mut self, now: Instant) -> Option<Instant> {
        self.track_output(false);
        self.link.timers.observe(now);
        self.link.timers.next_deadline()
    }

    /// Whether the adapter should close the transport once
    /// [`Connection::poll_transmit`] is drained: a server after the close
    /// handshake (it closes first, RFC 6455 §7.1.1), a client once the server
    /// closed or the close timeout passed, and either end after a failure.
    #[must_use]
    pub fn should_close_transport(&self) -> bool {
        self.link.close_transport
    }

    fn is_reading(&self) -> bool {
        matches!(self.link.state, State::Open | State::ClosingLocal)
    }
}

/// The received bytes after those the last event lent.
fn unparsed(recv: &RecvBuffer, consume: usize) -> &[u8] {
    recv.data().get(consume..).unwrap_or_default()
}

/// Whether `bytes` start with a whole frame: its header and all its
/// payload. A header the next poll rejects counts as one too: it is
/// something to work on without reading.
fn holds_whole_frame(bytes: &[u8]) -> bool {
    match FrameHeader::parse(bytes) {
        Ok(Some((header, len))) => header.payload_len <= (bytes.len() - len) as u64,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// The parts of a connection that closing and failing touch, apart from the
/// read side, so a failure can be recorded while an event still borrows the
/// receive buffer.
struct Link {
    state: State,
    out: Outgoing,
    timers: Timers,
    /// An error to report from the next `poll_event`.
    pending_error: Option<Error>,
    close_transport: bool,
    role: Role,
    close_timeout: std::time::Duration,
}

impl Link {
    /// Queues a close frame (no status code when `code` is `None`).
    fn send_close(&mut self, code: Option<CloseCode>, reason: &str) {
        let frame = code.map(|code| CloseFrame::new(code, reason));
        let mut payload = [0; 125];
        let len = encode_close_payload(frame.as_ref(), &mut payload);
        self.out.write_close(&payload[..len]);
    }

    /// Both close frames are exchanged.
    fn finish_close_handshake(&mut self) {
        self.state = State::Closed;
        self.timers.stop_keepalive();
        match self.role {
            Role::Server => {
                self.close_transport = true;
                self.timers.close = Timer::Off;
            }
            // The client waits for the server to close the transport.
            Role::Client => self.timers.close = Timer::Requested(self.close_timeout),
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with the
    /// error's code unless ours was sent already, then the transport closes.
    fn fail(&mut self, error: ProtocolError) -> Error {
        if matches!(self.state, State::Open | State::ClosingRemote) {
            let mut reason = error.to_string();
            truncate_at_char_boundary(&mut reason, CloseFrame::MAX_REASON_LEN);
            self.send_close(Some(error.close_code()), &reason);
        }
        self.end(None);
        Error::Protocol(error)
    }

    /// Ends the connection without (more of) a close handshake: the
    /// transport is to be closed, no timer runs, and `error`, if any, is
    /// reported by the next `poll_event`.
    fn end(&mut self, error: Option<Error>) {
        self.state = State::Closed;
        self.close_transport = true;
        self.timers.stop_keepalive();
        self.timers.close = Timer::Off;
        if error.is_some() {
            self.pending_error = error;
        }
    }
}

fn truncate_at_char_boundary(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// Where the write queue finds replies lent from the read buffers. A free
/// function, not a method: the write queue beside these is borrowed mutably.
fn read_buffers<'a>(recv: &'a RecvBuffer, incoming: &'a Incoming) -> ReadBuffers<'a> {
    ReadBuffers {
        received: recv.raw(),
        assembled: incoming.message(),
    }
}
