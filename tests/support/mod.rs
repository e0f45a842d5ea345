//! Loopback servers for the TLS and proxy tests: certificates made at test
//! time, a WebSocket echo server, and small HTTP CONNECT and SOCKS5
//! proxies.
#![allow(dead_code)]

pub mod certs;
pub mod echo;
pub mod proxies;
