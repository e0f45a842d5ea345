//! RFC 6455 §5.5: control frames: size, fragmentation, ping and pong.

mod common;

use common::{client, client_frame, close_code_sent, feed, frame, server, transmit, Ev, Pair};
use rfc6455::{Config, Error, ProtocolError, UsageError};

fn protocol_error(error: ProtocolError) -> Ev {
    Ev::Error(Error::Protocol(error))
}

#[test]
fn a_ping_is_answered_with_a_pong_carrying_its_payload() {
    let mut pair = Pair::new();
    pair.client.send_ping(b"are you there").unwrap();
    assert_eq!(pair.to_server(), [Ev::Ping(b"are you there".to_vec())]);
    assert_eq!(pair.to_client(), [Ev::Pong(b"are you there".to_vec())]);
}

#[test]
fn auto_pong_can_be_turned_off() {
    let mut config = Config::default();
    config.auto_pong = false;
    let mut server = server(config);
    assert_eq!(
        feed(&mut server, &client_frame(0x89, b"x")),
        [Ev::Ping(b"x".to_vec())]
    );
    assert_eq!(transmit(&mut server), b"");
    server.send_pong(b"x").unwrap();
    assert_eq!(transmit(&mut server), frame(0x8A, b"x", None));
}

#[test]
fn a_control_frame_of_125_bytes_is_accepted_and_126_refused_with_1002() {
    let mut server = server(Config::default());
    assert_eq!(
        feed(&mut server, &client_frame(0x89, &[1; 125])),
        [Ev::Ping(vec![1; 125])]
    );
    let mut server = common::server(Config::default());
    assert_eq!(
        feed(&mut server, &client_frame(0x89, &[1; 126])),
        [protocol_error(ProtocolError::ControlFrameTooLong(126))]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1002)));
}

#[test]
fn a_fragmented_control_frame_is_refused_with_1002() {
    for opcode in [0x08, 0x09, 0x0A] {
        let mut server = server(Config::default());
        assert_eq!(
            feed(&mut server, &client_frame(opcode, b"")),
            [protocol_error(ProtocolError::FragmentedControlFrame)]
        );
        assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1002)));
    }
}

#[test]
fn sending_a_control_payload_over_125_bytes_is_a_usage_error() {
    let mut client = client(Config::default());
    assert_eq!(
        client.send_ping(&[0; 126]),
        Err(UsageError::ControlPayloadTooLong(126))
    );
    assert_eq!(
        client.send_pong(&[0; 126]),
        Err(UsageError::ControlPayloadTooLong(126))
    );
    client.send_ping(&[0; 125]).unwrap();
}

#[test]
fn only_the_latest_unwritten_pong_is_kept_for_a_ping_flood() {
    let mut server = server(Config::default());
    let mut flood = Vec::new();
    for i in 0..10_000u32 {
        flood.extend(client_frame(0x89, &i.to_be_bytes()));
    }
    let events = feed(&mut server, &flood);
    assert_eq!(events.len(), 10_000);
    // The first pong went to the buffer at once; every later ping replaced
    // the one pending behind it.
    assert_eq!(server.buffered_amount(), 6);
    assert_eq!(
        transmit(&mut server),
        [
            frame(0x8A, &0u32.to_be_bytes(), None),
            frame(0x8A, &9_999u32.to_be_bytes(), None)
        ]
        .concat()
    );
}

#[test]
fn a_pong_pending_before_a_close_is_sent_before_it() {
    let mut server = server(Config::default());
    let mut bytes = client_frame(0x89, b"1");
    bytes.extend(client_frame(0x89, b"2"));
    bytes.extend(client_frame(0x88, &1000u16.to_be_bytes()));
    feed(&mut server, &bytes);
    let sent = common::frames(&transmit(&mut server));
    let kinds: Vec<_> = sent.iter().map(|(h, p)| (h.opcode, p.clone())).collect();
    use rfc6455::OpCode::{Close, Pong};
    assert_eq!(
        kinds,
        [
            (Pong, b"1".to_vec()),
            (Pong, b"2".to_vec()),
            (Close, 1000u16.to_be_bytes().to_vec())
        ]
    );
}
