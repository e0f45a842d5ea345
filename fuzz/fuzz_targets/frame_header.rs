//! `FrameHeader::parse` on arbitrary bytes: never panics, needs at most
//! `MAX_HEADER_LEN` bytes, reports every proper prefix of a header as
//! incomplete, and whatever parses re-encodes to a header that parses to the
//! same value, byte for byte unless the input used a longer length encoding
//! than needed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use rfc6455::ProtocolError;
use rfc6455_fuzz as _; // the allocator that caps any one allocation

fuzz_target!(|data: &[u8]| {
    let (header, len) = match FrameHeader::parse(data) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            assert!(
                data.len() < MAX_HEADER_LEN,
                "{MAX_HEADER_LEN} bytes hold any header"
            );
            return;
        }
        Err(error) => {
            let opcode = data[0] & 0x0F;
            match error {
                ProtocolError::ReservedOpcode(reported) => {
                    assert_eq!(reported, opcode);
                    assert!(OpCode::from_u8(opcode).is_none());
                }
                ProtocolError::InvalidPayloadLength => {
                    assert!(OpCode::from_u8(opcode).is_some());
                    assert_eq!(data[1] & 0x7F, 127);
                    assert!(
                        data[2] & 0x80 != 0,
                        "only the top bit makes a length invalid"
                    );
                }
                other => panic!("unexpected error {other:?}"),
            }
            return;
        }
    };

    // The header is read from the first `len` bytes and nothing after them.
    assert!((2..=MAX_HEADER_LEN).contains(&len) && len <= data.len());
    assert_eq!(FrameHeader::parse(&data[..len]), Ok(Some((header, len))));
    for cut in 0..len {
        assert_eq!(FrameHeader::parse(&data[..cut]), Ok(None), "prefix {cut}");
    }
    assert_eq!(header.fin, data[0] & 0x80 != 0);
    assert_eq!(header.rsv, data[0] >> 4 & 0b111);
    assert_eq!(header.opcode.as_u8(), data[0] & 0x0F);
    assert_eq!(header.mask.is_some(), data[1] & 0x80 != 0);
    assert!(header.payload_len >> 63 == 0);

    let mut out = [0; MAX_HEADER_LEN];
    let encoded = header.encode(&mut out);
    assert_eq!(encoded, header.encoded_len());
    assert_eq!(
        FrameHeader::parse(&out[..encoded]),
        Ok(Some((header, encoded)))
    );
    let mut written = Vec::new();
    header.write_to(&mut written);
    assert_eq!(written, &out[..encoded]);

    // A length is minimally encoded unless a 16-bit length held 0..=125 or
    // a 64-bit one held 0..=0xFFFF.
    let non_minimal = match data[1] & 0x7F {
        126 => header.payload_len <= 125,
        127 => header.payload_len <= 0xFFFF,
        _ => false,
    };
    if non_minimal {
        assert!(encoded < len, "the minimal encoding is shorter");
        assert_eq!(out[0], data[0]);
        assert_eq!(out[1] & 0x80, data[1] & 0x80);
        if let Some(key) = header.mask {
            assert_eq!(&out[encoded - 4..encoded], &key);
            assert_eq!(&data[len - 4..len], &key);
        }
    } else {
        assert_eq!(&out[..encoded], &data[..len]);
    }
});
