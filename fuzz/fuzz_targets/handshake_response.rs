//! `ClientHandshake::receive` and `receive_eof` on a server's response, in
//! input-chosen pieces, for a client with a seeded key.
//!
//! The response is either the raw input or, to reach the checks after the
//! status line, a valid 101 for the client's key (with optional subprotocol,
//! extension and other variations) changed by a few input-chosen edits and
//! followed by the rest of the input.
//!
//! Checked: nothing panics; the outcome (the first answer, the answer to the
//! end of stream, the leftover) is the same as when the bytes come whole;
//! after an answer, calls return `Ok(None)` or the same error; an accepted
//! response is a 101 selecting only what was offered; a refusal's body keeps
//! to its limit; an unedited template gets the answer it calls for.
//!
//! Input layout: a settings byte (bit 0 template mode, 1 offer
//! subprotocols, 2 offer an extension, 3 end of stream, 4-5 head size
//! limit, 6-7 body size limit), a chunk plan (descriptor bit 5 feeds an
//! empty slice before the piece), then the response or, in template mode, a
//! template byte (see [`template`]), an edit count `m` (low 3 bits), `m`
//! three-byte edits (position, operation, byte) and the bytes after the
//! head.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use rfc6455::handshake::{
    derive_accept_key, ClientHandshake, ClientOptions, ExtensionOffer, HandshakeConfig, Response,
    ResponseError,
};
use rfc6455_fuzz::{pieces, split_plan};

type Answer = Result<Option<Response>, ResponseError>;

#[derive(Debug, PartialEq)]
struct Outcome {
    first: Answer,
    eof: Option<Result<(), ResponseError>>,
    leftover: Vec<u8>,
}

struct Setup {
    template: bool,
    offer_protocols: bool,
    offer_extension: bool,
    eof: bool,
    default_head_size: bool,
    config: HandshakeConfig,
}

impl Setup {
    fn new(settings: u8) -> Setup {
        const HEAD: [usize; 4] = [16 << 10, 64, 256, 4096];
        const BODY: [usize; 4] = [64 << 10, 0, 10, 1000];
        Setup {
            template: settings & 1 != 0,
            offer_protocols: settings & 2 != 0,
            offer_extension: settings & 4 != 0,
            eof: settings & 8 != 0,
            default_head_size: settings >> 4 & 3 == 0,
            // No automatic permessage-deflate offer: the extension checks
            // here are by name (deflate_negotiation covers the rest).
            config: HandshakeConfig::default()
                .deflate(None)
                .max_head_size(HEAD[usize::from(settings >> 4 & 3)])
                .max_body_size(BODY[usize::from(settings >> 6)]),
        }
    }

    fn client(&self) -> ClientHandshake {
        let mut options = ClientOptions::new().config(self.config.clone());
        if self.offer_protocols {
            options = options.protocol("chat").protocol("superchat");
        }
        if self.offer_extension {
            options = options.extension(
                ExtensionOffer::new("permessage-deflate").param("client_max_window_bits"),
            );
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(6455);
        ClientHandshake::with_rng("ws://example.com/chat", options, &mut rng)
            .expect("a valid client")
    }
}

/// What the template byte asks for: bit 0 a subprotocol, 1 an extension,
/// 2 a `Content-Length`, 3 bare LF line ends, 4 lower-case names, 5 an
/// unoffered subprotocol, 6-7 the status line (101, 101 in HTTP/1.0, 404,
/// 204).
fn template(flags: u8, accept: &str) -> Vec<u8> {
    let status = match flags >> 6 {
        0 => "HTTP/1.1 101 Switching Protocols",
        1 => "HTTP/1.0 101 Switching Protocols",
        2 => "HTTP/1.1 404 Not Found",
        _ => "HTTP/1.1 204 No Content",
    };
    let mut lines = vec![
        status.to_owned(),
        "Upgrade: websocket".to_owned(),
        "Connection: Upgrade".to_owned(),
        format!("Sec-WebSocket-Accept: {accept}"),
    ];
    if flags & 1 != 0 {
        let protocol = if flags & 0x20 != 0 { "other" } else { "chat" };
        lines.push(format!("Sec-WebSocket-Protocol: {protocol}"));
    }
    if flags & 2 != 0 {
        lines
            .push("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10".into());
    }
    if flags & 4 != 0 {
        lines.push("Content-Length: 5".into());
    }
    if flags & 0x10 != 0 {
        for line in &mut lines[1..] {
            let colon = line.find(':').unwrap_or(0);
            line.replace_range(..colon, &line[..colon].to_ascii_lowercase());
        }
    }
    let end = if flags & 8 != 0 { "\n" } else { "\r\n" };
    let mut head = lines.join(end);
    head.push_str(end);
    head.push_str(end);
    head.into_bytes()
}

/// Applies three-byte edits (position scaled to the length, operation,
/// byte).
fn edit(head: &mut Vec<u8>, edits: &[u8]) {
    for edit in edits.chunks_exact(3) {
        let at = usize::from(edit[0]) * (head.len() + 1) / 256;
        match edit[1] & 3 {
            0 if at < head.len() => head[at] = edit[2],
            1 => head.insert(at, edit[2]),
            2 if at < head.len() => {
                head.remove(at);
            }
            3 => head.splice(at..at, *b"\r\n").for_each(drop),
            _ => {}
        }
    }
}

fn feed(setup: &Setup, plan: &[u8], bytes: &[u8]) -> Outcome {
    let mut client = setup.client();
    let mut first: Option<Answer> = None;
    let later = |first: &Option<Answer>, answer: Answer| match first {
        None => assert_eq!(answer, Ok(None), "an empty slice changes nothing"),
        Some(Ok(_)) => assert_eq!(answer, Ok(None)),
        Some(Err(error)) => assert_eq!(answer, Err(error.clone())),
    };
    for (piece, descriptor) in pieces(plan, bytes) {
        if descriptor & 0x20 != 0 {
            later(&first, client.receive(&[]));
        }
        let answer = client.receive(piece);
        match &first {
            None if matches!(answer, Ok(None)) => {}
            None => first = Some(answer),
            Some(_) => later(&first, answer),
        }
    }
    let eof = setup.eof.then(|| client.receive_eof());
    if let (Some(Ok(Some(_))), Some(eof)) = (&first, &eof) {
        assert_eq!(eof, &Ok(()), "end of stream after the handshake");
    }
    let leftover = client.leftover().to_vec();
    assert_eq!(client.into_leftover(), leftover);
    Outcome {
        first: first.unwrap_or(Ok(None)),
        eof,
        leftover,
    }
}

fn check(setup: &Setup, outcome: &Outcome) {
    let answers = [
        Some(outcome.first.clone()),
        outcome.eof.clone().map(|r| r.map(|()| None)),
    ];
    for answer in answers.into_iter().flatten() {
        match answer {
            Ok(None) => {}
            Ok(Some(response)) => {
                assert_eq!(response.status(), 101);
                assert!(response.body().is_empty());
                if let Some(protocol) = response.protocol() {
                    assert!(setup.offer_protocols && ["chat", "superchat"].contains(&protocol));
                }
                for extension in response.extensions() {
                    assert!(setup.offer_extension);
                    assert!(extension.name.eq_ignore_ascii_case("permessage-deflate"));
                }
            }
            Err(ResponseError::Rejected(response)) => {
                assert_ne!(response.status(), 101);
                assert!(response.body().len() <= setup.config.max_body_size);
                assert_eq!(response.protocol(), None);
                assert!(response.extensions().is_empty());
            }
            Err(ResponseError::BodyTooLarge { status, .. }) => assert_ne!(status, 101),
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
    if !matches!(outcome.first, Ok(Some(_))) {
        assert!(outcome.leftover.is_empty());
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&settings, rest)) = input.split_first() else {
        return;
    };
    let setup = Setup::new(settings);
    let (plan, rest) = split_plan(rest);
    let mut expected = None;
    let bytes = if setup.template {
        let [flags, count, ref rest @ ..] = *rest else {
            return;
        };
        let accept = derive_accept_key(setup.client().key().as_bytes());
        let mut head = template(flags, &accept);
        let edits = rest.len().min(usize::from(count & 7) * 3);
        edit(&mut head, &rest[..edits]);
        let tail = &rest[edits..];
        if edits == 0 && setup.default_head_size {
            expected = Some((flags, tail.to_vec()));
        }
        head.extend_from_slice(tail);
        head
    } else {
        rest.to_vec()
    };

    let whole = feed(&setup, &[], &bytes);
    let cut = feed(&setup, plan, &bytes);
    assert_eq!(whole, cut, "whole vs in pieces");
    check(&setup, &whole);

    // An unedited template gets the answer it calls for.
    if let Some((flags, tail)) = expected {
        let protocol = flags & 1 != 0;
        let bad_protocol = protocol && (!setup.offer_protocols || flags & 0x20 != 0);
        let bad_extension = flags & 2 != 0 && !setup.offer_extension;
        match flags >> 6 {
            0 if bad_protocol => assert!(
                matches!(whole.first, Err(ResponseError::ProtocolNotOffered { .. })),
                "{whole:?}"
            ),
            0 if bad_extension => assert!(
                matches!(whole.first, Err(ResponseError::ExtensionNotOffered { .. })),
                "{whole:?}"
            ),
            0 => {
                let Ok(Some(response)) = &whole.first else {
                    panic!("a valid 101 is refused: {whole:?}");
                };
                assert_eq!(response.protocol(), protocol.then_some("chat"));
                assert_eq!(response.extensions().len(), usize::from(flags & 2 != 0));
                assert_eq!(whole.leftover, tail);
            }
            1 => assert_eq!(whole.first, Err(ResponseError::NotHttp11 { minor: 0 })),
            3 => assert!(
                matches!(&whole.first, Err(ResponseError::Rejected(r)) if r.status() == 204),
                "{whole:?}"
            ),
            _ => {}
        }
    }
});
