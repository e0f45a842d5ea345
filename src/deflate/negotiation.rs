//! Negotiating permessage-deflate (RFC 7692 §5, §7.1): the client's offer,
//! the server's choice among offers and its response, and the client's
//! check of that response.
//!
//! Every function here walks each offer's parameters once, so the work is
//! linear in the size of the `Sec-WebSocket-Extensions` header.

use super::codec::PerMessageDeflate;
use super::config::{own_bits, DeflateConfig, MAX_WINDOW_BITS, MIN_ZLIB_WINDOW_BITS};
use super::error::{NegotiationError, Parameter};
use crate::handshake::ExtensionOffer;
use crate::Role;

/// The extension's registered name.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// Whether an offer or response is for permessage-deflate (names are
/// compared without regard to ASCII case, as HTTP compares tokens).
#[must_use]
pub fn is_permessage_deflate(extension: &ExtensionOffer) -> bool {
    extension.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE)
}

/// How `client_max_window_bits` appears in an offer or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientMaxWindowBits {
    /// Not present.
    #[default]
    Absent,
    /// Present without a value (offers only): the client can honour a
    /// limit the server sets.
    NoValue,
    /// Present with a window size, 8 to 15.
    Value(u8),
}

/// The parameters of one permessage-deflate offer or response, checked
/// against RFC 7692 §7.1 but not yet against what either side wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeflateParams {
    /// `server_no_context_takeover` is present.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover` is present.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits`, when present (always with a value).
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits`.
    pub client_max_window_bits: ClientMaxWindowBits,
}

impl DeflateParams {
    /// Parses a client's offer. Fails on an unknown parameter, a repeated
    /// one, a value on a flag, a missing or malformed window size
    /// (RFC 7692 §7: reasons a server declines the offer).
    pub fn parse_offer(offer: &ExtensionOffer) -> Result<DeflateParams, NegotiationError> {
        parse(offer, false)
    }

    /// Parses a server's response, where `client_max_window_bits` must
    /// carry a value as well.
    pub fn parse_response(response: &ExtensionOffer) -> Result<DeflateParams, NegotiationError> {
        parse(response, true)
    }
}

fn parse(extension: &ExtensionOffer, response: bool) -> Result<DeflateParams, NegotiationError> {
    let mut seen = [false; 4];
    let mut params = DeflateParams::default();
    for (name, value) in &extension.params {
        let param = Parameter::from_name(name)
            .ok_or_else(|| NegotiationError::UnknownParameter { name: name.clone() })?;
        if std::mem::replace(&mut seen[param.index()], true) {
            return Err(NegotiationError::DuplicateParameter(param));
        }
        match param {
            Parameter::ServerNoContextTakeover | Parameter::ClientNoContextTakeover => {
                if let Some(value) = value {
                    return Err(NegotiationError::UnexpectedValue {
                        param,
                        value: value.clone(),
                    });
                }
                if param == Parameter::ServerNoContextTakeover {
                    params.server_no_context_takeover = true;
                } else {
                    params.client_no_context_takeover = true;
                }
            }
            Parameter::ServerMaxWindowBits => {
                let value = value
                    .as_deref()
                    .ok_or(NegotiationError::MissingValue(param))?;
                params.server_max_window_bits = Some(window_bits(param, value)?);
            }
            Parameter::ClientMaxWindowBits => {
                params.client_max_window_bits = match value.as_deref() {
                    Some(value) => ClientMaxWindowBits::Value(window_bits(param, value)?),
                    None if response => return Err(NegotiationError::MissingValue(param)),
                    None => ClientMaxWindowBits::NoValue,
                };
            }
        }
    }
    Ok(params)
}

/// A window size: "a decimal integer value without leading zeroes between
/// 8 to 15, inclusive" (RFC 7692 §7.1.2.1).
fn window_bits(param: Parameter, value: &str) -> Result<u8, NegotiationError> {
    let bits = match value.as_bytes() {
        [d @ b'8'..=b'9'] => d - b'0',
        [b'1', d @ b'0'..=b'5'] => 10 + (d - b'0'),
        _ => {
            return Err(NegotiationError::InvalidValue {
                param,
                value: value.to_owned(),
            })
        }
    };
    Ok(bits)
}

/// The parameters both sides agreed on: who resets between messages and
/// the largest window each side compresses with (15 when unconstrained).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The server compresses each message on its own.
    pub server_no_context_takeover: bool,
    /// The client compresses each message on its own.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with, 8 to 15.
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with, 8 to 15.
    pub client_max_window_bits: u8,
}

/// A successful negotiation: the agreed parameters, the response header
/// element, and what is needed to build the codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    role: Role,
    agreed: Agreed,
    response: ExtensionOffer,
    level: u32,
    min_size: usize,
}

impl Agreement {
    /// The role this agreement was made for: [`Role::Server`] from
    /// [`DeflateConfig::accept`], [`Role::Client`] from
    /// [`DeflateConfig::accept_response`].
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The agreed parameters.
    #[must_use]
    pub fn agreed(&self) -> &Agreed {
        &self.agreed
    }

    /// The `Sec-WebSocket-Extensions` element of the response: for a server
    /// the one to send, for a client the one received.
    #[must_use]
    pub fn response(&self) -> &ExtensionOffer {
        &self.response
    }

    /// The codec to install with
    /// [`Connection::with_extension`](crate::Connection::with_extension).
    #[must_use]
    pub fn into_extension(self) -> PerMessageDeflate {
        PerMessageDeflate::new(self.role, self.agreed, self.level, self.min_size)
    }
}

impl DeflateConfig {
    /// The client's offer: `permessage-deflate` with the parameters this
    /// configuration asks for, always including `client_max_window_bits`
    /// (bare at 15) so the server may bound the client's window.
    #[must_use]
    pub fn offer(&self) -> ExtensionOffer {
        let mut offer = ExtensionOffer::new(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            offer = offer.param(Parameter::ServerNoContextTakeover.name());
        }
        if self.client_no_context_takeover {
            offer = offer.param(Parameter::ClientNoContextTakeover.name());
        }
        let server = own_bits(self.server_max_window_bits);
        if server < MAX_WINDOW_BITS {
            offer = offer.param_value(Parameter::ServerMaxWindowBits.name(), server.to_string());
        }
        let client = own_bits(self.client_max_window_bits);
        offer = if client < MAX_WINDOW_BITS {
            offer.param_value(Parameter::ClientMaxWindowBits.name(), client.to_string())
        } else {
            offer.param(Parameter::ClientMaxWindowBits.name())
        };
        offer
    }

    /// The server's choice: the first permessage-deflate offer (in the
    /// client's order of preference, RFC 7692 §5) this configuration can
    /// accept, with the response to send. `None` declines politely: answer
    /// without the extension.
    ///
    /// Offers with invalid parameters are skipped, not answered with 400:
    /// RFC 7692 §5 says a server "MUST decline" such an offer, and a later
    /// offer may still be acceptable. [`DeflateConfig::accept_offer`] gives
    /// the reason for one offer.
    #[must_use]
    pub fn accept(&self, offers: &[ExtensionOffer]) -> Option<Agreement> {
        offers
            .iter()
            .filter(|offer| is_permessage_deflate(offer))
            .find_map(|offer| self.accept_offer(offer).ok())
    }

    /// Accepts one permessage-deflate offer (whose name the caller has
    /// checked), or says why it must be declined.
    pub fn accept_offer(&self, offer: &ExtensionOffer) -> Result<Agreement, NegotiationError> {
        let params = DeflateParams::parse_offer(offer)?;
        let server_no_context_takeover =
            params.server_no_context_takeover || self.server_no_context_takeover;
        let client_no_context_takeover =
            params.client_no_context_takeover || self.client_no_context_takeover;
        let own = own_bits(self.server_max_window_bits);
        let server_bits = params
            .server_max_window_bits
            .map_or(own, |asked| own.min(asked));
        if server_bits < MIN_ZLIB_WINDOW_BITS {
            return Err(NegotiationError::UnsupportedWindowBits {
                param: Parameter::ServerMaxWindowBits,
            });
        }
        let wanted = own_bits(self.client_max_window_bits);
        let client_bits = match params.client_max_window_bits {
            // The client cannot be bounded: it may use the full window.
            ClientMaxWindowBits::Absent => None,
            ClientMaxWindowBits::NoValue => (wanted < MAX_WINDOW_BITS).then_some(wanted),
            ClientMaxWindowBits::Value(hint) => Some(wanted.min(hint)),
        };

        let mut response = ExtensionOffer::new(PERMESSAGE_DEFLATE);
        if server_no_context_takeover {
            response = response.param(Parameter::ServerNoContextTakeover.name());
        }
        if client_no_context_takeover {
            response = response.param(Parameter::ClientNoContextTakeover.name());
        }
        if params.server_max_window_bits.is_some() || server_bits < MAX_WINDOW_BITS {
            response = response.param_value(
                Parameter::ServerMaxWindowBits.name(),
                server_bits.to_string(),
            );
        }
        if let Some(bits) = client_bits {
            response =
                response.param_value(Parameter::ClientMaxWindowBits.name(), bits.to_string());
        }
        Ok(Agreement {
            role: Role::Server,
            agreed: Agreed {
                server_no_context_takeover,
                client_no_context_takeover,
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits.unwrap_or(MAX_WINDOW_BITS),
            },
            response,
            level: self.level,
            min_size: self.min_size,
        })
    }

    /// The client's check of the server's `Sec-WebSocket-Extensions`
    /// (every element, in order), against the offer
    /// [`DeflateConfig::offer`] built from this configuration.
    /// `Ok(None)`: the server did not accept permessage-deflate. An error
    /// names the parameter at fault; the client must fail the connection
    /// (RFC 7692 §5).
    pub fn accept_response(
        &self,
        extensions: &[ExtensionOffer],
    ) -> Result<Option<Agreement>, NegotiationError> {
        let mut accepted = extensions.iter().filter(|e| is_permessage_deflate(e));
        let Some(response) = accepted.next() else {
            return Ok(None);
        };
        if accepted.next().is_some() {
            return Err(NegotiationError::DuplicateExtension);
        }
        let params = DeflateParams::parse_response(response)?;
        if self.server_no_context_takeover && !params.server_no_context_takeover {
            return Err(NegotiationError::NotAccepted(
                Parameter::ServerNoContextTakeover,
            ));
        }
        let asked = own_bits(self.server_max_window_bits);
        let server_bits = match params.server_max_window_bits {
            Some(got) if asked < MAX_WINDOW_BITS && got > asked => {
                return Err(NegotiationError::LargerThanOffered {
                    param: Parameter::ServerMaxWindowBits,
                    offered: asked,
                    got,
                })
            }
            Some(got) => got,
            None if asked < MAX_WINDOW_BITS => {
                return Err(NegotiationError::NotAccepted(
                    Parameter::ServerMaxWindowBits,
                ))
            }
            None => MAX_WINDOW_BITS,
        };
        let own = own_bits(self.client_max_window_bits);
        let client_bits = match params.client_max_window_bits {
            ClientMaxWindowBits::Absent | ClientMaxWindowBits::NoValue => own,
            ClientMaxWindowBits::Value(got) if got > own => {
                return Err(NegotiationError::LargerThanOffered {
                    param: Parameter::ClientMaxWindowBits,
                    offered: own,
                    got,
                })
            }
            ClientMaxWindowBits::Value(got) if got < MIN_ZLIB_WINDOW_BITS => {
                return Err(NegotiationError::UnsupportedWindowBits {
                    param: Parameter::ClientMaxWindowBits,
                })
            }
            ClientMaxWindowBits::Value(got) => got,
        };
        Ok(Some(Agreement {
            role: Role::Client,
            agreed: Agreed {
                server_no_context_takeover: params.server_no_context_takeover,
                client_no_context_takeover: params.client_no_context_takeover
                    || self.client_no_context_takeover,
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
            },
            response: response.clone(),
            level: self.level,
            min_size: self.min_size,
        }))
    }
}
