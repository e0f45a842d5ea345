//! Limits and policy for the opening handshake, shared by both roles.

use std::time::Duration;

/// Limits and policy for the opening handshake.
///
/// Every limit is checked before anything sized by the peer is buffered.
/// Build one from [`HandshakeConfig::default`] and adjust it with the
/// chaining setters (or by assigning the public fields).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeConfig {
    /// Largest HTTP head (request or status line plus headers, up to and
    /// including the empty line) accepted from the peer.
    ///
    /// This is the bound on what a connecting peer can make us hold, and it
    /// also bounds the request or status line (414 when the line alone is
    /// over it) and the parser's header slots.
    ///
    /// Default 32 KiB: browsers send well under 4 KiB even with cookies;
    /// a request that crossed a CDN and a load balancer carries more, and
    /// nginx, the usual last proxy, forwards at most 32 KiB of head by
    /// default (4 buffers of 8 KiB). Node.js stops at 16 KiB, tungstenite at
    /// 64 KiB, hyper at about 400 KiB of buffer, python-websockets at 8 KiB
    /// per line.
    pub max_head_size: usize,
    /// Most header fields accepted from the peer.
    ///
    /// Default 128, as python-websockets (tungstenite allows 124, hyper 100):
    /// a browser handshake carries about 15, and one that crossed a CDN and
    /// a load balancer 40 to 80. The memory a head costs is bounded by
    /// [`max_head_size`](Self::max_head_size), not by this count: the
    /// parser takes a slot per field only up to what a head of that many
    /// bytes can hold.
    pub max_headers: usize,
    /// Largest body of a refusal (non-101) response that a client collects
    /// so the application can show why it was refused.
    ///
    /// Default 64 KiB: enough for any error page, small enough that a
    /// hostile server cannot make the client buffer much (python-websockets
    /// reads up to 1 MiB).
    pub max_body_size: usize,
    /// Which `Origin` values a server accepts.
    ///
    /// `None` (the default) accepts any origin. `Some(list)` requires every
    /// `Origin` header to match an entry, ignoring ASCII case, and refuses
    /// others with 403. A request without `Origin` is always allowed:
    /// browsers always send one, so its absence means a non-browser client,
    /// which the origin check (a defence against cross-site pages, RFC 6455
    /// §10.2) does not concern.
    pub allowed_origins: Option<Vec<String>>,
    /// How long the adapters let an opening handshake take, from the
    /// connection's first byte to the end of the response. The sans-IO
    /// types read no clock and ignore it.
    ///
    /// Default 10 s: a real client sends its request at once, so this only
    /// cuts off peers that drip bytes to hold connections open.
    pub timeout: Duration,
    /// permessage-deflate (RFC 7692) to negotiate: a client offers it, a
    /// server accepts the first acceptable offer. `None` turns it off: a
    /// client offers nothing, a server declines every offer.
    ///
    /// Default `Some(DeflateConfig::default())`: every browser offers
    /// permessage-deflate, and text messages (JSON above all) shrink to a
    /// fraction on the wire; see [`DeflateConfig`] for what a connection
    /// then costs in memory.
    ///
    /// The adapters apply it; with the sans-IO types, a client's
    /// [`ClientHandshake`](super::ClientHandshake) offers it and checks the
    /// answer, and a server calls
    /// [`Request::accept_negotiated`](super::Request::accept_negotiated).
    /// Either way the connection runs the codec only once
    /// [`Negotiated::install`](super::Negotiated::install) has put it in.
    ///
    /// [`DeflateConfig`]: crate::deflate::DeflateConfig
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::DeflateConfig>,
}

impl Default for HandshakeConfig {
    fn default() -> Self {
        Self {
            max_head_size: 32 * 1024,
            max_headers: 128,
            max_body_size: 64 * 1024,
            allowed_origins: None,
            timeout: Duration::from_secs(10),
            #[cfg(feature = "deflate")]
            deflate: Some(crate::deflate::DeflateConfig::default()),
        }
    }
}

impl HandshakeConfig {
    /// Sets [`max_head_size`](Self::max_head_size).
    #[must_use]
    pub fn max_head_size(mut self, bytes: usize) -> Self {
        self.max_head_size = bytes;
        self
    }

    /// Sets [`max_headers`](Self::max_headers).
    #[must_use]
    pub fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }

    /// Sets [`max_body_size`](Self::max_body_size).
    #[must_use]
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`deflate`](Self::deflate): `None` turns permessage-deflate off.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn deflate(mut self, deflate: Option<crate::deflate::DeflateConfig>) -> Self {
        self.deflate = deflate;
        self
    }

    /// Sets [`allowed_origins`](Self::allowed_origins) to `Some(origins)`.
    #[must_use]
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Whether `origin` passes [`allowed_origins`](Self::allowed_origins).
    pub(crate) fn origin_allowed(&self, origin: &[u8]) -> bool {
        match &self.allowed_origins {
            None => true,
            Some(list) => {
                let origin = super::headers::trim_ows(origin);
                list.iter()
                    .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(origin))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_documentation() {
        let c = HandshakeConfig::default();
        assert_eq!(c.max_head_size, 32 * 1024);
        assert_eq!(c.max_headers, 128);
        assert_eq!(c.max_body_size, 64 * 1024);
        assert_eq!(c.allowed_origins, None);
        assert_eq!(c.timeout, Duration::from_secs(10));
        #[cfg(feature = "deflate")]
        assert_eq!(c.deflate, Some(crate::deflate::DeflateConfig::default()));
    }

    #[test]
    fn setters_chain() {
        let c = HandshakeConfig::default()
            .max_head_size(1)
            .max_headers(2)
            .max_body_size(3)
            .allowed_origins(["https://a"]);
        assert_eq!((c.max_head_size, c.max_headers, c.max_body_size), (1, 2, 3));
        assert_eq!(c.allowed_origins, Some(vec!["https://a".to_owned()]));
    }

    #[test]
    fn origin_check_ignores_case_and_allows_anything_without_a_list() {
        assert!(HandshakeConfig::default().origin_allowed(b"https://evil"));
        let c = HandshakeConfig::default().allowed_origins(["https://Example.com"]);
        assert!(c.origin_allowed(b"https://example.COM"));
        assert!(!c.origin_allowed(b"https://example.com.evil"));
        assert!(!c.origin_allowed(b"null"));
    }
}
