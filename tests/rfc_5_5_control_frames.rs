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

/// RFC 6455 §5.5.2: every ping is answered. Pings read in one batch, before
/// the adapter writes, each get their pong while the peer reads what we send
/// (Autobahn 2.10, 2.11).
#[test]
fn every_ping_in_a_batch_gets_its_own_pong_below_the_high_water_mark() {
    let mut server = server(Config::default());
    let mut pings = Vec::new();
    for i in 0..10u8 {
        pings.extend(client_frame(0x89, &[b'p', i]));
    }
    let events = feed(&mut server, &pings);
    assert_eq!(events.len(), 10);
    let pongs: Vec<u8> = (0..10u8)
        .flat_map(|i| frame(0x8A, &[b'p', i], None))
        .collect();
    assert_eq!(transmit(&mut server), pongs);
}

/// RFC 6455 §5.5.3: a peer that floods pings and does not read makes the
/// write buffer reach its high-water mark; from there on only the most
/// recent ping is answered, so the buffer stops growing.
#[test]
fn a_ping_flood_from_a_peer_that_does_not_read_stops_at_the_high_water_mark() {
    let mut config = Config::default();
    config.write_buffer_high_water = 60;
    let mut server = server(config);
    let mut flood = Vec::new();
    for i in 0..10_000u32 {
        flood.extend(client_frame(0x89, &i.to_be_bytes()));
    }
    let events = feed(&mut server, &flood);
    assert_eq!(events.len(), 10_000);
    // Ten 6-byte pongs reach the mark; every later ping replaced the one
    // pending behind them.
    assert_eq!(server.buffered_amount(), 60);
    let mut expected: Vec<u8> = (0..10u32)
        .flat_map(|i| frame(0x8A, &i.to_be_bytes(), None))
        .collect();
    expected.extend(frame(0x8A, &9_999u32.to_be_bytes(), None));
    assert_eq!(transmit(&mut server), expected);
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
