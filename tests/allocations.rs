//! The hot paths allocate nothing per message once warm: a counting
//! allocator counts the allocations a thread makes while it reads and
//! writes messages.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{client, server, transmit};
use rfc6455::{Config, Event};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is a thread-local cell that needs no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

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
    let mut counted_from = None;
    let mut at = 0;
    let twice = [bytes, bytes].concat();
    let bytes = &twice[..];
    while at < bytes.len() {
        if counted_from.is_none() && at >= bytes.len() / 2 {
            counted_from = Some(allocations());
        }
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
    (allocations() - counted_from.unwrap_or(0), messages)
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
