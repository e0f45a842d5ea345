//! The connection's read path in either role, with the input choosing how
//! it is chunked: every input ends in events and `Ok(None)` or one error,
//! never a panic, and everything written back parses as frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::frame::FrameHeader;
use rfc6455::{Config, Connection, Role};

fuzz_target!(|input: &[u8]| {
    let Some((&control, rest)) = input.split_first() else {
        return;
    };
    let role = if control & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let mut config = Config::default();
    config.streaming = control & 2 != 0;
    config.read_buffer_size = 1 << (control >> 4);
    config.max_message_size = 1 << 20;
    let mut conn = Connection::new(role, config);
    let chunk = usize::from(control >> 2 & 3) * 7 + 1;
    for piece in rest.chunks(chunk) {
        conn.receive(piece);
        loop {
            match conn.poll_event() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => break,
            }
        }
    }
    let mut out = Vec::new();
    while let Some(bytes) = conn.poll_transmit() {
        out.extend_from_slice(bytes);
        let n = bytes.len();
        conn.advance_transmit(n);
    }
    let mut at = &out[..];
    while !at.is_empty() {
        let (header, len) = FrameHeader::parse(at)
            .expect("our own frames parse")
            .expect("whole frames");
        assert_eq!(
            header.mask.is_some(),
            role == Role::Client,
            "masking direction"
        );
        at = &at[len + header.payload_len as usize..];
    }
});
