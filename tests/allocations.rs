//! The hot paths allocate nothing per message once warm: a counting
//! allocator counts the allocations a thread makes while it reads and
//! writes messages, in the core and through the tokio adapter's
//! `read_with` (whose `read` returns owned messages, one allocation each,
//! except where a message of 128 KiB or more takes the buffer of a reply
//! already sent).

mod common;

use common::counting::allocations;
use common::{client, server, transmit};
use rfc6455::{Config, Event, Message};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

/// `count` client frames of `size` bytes each, text or binary, some of
/// them fragmented.
fn wire(size: usize, count: usize, fragment: Option<usize>) -> Vec<u8> {
    let mut config = Config::default();
    config.fragment_size = fragment;
    config.max_write_buffer = usize::MAX;
    let mut client = client(config);
    let text = "x".repeat(size);
    for i in 0..count {
        if i % 2 == 0 {
            client.send_text(&text).unwrap();
        } else {
            client.send_binary(text.as_bytes()).unwrap();
        }
    }
    transmit(&mut client)
}

/// Reads `bytes` twice over, in reads of at most `read` bytes through
/// `receive_buffer`, returning how many allocations the second pass made
/// (the first warms the buffers up) and how many messages were read.
fn allocations_reading(bytes: &[u8], read: usize) -> (usize, usize) {
    let mut server = server(Config::default());
    let mut messages = 0;
    let mut pass = |server: &mut rfc6455::Connection| {
        let mut at = 0;
        while at < bytes.len() {
            let buf = server.receive_buffer();
            let n = buf.len().min(read).min(bytes.len() - at);
            buf[..n].copy_from_slice(&bytes[at..at + n]);
            server.commit(n);
            at += n;
            while let Some(event) = server.poll_event().unwrap() {
                assert!(matches!(event, Event::Text(_) | Event::Binary(_)));
                messages += 1;
            }
        }
    };
    pass(&mut server);
    let before = allocations();
    pass(&mut server);
    (allocations() - before, messages)
}

#[test]
fn reading_small_messages_allocates_nothing_per_message() {
    for size in [0, 16, 125, 1024, 16 << 10] {
        let bytes = wire(size, 2000, None);
        let (allocated, messages) = allocations_reading(&bytes, 64 << 10);
        assert_eq!(messages, 4000);
        assert_eq!(
            allocated, 0,
            "{size}-byte messages allocated in the steady state"
        );
    }
}

#[test]
fn reading_fragmented_messages_reuses_the_message_buffer() {
    let bytes = wire(1000, 2000, Some(100));
    let (allocated, messages) = allocations_reading(&bytes, 16 << 10);
    assert_eq!(messages, 4000);
    assert_eq!(allocated, 0);
}

#[test]
fn writing_messages_allocates_nothing_per_message_once_warm() {
    for mut conn in [client(Config::default()), server(Config::default())] {
        let payload = vec![7u8; 1000];
        let sent = |conn: &mut rfc6455::Connection| {
            conn.send_binary(&payload).unwrap();
            conn.send_text("a short one").unwrap();
            let n = conn.poll_transmit().map_or(0, <[u8]>::len);
            conn.advance_transmit(n);
        };
        for _ in 0..100 {
            sent(&mut conn);
        }
        let before = allocations();
        for _ in 0..10_000 {
            sent(&mut conn);
        }
        assert_eq!(allocations() - before, 0);
    }
}

/// An in-memory transport for the tokio adapter: reads are served from a
/// buffer, at most `read` bytes at a time; writes are counted and dropped.
struct MemoryStream {
    input: Vec<u8>,
    at: usize,
    read: usize,
    written: usize,
}

impl tokio::io::AsyncRead for MemoryStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let at = self.at;
        let n = buf.remaining().min(self.read).min(self.input.len() - at);
        buf.put_slice(&self.input[at..at + n]);
        self.at += n;
        std::task::Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemoryStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.written += buf.len();
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A tokio adapter over `count` client messages of `size` bytes, sent
/// three times over (the first two passes warm the buffers up to their
/// working size).
fn tokio_server(size: usize, count: usize) -> rfc6455::tokio::WebSocket<MemoryStream> {
    let bytes = wire(size, count, None);
    let stream = MemoryStream {
        input: [&bytes[..], &bytes[..], &bytes[..]].concat(),
        at: 0,
        read: 64 << 10,
        written: 0,
    };
    rfc6455::tokio::WebSocket::from_connection(stream, server(Config::default()))
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// The allocations `count` calls of `step` make on a [`tokio_server`] of
/// `count` messages, in its third pass over them: the first two warm the
/// buffers up.
fn steady_state_allocations(
    ws: &mut rfc6455::tokio::WebSocket<MemoryStream>,
    count: usize,
    mut step: impl AsyncFnMut(&mut rfc6455::tokio::WebSocket<MemoryStream>),
) -> usize {
    current_thread().block_on(async {
        for _ in 0..2 * count {
            step(ws).await;
        }
        let before = allocations();
        for _ in 0..count {
            step(ws).await;
        }
        allocations() - before
    })
}

/// Echoes one message through the lent sender, straight from the receive
/// buffer; the reply is written by the reads that follow.
async fn echo(ws: &mut rfc6455::tokio::WebSocket<MemoryStream>) {
    ws.read_with(|event, sender| match event {
        Event::Text(text) => sender.send_text(text).unwrap(),
        Event::Binary(data) => sender.send_binary(data).unwrap(),
        other => panic!("unexpected {other:?}"),
    })
    .await
    .unwrap()
    .expect("a message");
}

#[test]
fn tokio_read_with_and_its_sender_allocate_nothing_per_message() {
    for size in [0, 16, 125, 1024, 16 << 10] {
        // Enough messages that the warm-up pass sees full reads (the
        // receive buffer's working size) and the largest batch of replies.
        let count = 2000.max((512 << 10) / (size + 6));
        let mut ws = tokio_server(size, count);
        assert_eq!(
            steady_state_allocations(&mut ws, count, echo),
            0,
            "{size}-byte messages allocated in the steady state"
        );
        // The replies were written, batch by batch, before each read that
        // waited for more input: all those of the first two passes.
        let written = ws.get_ref().written;
        assert!(written >= 2 * count * size, "{written} bytes written");
    }
}

#[test]
fn tokio_read_returns_owned_messages_and_allocates_for_each() {
    let count = 2000;
    let mut ws = tokio_server(125, count);
    let allocated = steady_state_allocations(&mut ws, count, async |ws| {
        ws.read().await.unwrap().expect("a message");
    });
    // One allocation per message: the owned copy `read` returns.
    assert_eq!(allocated, count);
}

/// Allocations per message, once warm, of a `read()`/`send()` echo of
/// `count` messages of `size` bytes through the tokio adapter.
fn allocations_per_read_then_send(size: usize, count: usize) -> usize {
    let mut ws = tokio_server(size, count);
    let allocated = steady_state_allocations(&mut ws, count, async |ws| {
        let message = ws.read().await.unwrap().expect("a message");
        ws.send(message).await.unwrap();
    });
    let written = ws.get_ref().written;
    assert!(written >= 3 * count * size, "{written} bytes written");
    assert_eq!(
        allocated % count,
        0,
        "{size}-byte messages: {allocated} allocations for {count} messages"
    );
    allocated / count
}

#[test]
fn tokio_read_then_send_of_messages_past_the_mapping_threshold_allocates_nothing_once_warm() {
    // Each message is read into the buffer of a reply already written.
    for size in [128 << 10, 256 << 10, 512 << 10] {
        assert_eq!(
            allocations_per_read_then_send(size, 100),
            0,
            "{size}-byte messages allocated in the steady state"
        );
    }
}

#[test]
fn tokio_read_then_send_of_large_messages_below_the_threshold_allocates_only_the_message() {
    // Each message gets a buffer from the allocator, which has the reply
    // just written to hand back; nothing else is allocated.
    for size in [32 << 10, 64 << 10, (128 << 10) - 1] {
        assert_eq!(
            allocations_per_read_then_send(size, 200),
            1,
            "{size}-byte messages"
        );
    }
}

#[test]
fn an_owned_message_holds_its_bytes_and_no_more() {
    // In reads of 64 KiB (whole where it fits, handed out in one step) and
    // of 100 bytes (assembled piece by piece): either way a message held by
    // the application holds a buffer of its length, text or binary, up to
    // the read size (128 KiB by default), from where a sent payload's
    // buffer may take its place.
    for read in [64 << 10, 100] {
        for size in [1, 7, 16, 125, 1000, 16 << 10, 100 << 10, 128 << 10] {
            let bytes = wire(size, 4, None);
            let mut server = server(Config::default());
            let mut taken = Vec::new();
            for piece in bytes.chunks(read) {
                server.receive(piece);
                while let Some(message) = server.poll_message().unwrap() {
                    taken.push(message);
                }
            }
            assert_eq!(taken.len(), 4, "{size}-byte messages in reads of {read}");
            for message in taken {
                let (len, capacity) = match message {
                    Message::Text(text) => (text.len(), text.capacity()),
                    Message::Binary(data) => (data.len(), data.capacity()),
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(
                    (len, capacity),
                    (size, size),
                    "a {size}-byte message in reads of {read}"
                );
            }
        }
    }
}
