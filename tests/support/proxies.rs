//! Small HTTP CONNECT and SOCKS5 proxies on loopback, a thread per
//! connection, each recording what it was asked for.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine as _;

/// What a proxy does with a request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Opens the tunnel.
    Open,
    /// Opens it for these credentials only.
    RequireAuth(&'static str, &'static str),
    /// Refuses: this HTTP status, or this SOCKS5 reply code.
    Refuse(u16),
    /// Reads the request and never answers.
    Hang,
}

/// A running proxy: its port and what it was asked for (`CONNECT
/// host:port` for HTTP; `domain host:port` or `address ip:port` for
/// SOCKS5).
pub struct ProxyServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ProxyServer {
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn spawn(
    behaviour: Behaviour,
    serve: fn(TcpStream, &Behaviour, &Mutex<Vec<String>>) -> io::Result<()>,
) -> ProxyServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
            let (behaviour, log) = (behaviour.clone(), Arc::clone(&log));
            thread::spawn(move || {
                let _ = serve(stream, &behaviour, &log);
            });
        }
    });
    ProxyServer { port, seen }
}

/// Copies both ways between the client and the destination until both
/// ends are closed.
fn pipe(client: TcpStream, server: TcpStream) -> io::Result<()> {
    let (mut client_read, mut server_write) = (client.try_clone()?, server.try_clone()?);
    let upstream = thread::spawn(move || {
        let _ = io::copy(&mut client_read, &mut server_write);
        let _ = server_write.shutdown(Shutdown::Write);
    });
    let (mut server_read, mut client_write) = (server, client);
    let _ = io::copy(&mut server_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Write);
    let _ = upstream.join();
    Ok(())
}

/// Holds the connection until the client closes it.
fn hang(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = [0; 256];
    while stream.read(&mut buf)? > 0 {}
    Ok(())
}

/// An HTTP proxy that answers `CONNECT`.
pub fn http(behaviour: Behaviour) -> ProxyServer {
    spawn(behaviour, serve_http)
}

fn serve_http(
    mut stream: TcpStream,
    behaviour: &Behaviour,
    log: &Mutex<Vec<String>>,
) -> io::Result<()> {
    // The client sends nothing past its head before the answer, so the
    // head is all there is to read.
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let authorization = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    let target = request_line
        .strip_prefix("CONNECT ")
        .and_then(|rest| rest.strip_suffix(" HTTP/1.1"))
        .unwrap_or_default()
        .to_owned();
    log.lock().unwrap().push(format!("CONNECT {target}"));
    match behaviour {
        Behaviour::Hang => return hang(stream),
        Behaviour::Refuse(status) => {
            let response =
                format!("HTTP/1.1 {status} Forbidden\r\nContent-Length: 9\r\n\r\nforbidden");
            return stream.write_all(response.as_bytes());
        }
        Behaviour::RequireAuth(user, password) => {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            );
            if authorization.as_deref() != Some(expected.as_str()) {
                return stream.write_all(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                      Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
                );
            }
        }
        Behaviour::Open => {}
    }
    let (host, port) = target.rsplit_once(':').unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let upstream = match TcpStream::connect((host, port.parse().unwrap_or(0))) {
        Ok(upstream) => upstream,
        Err(_) => {
            return stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        }
    };
    stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    pipe(stream, upstream)
}

/// A SOCKS5 proxy (RFC 1928, with RFC 1929 username/password).
pub fn socks5(behaviour: Behaviour) -> ProxyServer {
    spawn(behaviour, serve_socks5)
}

fn read_exact<const N: usize>(stream: &mut TcpStream) -> io::Result<[u8; N]> {
    let mut buf = [0; N];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

fn read_vec(stream: &mut TcpStream, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

fn serve_socks5(
    mut stream: TcpStream,
    behaviour: &Behaviour,
    log: &Mutex<Vec<String>>,
) -> io::Result<()> {
    let [version, count] = read_exact::<2>(&mut stream)?;
    assert_eq!(version, 5, "a SOCKS5 greeting");
    let methods = read_vec(&mut stream, count.into())?;
    match behaviour {
        Behaviour::Hang => return hang(stream),
        Behaviour::RequireAuth(user, password) => {
            if !methods.contains(&2) {
                return stream.write_all(&[5, 0xFF]);
            }
            stream.write_all(&[5, 2])?;
            let [auth_version, user_len] = read_exact::<2>(&mut stream)?;
            assert_eq!(auth_version, 1, "RFC 1929 version");
            let given_user = read_vec(&mut stream, user_len.into())?;
            let [password_len] = read_exact::<1>(&mut stream)?;
            let given_password = read_vec(&mut stream, password_len.into())?;
            if given_user != user.as_bytes() || given_password != password.as_bytes() {
                return stream.write_all(&[1, 1]);
            }
            stream.write_all(&[1, 0])?;
        }
        Behaviour::Open | Behaviour::Refuse(_) => {
            if !methods.contains(&0) {
                return stream.write_all(&[5, 0xFF]);
            }
            stream.write_all(&[5, 0])?;
        }
    }
    let [version, command, _reserved, atyp] = read_exact::<4>(&mut stream)?;
    assert_eq!((version, command), (5, 1), "a SOCKS5 CONNECT");
    let host = match atyp {
        1 => std::net::Ipv4Addr::from(read_exact::<4>(&mut stream)?).to_string(),
        4 => std::net::Ipv6Addr::from(read_exact::<16>(&mut stream)?).to_string(),
        3 => {
            let [len] = read_exact::<1>(&mut stream)?;
            String::from_utf8_lossy(&read_vec(&mut stream, len.into())?).into_owned()
        }
        _ => return stream.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]),
    };
    let port = u16::from_be_bytes(read_exact::<2>(&mut stream)?);
    let kind = if atyp == 3 { "domain" } else { "address" };
    log.lock().unwrap().push(format!("{kind} {host}:{port}"));
    if let Behaviour::Refuse(code) = behaviour {
        let code = u8::try_from(*code).unwrap_or(1);
        return stream.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
    }
    let upstream = match TcpStream::connect((host.as_str(), port)) {
        Ok(upstream) => upstream,
        Err(_) => return stream.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]),
    };
    let bound = upstream.local_addr()?;
    let mut reply = vec![5, 0, 0, 1, 127, 0, 0, 1];
    reply.extend_from_slice(&bound.port().to_be_bytes());
    stream.write_all(&reply)?;
    pipe(stream, upstream)
}
