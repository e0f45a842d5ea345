//! The extension point of RFC 6455 §9: who owns the reserved bits and how a
//! negotiated extension transforms data payloads.
//!
//! Extensions are negotiated in the handshake (`Sec-WebSocket-Extensions`,
//! see [`crate::handshake`]) and then handed to
//! [`crate::Connection::with_extension`]. The connection keeps the framing
//! rules and the extension sees only data message payloads:
//!
//! - **Reserved bits.** Without an extension every RSV bit is a protocol
//!   error. An extension claims bits with [`Extension::reserved_bits`]; they
//!   are allowed on the *first* frame of a data message only, never on
//!   continuation or control frames (the rule permessage-deflate, RFC 7692
//!   §6, sets for RSV1).
//! - **Sending.** A message's payload passes through [`Extension::encode`]
//!   before it is fragmented and masked; the bits it returns go on the first
//!   frame.
//! - **Receiving.** On each message's first frame the connection asks
//!   [`Extension::begin_decode`] whether that message is transformed; if so
//!   its unmasked payload pieces go through [`Extension::decode`] before
//!   UTF-8 validation and the size limit, which apply to the decoded bytes.
//!   `decode` is given the room left under the message size limit, so an
//!   expanding transformation (a decompression bomb) is stopped while it
//!   writes, not after.
//!
//! Control frames never pass through an extension.

use crate::frame::{CloseCode, MessageKind};

/// A failure inside an extension, with the close code the connection fails
/// with when it happens on received data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The payload is not valid for the extension (corrupt compressed data).
    #[error("invalid payload: {0}")]
    InvalidData(String),
    /// Decoding would produce more than the room it was given.
    #[error("decoded payload exceeds {max} bytes")]
    TooBig {
        /// The room the decoder was given.
        max: usize,
    },
    /// Anything else the extension cannot go on from.
    #[error("{0}")]
    Failed(String),
}

impl ExtensionError {
    /// The close code for a connection failed by this error.
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            ExtensionError::InvalidData(_) => CloseCode::INVALID_PAYLOAD,
            ExtensionError::TooBig { .. } => CloseCode::MESSAGE_TOO_BIG,
            ExtensionError::Failed(_) => CloseCode::INTERNAL_ERROR,
        }
    }
}

/// A negotiated extension that transforms data message payloads.
///
/// One extension per connection; it is driven by the connection only.
pub trait Extension: Send {
    /// The RSV bits (`0b100` = RSV1, `0b010` = RSV2, `0b001` = RSV3) this
    /// extension may set on the first frame of a data message.
    fn reserved_bits(&self) -> u8;

    /// Transforms a piece of an outgoing message, appending the bytes to send
    /// to `out`. A whole message is one piece with `first` and `last` set; a
    /// streamed message comes in pieces. Returns the reserved bits for the
    /// message's first frame (only read when `first` is set; they must be a
    /// subset of [`Extension::reserved_bits`]).
    fn encode(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        first: bool,
        last: bool,
        out: &mut Vec<u8>,
    ) -> Result<u8, ExtensionError>;

    /// Called on the first frame of each received data message with its
    /// reserved bits (already checked against [`Extension::reserved_bits`]).
    /// Returns whether the message's payload must pass through
    /// [`Extension::decode`].
    fn begin_decode(&mut self, kind: MessageKind, rsv: u8) -> Result<bool, ExtensionError>;

    /// Decodes a piece of a received message's payload, appending at most
    /// `max_output` bytes to `out` (else [`ExtensionError::TooBig`]). `last`
    /// marks the message's final piece.
    fn decode(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        max_output: usize,
    ) -> Result<(), ExtensionError>;
}
