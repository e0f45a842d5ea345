//! Replies made of the bytes an event lends: a large one is queued as a
//! reference to the receive buffer or to the assembled message, not a
//! copy, and must still go out as it was sent whatever arrives before it
//! is written.

mod common;

use std::io::IoSlice;

use common::{client_frame, frames, server};
use proptest::collection::vec;
use proptest::prelude::*;
use rfc6455::{Config, Connection, Event, OpCode};

/// A payload of `len` bytes that differs from message to message.
fn payload(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Echoes every data event from its own bytes with the lent sender.
fn echo_with_sender(conn: &mut Connection) -> usize {
    let mut echoed = 0;
    while let Some((event, mut sender)) = conn.poll_event_with_sender().unwrap() {
        match event {
            Event::Binary(data) => sender.send_binary(data).unwrap(),
            Event::Text(text) => sender.send_text(text).unwrap(),
            _ => continue,
        }
        echoed += 1;
    }
    echoed
}

/// Writes at most `budget` of what the connection has queued, in vectored
/// pieces as an adapter does; returns what was written.
fn transmit_at_most(conn: &mut Connection, mut budget: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    while budget > 0 {
        let mut pieces = [IoSlice::new(&[]); 64];
        let filled = conn.poll_transmit_vectored(&mut pieces);
        if filled == 0 {
            break;
        }
        let before = wire.len();
        for piece in &pieces[..filled] {
            let take = piece.len().min(budget - (wire.len() - before));
            wire.extend_from_slice(&piece[..take]);
        }
        let written = wire.len() - before;
        budget -= written;
        conn.advance_transmit(written);
    }
    wire
}

/// The payloads of the data frames in `wire`, with their opcodes.
fn data_frames(wire: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
    frames(wire)
        .into_iter()
        .map(|(header, payload)| (header.opcode, payload))
        .collect()
}

#[test]
fn a_reply_queued_from_the_receive_buffer_survives_the_next_read() {
    let first = payload(1, 40 << 10);
    let second = payload(2, 40 << 10);
    for read_into_buffer in [false, true] {
        let mut conn = server(Config::default());
        conn.receive(&client_frame(0x82, &first));
        assert_eq!(echo_with_sender(&mut conn), 1);
        // The reply waits; the receive buffer was emptied and the next
        // message lands where the first one was.
        let next = client_frame(0x82, &second);
        if read_into_buffer {
            let room = conn.receive_buffer();
            room[..next.len()].copy_from_slice(&next);
            conn.commit(next.len());
        } else {
            conn.receive(&next);
        }
        assert_eq!(echo_with_sender(&mut conn), 1);
        let wire = transmit_at_most(&mut conn, usize::MAX);
        assert_eq!(
            data_frames(&wire),
            [
                (OpCode::Binary, first.clone()),
                (OpCode::Binary, second.clone())
            ],
            "read into the buffer: {read_into_buffer}"
        );
    }
}

#[test]
fn a_reply_queued_from_the_receive_buffer_survives_a_partial_frame_moving_to_the_front() {
    // The message is followed by the first bytes of a ping: when the rest
    // arrives, they are moved to the front of the buffer, where the
    // message's bytes are.
    let first = payload(6, 40 << 10);
    let ping = client_frame(0x89, &[b'p'; 100]);
    let second = payload(7, 33 << 10);
    let mut conn = server(Config::default());
    conn.receive(&[&client_frame(0x82, &first)[..], &ping[..60]].concat());
    assert_eq!(echo_with_sender(&mut conn), 1);
    conn.receive(&[&ping[60..], &client_frame(0x82, &second)[..]].concat());
    assert_eq!(echo_with_sender(&mut conn), 1);
    let wire = transmit_at_most(&mut conn, usize::MAX);
    assert_eq!(
        data_frames(&wire),
        [
            (OpCode::Binary, first),
            (OpCode::Pong, vec![b'p'; 100]),
            (OpCode::Binary, second)
        ]
    );
}

#[test]
fn a_reply_queued_from_an_assembled_message_survives_the_next_message() {
    // Each message arrives in two pieces, so it is assembled in the
    // message buffer, which the next message is assembled into.
    let first = payload(8, 40 << 10);
    let second = payload(9, 45 << 10);
    let mut conn = server(Config::default());
    let wire_first = client_frame(0x82, &first);
    let wire_second = client_frame(0x82, &second);
    conn.receive(&wire_first[..1000]);
    assert_eq!(echo_with_sender(&mut conn), 0);
    conn.receive(&wire_first[1000..]);
    assert_eq!(echo_with_sender(&mut conn), 1);
    let mut wire = transmit_at_most(&mut conn, 3000);
    conn.receive(&wire_second[..2000]);
    assert_eq!(echo_with_sender(&mut conn), 0);
    conn.receive(&wire_second[2000..]);
    assert_eq!(echo_with_sender(&mut conn), 1);
    wire.extend(transmit_at_most(&mut conn, usize::MAX));
    assert_eq!(
        data_frames(&wire),
        [(OpCode::Binary, first), (OpCode::Binary, second)]
    );
}

#[test]
fn a_reply_from_the_bytes_of_a_burst_waits_for_the_others_with_a_transport() {
    // Two messages in one read: the reply to the first waits, as a further
    // whole frame is buffered, and leaves with the reply to the second.
    let first = payload(3, 40 << 10);
    let second = vec![b'x'; 50 << 10];
    let mut conn = server(Config::default());
    conn.receive(&[client_frame(0x82, &first), client_frame(0x81, &second)].concat());
    let mut writes = Vec::new();
    let mut socket = |bufs: &[IoSlice<'_>]| {
        writes.push(
            bufs.iter()
                .map(|buf| buf.to_vec())
                .collect::<Vec<_>>()
                .concat(),
        );
        writes.last().map_or(0, Vec::len)
    };
    for _ in 0..2 {
        let (event, mut sender) = conn
            .poll_event_write_through(&mut socket)
            .unwrap()
            .expect("a message");
        match event {
            Event::Binary(data) => sender.send_binary(data).unwrap(),
            Event::Text(text) => sender.send_text(text).unwrap(),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        writes.is_empty(),
        "nothing written through: {}",
        writes.len()
    );
    let wire = transmit_at_most(&mut conn, usize::MAX);
    assert_eq!(
        data_frames(&wire),
        [(OpCode::Binary, first), (OpCode::Text, second)]
    );
}

#[test]
fn a_lone_reply_is_still_written_through_at_once() {
    let first = payload(5, 40 << 10);
    let mut conn = server(Config::default());
    conn.receive(&client_frame(0x82, &first));
    let mut wire = Vec::new();
    let mut socket = |bufs: &[IoSlice<'_>]| {
        let before = wire.len();
        for buf in bufs {
            wire.extend_from_slice(buf);
        }
        wire.len() - before
    };
    let (event, mut sender) = conn
        .poll_event_write_through(&mut socket)
        .unwrap()
        .expect("a message");
    let Event::Binary(data) = event else {
        panic!("{event:?}")
    };
    sender.send_binary(data).unwrap();
    assert_eq!(conn.buffered_amount(), 0);
    assert_eq!(data_frames(&wire), [(OpCode::Binary, first)]);
}

/// Another connection on this thread reads: it takes whatever receive
/// buffer the pool holds and writes over all of it, committing nothing.
fn scribble_over_the_pool() {
    let mut other = server(Config::default());
    other.receive_buffer().fill(0xEE);
    other.release_receive_buffer();
}

#[test]
fn a_reply_queued_from_the_receive_buffer_keeps_it_out_of_the_pool() {
    let first = payload(10, 40 << 10);
    let mut conn = server(Config::default());
    conn.receive(&client_frame(0x82, &first));
    assert_eq!(echo_with_sender(&mut conn), 1);
    // Every byte received was parsed, but the reply still needs them.
    conn.release_receive_buffer();
    scribble_over_the_pool();
    let mut wire = transmit_at_most(&mut conn, 1000);
    conn.release_receive_buffer();
    scribble_over_the_pool();
    wire.extend(transmit_at_most(&mut conn, usize::MAX));
    assert_eq!(data_frames(&wire), [(OpCode::Binary, first)]);
}

#[test]
fn an_emptied_receive_buffer_goes_to_the_next_connection_that_reads() {
    let first = payload(11, 40 << 10);
    let mut conn = server(Config::default());
    conn.receive(&client_frame(0x82, &first));
    let memory = match conn.poll_event().unwrap() {
        // The frame's 8-byte header is at the buffer's start.
        Some(Event::Binary(data)) => data.as_ptr().wrapping_sub(8),
        other => panic!("{other:?}"),
    };
    assert_eq!(conn.poll_event(), Ok(None));
    conn.release_receive_buffer();
    let mut other = server(Config::default());
    assert_eq!(other.receive_buffer().as_ptr(), memory);
    // Both connections go on as before.
    let second = payload(12, 1000);
    for conn in [&mut conn, &mut other] {
        conn.receive(&client_frame(0x82, &second));
        assert_eq!(conn.poll_event(), Ok(Some(Event::Binary(&second[..]))));
    }
}

/// One frame of a generated conversation: its size and opcode (pings
/// leave partial frames of up to 131 bytes behind in the receive buffer).
fn frame_strategy() -> impl Strategy<Value = (usize, OpCode)> {
    let data = prop_oneof![
        0usize..200,
        (32usize << 10) - 2..(32 << 10) + 2,
        (32usize << 10)..(100 << 10),
    ];
    prop_oneof![
        (data.clone(), Just(OpCode::Binary)),
        (data, Just(OpCode::Text)),
        (0usize..126, Just(OpCode::Ping)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(24),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// However the input is cut, read (copied in or read into the buffer)
    /// and interleaved with partial writes and with the receive buffer left
    /// to another connection, every reply goes out whole and in order:
    /// bytes a queued reply still needs are never overwritten.
    #[test]
    fn replies_go_out_as_sent_however_reads_and_writes_interleave(
        messages in vec(frame_strategy(), 1..8),
        cuts in vec(1usize..150_000, 1..12),
        budgets in vec(0usize..150_000, 1..12),
        read_into_buffer in vec(any::<bool>(), 1..12),
        release in vec(any::<bool>(), 1..12),
    ) {
        let sent: Vec<(OpCode, Vec<u8>)> = messages
            .iter()
            .enumerate()
            .map(|(i, &(size, opcode))| match opcode {
                OpCode::Text => (opcode, vec![b'a' + (i % 26) as u8; size]),
                _ => (opcode, payload(i as u8, size)),
            })
            .collect();
        let input: Vec<u8> = sent
            .iter()
            .flat_map(|(opcode, data)| client_frame(0x80 | opcode.as_u8(), data))
            .collect();
        let (pings, sent): (Vec<_>, Vec<_>) =
            sent.into_iter().partition(|(opcode, _)| *opcode == OpCode::Ping);
        let mut conn = server(Config::default());
        let mut wire = Vec::new();
        let mut rest = &input[..];
        let mut step = 0;
        while !rest.is_empty() {
            let n = cuts[step % cuts.len()].min(rest.len());
            if read_into_buffer[step % read_into_buffer.len()] {
                let room = conn.receive_buffer();
                let n = n.min(room.len());
                room[..n].copy_from_slice(&rest[..n]);
                conn.commit(n);
                rest = &rest[n..];
            } else {
                conn.receive(&rest[..n]);
                rest = &rest[n..];
            }
            echo_with_sender(&mut conn);
            wire.extend(transmit_at_most(&mut conn, budgets[step % budgets.len()]));
            if release[step % release.len()] {
                // The transport has nothing more for now: the buffer may go
                // to another connection, which overwrites it.
                conn.release_receive_buffer();
                scribble_over_the_pool();
            }
            step += 1;
        }
        echo_with_sender(&mut conn);
        wire.extend(transmit_at_most(&mut conn, usize::MAX));
        let (pongs, echoed): (Vec<_>, Vec<_>) = data_frames(&wire)
            .into_iter()
            .partition(|(opcode, _)| *opcode == OpCode::Pong);
        prop_assert!(echoed == sent, "replies differ from the messages");
        // Pings are answered in order; while the queue is above its
        // high-water mark a newer ping's pong may replace an unwritten one
        // (RFC 6455 §5.5.3), but the last ping always gets its pong.
        let mut unanswered = pings.iter().map(|(_, data)| data);
        for (_, pong) in &pongs {
            prop_assert!(unanswered.any(|ping| ping == pong), "a pong out of order");
        }
        prop_assert_eq!(
            pongs.last().map(|(_, data)| data),
            pings.last().map(|(_, data)| data),
            "the last ping went unanswered"
        );
    }
}
