//! An echo WebSocket at `/ws` inside an axum router, next to a plain route
//! at `/`, with `rfc6455::hyper` (feature `hyper`).
//!
//! ```text
//! cargo run --example axum_echo --features hyper -- 127.0.0.1:3000
//! cargo run --example echo_client -- ws://127.0.0.1:3000/ws
//! ```
//!
//! # How it fits in axum
//!
//! axum runs on hyper, and its request type is hyper's `Request<Body>`
//! with hyper's upgrade handle in its extensions. So the WebSocket route
//! is an ordinary handler that takes the whole [`Request`] (axum hands it
//! to any handler as its last argument, after extractors such as `State`)
//! and passes it to [`rfc6455::hyper::upgrade`]: that validates the
//! handshake by this crate's rules (the same statuses as its own servers:
//! 400, 403, 426, 431), negotiates permessage-deflate, and returns the 101
//! response for the handler to return, and the future of the WebSocket to
//! await in a task of its own. An invalid request gets
//! [`UpgradeError::response`](rfc6455::hyper::UpgradeError::response).
//! Use [`rfc6455::hyper::Upgrade`] instead to look at the request first
//! (a subprotocol, the origin) or to pass another configuration.
//!
//! # Why not axum's own `WebSocketUpgrade`
//!
//! axum's extractor (its `ws` feature) cannot hand the connection to this
//! crate. Its `on_upgrade` drives tokio-tungstenite itself: it writes the
//! 101 response on its own terms (no `Sec-WebSocket-Extensions`, so no
//! permessage-deflate, and its own validation of the request) and gives the
//! callback axum's `WebSocket`, which wraps a tungstenite stream over the
//! upgraded connection and has no way to give the connection back. There
//! is no point between the handshake and the first frame where another
//! WebSocket implementation could take over, so the route takes the
//! request, as below, and this crate does the handshake.

use axum::extract::Request;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use rfc6455::Message;

/// The WebSocket route: upgrade, then echo in a task of its own.
async fn websocket(mut request: Request) -> Response {
    match rfc6455::hyper::upgrade(&mut request) {
        Ok((response, websocket)) => {
            tokio::spawn(async move {
                let result = async {
                    let mut ws = websocket.await?;
                    while let Some(message) = ws.read().await? {
                        if matches!(message, Message::Text(_) | Message::Binary(_)) {
                            ws.send(message).await?;
                        }
                    }
                    Ok::<_, rfc6455::tokio::Error>(())
                };
                if let Err(error) = result.await {
                    eprintln!("websocket error: {error}");
                }
            });
            response
        }
        // 400 for a plain GET, 426 for a wrong version, and so on.
        Err(error) => error.response(),
    }
}

/// The router: a plain page and the WebSocket, on one port.
fn app() -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { "An echo WebSocket is at /ws on this port.\n" }),
        )
        .route("/ws", get(websocket))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("axum_echo listening on http://{local}/ (WebSocket at ws://{local}/ws)");
    axum::serve(listener, app()).await
}
