//! The send side of a connection, borrowed apart from the read side so a
//! reply can be queued while an event still borrows the receive buffer.

use std::io::IoSlice;

use super::lent::Lent;
use super::timers::Timer;
use super::{Link, State};
use crate::config::Config;
use crate::error::UsageError;
use crate::event::Message;
use crate::extension::Extension;
use crate::frame::{CloseCode, CloseFrame, MessageKind, OpCode};

/// A transport that takes bytes at once or not at all, never waiting: a
/// non-blocking socket, or an async one polled once.
///
/// Given to [`Connection::poll_event_write_through`](crate::Connection::poll_event_write_through)
/// or [`Connection::sender_write_through`](crate::Connection::sender_write_through),
/// it lets a large message sent through the [`Sender`] go to the transport
/// straight from the caller's bytes (a vectored write of the frame header
/// and the payload) instead of being copied into the write buffer first.
/// Only what the transport does not take is queued.
///
/// Closures `FnMut(&[IoSlice<'_>]) -> usize` implement it.
pub trait WriteNow {
    /// Writes as much of `bufs`, in order, as the transport takes without
    /// waiting, and returns how many bytes that was: 0 when it would wait.
    /// A failure also returns 0; the next regular write reports it.
    fn write_now(&mut self, bufs: &[IoSlice<'_>]) -> usize;
}

impl<F: FnMut(&[IoSlice<'_>]) -> usize> WriteNow for F {
    fn write_now(&mut self, bufs: &[IoSlice<'_>]) -> usize {
        self(bufs)
    }
}

/// Queues messages on a [`Connection`](crate::Connection) while one of its
/// events is borrowed, from
/// [`Connection::poll_event_with_sender`](crate::Connection::poll_event_with_sender).
///
/// Answering a message from its own bytes then needs no copy of them in
/// between:
///
/// ```
/// use rfc6455::{Config, Connection, Event, Role};
///
/// let mut server = Connection::new(Role::Server, Config::default());
/// server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// while let Some((event, mut sender)) = server.poll_event_with_sender().unwrap() {
///     if let Event::Text(text) = event {
///         sender.send_text(text).unwrap(); // echo, straight from the receive buffer
///     }
/// }
/// assert_eq!(server.poll_transmit(), Some(&b"\x81\x05Hello"[..]));
/// ```
///
/// Each method does what the [`Connection`](crate::Connection) method of the
/// same name does.
pub struct Sender<'a> {
    pub(super) through: Option<&'a mut dyn WriteNow>,
    /// The bytes that the event beside this sender lends.
    pub(super) lent: Option<Lent>,
    /// Whether messages sent now wait in the queue, to leave with the
    /// replies to the frames after the event, instead of going to
    /// `through` at once.
    pub(super) hold: Hold<'a>,
    pub(super) config: &'a Config,
    pub(super) link: &'a mut Link,
    pub(super) extension: &'a mut Option<Box<dyn Extension>>,
    /// Scratch space for an extension's output.
    pub(super) encoded: &'a mut Vec<u8>,
}

impl std::fmt::Debug for Sender<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("state", &self.link.state)
            .field("buffered", &self.link.out.buffered())
            .finish_non_exhaustive()
    }
}

/// Whether a [`Sender`]'s messages wait in the queue: they do while a
/// further whole frame is buffered after the event the sender came with,
/// as the adapter then reads again (and writes what is queued) before it
/// waits for input. Looked at when the first message is sent, so that an
/// event that gets no reply costs no parse of the next frame's header.
#[derive(Clone, Copy, Debug)]
pub(super) enum Hold<'a> {
    /// Known: messages wait, or go out at once.
    Decided(bool),
    /// Messages wait if these bytes, the ones received after the event,
    /// start with a whole frame.
    IfWholeFrame(&'a [u8]),
}

impl Sender<'_> {
    /// Whether messages sent now wait in the queue ([`Hold`]).
    fn holds(&mut self) -> bool {
        if let Hold::IfWholeFrame(unparsed) = self.hold {
            self.hold = Hold::Decided(super::holds_whole_frame(unparsed));
        }
        matches!(self.hold, Hold::Decided(true))
    }

    /// Sends a text message; see [`Connection::send_text`](crate::Connection::send_text).
    pub fn send_text(&mut self, text: &str) -> Result<(), UsageError> {
        self.send(MessageKind::Text, text.as_bytes())
    }

    /// Sends a binary message; see [`Connection::send_binary`](crate::Connection::send_binary).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), UsageError> {
        self.send(MessageKind::Binary, data)
    }

    /// Sends a whole data message; see [`Connection::send`](crate::Connection::send).
    pub fn send(&mut self, kind: MessageKind, payload: &[u8]) -> Result<(), UsageError> {
        self.check_can_send()?;
        if self.link.out.streaming.is_some() {
            return Err(UsageError::MessageInProgress);
        }
        self.write_message(kind, payload, true, true)
    }

    /// Sends a piece of a message; see [`Connection::send_chunk`](crate::Connection::send_chunk).
    pub fn send_chunk(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        last: bool,
    ) -> Result<(), UsageError> {
        self.check_can_send()?;
        let first = match self.link.out.streaming {
            None => true,
            Some(started) if started == kind => false,
            Some(started) => return Err(UsageError::MessageKindMismatch { started, got: kind }),
        };
        self.write_message(kind, data, first, last)?;
        self.link.out.streaming = (!last).then_some(kind);
        Ok(())
    }

    fn write_message(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        first: bool,
        last: bool,
    ) -> Result<(), UsageError> {
        let fragment_size = self.config.fragment_size;
        let Some(extension) = self.extension.as_mut() else {
            let hold = self.holds();
            let out = &mut self.link.out;
            let mut through = self.through.as_deref_mut().filter(|_| !hold);
            let lent = self.lent.filter(|_| first && last);
            if let Some(at) = lent.and_then(|lent| lent.locate(payload)) {
                if out.write_lent(kind, payload, at, fragment_size, through.as_deref_mut()) {
                    return Ok(());
                }
            }
            let written_through = through.is_some_and(|transport| {
                out.write_through(kind, payload, first, last, fragment_size, transport)
            });
            if !written_through {
                out.write_data(kind, payload, 0, first, last, fragment_size);
            }
            return Ok(());
        };
        self.encoded.clear();
        let rsv = extension
            .encode(kind, payload, first, last, self.encoded)
            .map_err(UsageError::Extension)?;
        let rsv = rsv & extension.reserved_bits();
        self.link
            .out
            .write_data(kind, self.encoded, rsv, first, last, fragment_size);
        Ok(())
    }

    /// Sends an owned [`Message`]; see [`Connection::send_message`](crate::Connection::send_message).
    pub fn send_message(&mut self, message: &Message) -> Result<(), UsageError> {
        match message {
            Message::Text(text) => self.send_text(text),
            Message::Binary(data) => self.send_binary(data),
            Message::Ping(data) => self.send_ping(data),
            Message::Pong(data) => self.send_pong(data),
            Message::Close(Some(frame)) => self.close(frame.code, &frame.reason),
            Message::Close(None) => self.close(CloseCode::NORMAL, ""),
        }
    }

    /// Sends an owned [`Message`], taking its payload; see
    /// [`Connection::send_owned`](crate::Connection::send_owned).
    pub fn send_owned(&mut self, message: Message) -> Result<(), UsageError> {
        let (kind, payload) = match message {
            Message::Text(text) => (MessageKind::Text, text.into_bytes()),
            Message::Binary(data) => (MessageKind::Binary, data),
            control => return self.send_message(&control),
        };
        self.check_can_send()?;
        if self.link.out.streaming.is_some() {
            return Err(UsageError::MessageInProgress);
        }
        if self.extension.is_some() {
            // The extension writes new bytes anyway.
            return self.write_message(kind, &payload, true, true);
        }
        let hold = self.holds();
        let through = self.through.as_deref_mut().filter(|_| !hold);
        self.link
            .out
            .write_owned(kind, payload, self.config.fragment_size, through);
        Ok(())
    }

    /// Sends a ping; see [`Connection::send_ping`](crate::Connection::send_ping).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), UsageError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Sends a pong; see [`Connection::send_pong`](crate::Connection::send_pong).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), UsageError> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), UsageError> {
        self.check_can_send()?;
        if payload.len() > 125 {
            return Err(UsageError::ControlPayloadTooLong(payload.len()));
        }
        self.link.out.write_frame(true, 0, opcode, payload);
        Ok(())
    }

    /// Starts or answers the close handshake; see
    /// [`Connection::close`](crate::Connection::close).
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), UsageError> {
        let code = code.into();
        if !code.is_sendable() {
            return Err(UsageError::InvalidCloseCode(code.0));
        }
        if reason.len() > CloseFrame::MAX_REASON_LEN {
            return Err(UsageError::CloseReasonTooLong(reason.len()));
        }
        match self.link.state {
            State::Open => {
                self.link.send_close(Some(code), reason);
                self.link.state = State::ClosingLocal;
                self.link.timers.stop_keepalive();
                self.link.timers.close = Timer::Requested(self.config.close_timeout);
            }
            State::ClosingRemote => {
                self.link.send_close(Some(code), reason);
                self.link.finish_close_handshake();
            }
            State::ClosingLocal | State::Closed => return Err(UsageError::Closed),
        }
        Ok(())
    }

    /// Bytes waiting to be written; see
    /// [`Connection::buffered_amount`](crate::Connection::buffered_amount).
    #[must_use]
    pub fn buffered_amount(&self) -> usize {
        self.link.out.buffered()
    }

    /// Whether the write buffer is above its high-water mark; see
    /// [`Connection::is_write_buffer_high`](crate::Connection::is_write_buffer_high).
    #[must_use]
    pub fn is_write_buffer_high(&self) -> bool {
        self.link.out.buffered() >= self.config.write_buffer_high_water
    }

    fn check_can_send(&self) -> Result<(), UsageError> {
        if !matches!(self.link.state, State::Open | State::ClosingRemote) {
            return Err(UsageError::Closed);
        }
        let buffered = self.link.out.buffered();
        if buffered >= self.config.max_write_buffer {
            return Err(UsageError::WriteBufferFull {
                buffered,
                max: self.config.max_write_buffer,
            });
        }
        Ok(())
    }
}
