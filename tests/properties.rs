//! Properties (proptest): the header codec and masking against their
//! definitions, messages surviving a trip through a pair of connections,
//! input giving the same events however it is chunked, and no input or call
//! sequence making a connection panic or write an invalid frame.
//!
//! Sizes are kept to a few KiB per case so the file runs in seconds in the
//! dev profile; the 64-bit length encoding is covered by the header codec
//! property instead of by large messages.

mod common;

use std::time::{Duration, Instant};

use common::{client, events, feed, frame, frames, messages, server, transmit, Ev, Pair};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use rfc6455::frame::{apply_mask, apply_mask_reference, FrameHeader, MAX_HEADER_LEN};
use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, Error, Keepalive, MessageKind, OpCode,
    ProtocolError, Role, State,
};

// ----- shared strategies and helpers -----

/// No regression files: a failing case is reported in the test output and
/// kept as a named test instead. `PROPTEST_CASES` overrides the count for a
/// longer run.
fn cases(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn connection(role: Role, config: Config) -> Connection {
    match role {
        Role::Client => client(config),
        Role::Server => server(config),
    }
}

fn peer_of(role: Role) -> Role {
    match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    }
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Client), Just(Role::Server)]
}

/// Any Unicode scalar values, up to `max_chars` of them.
fn text(max_chars: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..=max_chars).prop_map(String::from_iter)
}

fn truncate_to_bytes(mut text: String, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

/// A whole message or a ping, as an application sends it.
#[derive(Debug, Clone)]
enum Msg {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        3 => text(400).prop_map(Msg::Text),
        3 => vec(any::<u8>(), 0..2048).prop_map(Msg::Binary),
        2 => vec(any::<u8>(), 0..=125).prop_map(Msg::Ping),
    ]
}

fn send_msg(conn: &mut Connection, msg: &Msg) {
    match msg {
        Msg::Text(text) => conn.send_text(text),
        Msg::Binary(data) => conn.send_binary(data),
        Msg::Ping(data) => conn.send_ping(data),
    }
    .expect("the connection is open");
}

fn expected_event(msg: &Msg) -> Ev {
    match msg {
        Msg::Text(text) => Ev::Text(text.clone()),
        Msg::Binary(data) => Ev::Binary(data.clone()),
        Msg::Ping(data) => Ev::Ping(data.clone()),
    }
}

/// Cuts `bytes` at the given points (duplicates give empty pieces).
fn split_at_points(bytes: &[u8], points: &[Index]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = points.iter().map(|i| i.index(bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut from = 0;
    for cut in cuts {
        pieces.push(bytes[from..cut].to_vec());
        from = cut;
    }
    pieces.push(bytes[from..].to_vec());
    pieces
}

/// Joins streamed chunks back into whole-message events, checking that
/// `first` is set on exactly the first chunk of each message and `last` on
/// exactly the last, and that a message keeps its kind.
fn join_chunks(events: Vec<Ev>) -> Result<Vec<Ev>, TestCaseError> {
    let mut out = Vec::new();
    let mut open: Option<(MessageKind, Vec<u8>)> = None;
    for event in events {
        match event {
            Ev::Chunk {
                kind,
                data,
                first,
                last,
            } => {
                prop_assert_eq!(
                    first,
                    open.is_none(),
                    "`first` must mark exactly the first chunk of a message"
                );
                let (started, joined) = open.get_or_insert_with(|| (kind, Vec::new()));
                prop_assert_eq!(*started, kind, "a message changed kind mid-way");
                joined.extend_from_slice(&data);
                if last {
                    let (kind, joined) = open.take().expect("a message is open");
                    out.push(match kind {
                        MessageKind::Text => match String::from_utf8(joined) {
                            Ok(text) => Ev::Text(text),
                            Err(error) => {
                                return Err(TestCaseError::fail(format!(
                                    "streamed text is not UTF-8: {error}"
                                )))
                            }
                        },
                        MessageKind::Binary => Ev::Binary(joined),
                    });
                }
            }
            Ev::Text(_) | Ev::Binary(_) => {
                return Err(TestCaseError::fail(format!(
                    "a whole message while streaming: {event:?}"
                )))
            }
            other => out.push(other),
        }
    }
    prop_assert!(open.is_none(), "the last message's `last` chunk is missing");
    Ok(out)
}

/// The pongs that came back answer the pings in order, skipping only pings
/// superseded by a newer one (RFC 6455 §5.5.3), and the last ping is always
/// answered.
fn check_pongs(pings: &[Vec<u8>], answers: &[Ev]) -> Result<(), TestCaseError> {
    let mut pongs = Vec::new();
    for answer in answers {
        match answer {
            Ev::Pong(data) => pongs.push(data.clone()),
            other => {
                return Err(TestCaseError::fail(format!(
                    "expected only pongs back, got {other:?}"
                )))
            }
        }
    }
    let mut unanswered = pings.iter();
    for pong in &pongs {
        prop_assert!(
            unanswered.any(|ping| ping == pong),
            "pong {:?} answers no ping in order; pings {:?}, pongs {:?}",
            pong,
            pings,
            pongs
        );
    }
    prop_assert_eq!(pongs.last(), pings.last(), "the last ping is answered");
    Ok(())
}

/// Limits and switches for a receiving connection, often the defaults and
/// sometimes small enough to be hit.
fn receiver_config() -> impl Strategy<Value = Config> {
    (
        prop_oneof![3 => Just(16usize << 20), 1 => 0usize..600],
        prop_oneof![3 => Just(64usize << 20), 1 => 0usize..3000],
        prop_oneof![3 => Just(1usize << 17), 1 => 0usize..6],
        1usize..=4096,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(frame, message, fragments, read_buffer, auto_pong, auto_close_reply)| {
                let mut config = Config::default();
                config.max_frame_size = frame;
                config.max_message_size = message;
                config.max_fragments = fragments;
                config.read_buffer_size = read_buffer;
                config.auto_pong = auto_pong;
                config.auto_close_reply = auto_close_reply;
                config
            },
        )
}

/// Any configuration, including keepalive and a small write buffer cap.
fn any_config() -> impl Strategy<Value = Config> {
    (
        receiver_config(),
        prop::option::of(1usize..=64),
        prop_oneof![3 => Just(16usize << 20), 1 => 0usize..600],
        any::<bool>(),
        prop::option::of((1u64..2000, 1u64..2000)),
        1u64..3000,
    )
        .prop_map(
            |(mut config, fragment_size, max_write, streaming, keepalive, close_ms)| {
                config.fragment_size = fragment_size;
                config.max_write_buffer = max_write;
                config.streaming = streaming;
                config.keepalive = keepalive.map(|(interval, timeout)| {
                    Keepalive::new(
                        Duration::from_millis(interval),
                        Duration::from_millis(timeout),
                    )
                });
                config.close_timeout = Duration::from_millis(close_ms);
                config
            },
        )
}

// ----- chunked feeding -----

/// How input is cut into the pieces handed to the connection.
#[derive(Debug, Clone)]
enum Chunking {
    /// One byte at a time.
    Bytewise,
    /// Pieces of these sizes, repeated until the input is used up; a zero is
    /// an empty read on the first pass and one byte afterwards.
    Sizes(Vec<usize>),
}

fn chunking() -> impl Strategy<Value = Chunking> {
    let size = prop_oneof![8 => 0usize..=40, 1 => 41usize..=5000];
    prop_oneof![
        1 => Just(Chunking::Bytewise),
        4 => vec(size, 1..16).prop_map(Chunking::Sizes),
    ]
}

fn cut<'a>(bytes: &'a [u8], chunking: &Chunking) -> Vec<&'a [u8]> {
    match chunking {
        Chunking::Bytewise => bytes.chunks(1).collect(),
        Chunking::Sizes(sizes) => {
            let mut pieces = Vec::new();
            let mut rest = bytes;
            let mut turn = 0;
            while !rest.is_empty() {
                let mut size = sizes[turn % sizes.len()];
                if size == 0 && turn >= sizes.len() {
                    size = 1;
                }
                let (piece, tail) = rest.split_at(size.min(rest.len()));
                pieces.push(piece);
                rest = tail;
                turn += 1;
            }
            pieces
        }
    }
}

/// The two ways of handing bytes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Receive,
    ReceiveBuffer,
}

/// Hands `bytes` in through `receive_buffer` + `commit`.
fn commit_bytes(conn: &mut Connection, mut bytes: &[u8]) {
    loop {
        let buffer = conn.receive_buffer();
        let n = buffer.len().min(bytes.len());
        buffer[..n].copy_from_slice(&bytes[..n]);
        conn.commit(n);
        bytes = &bytes[n..];
        if bytes.is_empty() {
            return;
        }
    }
}

fn hand_in(conn: &mut Connection, input: Input, bytes: &[u8]) {
    match input {
        Input::Receive => conn.receive(bytes),
        Input::ReceiveBuffer => commit_bytes(conn, bytes),
    }
}

/// Everything observable after a connection read some input.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    events: Vec<Ev>,
    sent: Vec<u8>,
    state: State,
    close_transport: bool,
}

/// How the events are taken: borrowed (`poll_event`) or as owned messages
/// (`poll_message`, which skips streamed chunks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Take {
    Borrowed,
    Owned,
}

/// Feeds the pieces one by one, polling every event after each, then
/// (optionally) the end of the stream; takes what the connection wrote only
/// at the end, as a peer that reads slowly would.
fn run(role: Role, config: &Config, pieces: &[&[u8]], input: Input, eof: bool) -> Outcome {
    run_taking(role, config, pieces, input, eof, Take::Borrowed)
}

fn run_taking(
    role: Role,
    config: &Config,
    pieces: &[&[u8]],
    input: Input,
    eof: bool,
    take: Take,
) -> Outcome {
    let mut conn = connection(role, config.clone());
    let mut all = Vec::new();
    let poll = |conn: &mut Connection| match take {
        Take::Borrowed => events(conn),
        Take::Owned => messages(conn),
    };
    for piece in pieces {
        hand_in(&mut conn, input, piece);
        all.extend(poll(&mut conn));
    }
    if eof {
        conn.receive_eof();
        all.extend(poll(&mut conn));
    }
    Outcome {
        events: all,
        sent: transmit(&mut conn),
        state: conn.state(),
        close_transport: conn.should_close_transport(),
    }
}

/// Merges adjacent chunks of the same message, so streamed events compare
/// equal however the input was cut: where a chunk ends depends on what each
/// read brought.
fn merge_chunks(events: Vec<Ev>) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    for event in events {
        if let (
            Some(Ev::Chunk {
                data: joined,
                last: open_last,
                ..
            }),
            Ev::Chunk {
                data, first, last, ..
            },
        ) = (out.last_mut(), &event)
        {
            if !*open_last && !*first {
                joined.extend_from_slice(data);
                *open_last = *last;
                continue;
            }
        }
        out.push(event);
    }
    out
}

/// Whole, in the given chunks through `receive`, and in the same chunks
/// through `receive_buffer`: all three give the same outcome (with streamed
/// chunks merged); taken as owned messages, the same without the chunks.
fn check_chunking_invariance(
    role: Role,
    config: &Config,
    bytes: &[u8],
    chunking: &Chunking,
    eof: bool,
) -> Result<(), TestCaseError> {
    let normalise = |mut outcome: Outcome| {
        outcome.events = merge_chunks(outcome.events);
        outcome
    };
    let whole = normalise(run(role, config, &[bytes], Input::Receive, eof));
    let pieces = cut(bytes, chunking);
    for input in [Input::Receive, Input::ReceiveBuffer] {
        let chunked = normalise(run(role, config, &pieces, input, eof));
        prop_assert_eq!(
            &chunked,
            &whole,
            "{:?} in {} pieces via {:?} differs from whole; input {:02x?}",
            role,
            pieces.len(),
            input,
            bytes
        );
        let owned = run_taking(role, config, &pieces, input, eof, Take::Owned);
        let expected = Outcome {
            events: whole
                .events
                .iter()
                .filter(|event| !matches!(event, Ev::Chunk { .. }))
                .cloned()
                .collect(),
            sent: whole.sent.clone(),
            ..whole
        };
        prop_assert_eq!(
            &owned,
            &expected,
            "{:?} in {} pieces via {:?} taken as owned messages differs; input {:02x?}",
            role,
            pieces.len(),
            input,
            bytes
        );
    }
    Ok(())
}

// ----- conversations a sending connection produces -----

/// What a sending application does.
#[derive(Debug, Clone)]
enum Say {
    Msg(Msg),
    Pong(Vec<u8>),
    /// A message sent with `send_chunk`, with a ping after its first piece.
    Streamed {
        kind: MessageKind,
        pieces: Vec<Vec<u8>>,
        ping: Option<Vec<u8>>,
    },
}

fn streamed() -> impl Strategy<Value = Say> {
    let payload = prop_oneof![
        text(300).prop_map(|text| (MessageKind::Text, text.into_bytes())),
        vec(any::<u8>(), 0..1500).prop_map(|data| (MessageKind::Binary, data)),
    ];
    (
        payload,
        vec(any::<Index>(), 0..6),
        prop::option::of(vec(any::<u8>(), 0..=125)),
    )
        .prop_map(|((kind, payload), points, ping)| Say::Streamed {
            kind,
            pieces: split_at_points(&payload, &points),
            ping,
        })
}

fn say() -> impl Strategy<Value = Say> {
    prop_oneof![
        6 => msg().prop_map(Say::Msg),
        1 => vec(any::<u8>(), 0..=125).prop_map(Say::Pong),
        2 => streamed(),
    ]
}

fn sendable_close_code() -> impl Strategy<Value = u16> {
    prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999]
}

fn close_reason() -> impl Strategy<Value = String> {
    text(123).prop_map(|reason| truncate_to_bytes(reason, CloseFrame::MAX_REASON_LEN))
}

fn send_stream(conn: &mut Connection, kind: MessageKind, pieces: &[Vec<u8>], ping: Option<&[u8]>) {
    let last = pieces.len() - 1;
    for (i, piece) in pieces.iter().enumerate() {
        conn.send_chunk(kind, piece, i == last)
            .expect("the connection is open");
        if let (0, Some(ping)) = (i, ping) {
            conn.send_ping(ping).expect("the connection is open");
        }
    }
}

/// The bytes a connection in `sender` role writes for `says`, then
/// optionally its close frame.
fn conversation_bytes(
    sender: Role,
    fragment_size: Option<usize>,
    says: &[Say],
    close: Option<&(u16, String)>,
) -> Vec<u8> {
    let mut config = Config::default();
    config.fragment_size = fragment_size;
    let mut conn = connection(sender, config);
    for say in says {
        match say {
            Say::Msg(msg) => send_msg(&mut conn, msg),
            Say::Pong(data) => conn.send_pong(data).expect("the connection is open"),
            Say::Streamed { kind, pieces, ping } => {
                send_stream(&mut conn, *kind, pieces, ping.as_deref());
            }
        }
    }
    if let Some((code, reason)) = close {
        conn.close(*code, reason).expect("a sendable close");
    }
    transmit(&mut conn)
}

/// A conversation: who sends it and its bytes.
fn conversation() -> impl Strategy<Value = (Role, Vec<u8>)> {
    (
        role(),
        prop::option::of(1usize..=64),
        vec(say(), 0..5),
        prop::option::of((sendable_close_code(), close_reason())),
    )
        .prop_map(|(sender, fragment_size, says, close)| {
            let bytes = conversation_bytes(sender, fragment_size, &says, close.as_ref());
            (sender, bytes)
        })
}

// ----- hostile input -----

/// One frame with arbitrary header bits, mostly with well-formed opcodes and
/// masked as a peer of the receiving role would, with a payload that is
/// bytes, text or a close payload.
fn rough_frame(masked: bool) -> impl Strategy<Value = Vec<u8>> {
    let first_byte = prop_oneof![
        6 => (any::<bool>(), prop::sample::select(vec![0u8, 1, 2, 8, 9, 10]))
            .prop_map(|(fin, opcode)| u8::from(fin) << 7 | opcode),
        1 => any::<u8>(),
    ];
    let payload = prop_oneof![
        3 => vec(any::<u8>(), 0..200),
        3 => text(60).prop_map(String::into_bytes),
        2 => (
            prop_oneof![any::<u16>(), 995u16..=1016, 2995u16..=5005],
            text(40),
        )
            .prop_map(|(code, reason)| {
                let mut payload = code.to_be_bytes().to_vec();
                payload.extend_from_slice(reason.as_bytes());
                payload
            }),
    ];
    let mask = prop_oneof![9 => Just(masked), 1 => Just(!masked)];
    (first_byte, payload, mask, any::<[u8; 4]>()).prop_map(|(first_byte, payload, masked, key)| {
        frame(first_byte, &payload, masked.then_some(key))
    })
}

/// Flips bits at the given positions and cuts the tail off.
fn corrupt(mut bytes: Vec<u8>, flips: &[(Index, u8)], cut: Option<Index>) -> Vec<u8> {
    if !bytes.is_empty() {
        for (at, bits) in flips {
            let at = at.index(bytes.len());
            bytes[at] ^= bits;
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len() + 1));
    }
    bytes
}

fn flips() -> impl Strategy<Value = Vec<(Index, u8)>> {
    vec((any::<Index>(), 1u8..=255), 0..4)
}

/// Input a misbehaving peer of `receiver` could send: random bytes, rough
/// frames, or a real conversation, corrupted.
fn hostile_input(receiver: Role) -> impl Strategy<Value = Vec<u8>> {
    let masked = receiver == Role::Server;
    prop_oneof![
        1 => vec(any::<u8>(), 0..512),
        2 => (vec(rough_frame(masked), 0..6), flips(), prop::option::of(any::<Index>()))
            .prop_map(|(frames, flips, cut)| corrupt(frames.concat(), &flips, cut)),
        2 => (
            prop::option::of(1usize..=64),
            vec(say(), 0..4),
            prop::option::of((sendable_close_code(), close_reason())),
            flips(),
            prop::option::of(any::<Index>()),
        )
            .prop_map(move |(fragment_size, says, close, flips, cut)| {
                let sender = peer_of(receiver);
                let bytes = conversation_bytes(sender, fragment_size, &says, close.as_ref());
                corrupt(bytes, &flips, cut)
            }),
    ]
}

// ----- what a connection writes -----

/// The bytes a connection wrote are whole, valid frames: masked exactly when
/// a client wrote them, no reserved bits, control frames short and final,
/// close payloads well-formed, continuations only inside a fragmented
/// message, and nothing after the close frame (RFC 6455 §5.1–5.5).
fn check_output(role: Role, wire: &[u8]) -> Result<(), TestCaseError> {
    let mut in_message = false;
    let mut closed = false;
    for (header, payload) in frames(wire) {
        prop_assert!(
            !closed,
            "{:?} wrote {:?} after its close frame",
            role,
            header
        );
        prop_assert_eq!(
            header.mask.is_some(),
            role == Role::Client,
            "{:?} wrote a frame with the wrong masking: {:?}",
            role,
            header
        );
        prop_assert_eq!(header.rsv, 0, "reserved bits without an extension");
        if header.opcode.is_control() {
            prop_assert!(header.fin, "fragmented control frame {:?}", header);
            prop_assert!(
                payload.len() <= 125,
                "control frame of {} bytes",
                payload.len()
            );
            if header.opcode == OpCode::Close {
                closed = true;
                if let [hi, lo, ref reason @ ..] = payload[..] {
                    let code = CloseCode(u16::from_be_bytes([hi, lo]));
                    prop_assert!(code.is_valid_on_wire(), "close code {} sent", code);
                    prop_assert!(
                        std::str::from_utf8(reason).is_ok(),
                        "close reason not UTF-8"
                    );
                } else {
                    prop_assert!(payload.is_empty(), "a one-byte close payload");
                }
            }
        } else {
            prop_assert_eq!(
                header.opcode == OpCode::Continuation,
                in_message,
                "{:?} out of sequence",
                header
            );
            in_message = !header.fin;
        }
    }
    Ok(())
}

// ----- 1. header codec -----

fn opcode() -> impl Strategy<Value = OpCode> {
    prop::sample::select(vec![
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ])
}

fn payload_len() -> impl Strategy<Value = u64> {
    const MAX: u64 = u64::MAX >> 1;
    prop_oneof![
        0u64..=125,
        126u64..=0xFFFF,
        0x1_0000u64..=MAX,
        prop::sample::select(vec![0, 125, 126, 0xFFFF, 0x1_0000, MAX]),
    ]
}

fn header() -> impl Strategy<Value = FrameHeader> {
    (
        any::<bool>(),
        0u8..8,
        opcode(),
        prop::option::of(any::<[u8; 4]>()),
        payload_len(),
    )
        .prop_map(|(fin, rsv, opcode, mask, payload_len)| FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len,
        })
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn header_encode_then_parse_round_trips_and_prefixes_are_incomplete(
        header in header(),
        trailing in vec(any::<u8>(), 0..8),
    ) {
        let mut out = [0; MAX_HEADER_LEN];
        let len = header.encode(&mut out);
        prop_assert_eq!(len, header.encoded_len());
        prop_assert_eq!(FrameHeader::parse(&out[..len]), Ok(Some((header, len))));
        let mut followed = out[..len].to_vec();
        followed.extend_from_slice(&trailing);
        prop_assert_eq!(FrameHeader::parse(&followed), Ok(Some((header, len))));
        for prefix in 0..len {
            prop_assert_eq!(
                FrameHeader::parse(&out[..prefix]),
                Ok(None),
                "prefix of {} bytes",
                prefix
            );
        }
    }

    // ----- 2. masking -----

    #[test]
    fn apply_mask_equals_the_reference_at_any_offset_and_length(
        data in vec(any::<u8>(), 0..600),
        key in any::<[u8; 4]>(),
        start in any::<Index>(),
        end in any::<Index>(),
    ) {
        let start = start.index(data.len() + 1);
        let end = start + end.index(data.len() - start + 1);
        let mut fast = data.clone();
        let mut reference = data;
        apply_mask(&mut fast[start..end], key);
        apply_mask_reference(&mut reference[start..end], key);
        prop_assert_eq!(fast, reference, "start {} end {}", start, end);
    }
}

// ----- 3. message round trip -----

/// `sender` sends `msgs`; the peer receives exactly them and the pongs come
/// back.
fn check_round_trip(
    sender_role: Role,
    msgs: &[Msg],
    fragment_size: Option<usize>,
    read_buffer_size: usize,
    streaming: bool,
) -> Result<(), TestCaseError> {
    let mut sender_config = Config::default();
    sender_config.fragment_size = fragment_size;
    let mut receiver_config = Config::default();
    receiver_config.read_buffer_size = read_buffer_size;
    receiver_config.streaming = streaming;
    let mut sender = connection(sender_role, sender_config);
    let mut receiver = connection(peer_of(sender_role), receiver_config);

    for msg in msgs {
        send_msg(&mut sender, msg);
    }
    let wire = transmit(&mut sender);
    let received = feed(&mut receiver, &wire);
    let received = if streaming {
        join_chunks(received)?
    } else {
        received
    };
    let expected: Vec<Ev> = msgs.iter().map(expected_event).collect();
    prop_assert_eq!(received, expected);

    let pings: Vec<Vec<u8>> = msgs
        .iter()
        .filter_map(|msg| match msg {
            Msg::Ping(data) => Some(data.clone()),
            _ => None,
        })
        .collect();
    let answers = feed(&mut sender, &transmit(&mut receiver));
    check_pongs(&pings, &answers)?;
    prop_assert_eq!(sender.state(), State::Open);
    prop_assert_eq!(receiver.state(), State::Open);
    Ok(())
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn messages_arrive_as_sent(
        sender in role(),
        msgs in vec(msg(), 0..6),
        fragment_size in prop::option::of(1usize..=64),
        read_buffer_size in 1usize..=4096,
    ) {
        check_round_trip(sender, &msgs, fragment_size, read_buffer_size, false)?;
    }

    #[test]
    fn streamed_chunks_join_into_the_messages_sent(
        sender in role(),
        msgs in vec(msg(), 0..6),
        fragment_size in prop::option::of(1usize..=64),
        read_buffer_size in 1usize..=4096,
    ) {
        check_round_trip(sender, &msgs, fragment_size, read_buffer_size, true)?;
    }
}

// ----- 4. chunking invariance, valid input -----

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn any_chunking_of_a_conversation_gives_the_same_events_and_replies(
        (sender, wire) in conversation(),
        mut config in receiver_config(),
        streaming in any::<bool>(),
        chunking in chunking(),
        eof in any::<bool>(),
    ) {
        config.streaming = streaming;
        check_chunking_invariance(peer_of(sender), &config, &wire, &chunking, eof)?;
    }

    // ----- 5. chunking invariance, invalid input -----

    #[test]
    fn any_chunking_of_hostile_input_gives_the_same_events_and_error(
        (target, input) in role().prop_flat_map(|target| (Just(target), hostile_input(target))),
        config in receiver_config(),
        chunking in chunking(),
        eof in any::<bool>(),
    ) {
        check_chunking_invariance(target, &config, &input, &chunking, eof)?;
        check_chunking_invariance(peer_of(target), &config, &input, &chunking, eof)?;
    }
}

// ----- 6. no panic -----

/// One call an application or adapter makes.
#[derive(Debug, Clone)]
enum Op {
    Receive(Vec<u8>),
    ReceiveBuffer(Vec<u8>),
    Eof,
    Text(String),
    Binary(Vec<u8>),
    Chunk {
        text: bool,
        data: Vec<u8>,
        last: bool,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
    Poll,
    /// The transport writes at most this many bytes.
    Write(usize),
    /// This many milliseconds pass.
    Wait(u64),
}

fn op(masked: bool) -> impl Strategy<Value = Op> {
    let bytes = prop_oneof![
        1 => vec(any::<u8>(), 0..64),
        2 => rough_frame(masked),
    ];
    prop_oneof![
        4 => bytes.clone().prop_map(Op::Receive),
        2 => bytes.prop_map(Op::ReceiveBuffer),
        1 => Just(Op::Eof),
        2 => text(40).prop_map(Op::Text),
        2 => vec(any::<u8>(), 0..200).prop_map(Op::Binary),
        2 => (any::<bool>(), vec(any::<u8>(), 0..50), any::<bool>())
            .prop_map(|(text, data, last)| Op::Chunk { text, data, last }),
        1 => vec(any::<u8>(), 0..130).prop_map(Op::Ping),
        1 => vec(any::<u8>(), 0..130).prop_map(Op::Pong),
        1 => (prop_oneof![any::<u16>(), sendable_close_code()], text(130))
            .prop_map(|(code, reason)| Op::Close(code, reason)),
        4 => Just(Op::Poll),
        2 => (0usize..300).prop_map(Op::Write),
        1 => (0u64..3000).prop_map(Op::Wait),
    ]
}

/// Polls until the connection needs input or reports its error, as an
/// adapter does (one that stops at the error with `?`). Fails if events never
/// stop.
fn poll_all(conn: &mut Connection) -> Result<(), TestCaseError> {
    for _ in 0..100_000 {
        match conn.poll_event() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return Ok(()),
        }
    }
    Err(TestCaseError::fail("poll_event never returned Ok(None)"))
}

fn run_ops(role: Role, config: Config, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut conn = connection(role, config);
    let mut wire = Vec::new();
    let mut now = Instant::now();
    for op in ops {
        match op {
            Op::Receive(bytes) => conn.receive(bytes),
            Op::ReceiveBuffer(bytes) => commit_bytes(&mut conn, bytes),
            Op::Eof => conn.receive_eof(),
            Op::Text(text) => drop(conn.send_text(text)),
            Op::Binary(data) => drop(conn.send_binary(data)),
            Op::Chunk { text, data, last } => {
                let kind = if *text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                drop(conn.send_chunk(kind, data, *last));
            }
            Op::Ping(data) => drop(conn.send_ping(data)),
            Op::Pong(data) => drop(conn.send_pong(data)),
            Op::Close(code, reason) => drop(conn.close(*code, reason)),
            Op::Poll => poll_all(&mut conn)?,
            Op::Write(max) => {
                if let Some(bytes) = conn.poll_transmit() {
                    let n = bytes.len().min(*max);
                    wire.extend_from_slice(&bytes[..n]);
                    conn.advance_transmit(n);
                }
            }
            Op::Wait(ms) => {
                let _deadline = conn.poll_timeout(now);
                now += Duration::from_millis(*ms);
                conn.handle_timeout(now);
            }
        }
    }
    poll_all(&mut conn)?;
    // An error is reported once; after it, or with no new input, nothing.
    prop_assert_eq!(conn.poll_event(), Ok(None));
    wire.extend(transmit(&mut conn));
    check_output(role, &wire)
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn no_input_or_call_sequence_panics_or_writes_an_invalid_frame(
        (role, ops) in role().prop_flat_map(|role| {
            (Just(role), vec(op(role == Role::Server), 0..40))
        }),
        config in any_config(),
    ) {
        run_ops(role, config, &ops)?;
    }
}

// ----- 7. streamed send -----

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn a_message_sent_in_pieces_arrives_as_their_concatenation(
        sender in role(),
        (kind, payload) in prop_oneof![
            text(400).prop_map(|text| (MessageKind::Text, text.into_bytes())),
            vec(any::<u8>(), 0..3000).prop_map(|data| (MessageKind::Binary, data)),
        ],
        points in vec(any::<Index>(), 0..10),
        pings in vec(prop::option::of(vec(any::<u8>(), 0..=125)), 10),
        fragment_size in prop::option::of(1usize..=64),
        read_buffer_size in 1usize..=4096,
        streaming in any::<bool>(),
    ) {
        let pieces = split_at_points(&payload, &points);
        let mut sender_config = Config::default();
        sender_config.fragment_size = fragment_size;
        let mut receiver_config = Config::default();
        receiver_config.read_buffer_size = read_buffer_size;
        receiver_config.streaming = streaming;
        let mut sender_conn = connection(sender, sender_config);
        let mut receiver = connection(peer_of(sender), receiver_config);

        // Pings go between pieces, so each arrives before the message ends.
        let mut expected = Vec::new();
        let last = pieces.len() - 1;
        for (i, piece) in pieces.iter().enumerate() {
            sender_conn.send_chunk(kind, piece, i == last).expect("the connection is open");
            if let (true, Some(ping)) = (i < last, &pings[i]) {
                sender_conn.send_ping(ping).expect("the connection is open");
                expected.push(Ev::Ping(ping.clone()));
            }
        }
        expected.push(match kind {
            MessageKind::Text => Ev::Text(String::from_utf8(payload).expect("made from a String")),
            MessageKind::Binary => Ev::Binary(payload),
        });

        let received = feed(&mut receiver, &transmit(&mut sender_conn));
        let received = if streaming { join_chunks(received)? } else { received };
        prop_assert_eq!(received, expected);
        prop_assert_eq!(receiver.state(), State::Open);
    }
}

// ----- 8. close round trip -----

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn a_close_code_and_reason_reach_the_peer_and_both_ends_close(
        code in sendable_close_code(),
        reason in close_reason(),
        initiator in role(),
    ) {
        let mut pair = Pair::new();
        let (at_client, at_server) = match initiator {
            Role::Client => {
                pair.client.close(code, &reason).expect("a sendable close");
                pair.settle()
            }
            Role::Server => {
                pair.server.close(code, &reason).expect("a sendable close");
                pair.settle()
            }
        };
        let (at_initiator, at_peer) = match initiator {
            Role::Client => (at_client, at_server),
            Role::Server => (at_server, at_client),
        };
        prop_assert_eq!(at_peer, vec![Ev::Close(Some((code, reason.clone())))]);
        // The answer echoes the code, without a reason.
        prop_assert_eq!(at_initiator, vec![Ev::Close(Some((code, String::new())))]);
        prop_assert_eq!(pair.client.state(), State::Closed);
        prop_assert_eq!(pair.server.state(), State::Closed);
        prop_assert!(pair.server.should_close_transport());
        prop_assert!(
            !pair.client.should_close_transport(),
            "the client waits for the server to close"
        );
        pair.client.receive_eof();
        prop_assert!(pair.client.should_close_transport());
        prop_assert_eq!(pair.client.poll_event(), Ok(None));
    }
}

// ----- reading after a failure -----

/// Byte sequences that make a text payload invalid when they end it (the
/// last is a code point cut short).
const NOT_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\x80",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
];

proptest! {
    #![proptest_config(cases(64))]

    /// Once `poll_event` reported a protocol error the connection reads
    /// nothing more (RFC 6455 §7.1.7): bytes handed in afterwards, through
    /// either input path, are dropped and `poll_event` has nothing more to
    /// say.
    #[test]
    fn input_after_a_protocol_error_is_dropped(
        role in role(),
        valid in text(20),
        invalid in prop::sample::select(NOT_UTF8),
        later in vec(any::<u8>(), 0..64),
        input in prop_oneof![Just(Input::ReceiveBuffer), Just(Input::Receive)],
    ) {
        let mut payload = valid.into_bytes();
        payload.extend_from_slice(invalid);
        let key = (role == Role::Server).then_some([0x11, 0x22, 0x33, 0x44]);
        let mut conn = connection(role, Config::default());
        hand_in(&mut conn, input, &frame(0x81, &payload, key));
        prop_assert_eq!(
            events(&mut conn),
            vec![Ev::Error(Error::Protocol(ProtocolError::InvalidUtf8))]
        );
        hand_in(&mut conn, input, &later);
        prop_assert_eq!(events(&mut conn), vec![]);
        prop_assert_eq!(conn.state(), State::Closed);
    }
}
