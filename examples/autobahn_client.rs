//! Runs every case of an Autobahn testsuite fuzzing server against this
//! crate's client, over the tokio adapter or the blocking one.
//!
//! ```text
//! cargo run --release --example autobahn_client -- [URL] [--agent NAME] [--blocking]
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9002
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9002 --blocking
//! cargo run --release --example autobahn_client --features rustls -- wss://localhost:9003 --ca ca.pem
//! ```
//!
//! - `URL`: the fuzzing server's base URL, `ws://HOST:PORT` or
//!   `wss://HOST:PORT` (feature `rustls`; a trailing `/` is ignored).
//!   Default `ws://127.0.0.1:9001`.
//! - `--ca FILE`: for `wss://`, trust the CA certificates in this PEM
//!   file instead of Mozilla's roots.
//! - `--agent NAME`: the name the cases are reported under. Default
//!   `rfc6455-tokio`, or `rfc6455-blocking` with `--blocking`.
//! - `--blocking`: use the blocking adapter (`rfc6455::blocking`) instead of
//!   the tokio one (`rfc6455::tokio`).
//! - `--deflate-min-size N`: messages under N bytes go uncompressed
//!   (default 32). permessage-deflate is offered as the adapters do by
//!   default, so sections 12 and 13 run.
//! - `--autobahn-offer`: offer permessage-deflate as Autobahn's own client
//!   does, with `client_no_context_takeover` and a bare
//!   `client_max_window_bits` (this client then compresses every message
//!   on its own, with windows up to 32 KiB). The fuzzing server asks a
//!   client for no context takeover (13.2, 13.5, 13.6) or sets its window
//!   (13.3 to 13.6) only when the offer says it can, and its 13.4 answers
//!   `client_max_window_bits=15`, which RFC 7692 §7.1.2.2 forbids after
//!   the default offer's `client_max_window_bits=12` (the client rightly
//!   fails that handshake).
//!
//! It asks `GET /getCaseCount` for the number of cases N, runs
//! `/runCase?case=I&agent=A` for I in 1..=N, echoing every text and binary
//! message until the connection ends, then asks `/updateReports?agent=A` so
//! the server writes its reports. Limits are raised to 64 MiB so the
//! large-message cases (section 9) run. A case that ends with an error is
//! logged and the run goes on: the fuzzing server judges every case. The
//! exit status is non-zero only when the server cannot be reached, answers
//! `/getCaseCount` with something other than a number, or refuses
//! `/updateReports`.

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Instant;

use rfc6455::handshake::ClientOptions;
use rfc6455::Config;

/// What the command line asked for.
struct Args {
    base: String,
    agent: String,
    blocking: bool,
    deflate_min_size: Option<usize>,
    autobahn_offer: bool,
}

const USAGE: &str = "usage: autobahn_client [ws://HOST:PORT | wss://HOST:PORT] [--agent NAME] \
                     [--blocking] [--deflate-min-size N] [--autobahn-offer] [--ca FILE]";

/// `--deflate-min-size` and `--autobahn-offer`, set once by `main` for
/// every connection.
static DEFLATE: OnceLock<(Option<usize>, bool)> = OnceLock::new();

/// `--ca`, read once by `main` for every connection.
#[cfg(feature = "rustls")]
static TLS: OnceLock<rfc6455::tls::ClientTls> = OnceLock::new();

fn parse_args() -> Result<Args, String> {
    let mut base = None;
    let mut agent = None;
    let mut blocking = false;
    let mut deflate_min_size = None;
    let mut autobahn_offer = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--blocking" => blocking = true,
            "--agent" => agent = Some(args.next().ok_or("--agent needs a name")?),
            "--autobahn-offer" => autobahn_offer = true,
            "--ca" => {
                let file = args.next().ok_or("--ca needs a PEM file")?;
                #[cfg(feature = "rustls")]
                {
                    let tls = rfc6455::tls::ClientTls::from_ca_file(&file)
                        .map_err(|error| error.to_string())?;
                    TLS.get_or_init(|| tls);
                }
                #[cfg(not(feature = "rustls"))]
                return Err(format!("--ca {file}: TLS needs the rustls feature"));
            }
            "--deflate-min-size" => {
                let n = args.next().and_then(|n| n.parse().ok());
                deflate_min_size = Some(n.ok_or("--deflate-min-size needs a number of bytes")?);
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}\n{USAGE}")),
            _ if base.is_none() => base = Some(arg),
            _ => return Err(format!("unexpected argument {arg}\n{USAGE}")),
        }
    }
    let base = base.unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = agent.unwrap_or_else(|| {
        if blocking {
            "rfc6455-blocking".into()
        } else {
            "rfc6455-tokio".into()
        }
    });
    Ok(Args {
        base: base.trim_end_matches('/').to_owned(),
        agent,
        blocking,
        deflate_min_size,
        autobahn_offer,
    })
}

/// The handshake options: permessage-deflate offered with the defaults,
/// its threshold from `--deflate-min-size`; the roots from `--ca`.
fn options() -> ClientOptions {
    #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
    let mut options = ClientOptions::new();
    #[cfg(feature = "rustls")]
    if let Some(tls) = TLS.get() {
        options = options.tls(tls.clone());
    }
    #[cfg(feature = "deflate")]
    if let (Some(deflate), Some(&(min_size, autobahn_offer))) =
        (&mut options.config.deflate, DEFLATE.get())
    {
        if let Some(min_size) = min_size {
            deflate.min_size = min_size;
        }
        if autobahn_offer {
            deflate.client_no_context_takeover = true;
            deflate.client_max_window_bits = 15;
        }
    }
    options
}

/// Limits raised for section 9 (messages up to 16 MiB, echoed whole).
fn config() -> Config {
    let mut config = Config::default();
    config.max_message_size = 64 << 20;
    config.max_frame_size = 64 << 20;
    config.max_write_buffer = 64 << 20;
    config
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn run_case_url(args: &Args, case: u32) -> String {
    let agent = encode_query_value(&args.agent);
    format!("{}/runCase?case={case}&agent={agent}", args.base)
}

fn update_reports_url(args: &Args) -> String {
    let agent = encode_query_value(&args.agent);
    format!("{}/updateReports?agent={agent}", args.base)
}

/// How one connection ended.
enum End {
    /// The opening handshake failed.
    NotConnected(String),
    /// The close handshake finished.
    Clean,
    /// The connection failed; the fuzzing server decides whether it had to.
    Failed(String),
}

/// `/updateReports` only has to be reached: the original testsuite closes
/// it with a close handshake, kosoku by dropping the transport.
fn reports_updated(end: End) -> Result<(), String> {
    match end {
        End::NotConnected(error) => Err(format!("/updateReports: {error}")),
        End::Clean => Ok(()),
        End::Failed(error) => {
            println!("/updateReports: {error}");
            Ok(())
        }
    }
}

fn parse_case_count(text: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("/getCaseCount answered {text:?}, not a number"))
}

fn report(case: u32, count: u32, started: Instant, end: End) {
    let elapsed = started.elapsed().as_millis();
    match end {
        End::Clean => println!("case {case}/{count}: closed ({elapsed} ms)"),
        End::NotConnected(error) => {
            println!("case {case}/{count}: connect: {error} ({elapsed} ms)");
        }
        End::Failed(error) => println!("case {case}/{count}: {error} ({elapsed} ms)"),
    }
}

/// The run over the blocking adapter.
mod blocking_run {
    use std::time::Instant;

    use rfc6455::blocking::{self, Error, MaybeTlsStream, WebSocket};
    use rfc6455::Message;

    use super::{
        config, options, parse_case_count, report, reports_updated, run_case_url,
        update_reports_url, Args, End,
    };

    fn open(url: &str) -> Result<WebSocket<MaybeTlsStream>, Error> {
        let (ws, _response) = blocking::connect_with(url, options(), config())?;
        Ok(ws)
    }

    /// Echoes text and binary messages until the connection ends.
    fn echo(url: &str) -> End {
        let mut ws = match open(url) {
            Ok(ws) => ws,
            Err(error) => return End::NotConnected(error.to_string()),
        };
        loop {
            match ws.read() {
                Ok(Some(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    if let Err(error) = ws.send(message) {
                        return End::Failed(format!("send: {error}"));
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => return End::Clean,
                Err(error) => return End::Failed(error.to_string()),
            }
        }
    }

    fn case_count(args: &Args) -> Result<u32, String> {
        let url = format!("{}/getCaseCount", args.base);
        let mut ws = open(&url).map_err(|error| format!("{url}: {error}"))?;
        let mut count = None;
        loop {
            match ws.read() {
                Ok(Some(Message::Text(text))) => count = Some(parse_case_count(&text)?),
                Ok(Some(_)) => {}
                Ok(None) => break,
                // The count arrived; how the server ended the connection
                // after it does not matter.
                Err(_) if count.is_some() => break,
                Err(error) => return Err(format!("{url}: {error}")),
            }
        }
        count.ok_or_else(|| format!("{url}: no case count received"))
    }

    pub fn run(args: &Args) -> Result<(), String> {
        let count = case_count(args)?;
        println!("{count} cases, agent {:?} (blocking)", args.agent);
        for case in 1..=count {
            let started = Instant::now();
            report(case, count, started, echo(&run_case_url(args, case)));
        }
        reports_updated(echo(&update_reports_url(args)))
    }
}

/// The run over the tokio adapter.
mod tokio_run {
    use std::time::Instant;

    use rfc6455::tokio::{Error, MaybeTlsStream, WebSocket};
    use rfc6455::Message;

    use super::{
        config, options, parse_case_count, report, reports_updated, run_case_url,
        update_reports_url, Args, End,
    };

    async fn open(url: &str) -> Result<WebSocket<MaybeTlsStream>, Error> {
        let (ws, _response) = rfc6455::tokio::connect_with(url, options(), config()).await?;
        Ok(ws)
    }

    /// Echoes text and binary messages until the connection ends.
    async fn echo(url: &str) -> End {
        let mut ws = match open(url).await {
            Ok(ws) => ws,
            Err(error) => return End::NotConnected(error.to_string()),
        };
        loop {
            match ws.read().await {
                Ok(Some(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    if let Err(error) = ws.send(message).await {
                        return End::Failed(format!("send: {error}"));
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => return End::Clean,
                Err(error) => return End::Failed(error.to_string()),
            }
        }
    }

    async fn case_count(args: &Args) -> Result<u32, String> {
        let url = format!("{}/getCaseCount", args.base);
        let mut ws = open(&url)
            .await
            .map_err(|error| format!("{url}: {error}"))?;
        let mut count = None;
        loop {
            match ws.read().await {
                Ok(Some(Message::Text(text))) => count = Some(parse_case_count(&text)?),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) if count.is_some() => break,
                Err(error) => return Err(format!("{url}: {error}")),
            }
        }
        count.ok_or_else(|| format!("{url}: no case count received"))
    }

    pub fn run(args: &Args) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| format!("tokio runtime: {error}"))?;
        runtime.block_on(async {
            let count = case_count(args).await?;
            println!("{count} cases, agent {:?} (tokio)", args.agent);
            for case in 1..=count {
                let started = Instant::now();
                report(case, count, started, echo(&run_case_url(args, case)).await);
            }
            reports_updated(echo(&update_reports_url(args)).await)
        })
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    DEFLATE.get_or_init(|| (args.deflate_min_size, args.autobahn_offer));
    let outcome = if args.blocking {
        blocking_run::run(&args)
    } else {
        tokio_run::run(&args)
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("autobahn_client: {error}");
            ExitCode::FAILURE
        }
    }
}
