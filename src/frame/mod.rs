//! The frame layer of RFC 6455 §5: opcodes, the header codec, masking and
//! close payloads.
//!
//! Nothing here knows about connections or roles; the rules that depend on
//! who sent a frame (masking direction, reserved bits claimed by an
//! extension, fragmentation state) are checked by [`crate::Connection`].

mod close;
mod header;
mod mask;

pub use close::{CloseCode, CloseFrame};
pub use header::{FrameHeader, MAX_HEADER_LEN};
pub use mask::{apply_mask, apply_mask_reference};

pub(crate) use close::{encode_close_payload, parse_close_payload};
pub(crate) use mask::{copy_masked, extend_masked, unmask_text};

/// The opcode of a frame (RFC 6455 §5.2).
///
/// Reserved opcodes (0x3–0x7, 0xB–0xF) are not representable: the header
/// parser rejects them with [`crate::ProtocolError::ReservedOpcode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: a continuation of a fragmented data message.
    Continuation,
    /// 0x1: the first frame of a text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: a close frame.
    Close,
    /// 0x9: a ping.
    Ping,
    /// 0xA: a pong.
    Pong,
}

impl OpCode {
    /// Decodes the low four bits of the first header byte; `None` for a
    /// reserved opcode.
    #[must_use]
    pub const fn from_u8(value: u8) -> Option<OpCode> {
        Some(match value {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// The four-bit wire value.
    #[must_use]
    pub const fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Control frames (close, ping, pong) carry at most 125 bytes and are
    /// never fragmented (RFC 6455 §5.5).
    #[must_use]
    pub const fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// The kind of a data message: what its first frame's opcode said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1); validated before it is delivered.
    Text,
    /// Arbitrary bytes (opcode 0x2).
    Binary,
}

impl MessageKind {
    /// The opcode of the first frame of a message of this kind.
    #[must_use]
    pub const fn opcode(self) -> OpCode {
        match self {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}
