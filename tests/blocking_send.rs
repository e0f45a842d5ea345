//! When the blocking adapter's `send` writes: as a rule before it returns;
//! the reply to a message read while more had already arrived waits, at
//! most, until the next read would wait for input, so a burst of requests
//! gets its replies in one write.

mod common;

use std::io::{self, IoSlice, Read, Write};
use std::rc::Rc;

use common::burst::{
    client_message, cut_into_reads, data_count, payloads_written, replies_to, Script,
};
use common::{client_frame, frames};
use proptest::collection::vec;
use proptest::prelude::*;
use rfc6455::blocking::{Error, WebSocket};
use rfc6455::frame::OpCode;
use rfc6455::{Config, Connection, Message, Role};

/// What the server did to its stream, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// A read that returned these many bytes.
    Read(usize),
    /// A write (a vectored one taken whole) of these bytes.
    Write(Vec<u8>),
    /// A read found no input left: a socket's read would wait here.
    Waited,
}

/// A stream whose reads return the next of the given chunks, one per
/// read, and then fail as a read that would wait; it logs every read and
/// write, a vectored write taken whole as one write, as a socket does.
struct Scripted {
    script: Script,
    log: Vec<Op>,
}

impl Scripted {
    /// Everything written so far, in order.
    fn wire_written(&self) -> Vec<u8> {
        self.log
            .iter()
            .filter_map(|op| match op {
                Op::Write(bytes) => Some(bytes.as_slice()),
                _ => None,
            })
            .flatten()
            .copied()
            .collect()
    }
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let wire = self.wire_written();
        let Some(n) = self.script.read(buf, &wire) else {
            self.log.push(Op::Waited);
            return Err(io::Error::other("the read would wait for input"));
        };
        self.log.push(Op::Read(n));
        Ok(n)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.log.push(Op::Write(buf.to_vec()));
        Ok(buf.len())
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let whole: Vec<u8> = bufs.iter().flat_map(|buf| buf.iter().copied()).collect();
        self.write(&whole)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A server over a stream that hands it `chunks`, one per read.
fn server(chunks: Vec<Vec<u8>>) -> WebSocket<Scripted> {
    let stream = Scripted {
        script: Script::new(chunks),
        log: Vec::new(),
    };
    WebSocket::from_connection(stream, Connection::new(Role::Server, Config::default()))
}

/// The writes logged so far, each split into its frames' payloads.
fn writes(ws: &WebSocket<Scripted>) -> Vec<Vec<Vec<u8>>> {
    ws.get_ref()
        .log
        .iter()
        .filter_map(|op| match op {
            Op::Write(bytes) => Some(frames(bytes).into_iter().map(|(_, p)| p).collect()),
            _ => None,
        })
        .collect()
}

/// The unmasked text frame a server writes.
fn server_frame(payload: &[u8]) -> Vec<u8> {
    common::frame(0x81, payload, None)
}

fn text(i: usize) -> Vec<u8> {
    format!("message {i}").into_bytes()
}

/// `read` on a stream with no input left: the error of a read that would
/// wait.
fn assert_waits(ws: &mut WebSocket<Scripted>) {
    let result = ws.read();
    assert!(
        matches!(result, Err(Error::Io(_))),
        "expected the read to wait, got {result:?}"
    );
    assert_eq!(ws.get_ref().log.last(), Some(&Op::Waited));
}

#[test]
fn the_replies_to_a_burst_go_out_in_one_write() {
    let burst: Vec<u8> = (0..8).flat_map(|i| client_frame(0x81, &text(i))).collect();
    let mut ws = server(vec![burst]);
    for i in 0..8 {
        let message = ws.read().unwrap().expect("a message");
        assert_eq!(message, Message::Text(format!("message {i}")));
        ws.send(message).unwrap();
    }
    // The last reply found nothing more buffered and wrote them all.
    let expected: Vec<Vec<u8>> = (0..8).map(text).collect();
    assert_eq!(writes(&ws), [expected]);
    assert_waits(&mut ws);
    assert_eq!(writes(&ws).len(), 1);
}

#[test]
fn large_replies_to_a_burst_go_out_in_one_write() {
    // Three of 40 KiB: under the write buffer's high-water mark together.
    let payload = |i: u8| vec![i; 40 << 10];
    let burst: Vec<u8> = (0..3)
        .flat_map(|i| client_frame(0x82, &payload(i)))
        .collect();
    let mut ws = server(vec![burst]);
    for _ in 0..3 {
        let message = ws.read().unwrap().expect("a message");
        ws.send(message).unwrap();
    }
    let written = writes(&ws);
    assert_eq!(written.len(), 1, "one write for the three replies");
    let expected: Vec<Vec<u8>> = (0..3).map(payload).collect();
    assert!(written[0] == expected, "the three replies, in order");
}

#[test]
fn a_held_reply_is_written_before_the_next_read_waits() {
    let two: Vec<u8> = [client_frame(0x81, b"a"), client_frame(0x81, b"b")].concat();
    let mut ws = server(vec![two]);
    assert_eq!(ws.read().unwrap(), Some(Message::Text("a".into())));
    ws.send(Message::Text("A".into())).unwrap();
    assert!(writes(&ws).is_empty(), "the reply waits for the next read");
    // "b" gets no reply; the read after it writes "A" before it waits.
    assert_eq!(ws.read().unwrap(), Some(Message::Text("b".into())));
    assert!(writes(&ws).is_empty());
    assert_waits(&mut ws);
    let log = &ws.get_ref().log;
    assert_eq!(
        log[log.len() - 2..],
        [Op::Write(server_frame(b"A")), Op::Waited]
    );
}

#[test]
fn the_first_send_after_a_read_with_more_buffered_goes_out_with_the_next_send() {
    // The documented bound of a held reply: the next send writes it.
    let two: Vec<u8> = [client_frame(0x81, b"a"), client_frame(0x81, b"b")].concat();
    let mut ws = server(vec![two]);
    ws.read().unwrap().expect("a");
    ws.send(Message::Text("held".into())).unwrap();
    assert!(writes(&ws).is_empty());
    ws.send(Message::Text("then".into())).unwrap();
    assert_eq!(writes(&ws), [vec![b"held".to_vec(), b"then".to_vec()]]);
}

#[test]
fn flush_and_close_write_a_held_reply() {
    let three: Vec<u8> = (0..3).flat_map(|i| client_frame(0x81, &text(i))).collect();
    let mut ws = server(vec![three]);
    ws.read().unwrap().expect("message 0");
    ws.send(Message::Text("held".into())).unwrap();
    ws.flush().unwrap();
    assert_eq!(writes(&ws), [vec![b"held".to_vec()]]);
    ws.read().unwrap().expect("message 1");
    ws.send(Message::Text("held too".into())).unwrap();
    ws.close(1000, "").unwrap();
    let second = &writes(&ws)[1];
    assert_eq!(second[0], b"held too");
    assert_eq!(second[1], 1000u16.to_be_bytes());
}

#[test]
fn the_peer_s_close_is_echoed_with_what_is_held_before_read_returns_it() {
    // A loop that stops at the close must not leave the held reply behind.
    let input: Vec<u8> = [
        client_frame(0x81, b"a"),
        client_frame(0x88, &1000u16.to_be_bytes()),
    ]
    .concat();
    let mut ws = server(vec![input]);
    ws.read().unwrap().expect("a");
    ws.send(Message::Text("A".into())).unwrap();
    assert!(writes(&ws).is_empty());
    let close = ws.read().unwrap().expect("the close");
    assert!(matches!(close, Message::Close(_)), "{close:?}");
    let Some(Op::Write(bytes)) = ws.get_ref().log.last().cloned() else {
        panic!("nothing written before the close was returned")
    };
    let sent: Vec<OpCode> = frames(&bytes).into_iter().map(|(h, _)| h.opcode).collect();
    assert_eq!(sent, [OpCode::Text, OpCode::Close]);
}

#[test]
fn a_reply_over_the_high_water_mark_is_written_before_send_returns() {
    let two: Vec<u8> = [client_frame(0x81, b"a"), client_frame(0x81, b"b")].concat();
    let mut ws = server(vec![two]);
    ws.read().unwrap().expect("a");
    let large = vec![7u8; Config::default().write_buffer_high_water + 1];
    ws.send(Message::Binary(large.clone())).unwrap();
    assert!(writes(&ws) == [vec![large]], "written before send returned");
}

#[test]
fn a_server_that_only_pushes_writes_each_message_before_send_returns() {
    let mut ws = server(Vec::new());
    for i in 0..5 {
        ws.send(Message::Text(format!("push {i}"))).unwrap();
        assert_eq!(writes(&ws).len(), i + 1);
        assert_eq!(writes(&ws)[i], [format!("push {i}").into_bytes()]);
    }
}

#[test]
fn a_reply_with_nothing_more_buffered_is_written_before_send_returns() {
    // The second frame is cut: not whole, so no read is sure to follow.
    let cut = client_frame(0x81, b"second");
    let input: Vec<u8> = [client_frame(0x81, b"first"), cut[..4].to_vec()].concat();
    let mut ws = server(vec![input]);
    ws.read().unwrap().expect("first");
    ws.send(Message::Text("reply".into())).unwrap();
    assert_eq!(writes(&ws), [vec![b"reply".to_vec()]]);
}

#[test]
fn pings_are_answered_before_read_returns_unless_replies_are_held() {
    let input: Vec<u8> = [
        client_frame(0x89, b"p1"),
        client_frame(0x81, b"a"),
        client_frame(0x81, b"b"),
        client_frame(0x89, b"p2"),
        client_frame(0x81, b"c"),
    ]
    .concat();
    let mut ws = server(vec![input]);
    assert_eq!(ws.read().unwrap(), Some(Message::Ping(b"p1".to_vec())));
    // Nothing held: the pong went out before the ping was returned.
    assert_eq!(writes(&ws), [vec![b"p1".to_vec()]]);
    assert_eq!(ws.read().unwrap(), Some(Message::Text("a".into())));
    ws.send(Message::Text("A".into())).unwrap();
    // "A" is held ("b" is buffered), and p2's pong joins it.
    assert_eq!(ws.read().unwrap(), Some(Message::Text("b".into())));
    assert_eq!(ws.read().unwrap(), Some(Message::Ping(b"p2".to_vec())));
    assert_eq!(ws.read().unwrap(), Some(Message::Text("c".into())));
    assert_eq!(writes(&ws).len(), 1);
    // Nothing more is buffered: this reply writes everything.
    ws.send(Message::Text("C".into())).unwrap();
    let last = ws.get_ref().log.last().cloned();
    let Some(Op::Write(bytes)) = last else {
        panic!("the last send wrote: {last:?}")
    };
    let sent: Vec<(OpCode, Vec<u8>)> = frames(&bytes)
        .into_iter()
        .map(|(header, payload)| (header.opcode, payload))
        .collect();
    assert_eq!(
        sent,
        [
            (OpCode::Text, b"A".to_vec()),
            (OpCode::Pong, b"p2".to_vec()),
            (OpCode::Text, b"C".to_vec()),
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The loop `read` then `send`, with any cut of the input into reads
    /// and any number of replies per message: no read from the stream
    /// happens while a sent message is unwritten (checked by the stream on
    /// every read), every reply is written exactly once and in order, and
    /// every ping gets its pong.
    #[test]
    fn every_send_is_written_before_the_next_read_from_the_stream(
        messages in vec(client_message(), 0..12),
        cuts in vec(any::<prop::sample::Index>(), 0..6),
        replies in vec(0usize..3, 1..12),
    ) {
        let mut ws = server(cut_into_reads(&messages, &cuts));
        let sent = Rc::clone(&ws.get_ref().script.sent);
        let mut data = 0;
        let mut pings = Vec::new();
        loop {
            match ws.read() {
                Ok(Some(Message::Text(_) | Message::Binary(_))) => {
                    for payload in replies_to(data, replies[data % replies.len()]) {
                        sent.borrow_mut().push(payload.clone());
                        ws.send(Message::Binary(payload)).unwrap();
                    }
                    data += 1;
                }
                Ok(Some(Message::Ping(payload))) => pings.push(payload),
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_) => break,
            }
        }
        let wire = ws.get_ref().wire_written();
        prop_assert_eq!(ws.get_ref().log.last(), Some(&Op::Waited));
        prop_assert_eq!(data, data_count(&messages));
        prop_assert_eq!(
            payloads_written(&wire, &[OpCode::Text, OpCode::Binary]),
            sent.borrow().clone()
        );
        prop_assert_eq!(payloads_written(&wire, &[OpCode::Pong]), pings);
    }
}
