//! RFC 6455 §8.1: text must be UTF-8; invalid text fails the connection with
//! 1007 as soon as the bad byte arrives.

mod common;

use common::{client_frame, close_code_sent, feed, frame, server, transmit, Ev};
use rfc6455::{Config, Error, ProtocolError};

fn invalid_utf8() -> Ev {
    Ev::Error(Error::Protocol(ProtocolError::InvalidUtf8))
}

const INVALID: &[&[u8]] = &[
    b"\xff",
    b"\xc0\xaf",         // overlong
    b"\xe0\x80\xaf",     // overlong
    b"\xed\xa0\x80",     // UTF-16 surrogate
    b"\xed\xbf\xbf",     // UTF-16 surrogate
    b"\xf4\x90\x80\x80", // above U+10FFFF
    b"\xf8\x88\x80\x80\x80",
];

#[test]
fn invalid_text_in_one_frame_is_refused_with_1007() {
    for bad in INVALID {
        let mut server = server(Config::default());
        let payload = [b"valid ", *bad, b" tail"].concat();
        assert_eq!(
            feed(&mut server, &client_frame(0x81, &payload)),
            [invalid_utf8()],
            "{bad:x?}"
        );
        assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1007)));
    }
}

#[test]
fn the_fragment_holding_the_bad_byte_fails_before_the_message_ends() {
    for bad in INVALID {
        let mut server = server(Config::default());
        assert_eq!(
            feed(&mut server, &client_frame(0x01, "κόσμε".as_bytes())),
            []
        );
        assert_eq!(
            feed(&mut server, &client_frame(0x00, bad)),
            [invalid_utf8()],
            "{bad:x?}"
        );
    }
}

#[test]
fn a_bad_byte_in_the_middle_of_one_frame_fails_before_the_frame_ends() {
    let payload = [&b"hello "[..], b"\xf4\x90\x80\x80", b" and more to come"].concat();
    let bytes = client_frame(0x81, &payload);
    // In place (small frame) and assembled (read buffer smaller than it).
    for read_buffer_size in [64 << 10, 8] {
        let mut config = Config::default();
        config.read_buffer_size = read_buffer_size;
        let mut server = server(config);
        let header = 6;
        assert_eq!(feed(&mut server, &bytes[..header + 6]), []);
        assert_eq!(
            feed(&mut server, &bytes[header + 6..header + 8]),
            [invalid_utf8()]
        );
    }
}

#[test]
fn text_truncated_at_fin_is_refused() {
    let mut server = server(Config::default());
    let mut bytes = client_frame(0x01, b"ok \xe2\x82");
    bytes.extend(client_frame(0x80, b""));
    assert_eq!(feed(&mut server, &bytes), [invalid_utf8()]);
    let mut server = common::server(Config::default());
    assert_eq!(
        feed(&mut server, &client_frame(0x81, b"ok \xe2\x82")),
        [invalid_utf8()]
    );
}

#[test]
fn a_code_point_split_across_fragments_is_valid() {
    let text = "€𝄞κ".as_bytes();
    for cut in 1..text.len() {
        let mut bytes = client_frame(0x01, &text[..cut]);
        bytes.extend(client_frame(0x80, &text[cut..]));
        assert_eq!(
            feed(&mut server(Config::default()), &bytes),
            [Ev::Text("€𝄞κ".into())]
        );
    }
}

#[test]
fn text_arriving_one_byte_at_a_time_is_valid() {
    let text = "Hello-µ@ßöäüàá-UTF-8!!";
    let bytes = client_frame(0x81, text.as_bytes());
    let mut server = server(Config::default());
    let mut got = Vec::new();
    for byte in &bytes {
        got.extend(feed(&mut server, std::slice::from_ref(byte)));
    }
    assert_eq!(got, [Ev::Text(text.into())]);
}

#[test]
fn streamed_text_fails_on_the_piece_with_the_bad_byte() {
    let mut config = Config::default();
    config.streaming = true;
    let mut server = server(config);
    let bytes = client_frame(0x81, b"abc\xffdef");
    // Header (6 bytes), then "abc" in one read, then the bad byte.
    assert_eq!(
        feed(&mut server, &bytes[..9]),
        [Ev::Chunk {
            kind: rfc6455::MessageKind::Text,
            data: b"abc".to_vec(),
            first: true,
            last: false
        }]
    );
    assert_eq!(feed(&mut server, &bytes[9..10]), [invalid_utf8()]);
}

#[test]
fn a_client_validates_text_from_a_server_too() {
    let mut client = common::client(Config::default());
    assert_eq!(
        feed(&mut client, &frame(0x81, b"\xed\xa0\x80", None)),
        [invalid_utf8()]
    );
}

#[test]
fn input_after_an_invalid_text_frame_is_dropped() {
    let mut client = common::client(Config::default());
    assert_eq!(
        feed(&mut client, &frame(0x81, b"\xff", None)),
        [invalid_utf8()]
    );
    let buf = client.receive_buffer();
    buf[0] = 0x81;
    client.commit(1);
    assert_eq!(feed(&mut client, &frame(0x81, b"late", None)), []);
}
