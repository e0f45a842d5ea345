//! A whole conversation in memory: opening handshake, messages both ways,
//! close handshake, and who closes the transport.

mod common;

use common::{events, feed, transmit, Ev};
use rand::SeedableRng;
use rfc6455::handshake::{
    Accept, ClientHandshake, ClientOptions, Incoming, RequestError, ResponseError, ServerHandshake,
};
use rfc6455::{Config, Connection, Role, State};

/// Runs the opening handshake; the client's first frame rides in the same
/// write as its request, and the server's in the same write as its 101.
fn connect() -> (Connection, Connection) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut client_hs = ClientHandshake::with_rng(
        "ws://127.0.0.1:9001/chat?room=1",
        ClientOptions::new().protocol("chat"),
        &mut rng,
    )
    .unwrap();
    let mut client = common::client(Config::default());
    client.send_text("early from client").unwrap();
    let mut wire = client_hs.request().to_vec();
    wire.extend(transmit(&mut client));

    let mut server_hs = ServerHandshake::new();
    let mut incoming = None;
    for byte in &wire {
        // One byte per read, to exercise the incremental parser.
        if let Some(found) = server_hs.receive(std::slice::from_ref(byte)).unwrap() {
            incoming = Some(found);
        }
    }
    let Some(Incoming::Upgrade(request)) = incoming else {
        panic!("expected an upgrade request");
    };
    assert_eq!((request.path(), request.query()), ("/chat", Some("room=1")));
    assert_eq!(request.protocols(), ["chat"]);
    let mut reply = request.accept(&Accept::new().protocol("chat")).unwrap();
    let mut server = Connection::new(Role::Server, Config::default());
    assert_eq!(
        feed(&mut server, &server_hs.into_leftover()),
        [Ev::Text("early from client".into())]
    );
    server.send_text("early from server").unwrap();
    reply.extend(transmit(&mut server));

    let response = client_hs
        .receive(&reply)
        .unwrap()
        .expect("a complete response");
    assert_eq!(response.protocol(), Some("chat"));
    assert_eq!(
        feed(&mut client, &client_hs.into_leftover()),
        [Ev::Text("early from server".into())]
    );
    (client, server)
}

#[test]
fn handshake_messages_and_close_in_memory() {
    let (mut client, mut server) = connect();
    client.send_binary(&[1, 2, 3]).unwrap();
    client.send_ping(b"hb").unwrap();
    assert_eq!(
        feed(&mut server, &transmit(&mut client)),
        [Ev::Binary(vec![1, 2, 3]), Ev::Ping(b"hb".to_vec())]
    );
    assert_eq!(
        feed(&mut client, &transmit(&mut server)),
        [Ev::Pong(b"hb".to_vec())]
    );

    client.close(1000u16, "bye").unwrap();
    assert_eq!(
        feed(&mut server, &transmit(&mut client)),
        [Ev::Close(Some((1000, "bye".into())))]
    );
    assert!(server.should_close_transport());
    assert_eq!(
        feed(&mut client, &transmit(&mut server)),
        [Ev::Close(Some((1000, String::new())))]
    );
    assert_eq!(
        (client.state(), server.state()),
        (State::Closed, State::Closed)
    );
    client.receive_eof();
    assert!(client.should_close_transport());
    assert_eq!(events(&mut client), []);
}

#[test]
fn a_plain_http_request_is_reported_for_the_application_to_answer() {
    let mut server_hs = ServerHandshake::new();
    let incoming = server_hs
        .receive(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap()
        .expect("complete");
    let Incoming::Http(request) = incoming else {
        panic!("not an upgrade");
    };
    assert_eq!(request.path(), "/index.html");
    let page =
        rfc6455::handshake::response(200, &[("Content-Type", "text/html")], b"<p>hi</p>").unwrap();
    assert!(page.starts_with(b"HTTP/1.1 200 OK\r\n"));
}

#[test]
fn a_refused_upgrade_reaches_the_client_with_status_headers_and_body() {
    let mut client_hs = ClientHandshake::new("ws://localhost/", ClientOptions::new()).unwrap();
    let mut server_hs = ServerHandshake::new();
    let request = server_hs.receive(client_hs.request()).unwrap().unwrap();
    assert!(matches!(request, Incoming::Upgrade(_)));
    let refusal = rfc6455::handshake::response(403, &[("X-Why", "banned")], b"go away").unwrap();
    match client_hs.receive(&refusal) {
        Err(ResponseError::Rejected(response)) => {
            assert_eq!(response.status(), 403);
            assert_eq!(response.headers().get_str("x-why"), Some("banned"));
            assert_eq!(response.body(), b"go away");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_wrong_version_gets_426_with_the_supported_version() {
    let request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
    let error = ServerHandshake::new().receive(request).unwrap_err();
    assert!(matches!(error, RequestError::UnsupportedVersion { .. }));
    assert_eq!(error.status(), 426);
    let response = String::from_utf8(error.response()).unwrap();
    assert!(response.starts_with("HTTP/1.1 426 "));
    assert!(response.contains("Sec-WebSocket-Version: 13\r\n"));
}
