//! The errors of the core, split by whose fault they are.
//!
//! - [`ProtocolError`]: the peer broke a rule of RFC 6455. The connection
//!   fails itself, queues a close frame with [`ProtocolError::close_code`],
//!   and reports the error once from [`crate::Connection::poll_event`].
//! - [`Error`]: every way a connection can end other than a clean close
//!   handshake, protocol errors included.
//! - [`UsageError`]: the local application asked for something the protocol
//!   or the connection's state does not allow. Returned from the call; the
//!   connection is unchanged.
//!
//! Handshake errors live in [`crate::handshake`]; conversion to
//! `std::io::Error` happens only in the adapters.

use std::time::Duration;

use crate::extension::ExtensionError;
use crate::frame::CloseCode;

/// A rule of RFC 6455 the peer broke; each knows the close code it earns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// §5.2: an opcode the RFC reserves.
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// §5.2: RSV bits set that no negotiated extension claims.
    #[error("reserved bits {0:#05b} set that no negotiated extension defines")]
    ReservedBits(u8),
    /// §5.2: a 64-bit payload length with its most significant bit set.
    #[error("64-bit payload length has its most significant bit set")]
    InvalidPayloadLength,
    /// §5.1: a server must reject a frame from a client that is not masked.
    #[error("client frame is not masked")]
    UnmaskedFrame,
    /// §5.1: a client must reject a frame from a server that is masked.
    #[error("server frame is masked")]
    MaskedFrame,
    /// §5.5: control frames carry at most 125 bytes.
    #[error("control frame payload of {0} bytes exceeds 125")]
    ControlFrameTooLong(u64),
    /// §5.5: control frames must not be fragmented.
    #[error("control frame without FIN (control frames cannot be fragmented)")]
    FragmentedControlFrame,
    /// §5.4: a continuation frame with no fragmented message to continue.
    #[error("continuation frame without a message in progress")]
    UnexpectedContinuation,
    /// §5.4: a new text or binary frame while a fragmented message is open.
    #[error("new data frame while a fragmented message is still in progress")]
    ExpectedContinuation,
    /// §5.5.1: a close payload of one byte cannot hold a status code.
    #[error("close frame payload of 1 byte")]
    CloseFrameTooShort,
    /// §7.4: a close code that may not appear on the wire.
    #[error("close code {0} is not allowed on the wire")]
    InvalidCloseCode(u16),
    /// §5.5.1: the close reason must be UTF-8.
    #[error("close reason is not valid UTF-8")]
    InvalidCloseReason,
    /// §8.1: text messages must be UTF-8.
    #[error("text message is not valid UTF-8")]
    InvalidUtf8,
    /// A frame over [`crate::Config::max_frame_size`], refused on its header.
    #[error("frame payload of {size} bytes exceeds the limit of {max}")]
    FrameTooBig {
        /// The declared payload length.
        size: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message over [`crate::Config::max_message_size`], refused as soon as
    /// a frame header announces it.
    #[error("message of at least {size} bytes exceeds the limit of {max}")]
    MessageTooBig {
        /// The size the message would reach.
        size: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message in more than [`crate::Config::max_fragments`] frames.
    #[error("message arrives in more than {max} fragments")]
    TooManyFragments {
        /// The configured limit.
        max: usize,
    },
    /// The negotiated extension could not decode a message.
    #[error("extension could not decode the message: {0}")]
    Extension(ExtensionError),
}

impl ProtocolError {
    /// The close code sent to the peer when this error fails the connection.
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCloseReason => {
                CloseCode::INVALID_PAYLOAD
            }
            ProtocolError::FrameTooBig { .. } | ProtocolError::MessageTooBig { .. } => {
                CloseCode::MESSAGE_TOO_BIG
            }
            ProtocolError::TooManyFragments { .. } => CloseCode::POLICY_VIOLATION,
            ProtocolError::Extension(error) => error.close_code(),
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// Why a connection ended without a clean close handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol; a close frame with its code was queued.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The transport ended before the close handshake did.
    #[error("the peer closed the transport without a close handshake")]
    UnexpectedEof,
    /// Our close frame was not answered, or the server did not close the
    /// transport after the handshake, within [`crate::Config::close_timeout`].
    #[error("the close handshake did not finish within {0:?}")]
    CloseTimeout(Duration),
    /// Bytes waited to be written and the transport took none of them for
    /// [`crate::Config::write_timeout`]: the peer stopped reading.
    #[error("the peer read nothing for {0:?} while data waited to be sent")]
    WriteTimeout(Duration),
    /// No data and no pong arrived within the keepalive timeout after a ping.
    #[error("no answer to a keepalive ping within {0:?}")]
    KeepaliveTimeout(Duration),
}

impl Error {
    /// The close code that describes this ending, as a browser would report
    /// it: the protocol error's code, or 1006 (abnormal closure) otherwise.
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            Error::Protocol(error) => error.close_code(),
            _ => CloseCode::ABNORMAL,
        }
    }
}

/// The local application asked for something that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// §5.5: a ping or pong payload over 125 bytes.
    #[error("control frame payload of {0} bytes exceeds 125")]
    ControlPayloadTooLong(usize),
    /// §5.5.1: a close reason over 123 bytes.
    #[error("close reason of {0} bytes exceeds 123")]
    CloseReasonTooLong(usize),
    /// §7.4: a close code that may not be sent (1005, 1006, 1015, ...).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// §5.5.1: nothing may be sent after our close frame.
    #[error("the connection is closing or closed: nothing more can be sent")]
    Closed,
    /// A whole message was sent while a streamed message is unfinished.
    #[error("a streamed message is in progress: finish it before sending another message")]
    MessageInProgress,
    /// A streamed message continued with the other kind.
    #[error("a streamed message continued as {got:?} after starting as {started:?}")]
    MessageKindMismatch {
        /// The kind the message started with.
        started: crate::frame::MessageKind,
        /// The kind passed now.
        got: crate::frame::MessageKind,
    },
    /// The write buffer reached [`crate::Config::max_write_buffer`]: the
    /// peer is not reading. Flush before sending more.
    #[error("write buffer holds {buffered} bytes, at its cap of {max}")]
    WriteBufferFull {
        /// Bytes waiting in the buffer.
        buffered: usize,
        /// The configured cap.
        max: usize,
    },
    /// The negotiated extension could not encode the message.
    #[error("extension could not encode the message: {0}")]
    Extension(ExtensionError),
}
