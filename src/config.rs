//! Limits, timeouts and automatic-reply switches of a connection.

use std::time::Duration;

use crate::handshake::HandshakeConfig;

/// How a [`crate::Connection`] behaves and what it accepts.
///
/// Every limit is on by default; none is unbounded. Change fields on a
/// default value:
///
/// ```
/// let mut config = rfc6455::Config::default();
/// config.max_message_size = 1 << 20;
/// config.keepalive = Some(rfc6455::Keepalive::new(
///     std::time::Duration::from_secs(20),
///     std::time::Duration::from_secs(10),
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest frame payload accepted, checked on the frame header before any
    /// payload is buffered → close 1009. Default 16 MiB: the largest single
    /// frame a browser sends for a big message stays well under it, and a
    /// peer cannot make us hold more than this of one frame.
    pub max_frame_size: usize,
    /// Largest message accepted, after any extension decoding, checked as
    /// each frame header arrives → close 1009. Default 64 MiB.
    pub max_message_size: usize,
    /// Most frames one message may arrive in → close 1008. Default 131,072:
    /// room for a 4 MiB message in 64-byte fragments (Autobahn 9.3/9.4),
    /// while a flood of empty continuations ends quickly.
    pub max_fragments: usize,
    /// Size of the reads into the receive buffer once a connection is busy
    /// (a quiet one reads 8 KiB at a time, an idle one 512 bytes). A
    /// message in one frame that arrives whole within the buffered bytes is
    /// unmasked and delivered in place, with no copy; other frames are
    /// assembled in a message buffer as they arrive, and frames larger
    /// than this are read straight into it. Default 128 KiB: two 64 KiB
    /// frames per read, so a stream of them is mostly delivered in place.
    /// Through the async adapter a connection waiting for input holds no
    /// receive buffer: an emptied one goes to the next connection on the
    /// same thread that reads
    /// ([`Connection::release_receive_buffer`](crate::Connection::release_receive_buffer)).
    pub read_buffer_size: usize,
    /// Split outgoing messages into frames of at most this many payload
    /// bytes. Default `None`: one frame per message.
    pub fragment_size: Option<usize>,
    /// Bytes waiting to be written above which
    /// [`crate::Connection::is_write_buffer_high`] asks the adapter to stop
    /// accepting messages until it has flushed. Above it the peer is taken
    /// to not be reading, and a newer ping's pong replaces one not yet
    /// written instead of queueing (RFC 6455 §5.5.3). Default 128 KiB.
    pub write_buffer_high_water: usize,
    /// Bytes waiting to be written at which sending fails with
    /// [`crate::UsageError::WriteBufferFull`]. A send that starts below the
    /// cap is accepted whole, so the buffer holds at most the cap plus one
    /// message. Default 16 MiB.
    pub max_write_buffer: usize,
    /// Answer pings with pongs automatically. Default `true`.
    pub auto_pong: bool,
    /// Answer a close frame with a close frame automatically. Default `true`.
    /// When off, the application calls [`crate::Connection::close`] itself
    /// after [`crate::Event::Close`] and may send data until then.
    pub auto_close_reply: bool,
    /// Deliver data as [`crate::Event::Chunk`]s as it arrives instead of
    /// whole messages, so a message need never be held in memory whole.
    /// Default `false`.
    pub streaming: bool,
    /// How long to wait for the peer's close frame after ours, and for a
    /// server to close the transport after the handshake. Default 10 s.
    pub close_timeout: Duration,
    /// Ping an idle peer and fail the connection if it stays silent. Default
    /// `None`.
    pub keepalive: Option<Keepalive>,
    /// Fail the connection with [`crate::Error::WriteTimeout`] when bytes
    /// wait to be written and the transport takes none of them for this
    /// long: a peer that stopped reading cannot hold the connection (and
    /// its buffer) forever. Default 30 s; `None` waits indefinitely.
    pub write_timeout: Option<Duration>,
    /// The opening handshake's limits, origin policy and timeout, for a
    /// server adapter (`accept`, `accept_with`). A client's are in
    /// [`crate::handshake::ClientOptions::config`]; the [`crate::Connection`]
    /// itself does not use them.
    pub handshake: HandshakeConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 17,
            read_buffer_size: 128 << 10,
            fragment_size: None,
            write_buffer_high_water: 128 << 10,
            max_write_buffer: 16 << 20,
            auto_pong: true,
            auto_close_reply: true,
            streaming: false,
            close_timeout: Duration::from_secs(10),
            keepalive: None,
            write_timeout: Some(Duration::from_secs(30)),
            handshake: HandshakeConfig::default(),
        }
    }
}

/// Keepalive: after `interval` without receiving anything, send a ping; if
/// nothing arrives within `timeout` after it, fail the connection with
/// [`crate::Error::KeepaliveTimeout`] (and close code 1011).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Silence after which a ping is sent.
    pub interval: Duration,
    /// How long to wait for any data after the ping.
    pub timeout: Duration,
}

impl Keepalive {
    /// A keepalive with the given interval and timeout.
    #[must_use]
    pub const fn new(interval: Duration, timeout: Duration) -> Self {
        Keepalive { interval, timeout }
    }
}
