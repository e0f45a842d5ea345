//! The `Sec-WebSocket-Extensions` header (RFC 6455 §9.1): parsing offers and
//! writing them back in header syntax.
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list = 1#extension
//! extension = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! Optional whitespace is allowed around `,`, `;` and `=`, and empty list
//! elements are skipped, as the HTTP list rule asks of recipients.

use std::fmt;

use super::error::{BuildError, ExtensionSyntaxError};
use super::headers::{excerpt, is_tchar, is_token, Headers};

/// One extension with its parameters, as offered by a client or accepted by
/// a server, e.g. `permessage-deflate; client_max_window_bits`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtensionOffer {
    /// The extension's registered name, e.g. `permessage-deflate`.
    pub name: String,
    /// The parameters in order: `(name, None)` for a bare parameter,
    /// `(name, Some(value))` for `name=value`. Quoted values are stored
    /// unquoted.
    pub params: Vec<(String, Option<String>)>,
}

impl ExtensionOffer {
    /// An offer of `name` with no parameters.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a bare parameter, e.g. `client_max_window_bits`.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>) -> Self {
        self.params.push((name.into(), None));
        self
    }

    /// Adds a parameter with a value, e.g. `server_max_window_bits=10`.
    #[must_use]
    pub fn param_value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), Some(value.into())));
        self
    }

    /// Checks that the name, every parameter name and every value are
    /// tokens, so that [`Display`](fmt::Display) writes a valid header.
    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        let params_ok = self.params.iter().all(|(name, value)| {
            is_token(name.as_bytes()) && value.as_ref().map_or(true, |v| is_token(v.as_bytes()))
        });
        if is_token(self.name.as_bytes()) && params_ok {
            Ok(())
        } else {
            Err(BuildError::InvalidExtension {
                name: excerpt(self.name.as_bytes()),
            })
        }
    }
}

impl fmt::Display for ExtensionOffer {
    /// Writes the offer in header syntax:
    /// `permessage-deflate; client_max_window_bits; server_max_window_bits=10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            write!(f, "; {name}")?;
            if let Some(value) = value {
                write!(f, "={value}")?;
            }
        }
        Ok(())
    }
}

/// Joins offers into one `Sec-WebSocket-Extensions` value, `a, b; x=1`.
pub(crate) fn join_offers(offers: &[ExtensionOffer]) -> String {
    offers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cursor over one header value. Every method moves forward, so parsing
/// is linear in the value's length.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Consumes a token; `None` (consuming nothing) if none starts here.
    fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        self.bytes.get(start..self.pos).filter(|t| !t.is_empty())
    }

    /// Consumes a quoted string whose opening `"` is at the cursor and
    /// returns its unescaped content.
    fn quoted_string(&mut self) -> Result<Vec<u8>, ExtensionSyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(ExtensionSyntaxError::UnterminatedQuotedString { at: open }),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b) if b == b'\t' || b >= 0x20 && b != 0x7f => {
                            out.push(b);
                            self.pos += 1;
                        }
                        Some(byte) => {
                            return Err(ExtensionSyntaxError::UnexpectedByte { at: self.pos, byte })
                        }
                        None => {
                            return Err(ExtensionSyntaxError::UnterminatedQuotedString { at: open })
                        }
                    }
                }
                Some(b) if b == b'\t' || b >= 0x20 && b != 0x7f => {
                    out.push(b);
                    self.pos += 1;
                }
                Some(byte) => {
                    return Err(ExtensionSyntaxError::UnexpectedByte { at: self.pos, byte })
                }
            }
        }
    }
}

fn owned(token: &[u8]) -> String {
    // Tokens are ASCII, so this never replaces anything.
    String::from_utf8_lossy(token).into_owned()
}

/// Parses one `Sec-WebSocket-Extensions` value into its offers, in order.
///
/// Parameter values may be tokens or quoted strings; a quoted value must be
/// a token once unquoted (RFC 6455 §9.1). Empty list elements are skipped,
/// so an empty value yields no offers. The work is linear in `value.len()`.
pub fn parse_extensions(value: &[u8]) -> Result<Vec<ExtensionOffer>, ExtensionSyntaxError> {
    let mut cur = Cursor {
        bytes: value,
        pos: 0,
    };
    let mut offers = Vec::new();
    loop {
        cur.skip_ows();
        match cur.peek() {
            None => return Ok(offers),
            Some(b',') => {
                cur.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = cur
            .token()
            .ok_or(ExtensionSyntaxError::ExpectedName { at: cur.pos })?;
        let mut offer = ExtensionOffer::new(owned(name));
        loop {
            cur.skip_ows();
            match cur.peek() {
                None => break,
                Some(b',') => {
                    cur.pos += 1;
                    break;
                }
                Some(b';') => {
                    cur.pos += 1;
                    cur.skip_ows();
                    let param = cur
                        .token()
                        .ok_or(ExtensionSyntaxError::ExpectedParameterName { at: cur.pos })?;
                    cur.skip_ows();
                    let value = if cur.peek() == Some(b'=') {
                        cur.pos += 1;
                        cur.skip_ows();
                        Some(parse_value(&mut cur)?)
                    } else {
                        None
                    };
                    offer.params.push((owned(param), value));
                }
                Some(byte) => {
                    return Err(ExtensionSyntaxError::UnexpectedByte { at: cur.pos, byte })
                }
            }
        }
        offers.push(offer);
    }
}

fn parse_value(cur: &mut Cursor<'_>) -> Result<String, ExtensionSyntaxError> {
    if cur.peek() == Some(b'"') {
        let at = cur.pos;
        let unquoted = cur.quoted_string()?;
        if is_token(&unquoted) {
            Ok(owned(&unquoted))
        } else {
            Err(ExtensionSyntaxError::QuotedValueNotToken { at })
        }
    } else {
        cur.token()
            .map(owned)
            .ok_or(ExtensionSyntaxError::ExpectedParameterValue { at: cur.pos })
    }
}

/// Collects the offers from every `Sec-WebSocket-Extensions` line, in order.
pub(crate) fn offers_in(headers: &Headers) -> Result<Vec<ExtensionOffer>, ExtensionSyntaxError> {
    let mut offers = Vec::new();
    for value in headers.get_all("Sec-WebSocket-Extensions") {
        offers.extend(parse_extensions(value)?);
    }
    Ok(offers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_writes_header_syntax() {
        let offer = ExtensionOffer::new("permessage-deflate")
            .param("client_max_window_bits")
            .param_value("server_max_window_bits", "10");
        assert_eq!(
            offer.to_string(),
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10"
        );
        assert_eq!(
            join_offers(&[
                ExtensionOffer::new("a"),
                ExtensionOffer::new("b").param("x")
            ]),
            "a, b; x"
        );
    }

    #[test]
    fn parse_round_trips_display() {
        let offers = vec![
            ExtensionOffer::new("permessage-deflate")
                .param("client_max_window_bits")
                .param_value("server_max_window_bits", "10"),
            ExtensionOffer::new("x-foo"),
        ];
        assert_eq!(
            parse_extensions(join_offers(&offers).as_bytes()).unwrap(),
            offers
        );
    }

    #[test]
    fn whitespace_around_separators_is_allowed() {
        let offers = parse_extensions(b" a ;\tb = 1 ; c , d ").unwrap();
        assert_eq!(
            offers,
            vec![
                ExtensionOffer::new("a").param_value("b", "1").param("c"),
                ExtensionOffer::new("d")
            ]
        );
    }

    #[test]
    fn quoted_value_is_unquoted_and_must_be_a_token() {
        let offers = parse_extensions(br#"a; b="10"; c="x\y""#).unwrap();
        assert_eq!(offers[0].params[0], ("b".into(), Some("10".into())));
        assert_eq!(offers[0].params[1], ("c".into(), Some("xy".into())));
        assert_eq!(
            parse_extensions(br#"a; b="1 0""#),
            Err(ExtensionSyntaxError::QuotedValueNotToken { at: 5 })
        );
        assert_eq!(
            parse_extensions(br#"a; b="""#),
            Err(ExtensionSyntaxError::QuotedValueNotToken { at: 5 })
        );
        assert_eq!(
            parse_extensions(br#"a; b="10"#),
            Err(ExtensionSyntaxError::UnterminatedQuotedString { at: 5 })
        );
        assert_eq!(
            parse_extensions(br#"a; b="10\"#),
            Err(ExtensionSyntaxError::UnterminatedQuotedString { at: 5 })
        );
    }

    #[test]
    fn empty_elements_are_skipped() {
        assert_eq!(parse_extensions(b"").unwrap(), vec![]);
        assert_eq!(parse_extensions(b" , ,").unwrap(), vec![]);
        assert_eq!(parse_extensions(b",a,,b,").unwrap().len(), 2);
    }

    #[test]
    fn bad_syntax_is_a_typed_error() {
        assert_eq!(
            parse_extensions(b"a; =1"),
            Err(ExtensionSyntaxError::ExpectedParameterName { at: 3 })
        );
        assert_eq!(
            parse_extensions(b"a;"),
            Err(ExtensionSyntaxError::ExpectedParameterName { at: 2 })
        );
        assert_eq!(
            parse_extensions(b"a; b="),
            Err(ExtensionSyntaxError::ExpectedParameterValue { at: 5 })
        );
        assert_eq!(
            parse_extensions(b";a"),
            Err(ExtensionSyntaxError::ExpectedName { at: 0 })
        );
        assert_eq!(
            parse_extensions(b"a b"),
            Err(ExtensionSyntaxError::UnexpectedByte { at: 2, byte: b'b' })
        );
        assert_eq!(
            parse_extensions(b"a; b=1=2"),
            Err(ExtensionSyntaxError::UnexpectedByte { at: 6, byte: b'=' })
        );
        assert_eq!(
            parse_extensions(b"a\xff"),
            Err(ExtensionSyntaxError::UnexpectedByte { at: 1, byte: 0xff })
        );
    }

    #[test]
    fn ten_thousand_commas_and_spaces_parse_in_linear_time() {
        let mut value = b", ".repeat(10_000);
        value.extend_from_slice(b"a;");
        value.extend_from_slice(&b" ".repeat(10_000));
        value.extend_from_slice(b"b");
        let offers = parse_extensions(&value).unwrap();
        assert_eq!(offers, vec![ExtensionOffer::new("a").param("b")]);
        let semicolons = b"a"
            .iter()
            .chain(&[b';'; 10_000])
            .copied()
            .collect::<Vec<_>>();
        assert!(parse_extensions(&semicolons).is_err());
    }

    #[test]
    fn offers_are_collected_from_every_header_line() {
        let mut h = Headers::default();
        h.push("Sec-WebSocket-Extensions", b"a; x");
        h.push("Other", b"z");
        h.push("sec-websocket-extensions", b"b, c");
        let names: Vec<_> = offers_in(&h).unwrap().into_iter().map(|o| o.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        h.push("Sec-WebSocket-Extensions", b"d;");
        assert!(offers_in(&h).is_err());
    }

    #[test]
    fn validate_rejects_non_token_parts() {
        assert!(ExtensionOffer::new("a")
            .param_value("b", "1")
            .validate()
            .is_ok());
        assert!(ExtensionOffer::new("a b").validate().is_err());
        assert!(ExtensionOffer::new("a").param("b\r\n").validate().is_err());
        assert!(ExtensionOffer::new("a")
            .param_value("b", "1 0")
            .validate()
            .is_err());
        assert!(ExtensionOffer::new("").validate().is_err());
    }
}
