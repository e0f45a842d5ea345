//! What a connection reports to the application, and owned messages.

use crate::frame::{CloseFrame, MessageKind};

/// Something the peer sent, borrowed from the connection's buffers until the
/// next call on the connection.
///
/// A message in one frame that arrived whole within one read is unmasked and
/// validated in the receive buffer and handed out from there, with no copy;
/// others are unmasked as they are copied into a message buffer. Call
/// [`Event::to_message`] to keep one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// A whole text message, validated as UTF-8.
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// A piece of a data message, when [`crate::Config::streaming`] is on.
    Chunk(Chunk<'a>),
    /// A ping. With [`crate::Config::auto_pong`] (the default) the pong is
    /// already queued.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close frame: `None` when it carried no status code
    /// (reported as 1005). With [`crate::Config::auto_close_reply`] (the
    /// default) the answer is already queued; no data event follows.
    Close(Option<CloseFrame<'a>>),
}

/// A piece of a data message delivered as it arrives.
///
/// The pieces of a text message concatenate to valid UTF-8, but a piece may
/// end inside a code point; each piece is validated before it is delivered,
/// so invalid text fails the connection at the piece that holds the bad byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The message's kind, from its first frame.
    pub kind: MessageKind,
    /// The bytes, after unmasking and any extension decoding. May be empty
    /// on the message's last piece.
    pub data: &'a [u8],
    /// This is the message's first piece.
    pub first: bool,
    /// This is the message's last piece.
    pub last: bool,
}

impl Event<'_> {
    /// Copies a whole-message, ping, pong or close event into an owned
    /// [`Message`]; `None` for a [`Chunk`].
    #[must_use]
    pub fn to_message(&self) -> Option<Message> {
        Some(match self {
            Event::Text(text) => Message::Text((*text).to_owned()),
            Event::Binary(data) => Message::Binary(data.to_vec()),
            Event::Ping(data) => Message::Ping(data.to_vec()),
            Event::Pong(data) => Message::Pong(data.to_vec()),
            Event::Close(frame) => Message::Close(frame.clone().map(CloseFrame::into_owned)),
            Event::Chunk(_) => return None,
        })
    }
}

/// An owned message, for adapters and applications that keep what they
/// receive or build what they send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping with its payload (at most 125 bytes).
    Ping(Vec<u8>),
    /// A pong with its payload (at most 125 bytes).
    Pong(Vec<u8>),
    /// A close frame, `None` for one without a status code.
    Close(Option<CloseFrame<'static>>),
}
