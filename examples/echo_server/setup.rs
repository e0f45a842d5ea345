//! What the two echo servers (`echo_server`, `echo_server_blocking`) share:
//! their command line and their configuration.

use std::path::PathBuf;

use rfc6455::Config;

/// permessage-deflate is negotiated through the adapter's default
/// (`config.handshake.deflate`); `deflate_min_size` overrides the size
/// under which messages go uncompressed.
pub fn config(deflate_min_size: Option<usize>) -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    config.max_write_buffer = 128 << 20;
    #[cfg(feature = "deflate")]
    if let (Some(deflate), Some(min_size)) = (&mut config.handshake.deflate, deflate_min_size) {
        deflate.min_size = min_size;
    }
    #[cfg(not(feature = "deflate"))]
    let _ = deflate_min_size;
    config
}

/// What the command line asked for.
pub struct Args {
    pub addr: String,
    pub deflate_min_size: Option<usize>,
    /// `--tls CERT KEY`: the PEM files to serve `wss://` with.
    pub tls: Option<(PathBuf, PathBuf)>,
}

const USAGE: &str = "usage: [ADDR] [--deflate-min-size N] [--tls CERT KEY]";

/// The command line: `[ADDR] [--deflate-min-size N] [--tls CERT KEY]`.
pub fn parse_args() -> Result<Args, String> {
    let mut addr = None;
    let mut min_size = None;
    let mut tls = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--deflate-min-size" => {
                let n = args.next().and_then(|n| n.parse().ok());
                min_size = Some(n.ok_or("--deflate-min-size needs a number of bytes")?);
            }
            "--tls" => match (args.next(), args.next()) {
                (Some(cert), Some(key)) => tls = Some((cert.into(), key.into())),
                _ => return Err("--tls needs a certificate file and a key file (PEM)".into()),
            },
            _ if arg.starts_with('-') || addr.is_some() => {
                return Err(format!("{USAGE}, got {arg}"))
            }
            _ => addr = Some(arg),
        }
    }
    Ok(Args {
        addr: addr.unwrap_or_else(|| "127.0.0.1:9001".into()),
        deflate_min_size: min_size,
        tls,
    })
}
