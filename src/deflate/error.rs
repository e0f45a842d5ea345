//! What can be wrong with a permessage-deflate offer or response
//! (RFC 7692 §5 and §7.1), each error naming the parameter at fault.

use std::fmt;

/// One of the four parameters RFC 7692 §7.1 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parameter {
    /// `server_no_context_takeover` (§7.1.1.1).
    ServerNoContextTakeover,
    /// `client_no_context_takeover` (§7.1.1.2).
    ClientNoContextTakeover,
    /// `server_max_window_bits` (§7.1.2.1).
    ServerMaxWindowBits,
    /// `client_max_window_bits` (§7.1.2.2).
    ClientMaxWindowBits,
}

impl Parameter {
    /// All four, in the order they are written in an offer.
    pub const ALL: [Parameter; 4] = [
        Parameter::ServerNoContextTakeover,
        Parameter::ClientNoContextTakeover,
        Parameter::ServerMaxWindowBits,
        Parameter::ClientMaxWindowBits,
    ];

    /// The parameter's name as written in the header.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Parameter::ServerNoContextTakeover => "server_no_context_takeover",
            Parameter::ClientNoContextTakeover => "client_no_context_takeover",
            Parameter::ServerMaxWindowBits => "server_max_window_bits",
            Parameter::ClientMaxWindowBits => "client_max_window_bits",
        }
    }

    /// The parameter with this name; names are compared without regard to
    /// ASCII case, as HTTP compares tokens.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Parameter> {
        Parameter::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a permessage-deflate offer was declined (server) or a server's
/// response was refused (client).
///
/// A server declines an offer with any of these (RFC 7692 §5: it "MUST
/// decline", which means answering without the extension or with a later
/// offer, not failing the handshake); a client receiving a response with
/// any of them must fail the connection (§5: "MUST _Fail the WebSocket
/// Connection_").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// A parameter RFC 7692 does not define.
    #[error("unknown permessage-deflate parameter {name:?}")]
    UnknownParameter {
        /// The parameter's name as received.
        name: String,
    },
    /// The same parameter twice.
    #[error("{0} appears more than once")]
    DuplicateParameter(Parameter),
    /// A value on a parameter that takes none.
    #[error("{param} takes no value, got {value:?}")]
    UnexpectedValue {
        /// The flag parameter.
        param: Parameter,
        /// The value it was given.
        value: String,
    },
    /// No value on a parameter that needs one here
    /// (`server_max_window_bits` always; `client_max_window_bits` in a
    /// response).
    #[error("{0} needs a value")]
    MissingValue(Parameter),
    /// A window size that is not a decimal 8 to 15 without leading zeros.
    #[error("{param} must be 8 to 15 without leading zeros, got {value:?}")]
    InvalidValue {
        /// The window-size parameter.
        param: Parameter,
        /// The value as received.
        value: String,
    },
    /// A response without a parameter the offer asked the server to accept
    /// (`server_no_context_takeover`, `server_max_window_bits`).
    #[error("the response omits {0}, which the offer asked for")]
    NotAccepted(Parameter),
    /// A response window size larger than the one offered.
    #[error("the response sets {param}={got}, more than the {offered} offered")]
    LargerThanOffered {
        /// The window-size parameter.
        param: Parameter,
        /// The value in the offer.
        offered: u8,
        /// The value in the response.
        got: u8,
    },
    /// An 8-bit (256-byte) window for this endpoint's compressor: zlib
    /// cannot produce raw DEFLATE with a window smaller than 9 bits, and a
    /// 9-bit window could emit distances the peer's 8-bit window does not
    /// hold.
    #[error("{param}=8 asks for a 256-byte compression window, which zlib cannot honour")]
    UnsupportedWindowBits {
        /// The window-size parameter.
        param: Parameter,
    },
    /// A response that accepts permessage-deflate more than once.
    #[error("the response accepts permessage-deflate more than once")]
    DuplicateExtension,
}
