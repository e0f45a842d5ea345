//! An in-memory client/server pair and helpers shared by the tests.
#![allow(dead_code)]

pub mod burst;
pub mod counting;

use rand::SeedableRng;
use rfc6455::frame::FrameHeader;
use rfc6455::{Config, Connection, Error, Event, MessageKind, OpCode, Role};

/// An event copied out of a connection, so tests can compare sequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Text(String),
    Binary(Vec<u8>),
    Chunk {
        kind: MessageKind,
        data: Vec<u8>,
        first: bool,
        last: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
    Error(Error),
}

impl Ev {
    /// The event an owned message was made from.
    pub fn from_message(message: rfc6455::Message) -> Ev {
        use rfc6455::Message;
        match message {
            Message::Text(text) => Ev::Text(text),
            Message::Binary(data) => Ev::Binary(data),
            Message::Ping(data) => Ev::Ping(data),
            Message::Pong(data) => Ev::Pong(data),
            Message::Close(frame) => Ev::Close(frame.map(|f| (f.code.0, f.reason.into_owned()))),
        }
    }

    pub fn from_event(event: Event<'_>) -> Ev {
        match event {
            Event::Text(text) => Ev::Text(text.to_owned()),
            Event::Binary(data) => Ev::Binary(data.to_vec()),
            Event::Chunk(chunk) => Ev::Chunk {
                kind: chunk.kind,
                data: chunk.data.to_vec(),
                first: chunk.first,
                last: chunk.last,
            },
            Event::Ping(data) => Ev::Ping(data.to_vec()),
            Event::Pong(data) => Ev::Pong(data.to_vec()),
            Event::Close(frame) => Ev::Close(frame.map(|f| (f.code.0, f.reason.into_owned()))),
        }
    }
}

/// Polls every event until the connection needs input; an error ends the
/// list.
pub fn events(conn: &mut Connection) -> Vec<Ev> {
    polled(conn, |conn| Ok(conn.poll_event()?.map(Ev::from_event)))
}

/// Polls owned messages until more input is needed or an error,
/// recording them as the matching events.
pub fn messages(conn: &mut Connection) -> Vec<Ev> {
    polled(conn, |conn| Ok(conn.poll_message()?.map(Ev::from_message)))
}

/// What `next` gives until it gives nothing; an error ends the list.
fn polled(
    conn: &mut Connection,
    mut next: impl FnMut(&mut Connection) -> Result<Option<Ev>, Error>,
) -> Vec<Ev> {
    let mut out = Vec::new();
    loop {
        match next(conn) {
            Ok(Some(ev)) => out.push(ev),
            Ok(None) => return out,
            Err(error) => {
                out.push(Ev::Error(error));
                return out;
            }
        }
    }
}

/// Takes everything the connection has to transmit.
pub fn transmit(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(bytes) = conn.poll_transmit() {
        out.extend_from_slice(bytes);
        let n = bytes.len();
        conn.advance_transmit(n);
    }
    out
}

/// Feeds `bytes` and returns the events.
pub fn feed(conn: &mut Connection, bytes: &[u8]) -> Vec<Ev> {
    conn.receive(bytes);
    events(conn)
}

/// A client with a seeded mask generator.
pub fn client(config: Config) -> Connection {
    Connection::with_rng(
        Role::Client,
        config,
        Box::new(rand::rngs::StdRng::seed_from_u64(7)),
    )
}

pub fn server(config: Config) -> Connection {
    Connection::new(Role::Server, config)
}

/// A connection in each role, wired together in memory.
pub struct Pair {
    pub client: Connection,
    pub server: Connection,
}

// `to_server`/`to_client` read as "deliver to", which is what they do.
#[allow(clippy::wrong_self_convention)]
impl Pair {
    pub fn new() -> Pair {
        Pair::with_configs(Config::default(), Config::default())
    }

    pub fn with_configs(client_config: Config, server_config: Config) -> Pair {
        Pair {
            client: client(client_config),
            server: server(server_config),
        }
    }

    /// A pair with permessage-deflate negotiated as a `client` offering
    /// to a `server` would, both with `config`; `None` when the server
    /// declines the offer.
    #[cfg(feature = "deflate")]
    pub fn negotiated(
        client: &rfc6455::deflate::DeflateConfig,
        server: &rfc6455::deflate::DeflateConfig,
        config: Config,
    ) -> Option<Pair> {
        let accepted = server.accept(&[client.offer()])?;
        let agreed = client
            .accept_response(&[accepted.response().clone()])
            .expect("a response from our own server is valid")
            .expect("accepted");
        assert_eq!(agreed.agreed(), accepted.agreed());
        let pair = Pair::with_configs(config.clone(), config);
        Some(Pair {
            client: pair
                .client
                .with_extension(Box::new(agreed.into_extension())),
            server: pair
                .server
                .with_extension(Box::new(accepted.into_extension())),
        })
    }

    /// Moves the client's output to the server; returns the server's events.
    pub fn to_server(&mut self) -> Vec<Ev> {
        let bytes = transmit(&mut self.client);
        feed(&mut self.server, &bytes)
    }

    /// Moves the server's output to the client; returns the client's events.
    pub fn to_client(&mut self) -> Vec<Ev> {
        let bytes = transmit(&mut self.server);
        feed(&mut self.client, &bytes)
    }

    /// Shuttles bytes both ways until neither side has anything to send.
    /// Returns (client events, server events).
    pub fn settle(&mut self) -> (Vec<Ev>, Vec<Ev>) {
        let (mut at_client, mut at_server) = (Vec::new(), Vec::new());
        for _ in 0..100 {
            let server_events = self.to_server();
            let client_events = self.to_client();
            let idle = server_events.is_empty()
                && client_events.is_empty()
                && self.client.buffered_amount() == 0
                && self.server.buffered_amount() == 0;
            at_server.extend(server_events);
            at_client.extend(client_events);
            if idle {
                return (at_client, at_server);
            }
        }
        panic!("the pair did not settle in 100 rounds");
    }
}

/// Encodes a frame with any bits, for feeding invalid input.
pub fn frame(first_byte: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![first_byte];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A masked frame as a client sends it.
pub fn client_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    frame(first_byte, payload, Some([0x11, 0x22, 0x33, 0x44]))
}

/// Splits bytes a connection wrote into frames (header, unmasked payload).
pub fn frames(mut bytes: &[u8]) -> Vec<(FrameHeader, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (header, len) = FrameHeader::parse(bytes).unwrap().expect("a whole frame");
        let end = len + header.payload_len as usize;
        let mut payload = bytes[len..end].to_vec();
        if let Some(key) = header.mask {
            rfc6455::frame::apply_mask(&mut payload, key);
        }
        out.push((header, payload));
        bytes = &bytes[end..];
    }
    out
}

/// The close code of the last close frame in `bytes`; `Some(None)` for a
/// close frame without a code, `None` if no close frame was written.
pub fn close_code_sent(bytes: &[u8]) -> Option<Option<u16>> {
    frames(bytes)
        .into_iter()
        .filter(|(header, _)| header.opcode == OpCode::Close)
        .map(|(_, payload)| {
            (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))
        })
        .next_back()
}
