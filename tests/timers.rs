//! Keepalive and timers: driven by the time the adapter passes in.

mod common;

use std::time::{Duration, Instant};

use common::{client_frame, events, feed, frames, server, transmit, Ev};
use rfc6455::{CloseCode, Config, Error, Keepalive, OpCode, State};

fn keepalive_config() -> Config {
    let mut config = Config::default();
    config.keepalive = Some(Keepalive::new(
        Duration::from_secs(10),
        Duration::from_secs(5),
    ));
    config
}

#[test]
fn a_silent_peer_is_pinged_then_failed_with_1011_after_the_pong_timeout() {
    let mut server = server(keepalive_config());
    let start = Instant::now();
    let ping_at = server.poll_timeout(start).unwrap();
    assert_eq!(ping_at, start + Duration::from_secs(10));
    server.handle_timeout(ping_at);
    let sent = frames(&transmit(&mut server));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0.opcode, OpCode::Ping);
    let fail_at = server.poll_timeout(ping_at).unwrap();
    assert_eq!(fail_at, ping_at + Duration::from_secs(5));
    server.handle_timeout(fail_at);
    assert_eq!(server.state(), State::Closed);
    assert!(server.should_close_transport());
    assert_eq!(
        common::close_code_sent(&transmit(&mut server)),
        Some(Some(CloseCode::INTERNAL_ERROR.0))
    );
    assert_eq!(
        events(&mut server),
        [Ev::Error(Error::KeepaliveTimeout(Duration::from_secs(5)))]
    );
}

#[test]
fn a_pong_keeps_the_connection_alive() {
    let mut server = server(keepalive_config());
    let start = Instant::now();
    let ping_at = server.poll_timeout(start).unwrap();
    server.handle_timeout(ping_at);
    transmit(&mut server);
    let answer_at = ping_at + Duration::from_secs(1);
    assert_eq!(
        feed(&mut server, &client_frame(0x8A, b"")),
        [Ev::Pong(Vec::new())]
    );
    let next = server.poll_timeout(answer_at).unwrap();
    assert_eq!(next, answer_at + Duration::from_secs(10));
    server.handle_timeout(ping_at + Duration::from_secs(5));
    assert_eq!(server.state(), State::Open);
}

#[test]
fn traffic_postpones_the_keepalive_ping() {
    let mut server = server(keepalive_config());
    let start = Instant::now();
    let _ = server.poll_timeout(start);
    feed(&mut server, &client_frame(0x81, b"hi"));
    let later = start + Duration::from_secs(7);
    assert_eq!(
        server.poll_timeout(later),
        Some(later + Duration::from_secs(10))
    );
    server.handle_timeout(start + Duration::from_secs(10));
    assert_eq!(transmit(&mut server), b"");
}

#[test]
fn no_timer_is_armed_without_keepalive_or_close() {
    let mut server = server(Config::default());
    assert_eq!(server.poll_timeout(Instant::now()), None);
}

#[test]
fn a_peer_that_takes_no_bytes_fails_the_connection_after_the_write_timeout() {
    let mut config = Config::default();
    config.write_timeout = Some(Duration::from_secs(30));
    let mut server = server(config);
    server.send_text("unread").unwrap();
    let start = Instant::now();
    let deadline = server.poll_timeout(start).expect("the write timer runs");
    assert_eq!(deadline, start + Duration::from_secs(30));
    // Part of it is written: the timer restarts.
    let half = server.poll_transmit().unwrap().len() / 2;
    server.advance_transmit(half);
    let later = start + Duration::from_secs(20);
    assert_eq!(
        server.poll_timeout(later),
        Some(later + Duration::from_secs(30))
    );
    server.handle_timeout(later + Duration::from_secs(30));
    assert_eq!(server.state(), State::Closed);
    assert!(server.should_close_transport());
    assert_eq!(
        server.buffered_amount(),
        0,
        "what cannot be delivered is dropped"
    );
    assert_eq!(
        events(&mut server),
        [Ev::Error(Error::WriteTimeout(Duration::from_secs(30)))]
    );
}

#[test]
fn the_write_timer_is_off_while_nothing_waits() {
    let mut server = server(Config::default());
    server.send_text("x").unwrap();
    let n = server.poll_transmit().unwrap().len();
    server.advance_transmit(n);
    assert_eq!(server.poll_timeout(Instant::now()), None);
}
