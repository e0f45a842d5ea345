//! RFC 6455 §7 and §5.5.1: the close handshake, close codes and who closes
//! the transport.

mod common;

use std::time::{Duration, Instant};

use common::{
    client, client_frame, close_code_sent, events, feed, frame, server, transmit, Ev, Pair,
};
use rfc6455::{CloseCode, Config, Error, ProtocolError, State, UsageError};

fn protocol_error(error: ProtocolError) -> Ev {
    Ev::Error(Error::Protocol(error))
}

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    [&code.to_be_bytes()[..], reason].concat()
}

#[test]
fn client_initiated_close_completes_and_the_server_closes_the_transport_first() {
    let mut pair = Pair::new();
    pair.client.close(1000u16, "done").unwrap();
    assert_eq!(pair.client.state(), State::ClosingLocal);
    assert_eq!(pair.to_server(), [Ev::Close(Some((1000, "done".into())))]);
    assert_eq!(pair.server.state(), State::Closed);
    assert!(pair.server.should_close_transport());
    // The echo carries the code, not the reason.
    assert_eq!(pair.to_client(), [Ev::Close(Some((1000, String::new())))]);
    assert_eq!(pair.client.state(), State::Closed);
    // The client waits for the server to close the transport...
    assert!(!pair.client.should_close_transport());
    pair.client.receive_eof();
    assert!(pair.client.should_close_transport());
    assert_eq!(events(&mut pair.client), []);
}

#[test]
fn server_initiated_close_completes() {
    let mut pair = Pair::new();
    pair.server.close(CloseCode::GOING_AWAY, "restart").unwrap();
    assert_eq!(
        pair.to_client(),
        [Ev::Close(Some((1001, "restart".into())))]
    );
    assert_eq!(pair.to_server(), [Ev::Close(Some((1001, String::new())))]);
    assert_eq!(pair.server.state(), State::Closed);
    assert!(pair.server.should_close_transport());
}

#[test]
fn an_empty_close_is_answered_with_an_empty_close() {
    let mut server = server(Config::default());
    assert_eq!(
        feed(&mut server, &client_frame(0x88, b"")),
        [Ev::Close(None)]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(None));
}

#[test]
fn invalid_close_codes_are_refused_with_1002() {
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000] {
        let mut server = server(Config::default());
        assert_eq!(
            feed(&mut server, &client_frame(0x88, &close_payload(code, b""))),
            [protocol_error(ProtocolError::InvalidCloseCode(code))],
            "{code}"
        );
        assert_eq!(
            close_code_sent(&transmit(&mut server)),
            Some(Some(1002)),
            "{code}"
        );
    }
}

#[test]
fn valid_close_codes_are_echoed() {
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
    ] {
        let mut server = server(Config::default());
        assert_eq!(
            feed(&mut server, &client_frame(0x88, &close_payload(code, b"r"))),
            [Ev::Close(Some((code, "r".into())))]
        );
        assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(code)));
    }
}

#[test]
fn a_one_byte_close_payload_is_refused_with_1002() {
    let mut server = server(Config::default());
    assert_eq!(
        feed(&mut server, &client_frame(0x88, &[0x03])),
        [protocol_error(ProtocolError::CloseFrameTooShort)]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1002)));
}

#[test]
fn an_invalid_utf8_close_reason_is_refused_with_1007() {
    let mut server = server(Config::default());
    assert_eq!(
        feed(
            &mut server,
            &client_frame(0x88, &close_payload(1000, b"\xce\xba\xff"))
        ),
        [protocol_error(ProtocolError::InvalidCloseReason)]
    );
    assert_eq!(close_code_sent(&transmit(&mut server)), Some(Some(1007)));
}

#[test]
fn nothing_is_sent_after_our_close_frame() {
    let mut client = client(Config::default());
    client.close(1000u16, "").unwrap();
    assert_eq!(client.send_text("late"), Err(UsageError::Closed));
    assert_eq!(client.send_ping(b""), Err(UsageError::Closed));
    assert_eq!(client.close(1000u16, ""), Err(UsageError::Closed));
    // A ping arriving now is reported but not answered.
    let sent = transmit(&mut client);
    assert_eq!(
        feed(&mut client, &frame(0x89, b"p", None)),
        [Ev::Ping(b"p".to_vec())]
    );
    assert_eq!(transmit(&mut client), b"");
    assert_eq!(common::frames(&sent).len(), 1);
}

#[test]
fn messages_sent_before_close_go_out_before_the_close_frame() {
    let mut pair = Pair::new();
    pair.client.send_text("one").unwrap();
    pair.client.send_binary(b"two").unwrap();
    pair.client.close(1000u16, "").unwrap();
    assert_eq!(
        pair.to_server(),
        [
            Ev::Text("one".into()),
            Ev::Binary(b"two".to_vec()),
            Ev::Close(Some((1000, String::new())))
        ]
    );
}

#[test]
fn messages_arriving_while_we_close_are_delivered() {
    let mut pair = Pair::new();
    pair.server.close(1000u16, "").unwrap();
    pair.client.send_text("in flight").unwrap();
    pair.to_client();
    assert_eq!(
        pair.to_server(),
        [
            Ev::Text("in flight".into()),
            Ev::Close(Some((1000, String::new())))
        ]
    );
}

#[test]
fn frames_after_the_peers_close_are_ignored() {
    let mut server = server(Config::default());
    let mut bytes = client_frame(0x88, &close_payload(1000, b""));
    bytes.extend(client_frame(0x81, b"late"));
    assert_eq!(
        feed(&mut server, &bytes),
        [Ev::Close(Some((1000, String::new())))]
    );
    assert_eq!(feed(&mut server, &client_frame(0x81, b"later")), []);
}

#[test]
fn unsendable_close_codes_and_long_reasons_are_usage_errors() {
    let mut client = client(Config::default());
    for code in [1005, 1006, 1015, 999, 2000, 5000] {
        assert_eq!(
            client.close(code, ""),
            Err(UsageError::InvalidCloseCode(code))
        );
    }
    assert_eq!(
        client.close(1000u16, &"x".repeat(124)),
        Err(UsageError::CloseReasonTooLong(124))
    );
    client.close(1000u16, &"x".repeat(123)).unwrap();
}

#[test]
fn with_auto_close_reply_off_the_application_answers_and_may_send_first() {
    let mut config = Config::default();
    config.auto_close_reply = false;
    let mut pair = Pair::with_configs(Config::default(), config);
    pair.client.close(4000u16, "bye").unwrap();
    assert_eq!(pair.to_server(), [Ev::Close(Some((4000, "bye".into())))]);
    assert_eq!(pair.server.state(), State::ClosingRemote);
    assert_eq!(pair.server.buffered_amount(), 0);
    pair.server.send_text("last words").unwrap();
    pair.server.close(4000u16, "").unwrap();
    assert_eq!(pair.server.state(), State::Closed);
    assert!(pair.server.should_close_transport());
    assert_eq!(
        pair.to_client(),
        [
            Ev::Text("last words".into()),
            Ev::Close(Some((4000, String::new())))
        ]
    );
}

#[test]
fn an_unanswered_close_times_out_and_the_transport_closes() {
    let mut config = Config::default();
    config.close_timeout = Duration::from_secs(3);
    let mut server = server(config);
    server.close(1000u16, "").unwrap();
    let start = Instant::now();
    let deadline = server
        .poll_timeout(start)
        .expect("the close timer is armed");
    assert_eq!(deadline, start + Duration::from_secs(3));
    server.handle_timeout(start + Duration::from_secs(2));
    assert!(!server.should_close_transport());
    server.handle_timeout(deadline);
    assert!(server.should_close_transport());
    assert_eq!(server.state(), State::Closed);
    assert_eq!(
        events(&mut server),
        [Ev::Error(Error::CloseTimeout(Duration::from_secs(3)))]
    );
    assert_eq!(events(&mut server), []);
}

#[test]
fn a_client_closes_the_transport_itself_if_the_server_does_not() {
    let mut pair = Pair::new();
    pair.client.close(1000u16, "").unwrap();
    pair.settle();
    assert_eq!(pair.client.state(), State::Closed);
    assert!(!pair.client.should_close_transport());
    let start = Instant::now();
    let deadline = pair
        .client
        .poll_timeout(start)
        .expect("waiting for the server to close");
    pair.client.handle_timeout(deadline);
    assert!(pair.client.should_close_transport());
    assert_eq!(events(&mut pair.client), []);
}

#[test]
fn the_transport_ending_without_a_close_is_an_unexpected_eof_after_complete_messages() {
    let mut server = server(Config::default());
    let mut bytes = client_frame(0x81, b"complete");
    bytes.extend_from_slice(&client_frame(0x81, b"cut short")[..8]);
    server.receive(&bytes);
    server.receive_eof();
    assert_eq!(
        events(&mut server),
        [Ev::Text("complete".into()), Ev::Error(Error::UnexpectedEof)]
    );
    assert!(server.should_close_transport());
    assert_eq!(
        transmit(&mut server),
        b"",
        "no close frame after the transport ended"
    );
}

#[test]
fn a_protocol_error_sends_one_close_and_ends_reading() {
    let mut server = server(Config::default());
    let mut bytes = client_frame(0x83, b"");
    bytes.extend(client_frame(0x81, b"after"));
    assert_eq!(
        feed(&mut server, &bytes),
        [protocol_error(ProtocolError::ReservedOpcode(3))]
    );
    assert_eq!(feed(&mut server, &client_frame(0x81, b"more")), []);
    let sent = common::frames(&transmit(&mut server));
    assert_eq!(sent.len(), 1);
    assert_eq!(server.send_text("x"), Err(UsageError::Closed));
    assert!(server.should_close_transport());
}

#[test]
fn a_failure_after_our_close_sends_no_second_close() {
    let mut server = server(Config::default());
    server.close(1000u16, "").unwrap();
    let first = transmit(&mut server);
    assert_eq!(
        feed(&mut server, &frame(0x81, b"unmasked", None)),
        [protocol_error(ProtocolError::UnmaskedFrame)]
    );
    assert_eq!(transmit(&mut server), b"");
    assert_eq!(common::frames(&first).len(), 1);
}
