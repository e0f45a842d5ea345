//! WebSocket echo servers on loopback, a thread per connection, over the
//! blocking adapter: plain, or TLS from a `rustls::ServerConfig`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::{self, SocketTimeouts};
#[cfg(feature = "rustls")]
use rfc6455::tls::rustls;
use rfc6455::Message;

/// Echoes text and binary messages until the close handshake is over.
fn echo<S: Read + Write + SocketTimeouts>(stream: S) -> Option<S> {
    let mut ws = blocking::accept(stream).ok()?.with_timers().ok()?;
    while let Ok(Some(message)) = ws.read() {
        if matches!(message, Message::Text(_) | Message::Binary(_)) && ws.send(message).is_err() {
            return None;
        }
    }
    Some(ws.into_parts().0)
}

/// Listens on 127.0.0.1 and, where the machine has IPv6, on [::1] with
/// the same port, so `localhost` reaches it whichever address it resolves
/// to first; serves each connection on a thread of its own. The port.
fn listen(serve: impl Fn(TcpStream) + Send + Clone + 'static) -> u16 {
    let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = v4.local_addr().unwrap().port();
    let mut listeners = vec![v4];
    listeners.extend(TcpListener::bind(("::1", port)).ok());
    for listener in listeners {
        let serve = serve.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let serve = serve.clone();
                thread::spawn(move || serve(stream));
            }
        });
    }
    port
}

/// A `ws://` echo server on 127.0.0.1; its port.
pub fn plain() -> u16 {
    listen(|stream| {
        echo(stream);
    })
}

/// A `wss://` echo server on 127.0.0.1 with this config; its port. It
/// sends TLS's `close_notify` after the close handshake.
#[cfg(feature = "rustls")]
pub fn tls(config: std::sync::Arc<rustls::ServerConfig>) -> u16 {
    listen(move |tcp| {
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        if let Some(mut tls) = echo(rustls::StreamOwned::new(conn, tcp)) {
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    })
}

/// A server that accepts TCP connections and never says anything; its
/// port. Each connection is held until the client closes it.
pub fn silent() -> u16 {
    listen(|mut stream| {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let mut buf = [0; 1024];
        while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
    })
}
