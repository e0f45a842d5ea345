//! permessage-deflate wired into the opening handshake and the adapters
//! (RFC 7692 §5): negotiated by default in both roles, declined politely,
//! a bad answer fails the client naming the parameter, and compressed
//! frames (RSV1) cross real loopback sockets in both adapters.
#![cfg(feature = "deflate")]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use rfc6455::blocking;
use rfc6455::deflate::{NegotiationError, Parameter, PERMESSAGE_DEFLATE};
use rfc6455::handshake::{
    derive_accept_key, Accept, BuildError, ClientHandshake, ClientOptions, ExtensionOffer,
    HandshakeConfig, Incoming, Request, ResponseError, ServerHandshake,
};
use rfc6455::{Config, Connection, Event, Message, Role};

/// A message long and repetitive enough to be compressed.
fn compressible() -> String {
    "permessage-deflate over loopback, ".repeat(30)
}

fn upgrade(client: &ClientHandshake) -> Request {
    match ServerHandshake::new().receive(client.request()) {
        Ok(Some(Incoming::Upgrade(request))) => request,
        other => panic!("expected an upgrade, got {other:?}"),
    }
}

/// A request head offering `extensions` (the raw header value).
fn request_offering(extensions: &str) -> Request {
    let head = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {extensions}\r\n\r\n"
    );
    match ServerHandshake::new().receive(head.as_bytes()) {
        Ok(Some(Incoming::Upgrade(request))) => request,
        other => panic!("expected an upgrade, got {other:?}"),
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn drain(conn: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    while let Some(bytes) = conn.poll_transmit() {
        wire.extend_from_slice(bytes);
        let n = bytes.len();
        conn.advance_transmit(n);
    }
    wire
}

#[test]
fn rfc7692_5_default_handshakes_negotiate_permessage_deflate_in_both_roles() {
    let mut client = ClientHandshake::new("ws://a/", ClientOptions::new()).unwrap();
    let request_text = String::from_utf8(client.request().to_vec()).unwrap();
    assert_eq!(
        header(&request_text, "Sec-WebSocket-Extensions"),
        Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
    );
    let request = upgrade(&client);
    let (reply, accepted) = request
        .accept_negotiated(&Accept::new(), &HandshakeConfig::default())
        .unwrap();
    assert_eq!(accepted.extension_name(), Some(PERMESSAGE_DEFLATE));
    let reply_text = String::from_utf8(reply.clone()).unwrap();
    assert_eq!(
        header(&reply_text, "Sec-WebSocket-Extensions"),
        Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
    );
    let response = client.receive(&reply).unwrap().unwrap();
    let negotiated = response.negotiated();
    assert_eq!(negotiated.extension_name(), Some(PERMESSAGE_DEFLATE));
    assert_eq!(negotiated.extensions(), accepted.extensions());
    let agreed = negotiated.deflate().unwrap().agreed();
    assert_eq!(
        (agreed.server_max_window_bits, agreed.client_max_window_bits),
        (12, 12)
    );

    let mut server = accepted.install(Connection::new(Role::Server, Config::default()));
    let mut client = negotiated.install(Connection::new(Role::Client, Config::default()));
    let text = compressible();
    client.send_text(&text).unwrap();
    let wire = drain(&mut client);
    assert_eq!(wire[0] & 0x40, 0x40, "RSV1: the client compressed");
    assert!(wire.len() < text.len() / 4);
    server.receive(&wire);
    match server.poll_event().unwrap() {
        Some(Event::Text(got)) => assert_eq!(got, text),
        other => panic!("{other:?}"),
    }
    server.send_text(&text).unwrap();
    let wire = drain(&mut server);
    assert_eq!(wire[0] & 0x40, 0x40, "RSV1: the server compressed");
    client.receive(&wire);
    match client.poll_event().unwrap() {
        Some(Event::Text(got)) => assert_eq!(got, text),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc7692_5_a_server_with_deflate_off_declines_and_the_connection_is_plain() {
    let mut client = ClientHandshake::new("ws://a/", ClientOptions::new()).unwrap();
    let request = upgrade(&client);
    let off = HandshakeConfig::default().deflate(None);
    let (reply, accepted) = request.accept_negotiated(&Accept::new(), &off).unwrap();
    assert!(accepted.extensions().is_empty());
    assert_eq!(accepted.extension_name(), None);
    let reply_text = String::from_utf8(reply.clone()).unwrap();
    assert!(reply_text.starts_with("HTTP/1.1 101 "));
    assert_eq!(header(&reply_text, "Sec-WebSocket-Extensions"), None);
    let response = client.receive(&reply).unwrap().unwrap();
    assert_eq!(response.negotiated().extension_name(), None);
    assert!(response.negotiated().deflate().is_none());

    let mut client = response
        .negotiated()
        .install(Connection::new(Role::Client, Config::default()));
    client.send_text(&compressible()).unwrap();
    assert_eq!(drain(&mut client)[0] & 0x40, 0, "no RSV1 without deflate");
}

#[test]
fn rfc7692_5_a_client_with_deflate_off_offers_nothing_and_the_server_answers_nothing() {
    let options = ClientOptions::new().config(HandshakeConfig::default().deflate(None));
    let client = ClientHandshake::new("ws://a/", options).unwrap();
    let text = String::from_utf8(client.request().to_vec()).unwrap();
    assert_eq!(header(&text, "Sec-WebSocket-Extensions"), None);
    let (reply, accepted) = upgrade(&client)
        .accept_negotiated(&Accept::new(), &HandshakeConfig::default())
        .unwrap();
    assert_eq!(accepted.extension_name(), None);
    let reply = String::from_utf8(reply).unwrap();
    assert_eq!(header(&reply, "Sec-WebSocket-Extensions"), None);
}

#[test]
fn rfc7692_5_invalid_offers_are_declined_not_refused_and_a_later_valid_one_is_taken() {
    // Unknown parameter, out-of-range value, repeated parameter: each must
    // be declined; the 101 still goes out, without the extension.
    for bad in [
        "permessage-deflate; foo",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits",
    ] {
        let (reply, accepted) = request_offering(bad)
            .accept_negotiated(&Accept::new(), &HandshakeConfig::default())
            .unwrap();
        let reply = String::from_utf8(reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 101 "), "{bad}: {reply}");
        assert_eq!(header(&reply, "Sec-WebSocket-Extensions"), None, "{bad}");
        assert_eq!(accepted.extension_name(), None, "{bad}");
    }
    let (reply, accepted) = request_offering(
        "permessage-deflate; foo=1, x-other, permessage-deflate; server_no_context_takeover",
    )
    .accept_negotiated(&Accept::new(), &HandshakeConfig::default())
    .unwrap();
    let reply = String::from_utf8(reply).unwrap();
    assert_eq!(
        header(&reply, "Sec-WebSocket-Extensions"),
        Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=12")
    );
    assert!(
        accepted
            .deflate()
            .unwrap()
            .agreed()
            .server_no_context_takeover
    );
}

/// A 101 for `client` carrying `extensions` as its
/// `Sec-WebSocket-Extensions`.
fn reply_with(client: &ClientHandshake, extensions: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n",
        derive_accept_key(client.key().as_bytes())
    )
    .into_bytes()
}

#[test]
fn rfc7692_5_a_client_fails_the_handshake_on_a_bad_response_naming_the_parameter() {
    let cases: [(&str, NegotiationError); 5] = [
        (
            "permessage-deflate; server_max_window_bits=20",
            NegotiationError::InvalidValue {
                param: Parameter::ServerMaxWindowBits,
                value: "20".into(),
            },
        ),
        (
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits",
            NegotiationError::MissingValue(Parameter::ClientMaxWindowBits),
        ),
        (
            "permessage-deflate; server_max_window_bits=12; mystery=1",
            NegotiationError::UnknownParameter {
                name: "mystery".into(),
            },
        ),
        (
            "permessage-deflate; server_max_window_bits=15",
            NegotiationError::LargerThanOffered {
                param: Parameter::ServerMaxWindowBits,
                offered: 12,
                got: 15,
            },
        ),
        (
            "permessage-deflate",
            NegotiationError::NotAccepted(Parameter::ServerMaxWindowBits),
        ),
    ];
    for (extensions, expected) in cases {
        let mut client = ClientHandshake::new("ws://a/", ClientOptions::new()).unwrap();
        let error = client
            .receive(&reply_with(&client, extensions))
            .unwrap_err();
        let name = match &expected {
            NegotiationError::UnknownParameter { name } => name.clone(),
            NegotiationError::InvalidValue { param, .. }
            | NegotiationError::MissingValue(param)
            | NegotiationError::NotAccepted(param)
            | NegotiationError::LargerThanOffered { param, .. } => param.name().to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(error, ResponseError::Deflate(expected), "{extensions}");
        assert!(
            error.to_string().contains(&name),
            "{extensions}: `{error}` does not name {name}"
        );
    }
}

#[test]
fn rfc6455_9_1_a_client_fails_on_permessage_deflate_it_did_not_offer() {
    let options = ClientOptions::new().config(HandshakeConfig::default().deflate(None));
    let mut client = ClientHandshake::new("ws://a/", options).unwrap();
    let error = client
        .receive(&reply_with(&client, "permessage-deflate"))
        .unwrap_err();
    assert_eq!(
        error,
        ResponseError::ExtensionNotOffered {
            name: "permessage-deflate".into()
        }
    );
}

#[test]
fn extensions_chosen_by_the_application_win_and_deflate_by_hand_is_refused() {
    let request = request_offering("x-rsv-free, permessage-deflate");
    let mine = Accept::new().extension(ExtensionOffer::new("x-rsv-free"));
    let (reply, accepted) = request
        .accept_negotiated(&mine, &HandshakeConfig::default())
        .unwrap();
    let reply = String::from_utf8(reply).unwrap();
    assert_eq!(
        header(&reply, "Sec-WebSocket-Extensions"),
        Some("x-rsv-free")
    );
    assert_eq!(accepted.extension_name(), None);
    assert_eq!(accepted.extensions(), mine.extensions);

    let by_hand = Accept::new().extension(ExtensionOffer::new("permessage-deflate"));
    assert_eq!(
        request.accept_negotiated(&by_hand, &HandshakeConfig::default()),
        Err(BuildError::ExtensionNeedsCodec {
            name: "permessage-deflate".into()
        })
    );
}

#[test]
fn a_client_offering_permessage_deflate_itself_replaces_the_automatic_offer() {
    let mine = ExtensionOffer::new("permessage-deflate").param("client_no_context_takeover");
    let client = ClientHandshake::new("ws://a/", ClientOptions::new().extension(mine)).unwrap();
    let text = String::from_utf8(client.request().to_vec()).unwrap();
    assert_eq!(
        header(&text, "Sec-WebSocket-Extensions"),
        Some("permessage-deflate; client_no_context_takeover")
    );
}

/// A stream that keeps a copy of every byte read from it, to look at the
/// frames as they came off the wire.
struct Tap<S> {
    inner: S,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl<S: Read> Read for Tap<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl<S: Write> Write for Tap<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The first byte of the first frame after the 101 head in `seen`.
fn first_frame_byte(seen: &[u8]) -> u8 {
    let end = seen
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head")
        + 4;
    seen[end]
}

#[test]
fn blocking_adapters_negotiate_deflate_and_compress_over_loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = blocking::accept(stream).unwrap();
        let name = ws.negotiated().extension_name().map(str::to_owned);
        while let Some(message) = ws.read().unwrap() {
            if matches!(message, Message::Text(_) | Message::Binary(_)) {
                ws.send(message).unwrap();
            }
        }
        name
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stream = Tap {
        inner: TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/')).unwrap(),
        seen: Arc::clone(&seen),
    };
    let (mut ws, response) =
        blocking::client(&url, ClientOptions::new(), stream, Config::default()).unwrap();
    assert_eq!(
        response.negotiated().extension_name(),
        Some(PERMESSAGE_DEFLATE)
    );
    assert_eq!(ws.negotiated().extension_name(), Some(PERMESSAGE_DEFLATE));
    let text = compressible();
    ws.send(Message::Text(text.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Some(Message::Text(text)));
    assert_eq!(
        first_frame_byte(&seen.lock().unwrap()),
        0x80 | 0x40 | 0x1,
        "FIN, RSV1 and text: the server's echo came compressed"
    );
    ws.close(1000u16, "").unwrap();
    while ws.read().unwrap().is_some() {}
    assert_eq!(server.join().unwrap().as_deref(), Some(PERMESSAGE_DEFLATE));
}

#[test]
fn blocking_server_with_deflate_off_declines_and_the_client_goes_on_plain() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut config = Config::default();
        config.handshake.deflate = None;
        let mut ws = blocking::accept_with(stream, config, |_| Ok(Accept::new())).unwrap();
        assert_eq!(ws.negotiated().extension_name(), None);
        while let Some(message) = ws.read().unwrap() {
            if matches!(message, Message::Text(_) | Message::Binary(_)) {
                ws.send(message).unwrap();
            }
        }
    });
    let (mut ws, response) = blocking::connect(&url).unwrap();
    assert!(response.extensions().is_empty());
    assert_eq!(ws.negotiated().extension_name(), None);
    let text = compressible();
    ws.send(Message::Text(text.clone())).unwrap();
    assert_eq!(ws.read().unwrap(), Some(Message::Text(text)));
    ws.close(1000u16, "").unwrap();
    while ws.read().unwrap().is_some() {}
    server.join().unwrap();
}

#[cfg(feature = "tokio")]
mod tokio_adapter {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use super::*;

    /// [`Tap`] for async streams.
    struct AsyncTap<S> {
        inner: S,
        seen: Arc<Mutex<Vec<u8>>>,
    }

    impl<S: AsyncRead + Unpin> AsyncRead for AsyncTap<S> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let before = buf.filled().len();
            let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
            if let Poll::Ready(Ok(())) = polled {
                let fresh = buf.filled()[before..].to_vec();
                self.seen.lock().unwrap().extend_from_slice(&fresh);
            }
            polled
        }
    }

    impl<S: AsyncWrite + Unpin> AsyncWrite for AsyncTap<S> {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.inner).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    #[tokio::test]
    async fn tokio_adapters_negotiate_deflate_and_compress_over_loopback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = rfc6455::tokio::accept(stream).await.unwrap();
            let name = ws.negotiated().extension_name().map(str::to_owned);
            while let Some(message) = ws.read().await.unwrap() {
                if matches!(message, Message::Text(_) | Message::Binary(_)) {
                    ws.send(message).await.unwrap();
                }
            }
            name
        });
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stream = AsyncTap {
            inner: tokio::net::TcpStream::connect(addr).await.unwrap(),
            seen: Arc::clone(&seen),
        };
        let url = format!("ws://{addr}/");
        let (mut ws, response) =
            rfc6455::tokio::client(&url, ClientOptions::new(), stream, Config::default())
                .await
                .unwrap();
        assert_eq!(
            response.negotiated().extension_name(),
            Some(PERMESSAGE_DEFLATE)
        );
        assert_eq!(ws.negotiated().extension_name(), Some(PERMESSAGE_DEFLATE));
        let text = compressible();
        // Whole messages and a binary one, both compressed both ways.
        ws.send(Message::Text(text.clone())).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Some(Message::Text(text.clone())));
        assert_eq!(
            first_frame_byte(&seen.lock().unwrap()),
            0x80 | 0x40 | 0x1,
            "FIN, RSV1 and text: the server's echo came compressed"
        );
        let binary = text.repeat(100).into_bytes();
        ws.send(Message::Binary(binary.clone())).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Some(Message::Binary(binary)));
        ws.close(1000u16, "").await.unwrap();
        while ws.read().await.unwrap().is_some() {}
        assert_eq!(server.await.unwrap().as_deref(), Some(PERMESSAGE_DEFLATE));
    }

    #[tokio::test]
    async fn tokio_server_with_deflate_off_declines_politely() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut config = Config::default();
            config.handshake.deflate = None;
            let mut ws = rfc6455::tokio::accept_with(stream, config, |_| Ok(Accept::new()))
                .await
                .unwrap();
            assert_eq!(ws.negotiated().extension_name(), None);
            while let Some(message) = ws.read().await.unwrap() {
                if matches!(message, Message::Text(_) | Message::Binary(_)) {
                    ws.send(message).await.unwrap();
                }
            }
        });
        let (mut ws, response) = rfc6455::tokio::connect(&format!("ws://{addr}/"))
            .await
            .unwrap();
        assert!(response.extensions().is_empty());
        assert_eq!(ws.negotiated().extension_name(), None);
        ws.send(Message::Text("plain".into())).await.unwrap();
        assert_eq!(
            ws.read().await.unwrap(),
            Some(Message::Text("plain".into()))
        );
        ws.close(1000u16, "").await.unwrap();
        while ws.read().await.unwrap().is_some() {}
        server.await.unwrap();
    }

    #[tokio::test]
    async fn tokio_client_fails_on_a_bad_deflate_response_naming_the_parameter() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut handshake = ServerHandshake::new();
            let mut buf = [0; 4096];
            let request = loop {
                let n = stream.read(&mut buf).await.unwrap();
                if let Some(Incoming::Upgrade(request)) = handshake.receive(&buf[..n]).unwrap() {
                    break request;
                }
            };
            let reply = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\
                 Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99\r\n\r\n",
                derive_accept_key(request.key().unwrap().as_bytes())
            );
            stream.write_all(reply.as_bytes()).await.unwrap();
        });
        let error = rfc6455::tokio::connect(&format!("ws://{addr}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &error,
                rfc6455::tokio::Error::Response(ResponseError::Deflate(
                    NegotiationError::InvalidValue {
                        param: Parameter::ClientMaxWindowBits,
                        ..
                    }
                ))
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("client_max_window_bits"));
        server.await.unwrap();
    }
}
