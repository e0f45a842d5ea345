//! The full read path of a `Connection`, in either role.
//!
//! The input chooses the role, the configuration (streaming, receive buffer
//! size, limits, automatic replies, keepalive), an extension (a toy one
//! that claims reserved bits and expands, or fails on, what it decodes, or
//! permessage-deflate with input-chosen parameters, negotiated as the
//! handshake does),
//! what the application does (echo what it receives, close after some
//! event), how the wire bytes are cut into pieces, and whether each piece
//! goes in through `receive` or `receive_buffer` + `commit`. Checked:
//!
//! - nothing panics; `poll_event` yields events, then `Ok(None)` or one
//!   error, after which it yields nothing more;
//! - events keep their documented bounds (control payloads, close codes,
//!   message size, UTF-8 text, chunk flags);
//! - without timers, feeding the bytes whole gives the same messages,
//!   control events and error as feeding them in pieces (with an extension,
//!   which of several errors in one message is found first may differ);
//! - every byte the connection writes parses as frames of its role, and a
//!   connection of the other role reads them without a protocol error:
//!   pongs answer pings in order (the last ping always gets one), the echoed
//!   messages arrive intact, and the close frame, if any, carries the code
//!   this side's events and errors call for.
//!
//! Input layout: seven bytes of settings (see [`Setup::new`]), a chunk plan
//! (see the `rfc6455_fuzz` crate docs; descriptor bit 5 selects
//! `receive_buffer` + `commit`, bit 6 skips polling events after the piece,
//! bit 7 advances the clock; in the plan's length byte, bit 5 echoes whole
//! messages through the event's lent `Sender` instead of `send`, bit 6
//! writes out at most [`LAZY_WRITE`] bytes after each piece, so replies
//! queued by reference to the read buffers wait while more input arrives,
//! and bit 7 counts piece lengths in KiB, for large frames arriving whole),
//! then the bytes the peer sent.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rfc6455::deflate::DeflateConfig;
use rfc6455::extension::{Extension, ExtensionError};
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::{
    Config, Connection, Error, Event, Keepalive, MessageKind, ProtocolError, Role, State,
};
use rfc6455_fuzz::{pieces_in_units, split_plan};

/// What the connection reported, owned; streamed chunks are joined into the
/// message they form, so runs with different chunking compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

/// The input's choices.
#[derive(Debug, Clone)]
struct Setup {
    role: Role,
    config: Config,
    /// Send every received message back.
    echo: bool,
    /// Echo whole messages from the borrowed event through the lent
    /// `Sender` (`poll_event_with_sender`): large replies are queued as
    /// references to the read buffers.
    lent_echo: bool,
    /// After each piece, write out at most [`LAZY_WRITE`] bytes.
    lazy_write: bool,
    /// Piece lengths are in this many bytes (1, or 1024).
    piece_unit: usize,
    /// Call `Connection::close` after this many items.
    close_after: Option<usize>,
    /// Report the end of the stream after the last piece.
    eof: bool,
    /// Drive the clock: keepalive pings, keepalive and close timeouts.
    timers: bool,
    /// Seed of the client's mask keys.
    seed: u8,
    extension: Option<Toy>,
    /// permessage-deflate, when the toy is off.
    deflate: Option<DeflateConfig>,
}

/// A toy extension claiming `bits`. Out: XOR with 0x55. In (on messages
/// whose first frame has a claimed bit set): XOR with 0x55, each byte
/// written `copies` times, like a decompressor; it can fail on byte 0xEE
/// or on binary messages, and can ignore the room it is given (the
/// connection must then catch the excess itself).
#[derive(Debug, Clone, Copy)]
struct Toy {
    bits: u8,
    copies: usize,
    honest: bool,
    reject_byte: bool,
    reject_binary: bool,
}

impl Toy {
    /// The peer's counterpart: decodes exactly what `encode` wrote.
    fn inverse(self) -> Toy {
        Toy {
            bits: self.bits,
            copies: 1,
            honest: true,
            reject_byte: false,
            reject_binary: false,
        }
    }
}

impl Extension for Toy {
    fn reserved_bits(&self) -> u8 {
        self.bits
    }

    fn encode(
        &mut self,
        _kind: MessageKind,
        payload: &[u8],
        _first: bool,
        _last: bool,
        out: &mut Vec<u8>,
    ) -> Result<u8, ExtensionError> {
        out.extend(payload.iter().map(|b| b ^ 0x55));
        Ok(self.bits)
    }

    fn begin_decode(&mut self, kind: MessageKind, rsv: u8) -> Result<bool, ExtensionError> {
        if self.reject_binary && kind == MessageKind::Binary {
            return Err(ExtensionError::Failed("binary refused".into()));
        }
        Ok(rsv & self.bits != 0)
    }

    fn decode(
        &mut self,
        input: &[u8],
        _last: bool,
        out: &mut Vec<u8>,
        max_output: usize,
    ) -> Result<(), ExtensionError> {
        if self.reject_byte && input.contains(&0xEE) {
            return Err(ExtensionError::InvalidData("byte 0xEE".into()));
        }
        if self.honest && input.len() * self.copies > max_output {
            return Err(ExtensionError::TooBig { max: max_output });
        }
        for &byte in input {
            out.extend(std::iter::repeat_n(byte ^ 0x55, self.copies));
        }
        Ok(())
    }
}

impl Setup {
    /// Reads the seven settings bytes:
    ///
    /// 0. bit 0 client role; 1 streaming; 2 no auto pong; 3 no auto close
    ///    reply; 4 echo; 5 end of stream; 6 timers; 7 local close.
    /// 1. bits 0-3 receive buffer size (a power of two); 4-6 frame limit;
    ///    7 fragment echoed messages.
    /// 2. bits 0-2 message limit; 3-5 fragment limit; 6-7 write buffer
    ///    high-water mark (which coalesces pongs).
    /// 3. bits 0-3 items before the local close (0: before any input);
    ///    4-7 echo fragment size.
    /// 4. bit 0 keepalive; 1-2 its interval, 3-4 its timeout; 5-7 the
    ///    close timeout (seconds).
    /// 5. seed of the client's mask keys.
    /// 6. bit 0 the toy extension; 1-2 its expansion (0 to 3 copies); 3-4
    ///    the bits it claims (RSV1, RSV2, RSV3, all); 5 it ignores its room;
    ///    6 it fails on 0xEE; 7 it refuses binary messages.
    ///    Without the toy (bit 0 clear), bit 1 installs permessage-deflate:
    ///    bits 2-4 its window bits (9 + n, at most 15) both ways, 5
    ///    server_no_context_takeover, 6 client_no_context_takeover, 7
    ///    compress every message (threshold 0, else the default 32).
    /// `plan` is the chunk plan's length byte, whose top bits are flags
    /// (see the target's docs).
    fn new(bytes: [u8; 7], plan: u8) -> Setup {
        const FRAME: [usize; 8] = [0, 1, 125, 126, 1000, 0xFFFF, 0x1_0000, 1 << 20];
        const MESSAGE: [usize; 8] = [0, 1, 125, 126, 1000, 0x1_0000, 0x1_0001, 1 << 20];
        const FRAGMENTS: [usize; 8] = [0, 1, 2, 3, 4, 16, 256, 1 << 17];
        const HIGH_WATER: [usize; 4] = [0, 8, 128, 128 << 10];
        let [flags, sizes, limits, app, time, seed, extension] = bytes;
        let bit = |byte: u8, n: u32| byte >> n & 1 != 0;
        let mut config = Config::default();
        config.streaming = bit(flags, 1);
        config.auto_pong = !bit(flags, 2);
        config.auto_close_reply = !bit(flags, 3);
        config.read_buffer_size = 1 << (sizes & 0x0F);
        config.max_frame_size = FRAME[usize::from(sizes >> 4 & 7)];
        config.fragment_size = bit(sizes, 7).then_some(usize::from(app >> 4) + 1);
        config.max_message_size = MESSAGE[usize::from(limits & 7)];
        config.max_fragments = FRAGMENTS[usize::from(limits >> 3 & 7)];
        config.write_buffer_high_water = HIGH_WATER[usize::from(limits >> 6)];
        let seconds = |n: u8| Duration::from_secs(u64::from(n) + 1);
        config.keepalive =
            bit(time, 0).then(|| Keepalive::new(seconds(time >> 1 & 3), seconds(time >> 3 & 3)));
        config.close_timeout = seconds(time >> 5);
        Setup {
            role: if bit(flags, 0) {
                Role::Client
            } else {
                Role::Server
            },
            config,
            echo: bit(flags, 4),
            lent_echo: bit(plan, 5),
            lazy_write: bit(plan, 6),
            piece_unit: if bit(plan, 7) { 1024 } else { 1 },
            close_after: bit(flags, 7).then_some(usize::from(app & 0x0F)),
            eof: bit(flags, 5),
            timers: bit(flags, 6),
            seed,
            extension: bit(extension, 0).then_some(Toy {
                bits: [0b100, 0b010, 0b001, 0b111][usize::from(extension >> 3 & 3)],
                copies: usize::from(extension >> 1 & 3),
                honest: !bit(extension, 5),
                reject_byte: bit(extension, 6),
                reject_binary: bit(extension, 7),
            }),
            deflate: (!bit(extension, 0) && bit(extension, 1)).then(|| {
                let bits = (9 + (extension >> 2 & 7)).min(15);
                DeflateConfig {
                    server_max_window_bits: bits,
                    client_max_window_bits: bits,
                    server_no_context_takeover: bit(extension, 5),
                    client_no_context_takeover: bit(extension, 6),
                    min_size: if bit(extension, 7) { 0 } else { 32 },
                    ..DeflateConfig::default()
                }
            }),
        }
    }

    /// The reserved bits the extension claims.
    fn claimed(&self) -> u8 {
        match (self.extension, &self.deflate) {
            (Some(toy), _) => toy.bits,
            (None, Some(_)) => 0b100,
            (None, None) => 0,
        }
    }

    /// A connection in `role` with the input's extension: the toy (or its
    /// inverse, for the peer), or permessage-deflate as the handshake
    /// would agree it for `role` (both roles from one negotiation, so the
    /// peer reads what this side writes).
    fn connection(&self, role: Role, config: Config, peer: bool) -> Connection {
        let rng = rand::rngs::StdRng::seed_from_u64(u64::from(self.seed));
        let conn = Connection::with_rng(role, config, Box::new(rng));
        if let Some(toy) = self.extension {
            let toy = if peer { toy.inverse() } else { toy };
            return conn.with_extension(Box::new(toy));
        }
        let Some(deflate) = &self.deflate else {
            return conn;
        };
        let server = deflate
            .accept_offer(&deflate.offer())
            .expect("a configuration accepts its own offer");
        let agreement = match role {
            Role::Server => server,
            Role::Client => deflate
                .accept_response(&[server.response().clone()])
                .expect("a configuration accepts the answer to its own offer")
                .expect("the answer accepts permessage-deflate"),
        };
        conn.with_extension(Box::new(agreement.into_extension()))
    }
}

/// The application on top of the connection, and what it observed.
#[derive(Debug, Default)]
struct App {
    items: Vec<Item>,
    error: Option<Error>,
    /// A streamed message in progress: its kind, bytes so far, and whether
    /// every piece of it was echoed.
    partial: Option<(MessageKind, Vec<u8>, bool)>,
    close_received: bool,
    /// The code of the close frame this side queued (`Some(None)`: one
    /// without a status code).
    close_sent: Option<Option<u16>>,
    /// The protocol error whose close frame was queued: its reason is a
    /// prefix of the error's text.
    failure_reason: Option<String>,
    /// Payloads of the pings the connection must answer, in order.
    pings_to_answer: Vec<Vec<u8>>,
    /// Messages sent back whole.
    echoed: Vec<(MessageKind, Vec<u8>)>,
    /// Everything the connection wrote.
    wire: Vec<u8>,
}

impl App {
    /// Polls events until the connection needs more input.
    fn poll(&mut self, setup: &Setup, conn: &mut Connection) {
        loop {
            let polled = if setup.echo && setup.lent_echo {
                conn.poll_event_with_sender().map(|polled| {
                    polled.map(|(event, mut sender)| {
                        let echoed = match &event {
                            Event::Text(text) => sender.send_text(text).is_ok(),
                            Event::Binary(data) => sender.send_binary(data).is_ok(),
                            _ => false,
                        };
                        (Owned::from(event), Some(echoed))
                    })
                })
            } else {
                conn.poll_event()
                    .map(|event| event.map(|event| (Owned::from(event), None)))
            };
            let (event, lent_echoed) = match polled {
                Ok(None) => return,
                Ok(Some(polled)) => polled,
                Err(error) => {
                    assert!(
                        self.error.is_none(),
                        "second error {error:?} after {:?}",
                        self.error
                    );
                    assert_eq!(conn.state(), State::Closed, "{error:?} ends the connection");
                    assert!(
                        conn.should_close_transport(),
                        "{error:?} closes the transport"
                    );
                    self.on_error(&error);
                    self.error = Some(error);
                    return;
                }
            };
            assert!(self.error.is_none(), "{event:?} after {:?}", self.error);
            assert!(!self.close_received, "{event:?} after the close frame");
            self.on_event(setup, conn, event, lent_echoed);
        }
    }

    /// `lent_echoed`: whether a whole message was already sent back
    /// through the event's lent `Sender` (`None`: it was not tried).
    fn on_event(
        &mut self,
        setup: &Setup,
        conn: &mut Connection,
        event: Owned,
        lent_echoed: Option<bool>,
    ) {
        let config = &setup.config;
        let item = match event {
            Owned::Message(kind, data) => {
                assert!(!config.streaming, "a whole message while streaming");
                assert!(data.len() <= config.max_message_size);
                let echoed =
                    lent_echoed.unwrap_or_else(|| setup.echo && conn.send(kind, &data).is_ok());
                if echoed {
                    self.echoed.push((kind, data.clone()));
                }
                Item::Message(kind, data)
            }
            Owned::Chunk {
                kind,
                data,
                first,
                last,
            } => {
                assert!(config.streaming, "a chunk without streaming");
                assert!(
                    !data.is_empty() || last,
                    "an empty chunk that is not the last"
                );
                let echoed = setup.echo && conn.send_chunk(kind, &data, last).is_ok();
                let (started, mut message, all_echoed) = match self.partial.take() {
                    Some(partial) => {
                        assert!(!first, "a first chunk inside a message");
                        partial
                    }
                    None => {
                        assert!(first, "a message that does not start with its first chunk");
                        (kind, Vec::new(), true)
                    }
                };
                assert_eq!(started, kind, "a message changed kind");
                message.extend_from_slice(&data);
                assert!(message.len() <= config.max_message_size);
                if !last {
                    self.partial = Some((kind, message, all_echoed && echoed));
                    return;
                }
                if kind == MessageKind::Text {
                    assert!(
                        std::str::from_utf8(&message).is_ok(),
                        "invalid text delivered"
                    );
                }
                if all_echoed && echoed {
                    self.echoed.push((kind, message.clone()));
                }
                Item::Message(kind, message)
            }
            Owned::Ping(payload) => {
                assert!(payload.len() <= 125);
                if config.auto_pong && conn.state() == State::Open {
                    self.pings_to_answer.push(payload.clone());
                }
                Item::Ping(payload)
            }
            Owned::Pong(payload) => {
                assert!(payload.len() <= 125);
                Item::Pong(payload)
            }
            Owned::Close(frame) => {
                self.close_received = true;
                self.partial = None;
                if let Some((code, reason)) = &frame {
                    assert!(
                        rfc6455::CloseCode(*code).is_valid_on_wire(),
                        "close code {code}"
                    );
                    assert!(reason.len() <= 123);
                }
                let code = frame.as_ref().map(|(code, _)| *code);
                if self.close_sent.is_some() {
                    assert_eq!(conn.state(), State::Closed, "our close was answered");
                } else if config.auto_close_reply {
                    assert_eq!(conn.state(), State::Closed, "the close was echoed");
                    self.close_sent = Some(code);
                } else {
                    // What an application does with the reply left to it.
                    assert_eq!(conn.state(), State::ClosingRemote);
                    let reply = code.unwrap_or(1000);
                    conn.close(reply, "bye").expect("answering a close");
                    assert_eq!(conn.state(), State::Closed);
                    self.close_sent = Some(Some(reply));
                }
                Item::Close(frame)
            }
        };
        self.items.push(item);
        if setup.close_after == Some(self.items.len()) && conn.state() == State::Open {
            conn.close(1000, "").expect("closing an open connection");
            assert_eq!(conn.state(), State::ClosingLocal);
            self.close_sent = Some(Some(1000));
        }
    }

    fn on_error(&mut self, error: &Error) {
        match error {
            Error::Protocol(error) => {
                assert!(error.close_code().is_sendable(), "{error:?}");
                if self.close_sent.is_none() {
                    self.close_sent = Some(Some(error.close_code().0));
                    self.failure_reason = Some(error.to_string());
                }
            }
            Error::KeepaliveTimeout(_) => {
                assert!(self.close_sent.is_none());
                self.close_sent = Some(Some(1011));
            }
            // Ends without a close frame.
            _ => {}
        }
    }

    /// Writes out everything the connection has to send.
    fn drain(&mut self, conn: &mut Connection) {
        while let Some(bytes) = conn.poll_transmit() {
            assert!(!bytes.is_empty());
            self.wire.extend_from_slice(bytes);
            let n = bytes.len();
            conn.advance_transmit(n);
        }
        assert_eq!(conn.buffered_amount(), 0);
    }

    /// Writes out at most `limit` bytes of what the connection has to
    /// send, as a transport that takes little at a time would.
    fn drain_some(&mut self, conn: &mut Connection, mut limit: usize) {
        while limit > 0 {
            let Some(bytes) = conn.poll_transmit() else {
                return;
            };
            let n = bytes.len().min(limit);
            self.wire.extend_from_slice(&bytes[..n]);
            conn.advance_transmit(n);
            limit -= n;
        }
    }
}

/// What a lazy transport takes after each piece ([`Setup::lazy_write`]).
const LAZY_WRITE: usize = 1000;

/// An event copied out of the connection's buffers.
#[derive(Debug)]
enum Owned {
    Message(MessageKind, Vec<u8>),
    Chunk {
        kind: MessageKind,
        data: Vec<u8>,
        first: bool,
        last: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

impl From<Event<'_>> for Owned {
    fn from(event: Event<'_>) -> Owned {
        match event {
            Event::Text(text) => Owned::Message(MessageKind::Text, text.as_bytes().to_vec()),
            Event::Binary(data) => Owned::Message(MessageKind::Binary, data.to_vec()),
            Event::Chunk(chunk) => Owned::Chunk {
                kind: chunk.kind,
                data: chunk.data.to_vec(),
                first: chunk.first,
                last: chunk.last,
            },
            Event::Ping(data) => Owned::Ping(data.to_vec()),
            Event::Pong(data) => Owned::Pong(data.to_vec()),
            Event::Close(frame) => {
                Owned::Close(frame.map(|frame| (frame.code.0, frame.reason.into_owned())))
            }
        }
    }
}

/// Hands `piece` in through the connection's own buffer.
fn commit_piece(conn: &mut Connection, mut piece: &[u8]) {
    while !piece.is_empty() {
        let buffer = conn.receive_buffer();
        assert!(!buffer.is_empty(), "receive_buffer offers room");
        let n = buffer.len().min(piece.len());
        buffer[..n].copy_from_slice(&piece[..n]);
        conn.commit(n);
        piece = &piece[n..];
    }
}

/// Moves the clock by `step` and lets the connection act on it.
fn tick(setup: &Setup, conn: &mut Connection, app: &mut App, now: &mut Instant, step: Duration) {
    *now += step;
    let _ = conn.poll_timeout(*now);
    conn.handle_timeout(*now);
    app.poll(setup, conn);
    app.drain(conn);
}

/// Runs the connection over `wire`, cut per `plan` (whole when empty).
fn run(setup: &Setup, plan: &[u8], wire: &[u8]) -> App {
    let mut conn = setup.connection(setup.role, setup.config.clone(), false);
    let mut app = App::default();
    let mut now = Instant::now();
    if setup.close_after == Some(0) {
        conn.close(1000, "").expect("closing a new connection");
        app.close_sent = Some(Some(1000));
        app.drain(&mut conn);
    }
    let mut left = wire.len();
    for (piece, descriptor) in pieces_in_units(plan, wire, setup.piece_unit) {
        left -= piece.len();
        if descriptor & 0x20 == 0 {
            conn.receive(piece);
        } else {
            commit_piece(&mut conn, piece);
        }
        if descriptor & 0x40 == 0 || left == 0 {
            app.poll(setup, &mut conn);
        }
        // Drained before the clock moves, as an adapter whose transport
        // takes everything would; or only in part.
        if setup.lazy_write {
            app.drain_some(&mut conn, LAZY_WRITE);
        } else {
            app.drain(&mut conn);
        }
        if setup.timers && descriptor & 0x80 != 0 {
            tick(
                setup,
                &mut conn,
                &mut app,
                &mut now,
                Duration::from_millis(700),
            );
        }
    }
    app.poll(setup, &mut conn);
    app.drain(&mut conn);
    if setup.eof {
        conn.receive_eof();
        app.poll(setup, &mut conn);
        app.drain(&mut conn);
        assert!(
            app.error.is_some() || app.close_received,
            "the stream ended mid-connection without an error"
        );
    }
    if setup.timers {
        // Let the pending deadlines pass: keepalive pings and failure, the
        // close timeout.
        for _ in 0..8 {
            let Some(deadline) = conn.poll_timeout(now) else {
                break;
            };
            let step = deadline.saturating_duration_since(now);
            tick(setup, &mut conn, &mut app, &mut now, step);
        }
    }
    app
}

/// `needles` appear in `haystack` in order (not necessarily adjacent).
fn is_subsequence<T: PartialEq>(needles: &[T], haystack: &[T]) -> bool {
    let mut haystack = haystack.iter();
    needles.iter().all(|needle| haystack.any(|x| x == needle))
}

/// Checks what the connection wrote: frame by frame, then through a
/// connection of the other role.
fn check_wire(setup: &Setup, app: &App) {
    // Frame by frame.
    let claimed = setup.claimed();
    let mut at = &app.wire[..];
    while !at.is_empty() {
        let (header, len) = FrameHeader::parse(at)
            .expect("our own frames parse")
            .expect("whole frames are written");
        assert_eq!(
            header.mask.is_some(),
            setup.role == Role::Client,
            "masking direction"
        );
        let first = matches!(header.opcode, OpCode::Text | OpCode::Binary);
        let allowed = if first { claimed } else { 0 };
        assert_eq!(header.rsv & !allowed, 0, "reserved bits {header:?}");
        if header.opcode.is_control() {
            assert!(header.fin && header.payload_len <= 125, "{header:?}");
        }
        at = &at[len..];
        assert!(
            header.payload_len as usize <= at.len(),
            "whole frames are written"
        );
        at = &at[header.payload_len as usize..];
        if header.opcode == OpCode::Close {
            assert!(at.is_empty(), "{} bytes after the close frame", at.len());
        }
    }

    // Through the peer.
    let peer_role = match setup.role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    let mut config = Config::default();
    config.auto_pong = false;
    config.auto_close_reply = false;
    config.max_message_size = usize::MAX;
    config.max_fragments = usize::MAX;
    let mut peer = setup.connection(peer_role, config, true);
    peer.receive(&app.wire);
    let mut messages = Vec::new();
    let mut pings = Vec::new();
    let mut pongs = Vec::new();
    let mut close = None;
    loop {
        match peer.poll_event() {
            Ok(None) => break,
            Ok(Some(Event::Text(text))) => {
                messages.push((MessageKind::Text, text.as_bytes().to_vec()));
            }
            Ok(Some(Event::Binary(data))) => messages.push((MessageKind::Binary, data.to_vec())),
            Ok(Some(Event::Ping(data))) => pings.push(data.to_vec()),
            Ok(Some(Event::Pong(data))) => pongs.push(data.to_vec()),
            Ok(Some(Event::Close(frame))) => {
                assert!(close.is_none());
                close = Some(frame.map(|frame| (frame.code.0, frame.reason.into_owned())));
            }
            Ok(Some(Event::Chunk(chunk))) => panic!("peer does not stream: {chunk:?}"),
            Err(error) => panic!(
                "the peer rejects what we wrote: {error:?}\nwire: {:02x?}",
                app.wire
            ),
        }
    }

    assert_eq!(messages, app.echoed, "echoed messages");
    if !setup.timers {
        assert!(pings.is_empty(), "pings without keepalive: {pings:?}");
    }
    assert!(pings.iter().all(Vec::is_empty), "keepalive pings are empty");
    assert!(
        is_subsequence(&pongs, &app.pings_to_answer),
        "pongs {pongs:?} answer pings {:?} in order",
        app.pings_to_answer
    );
    if let Some(last) = app.pings_to_answer.last() {
        assert_eq!(pongs.last(), Some(last), "the last ping is answered");
    }
    match (&close, app.close_sent) {
        (None, None) => {}
        (Some(frame), Some(code)) => {
            assert_eq!(frame.as_ref().map(|(code, _)| *code), code, "close code");
            if let (Some((_, reason)), Some(source)) = (frame, &app.failure_reason) {
                assert!(source.starts_with(reason.as_str()), "reason {reason:?}");
            }
        }
        (got, expected) => panic!("close frame {got:?}, expected {expected:?}"),
    }
}

/// Whether two runs' errors agree. With an extension a message's size is
/// known only as it is decoded, so when one message breaks several rules
/// (too big, invalid UTF-8, undecodable) the pieces decide which is found
/// first, and the sizes reported depend on them.
fn same_error(setup: &Setup, a: &Option<Error>, b: &Option<Error>) -> bool {
    let decoding = |error: &Option<Error>| {
        matches!(
            error,
            Some(Error::Protocol(
                ProtocolError::Extension(_)
                    | ProtocolError::MessageTooBig { .. }
                    | ProtocolError::InvalidUtf8
            ))
        )
    };
    a == b || setup.claimed() != 0 && decoding(a) && decoding(b)
}

fuzz_target!(|input: &[u8]| {
    let Some((settings, rest)) = input.split_first_chunk::<7>() else {
        return;
    };
    let setup = Setup::new(*settings, rest.first().copied().unwrap_or(0));
    let (plan, wire) = split_plan(rest);

    let app = run(&setup, plan, wire);
    check_wire(&setup, &app);

    // How the bytes were cut must not matter (the clock aside, whose steps
    // the cuts place).
    if !setup.timers && !plan.is_empty() {
        let whole = run(&setup, &[], wire);
        assert_eq!(whole.items, app.items, "events, whole vs in pieces");
        assert!(
            same_error(&setup, &whole.error, &app.error),
            "error, whole {:?} vs in pieces {:?}",
            whole.error,
            app.error
        );
    }
});
