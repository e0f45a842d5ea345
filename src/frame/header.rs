//! The frame header codec (RFC 6455 §5.2).

use super::OpCode;
use crate::error::ProtocolError;

/// The longest header: 2 bytes, an 8-byte extended length and a 4-byte mask.
pub const MAX_HEADER_LEN: usize = 14;

/// A decoded frame header.
///
/// `rsv` holds the three reserved bits in the order they appear on the wire:
/// `0b100` is RSV1, `0b010` RSV2 and `0b001` RSV3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this frame is the last of its message.
    pub fin: bool,
    /// The reserved bits RSV1..RSV3, as `0bRRR`.
    pub rsv: u8,
    /// The frame's opcode.
    pub opcode: OpCode,
    /// The masking key, present on every frame a client sends.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not yet hold the whole header, and
    /// the header with its encoded length otherwise. Only rules that need no
    /// context are checked here: reserved opcodes and a 64-bit length with
    /// its most significant bit set. A length that is not minimally encoded
    /// is accepted: the RFC binds the sender, and a receiver loses nothing by
    /// reading it.
    ///
    /// ```
    /// use rfc6455::frame::{FrameHeader, OpCode};
    /// // RFC 6455 §5.7: a single-frame unmasked text message "Hello".
    /// let bytes = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    /// let (header, len) = FrameHeader::parse(&bytes).unwrap().unwrap();
    /// assert_eq!((header.opcode, header.payload_len, len), (OpCode::Text, 5, 2));
    /// ```
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let opcode = OpCode::from_u8(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0F))?;
        let masked = b1 & 0x80 != 0;
        let (payload_len, len_bytes) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(ext) => (u64::from(u16::from_be_bytes([ext[0], ext[1]])), 2),
                None => return Ok(None),
            },
            127 => match buf.get(2..10) {
                Some(ext) => {
                    let mut bytes = [0; 8];
                    bytes.copy_from_slice(ext);
                    let len = u64::from_be_bytes(bytes);
                    if len >> 63 != 0 {
                        return Err(ProtocolError::InvalidPayloadLength);
                    }
                    (len, 8)
                }
                None => return Ok(None),
            },
            short => (u64::from(short), 0),
        };
        let mut header_len = 2 + len_bytes;
        let mask = if masked {
            let Some(key) = buf.get(header_len..header_len + 4) else {
                return Ok(None);
            };
            header_len += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        let header = FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0b111,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, header_len)))
    }

    /// The number of bytes [`FrameHeader::encode`] writes for this header.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header with the minimal length encoding into `out` and
    /// returns how many bytes it used.
    ///
    /// ```
    /// use rfc6455::frame::{FrameHeader, OpCode};
    /// let header = FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: None, payload_len: 256 };
    /// let mut out = [0; 14];
    /// let len = header.encode(&mut out);
    /// assert_eq!(&out[..len], &[0x82, 0x7E, 0x01, 0x00]); // RFC 6455 §5.7
    /// ```
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = u8::from(self.fin) << 7 | (self.rsv & 0b111) << 4 | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut len = 2;
        match self.payload_len {
            short @ 0..=125 => out[1] = mask_bit | short as u8,
            medium @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(medium as u16).to_be_bytes());
                len = 4;
            }
            long => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&long.to_be_bytes());
                len = 10;
            }
        }
        if let Some(key) = self.mask {
            out[len..len + 4].copy_from_slice(&key);
            len += 4;
        }
        len
    }

    /// Appends the encoded header to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut bytes = [0; MAX_HEADER_LEN];
        let len = self.encode(&mut bytes);
        out.extend_from_slice(&bytes[..len]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8]) -> (FrameHeader, usize) {
        FrameHeader::parse(bytes).unwrap().unwrap()
    }

    #[test]
    fn every_prefix_of_a_header_is_incomplete() {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary,
            mask: Some([1, 2, 3, 4]),
            payload_len: 70_000,
        };
        let mut out = [0; MAX_HEADER_LEN];
        let len = header.encode(&mut out);
        assert_eq!(len, 14);
        for cut in 0..len {
            assert_eq!(FrameHeader::parse(&out[..cut]), Ok(None), "prefix {cut}");
        }
        assert_eq!(parse_all(&out[..len]), (header, 14));
    }

    #[test]
    fn lengths_use_the_minimal_encoding() {
        for (len, encoded) in [(0, 2), (125, 2), (126, 4), (0xFFFF, 4), (0x1_0000, 10)] {
            let header = FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Binary,
                mask: None,
                payload_len: len,
            };
            assert_eq!(header.encoded_len(), encoded);
            let mut out = [0; MAX_HEADER_LEN];
            assert_eq!(header.encode(&mut out), encoded);
            assert_eq!(parse_all(&out[..encoded]).0.payload_len, len);
        }
    }

    #[test]
    fn sixty_four_bit_length_with_the_top_bit_set_is_rejected() {
        let bytes = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            FrameHeader::parse(&bytes),
            Err(ProtocolError::InvalidPayloadLength)
        );
    }

    #[test]
    fn reserved_opcodes_are_rejected() {
        for opcode in (0x3..=0x7).chain(0xB..=0xF) {
            assert_eq!(
                FrameHeader::parse(&[0x80 | opcode, 0]),
                Err(ProtocolError::ReservedOpcode(opcode))
            );
        }
    }

    #[test]
    fn reserved_bits_are_decoded_in_wire_order() {
        assert_eq!(parse_all(&[0xC1, 0]).0.rsv, 0b100);
        assert_eq!(parse_all(&[0xA1, 0]).0.rsv, 0b010);
        assert_eq!(parse_all(&[0x91, 0]).0.rsv, 0b001);
    }

    #[test]
    fn non_minimal_length_encoding_is_accepted() {
        let (header, len) = parse_all(&[0x82, 0x7E, 0x00, 0x05]);
        assert_eq!((header.payload_len, len), (5, 4));
    }
}
