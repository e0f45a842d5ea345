//! When the tokio adapter's `send` writes: as a rule before it returns;
//! the reply to a message read while more had already arrived waits, at
//! most, until the next read would wait for input, so a burst of requests
//! gets its replies in one write.
#![cfg(feature = "tokio")]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::burst::{
    client_message, cut_into_reads, data_count, payloads_written, replies_to, Script,
};
use common::{client_frame, frames};
use proptest::collection::vec;
use proptest::prelude::*;
use rfc6455::frame::OpCode;
use rfc6455::tokio::WebSocket;
use rfc6455::{Config, Connection, Message, Role};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};

/// A stream that counts the writes made to it. With `vectored`, it takes
/// vectored writes whole, as a socket does, and counts each as one write.
struct CountingWrites {
    inner: DuplexStream,
    writes: Arc<AtomicUsize>,
    vectored: bool,
}

impl AsyncRead for CountingWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountingWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(_))) {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        if !self.vectored {
            let first = bufs
                .iter()
                .find(|buf| !buf.is_empty())
                .map_or(&[][..], |buf| buf);
            return self.poll_write(cx, first);
        }
        // Everything the pipe has room for, as one write.
        let mut written = 0;
        for buf in bufs {
            match Pin::new(&mut self.inner).poll_write(cx, buf) {
                Poll::Ready(Ok(n)) => {
                    written += n;
                    if n < buf.len() {
                        break;
                    }
                }
                Poll::Ready(Err(error)) if written == 0 => return Poll::Ready(Err(error)),
                Poll::Pending if written == 0 => return Poll::Pending,
                _ => break,
            }
        }
        self.writes.fetch_add(1, Ordering::Relaxed);
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A server `WebSocket` over one end of an in-memory pipe of `capacity`
/// bytes each way, counting its writes; the other end is the raw client.
fn server_over_pipe(
    capacity: usize,
) -> (WebSocket<CountingWrites>, DuplexStream, Arc<AtomicUsize>) {
    server_over(capacity, false)
}

/// [`server_over_pipe`], with a stream that takes vectored writes whole
/// when `vectored`.
fn server_over(
    capacity: usize,
    vectored: bool,
) -> (WebSocket<CountingWrites>, DuplexStream, Arc<AtomicUsize>) {
    let (server_end, client_end) = tokio::io::duplex(capacity);
    let writes = Arc::new(AtomicUsize::new(0));
    let stream = CountingWrites {
        inner: server_end,
        writes: Arc::clone(&writes),
        vectored,
    };
    let conn = Connection::new(Role::Server, Config::default());
    (WebSocket::from_connection(stream, conn), client_end, writes)
}

/// Reads from the raw client end until `count` whole frames have arrived,
/// within five seconds; returns their payloads.
async fn read_frames(client: &mut DuplexStream, count: usize) -> Vec<Vec<u8>> {
    let mut wire = Vec::new();
    let mut buf = [0u8; 64 << 10];
    tokio::time::timeout(Duration::from_secs(5), async {
        while frames(&wire).len() < count {
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0, "the server closed the pipe");
            wire.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "only {} of {count} frames arrived within 5 s",
            frames(&wire).len()
        )
    });
    frames(&wire)
        .into_iter()
        .map(|(_, payload)| payload)
        .collect()
}

fn text(i: usize) -> Vec<u8> {
    format!("message {i}").into_bytes()
}

#[tokio::test]
async fn the_replies_to_a_burst_go_out_together() {
    let (mut server, mut client, writes) = server_over_pipe(1 << 20);
    let burst: Vec<u8> = (0..64).flat_map(|i| client_frame(0x81, &text(i))).collect();
    client.write_all(&burst).await.unwrap();
    let echo = tokio::spawn(async move {
        for _ in 0..64 {
            let message = server.read().await.unwrap().expect("a message");
            server.send(message).await.unwrap();
        }
        server
    });
    let replies = read_frames(&mut client, 64).await;
    assert_eq!(replies, (0..64).map(text).collect::<Vec<_>>());
    let _server = echo.await.unwrap();
    // The last reply finds nothing more buffered and writes them all; the
    // replies before it wait for it. One per message would be 64 writes.
    let writes = writes.load(Ordering::Relaxed);
    assert!(writes <= 2, "{writes} writes for a burst of 64 replies");
}

/// Sends a burst of eight 40 KiB binary messages to a server that `echo`
/// runs (and hands back), checks the eight replies, and returns how many
/// writes the server made for them.
async fn writes_for_eight_large_replies<F, Fut>(echo: F) -> usize
where
    F: FnOnce(WebSocket<CountingWrites>) -> Fut,
    Fut: Future<Output = WebSocket<CountingWrites>> + Send + 'static,
{
    let (server, mut client, writes) = server_over(4 << 20, true);
    let payload = |i: usize| vec![i as u8; 40 << 10];
    let burst: Vec<u8> = (0..8)
        .flat_map(|i| client_frame(0x82, &payload(i)))
        .collect();
    client.write_all(&burst).await.unwrap();
    let echo = tokio::spawn(echo(server));
    // Each reply is a 4-byte header and its payload.
    let mut wire = vec![0; 8 * (4 + (40 << 10))];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut wire))
        .await
        .expect("the replies arrive within 5 s")
        .unwrap();
    let replies: Vec<Vec<u8>> = frames(&wire).into_iter().map(|(_, p)| p).collect();
    assert_eq!(replies, (0..8).map(payload).collect::<Vec<_>>());
    let _server = echo.await.unwrap();
    writes.load(Ordering::Relaxed)
}

#[tokio::test]
async fn large_replies_to_a_burst_go_out_together_from_the_messages_themselves() {
    // The replies are queued as they are, not copied, and leave in vectored
    // writes with their headers.
    let writes = writes_for_eight_large_replies(|mut server| async move {
        for _ in 0..8 {
            let message = server.read().await.unwrap().expect("a message");
            server.send(message).await.unwrap();
        }
        server
    })
    .await;
    // The server reads up to 128 KiB at a time, three of these messages,
    // and the replies to each read's messages leave together: one write
    // per reply would be 8.
    assert!(
        writes <= 4,
        "{writes} writes for a burst of 8 large replies"
    );
}

#[tokio::test]
async fn large_replies_from_read_with_go_out_together_from_the_receive_buffer() {
    // The same burst answered from the lent bytes: each reply but the last
    // of a read's messages waits in the queue as a reference to the receive
    // buffer, and they leave together.
    use rfc6455::Event;
    let writes = writes_for_eight_large_replies(|mut server| async move {
        for _ in 0..8 {
            server
                .read_with(|event, sender| match event {
                    Event::Binary(data) => sender.send_binary(data),
                    other => panic!("{other:?}"),
                })
                .await
                .unwrap()
                .expect("a message")
                .unwrap();
        }
        // What `read_with`'s sender queues waits for the next read, or this.
        server.flush().await.unwrap();
        server
    })
    .await;
    // As with `read`: one write per reply would be 8.
    assert!(
        writes <= 4,
        "{writes} writes for a burst of 8 large replies"
    );
}

#[tokio::test]
async fn a_held_reply_is_written_before_the_next_read_waits() {
    let (mut server, mut client, _) = server_over_pipe(1 << 20);
    let two: Vec<u8> = [client_frame(0x81, b"a"), client_frame(0x81, b"b")].concat();
    client.write_all(&two).await.unwrap();
    let server = tokio::spawn(async move {
        let a = server.read().await.unwrap().expect("a");
        server.send(a).await.unwrap(); // "b" is buffered: this reply may wait
        let b = server.read().await.unwrap().expect("b");
        assert_eq!(b, Message::Text("b".into()));
        // No reply to "b"; this read waits for input, and must write the
        // reply to "a" before it does.
        server.read().await.unwrap()
    });
    assert_eq!(read_frames(&mut client, 1).await, [b"a".to_vec()]);
    client.write_all(&client_frame(0x81, b"c")).await.unwrap();
    assert_eq!(server.await.unwrap(), Some(Message::Text("c".into())));
}

#[tokio::test]
async fn a_held_read_with_reply_is_written_before_the_next_read_waits() {
    use rfc6455::Event;
    let (mut server, mut client, _) = server_over_pipe(1 << 20);
    let large = vec![7; 40 << 10];
    let two: Vec<u8> = [client_frame(0x82, &large), client_frame(0x81, b"b")].concat();
    client.write_all(&two).await.unwrap();
    let server = tokio::spawn(async move {
        // "b" is buffered: the reply, from the receive buffer, may wait.
        server
            .read_with(|event, sender| match event {
                Event::Binary(data) => sender.send_binary(data),
                other => panic!("{other:?}"),
            })
            .await
            .unwrap()
            .expect("the large message")
            .unwrap();
        let b = server.read().await.unwrap().expect("b");
        assert_eq!(b, Message::Text("b".into()));
        // This read waits for input, and must write the reply before.
        server.read().await.unwrap()
    });
    assert_eq!(read_frames(&mut client, 1).await, [large]);
    client.write_all(&client_frame(0x81, b"c")).await.unwrap();
    assert_eq!(server.await.unwrap(), Some(Message::Text("c".into())));
}

#[tokio::test]
async fn a_server_that_only_pushes_writes_each_message_before_send_returns() {
    let (mut server, mut client, _) = server_over_pipe(1 << 20);
    let (sent_tx, mut sent_rx) = tokio::sync::mpsc::channel::<usize>(1);
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::channel::<()>(1);
    let pusher = tokio::spawn(async move {
        for i in 0..5 {
            server
                .send(Message::Text(format!("push {i}")))
                .await
                .unwrap();
            sent_tx.send(i).await.unwrap();
            // The next message only after the client has this one: a
            // message held back would never arrive.
            seen_rx.recv().await.unwrap();
        }
    });
    for i in 0..5 {
        assert_eq!(sent_rx.recv().await, Some(i));
        assert_eq!(
            read_frames(&mut client, 1).await,
            [format!("push {i}").into_bytes()]
        );
        seen_tx.send(()).await.unwrap();
    }
    pusher.await.unwrap();
}

#[tokio::test]
async fn the_first_push_after_a_read_with_more_buffered_goes_out_with_the_next_send() {
    // The documented bound of a held reply: the next send writes it.
    let (mut server, mut client, _) = server_over_pipe(1 << 20);
    let two: Vec<u8> = [client_frame(0x81, b"a"), client_frame(0x81, b"b")].concat();
    client.write_all(&two).await.unwrap();
    let message = server.read().await.unwrap().expect("a");
    assert_eq!(message, Message::Text("a".into()));
    server.send(Message::Text("held".into())).await.unwrap();
    server.send(Message::Text("then".into())).await.unwrap();
    assert_eq!(
        read_frames(&mut client, 2).await,
        [b"held".to_vec(), b"then".to_vec()]
    );
}

#[tokio::test]
async fn a_send_dropped_while_it_waits_loses_and_duplicates_nothing() {
    // A pipe of 16 KiB that the client does not read: sends of 40 KiB
    // soon wait on back-pressure, and one is dropped while it waits.
    let (mut server, mut client, _) = server_over_pipe(16 << 10);
    let message = |i: usize| {
        let mut payload = vec![i as u8; 40 << 10];
        payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
        Message::Binary(payload)
    };
    let mut completed = 0;
    let mut dropped = None;
    for i in 0..64 {
        match tokio::time::timeout(Duration::from_millis(100), server.send(message(i))).await {
            Ok(result) => {
                result.unwrap();
                completed = i + 1;
            }
            Err(_) => {
                dropped = Some(i);
                break;
            }
        }
    }
    let dropped = dropped.expect("a send waited on back-pressure");
    // Sends go on after the dropped one.
    let reader = tokio::spawn(async move {
        let mut wire = Vec::new();
        client.read_to_end(&mut wire).await.unwrap();
        frames(&wire)
            .into_iter()
            .map(|(_, payload)| u64::from_be_bytes(payload[..8].try_into().unwrap()) as usize)
            .collect::<Vec<_>>()
    });
    for i in dropped + 1..dropped + 4 {
        server.send(message(i)).await.unwrap();
    }
    drop(server);
    let seen = reader.await.unwrap();
    // Every completed send arrived once, in order; the dropped message
    // arrived once or not at all; nothing else is missing or repeated.
    let mut expected: Vec<usize> = (0..completed).collect();
    if seen.contains(&dropped) {
        expected.push(dropped);
    }
    expected.extend(dropped + 1..dropped + 4);
    assert_eq!(seen, expected);
}

/// A stream whose reads return the next of the given chunks, one per
/// read, and then fail as a read that would wait; it takes every write
/// whole. On every read it checks that each payload the test recorded as
/// sent was written before it.
struct Scripted {
    script: Script,
    written: Vec<u8>,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let Some(n) = this.script.read(buf.initialize_unfilled(), &this.written) else {
            return Poll::Ready(Err(std::io::Error::other("the read would wait")));
        };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.written.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let mut n = 0;
        for buf in bufs {
            self.written.extend_from_slice(buf);
            n += buf.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// What the server loop saw: data messages and ping payloads.
#[derive(Default)]
struct Seen {
    data: usize,
    pings: Vec<Vec<u8>>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The loop `read` then `send` (or `read_with` replying through its
    /// sender), with any cut of the input into reads and any number of
    /// replies per message: no read from the stream happens while a sent
    /// message is unwritten (the stream checks on every read), every reply
    /// is written exactly once and in order, every ping gets its pong.
    #[test]
    fn every_send_is_written_before_the_next_read_from_the_stream(
        messages in vec(client_message(), 0..12),
        cuts in vec(any::<prop::sample::Index>(), 0..6),
        replies in vec(0usize..3, 1..12),
        lent in any::<bool>(),
    ) {
        let script = Script::new(cut_into_reads(&messages, &cuts));
        let sent = std::rc::Rc::clone(&script.sent);
        let stream = Scripted {
            script,
            written: Vec::new(),
        };
        let conn = Connection::new(Role::Server, Config::default());
        let mut ws = WebSocket::from_connection(stream, conn);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let seen = runtime.block_on(async {
            let mut seen = Seen::default();
            loop {
                let count = replies[seen.data % replies.len()];
                if lent {
                    let step = ws.read_with(|event, sender| match event {
                        rfc6455::Event::Text(_) | rfc6455::Event::Binary(_) => {
                            for payload in replies_to(seen.data, count) {
                                sent.borrow_mut().push(payload.clone());
                                sender.send_binary(&payload).unwrap();
                            }
                            seen.data += 1;
                        }
                        rfc6455::Event::Ping(payload) => seen.pings.push(payload.to_vec()),
                        other => panic!("unexpected {other:?}"),
                    });
                    if step.await.is_err() {
                        break;
                    }
                    continue;
                }
                match ws.read().await {
                    Ok(Some(Message::Text(_) | Message::Binary(_))) => {
                        for payload in replies_to(seen.data, count) {
                            sent.borrow_mut().push(payload.clone());
                            ws.send(Message::Binary(payload)).await.unwrap();
                        }
                        seen.data += 1;
                    }
                    Ok(Some(Message::Ping(payload))) => seen.pings.push(payload),
                    Ok(other) => panic!("unexpected {other:?}"),
                    Err(_) => break,
                }
            }
            seen
        });
        let stream = ws.get_ref();
        prop_assert!(stream.script.is_done(), "the loop read everything");
        prop_assert_eq!(seen.data, data_count(&messages));
        prop_assert_eq!(
            payloads_written(&stream.written, &[OpCode::Text, OpCode::Binary]),
            sent.borrow().clone()
        );
        prop_assert_eq!(payloads_written(&stream.written, &[OpCode::Pong]), seen.pings);
    }
}
