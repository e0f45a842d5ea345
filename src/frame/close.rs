//! Close codes and close frame payloads (RFC 6455 §5.5.1, §7.4).

use std::borrow::Cow;
use std::fmt;

use crate::error::ProtocolError;

/// A close status code (RFC 6455 §7.4).
///
/// Any `u16` can be held; [`CloseCode::is_valid_on_wire`] says whether a peer
/// may send it and [`CloseCode::is_sendable`] whether we may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present. Never sent on the wire.
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection closed without a close frame. Never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: message data inconsistent with its type (invalid UTF-8 text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway got an invalid response upstream.
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: the TLS handshake failed. Never sent on the wire.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether a close frame may carry this code: 1000–1003, 1007–1014
    /// (the codes defined by RFC 6455 and registered with IANA since), and
    /// 3000–4999 for libraries, frameworks and applications. Everything else
    /// (0–999, 1004–1006, 1015, 1016–2999, 5000 and up) is a protocol error.
    #[must_use]
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Whether [`crate::Connection::close`] may send this code; the same set
    /// as [`CloseCode::is_valid_on_wire`].
    #[must_use]
    pub const fn is_sendable(self) -> bool {
        self.is_valid_on_wire()
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The payload of a close frame that carried a status code.
///
/// A close frame with an empty payload has no `CloseFrame`: it is
/// `None` wherever one is expected, and reads as [`CloseCode::NO_STATUS`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseFrame<'a> {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most 123 bytes of UTF-8.
    pub reason: Cow<'a, str>,
}

impl<'a> CloseFrame<'a> {
    /// The longest reason that fits a control frame next to the code.
    pub const MAX_REASON_LEN: usize = 123;

    /// A close frame with a borrowed or owned reason.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<Cow<'a, str>>) -> Self {
        CloseFrame {
            code: code.into(),
            reason: reason.into(),
        }
    }

    /// Detaches the frame from the buffer it borrows from.
    #[must_use]
    pub fn into_owned(self) -> CloseFrame<'static> {
        CloseFrame {
            code: self.code,
            reason: Cow::Owned(self.reason.into_owned()),
        }
    }
}

/// Parses a received close payload: empty, or a valid code and a UTF-8
/// reason.
pub(crate) fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame<'_>>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::CloseFrameTooShort),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_valid_on_wire() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            let reason =
                std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok(Some(CloseFrame::new(code, reason)))
        }
    }
}

/// Writes a close payload (code and reason) into `out`, returning its length.
/// The caller has checked the code and that the reason fits.
pub(crate) fn encode_close_payload(frame: Option<&CloseFrame<'_>>, out: &mut [u8; 125]) -> usize {
    let Some(frame) = frame else { return 0 };
    let reason = frame.reason.as_bytes();
    out[..2].copy_from_slice(&frame.code.0.to_be_bytes());
    out[2..2 + reason.len()].copy_from_slice(reason);
    2 + reason.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_valid_on_the_wire_follow_section_7_4() {
        let valid = |code| CloseCode(code).is_valid_on_wire();
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
            4000, 4999,
        ] {
            assert!(valid(code), "{code}");
        }
        for code in [
            0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!valid(code), "{code}");
        }
    }

    #[test]
    fn a_one_byte_close_payload_is_a_protocol_error() {
        assert_eq!(
            parse_close_payload(&[3]),
            Err(ProtocolError::CloseFrameTooShort)
        );
    }

    #[test]
    fn an_empty_close_payload_has_no_status() {
        assert_eq!(parse_close_payload(&[]), Ok(None));
    }

    #[test]
    fn an_invalid_close_code_is_a_protocol_error() {
        assert_eq!(
            parse_close_payload(&1005u16.to_be_bytes()),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
    }

    #[test]
    fn a_close_reason_must_be_utf8() {
        assert_eq!(
            parse_close_payload(&[0x03, 0xE8, 0xFF]),
            Err(ProtocolError::InvalidCloseReason)
        );
    }

    #[test]
    fn close_payload_round_trips() {
        let frame = CloseFrame::new(4000u16, "bye");
        let mut out = [0; 125];
        let len = encode_close_payload(Some(&frame), &mut out);
        assert_eq!(parse_close_payload(&out[..len]), Ok(Some(frame)));
    }
}
