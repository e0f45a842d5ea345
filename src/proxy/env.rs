//! The proxy the environment names for a destination, read as curl reads
//! it: the rules are on [`from_env`].

use std::net::IpAddr;

use super::{Proxy, ProxyError};
use crate::handshake::Target;

/// The proxy the process environment names for `target`, or `None` to
/// connect directly, read as curl reads it:
///
/// - `wss://` uses `https_proxy`, then `HTTPS_PROXY`; `ws://` uses
///   `http_proxy` only: like curl, the upper-case `HTTP_PROXY` is ignored,
///   since a CGI program gets it from a request's `Proxy:` header
///   ("httpoxy").
/// - Then `all_proxy`, then `ALL_PROXY`, for both.
/// - `no_proxy` (or `NO_PROXY` when it is unset) lists destinations to
///   reach directly, separated by commas: `*` for all; a host name, which
///   also covers its subdomains (`example.com` and `.example.com` both
///   cover `example.com` and `www.example.com`, not `badexample.com`); an
///   IP address or a CIDR range (`10.0.0.0/8`, `::1`, `fd00::/8`), which
///   match destinations written as addresses; any of these with `:PORT`
///   to cover that port only. Names are compared without case.
/// - An empty variable counts as unset.
///
/// One departure from curl, as Go's HTTP client does: loopback destinations
/// (`localhost` and its subdomains, `127.0.0.0/8`, `::1`) are never sent to
/// a proxy from the environment, since a proxy elsewhere cannot reach this
/// machine's loopback. An explicit
/// [`ProxySetting::Proxy`](super::ProxySetting::Proxy) is used for them
/// too.
pub fn from_env(target: &Target) -> Result<Option<Proxy>, ProxyError> {
    from_env_with(target, |name| std::env::var(name).ok())
}

/// [`from_env`] with the variables read through `lookup` (a variable's
/// value, or `None` when unset), so the rules can be used, or tested,
/// without the process environment.
///
/// ```
/// use rfc6455::handshake::Target;
/// use rfc6455::proxy::{from_env_with, Proxy};
///
/// let env = |name: &str| match name {
///     "https_proxy" => Some("http://proxy.corp:3128".to_owned()),
///     "no_proxy" => Some("internal.corp,10.0.0.0/8".to_owned()),
///     _ => None,
/// };
/// let public = Target::parse("wss://example.com/")?;
/// assert_eq!(from_env_with(&public, env)?, Some(Proxy::http("proxy.corp", 3128)));
/// let internal = Target::parse("wss://chat.internal.corp/")?;
/// assert_eq!(from_env_with(&internal, env)?, None);
/// let plain = Target::parse("ws://example.com/")?; // http_proxy is not set
/// assert_eq!(from_env_with(&plain, env)?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_env_with(
    target: &Target,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    if is_loopback(&target.host) {
        return Ok(None);
    }
    if let Some(list) = get("no_proxy").or_else(|| get("NO_PROXY")) {
        if no_proxy_covers(&list, &target.host, target.port) {
            return Ok(None);
        }
    }
    let value = if target.secure {
        get("https_proxy").or_else(|| get("HTTPS_PROXY"))
    } else {
        get("http_proxy")
    };
    match value
        .or_else(|| get("all_proxy"))
        .or_else(|| get("ALL_PROXY"))
    {
        Some(url) => Proxy::parse(url.trim()).map(Some),
        None => Ok(None),
    }
}

/// The host without IPv6 brackets or a trailing dot, in lower case.
fn normalize(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// `localhost`, its subdomains, and loopback addresses.
fn is_loopback(host: &str) -> bool {
    let host = normalize(host);
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

/// Whether a `no_proxy` list covers `host:port`.
fn no_proxy_covers(list: &str, host: &str, port: u16) -> bool {
    let host = normalize(host);
    let ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| entry_covers(entry, &host, ip, port))
}

fn entry_covers(entry: &str, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    let (pattern, entry_port) = split_entry_port(entry);
    if entry_port.is_some_and(|entry_port| entry_port != port) {
        return false;
    }
    let pattern: String = pattern
        .chars()
        .filter(|c| !matches!(c, '[' | ']'))
        .collect();
    if let Some((network, bits)) = pattern.split_once('/') {
        return match (ip, network.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Some(ip), Ok(network), Ok(bits)) => in_network(ip, network, bits),
            _ => false,
        };
    }
    if let Ok(address) = pattern.parse::<IpAddr>() {
        return ip == Some(address);
    }
    let name = normalize(pattern.trim_start_matches("*.").trim_start_matches('.'));
    if ip.is_some() || name.is_empty() {
        return false;
    }
    host == name
        || host
            .strip_suffix(name.as_str())
            .is_some_and(|rest| rest.ends_with('.'))
}

/// An entry and its `:PORT`, if it has one: `host:80`, `1.2.3.4:80`,
/// `[::1]:80`; a bare IPv6 address (`::1`, `fd00::/8`) has none.
fn split_entry_port(entry: &str) -> (&str, Option<u16>) {
    if entry.starts_with('[') {
        if let Some(close) = entry.find(']') {
            if let Some(Ok(port)) = entry[close + 1..].strip_prefix(':').map(str::parse) {
                return (&entry[..=close], Some(port));
            }
        }
        return (entry, None);
    }
    match entry.rsplit_once(':') {
        Some((pattern, port)) if !pattern.contains(':') => match port.parse() {
            Ok(port) => (pattern, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// Whether `ip` is in `network/bits` (families must agree).
fn in_network(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proxy for `url` under the variables `vars`.
    fn proxy_for(url: &str, vars: &[(&str, &str)]) -> Option<Proxy> {
        let target = Target::parse(url).unwrap();
        from_env_with(&target, |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    const HTTPS: (&str, &str) = ("https_proxy", "http://secure-proxy:3128");
    const HTTP: (&str, &str) = ("http_proxy", "http://plain-proxy:3128");

    fn secure() -> Option<Proxy> {
        Some(Proxy::http("secure-proxy", 3128))
    }

    #[test]
    fn wss_uses_https_proxy_and_ws_uses_http_proxy() {
        let vars = [HTTPS, HTTP];
        assert_eq!(proxy_for("wss://example.com/", &vars), secure());
        assert_eq!(
            proxy_for("ws://example.com/", &vars),
            Some(Proxy::http("plain-proxy", 3128))
        );
    }

    #[test]
    fn upper_case_https_proxy_counts_but_upper_case_http_proxy_does_not() {
        let upper = [
            ("HTTPS_PROXY", "http://secure-proxy:3128"),
            ("HTTP_PROXY", "http://plain-proxy:3128"),
        ];
        assert_eq!(proxy_for("wss://example.com/", &upper), secure());
        assert_eq!(proxy_for("ws://example.com/", &upper), None);
        // Lower case wins when both are set.
        let both = [HTTPS, ("HTTPS_PROXY", "http://other:1")];
        assert_eq!(proxy_for("wss://example.com/", &both), secure());
    }

    #[test]
    fn all_proxy_is_the_fallback_for_both() {
        let vars = [("all_proxy", "socks5h://socks:1080")];
        let socks = Some(Proxy::socks5h("socks", 1080));
        assert_eq!(proxy_for("ws://example.com/", &vars), socks);
        assert_eq!(proxy_for("wss://example.com/", &vars), socks);
        let upper = [("ALL_PROXY", "socks5://socks:1080")];
        assert_eq!(
            proxy_for("ws://example.com/", &upper),
            Some(Proxy::socks5("socks", 1080))
        );
        let specific_first = [("all_proxy", "socks5h://socks:1080"), HTTPS];
        assert_eq!(proxy_for("wss://example.com/", &specific_first), secure());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let vars = [("https_proxy", ""), ("all_proxy", "http://fallback:1")];
        assert_eq!(
            proxy_for("wss://example.com/", &vars),
            Some(Proxy::http("fallback", 1))
        );
        let vars = [HTTPS, ("no_proxy", " ")];
        assert_eq!(proxy_for("wss://example.com/", &vars), secure());
    }

    #[test]
    fn no_proxy_star_covers_everything() {
        assert_eq!(
            proxy_for("wss://example.com/", &[HTTPS, ("no_proxy", "*")]),
            None
        );
        assert_eq!(
            proxy_for("wss://example.com/", &[HTTPS, ("NO_PROXY", "a.b, *")]),
            None
        );
    }

    #[test]
    fn no_proxy_host_names_cover_their_subdomains_only() {
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            let vars = [HTTPS, ("no_proxy", list)];
            assert_eq!(proxy_for("wss://example.com/", &vars), None, "{list}");
            assert_eq!(proxy_for("wss://www.Example.com./", &vars), None, "{list}");
            assert_eq!(
                proxy_for("wss://badexample.com/", &vars),
                secure(),
                "{list}"
            );
            assert_eq!(
                proxy_for("wss://example.com.evil/", &vars),
                secure(),
                "{list}"
            );
        }
    }

    #[test]
    fn lower_case_no_proxy_wins_over_upper_case() {
        let vars = [HTTPS, ("no_proxy", "a.example"), ("NO_PROXY", "b.example")];
        assert_eq!(proxy_for("wss://a.example/", &vars), None);
        assert_eq!(proxy_for("wss://b.example/", &vars), secure());
    }

    #[test]
    fn no_proxy_ports_cover_that_port_only() {
        let vars = [
            HTTPS,
            (
                "no_proxy",
                "example.com:8443, 10.1.2.3:443, [2001:db8::1]:443",
            ),
        ];
        assert_eq!(proxy_for("wss://example.com:8443/", &vars), None);
        assert_eq!(proxy_for("wss://example.com/", &vars), secure());
        assert_eq!(proxy_for("wss://10.1.2.3/", &vars), None);
        assert_eq!(proxy_for("wss://10.1.2.3:444/", &vars), secure());
        assert_eq!(proxy_for("wss://[2001:db8::1]/", &vars), None);
        assert_eq!(proxy_for("wss://[2001:db8::1]:80/", &vars), secure());
    }

    #[test]
    fn no_proxy_addresses_and_ranges_match_address_destinations() {
        let vars = [
            HTTPS,
            ("no_proxy", "10.0.0.0/8, 192.168.1.7, fd00::/8, 2001:db8::2"),
        ];
        assert_eq!(proxy_for("wss://10.200.3.4/", &vars), None);
        assert_eq!(proxy_for("wss://11.0.0.1/", &vars), secure());
        assert_eq!(proxy_for("wss://192.168.1.7/", &vars), None);
        assert_eq!(proxy_for("wss://192.168.1.8/", &vars), secure());
        assert_eq!(proxy_for("wss://[fd12::1]/", &vars), None);
        assert_eq!(proxy_for("wss://[fe80::1]/", &vars), secure());
        assert_eq!(proxy_for("wss://[2001:db8::2]/", &vars), None);
        // An address entry does not match a name, nor a name an address.
        let vars = [HTTPS, ("no_proxy", "10.0.0.1, example.com")];
        assert_eq!(proxy_for("wss://ten.example/", &vars), secure());
        let vars = [HTTPS, ("no_proxy", "1")];
        assert_eq!(proxy_for("wss://10.0.0.1/", &vars), secure());
    }

    #[test]
    fn zero_bit_ranges_cover_their_family() {
        let vars = [HTTPS, ("no_proxy", "0.0.0.0/0")];
        assert_eq!(proxy_for("wss://8.8.8.8/", &vars), None);
        assert_eq!(proxy_for("wss://[2001:db8::1]/", &vars), secure());
        assert_eq!(proxy_for("wss://example.com/", &vars), secure());
    }

    #[test]
    fn loopback_destinations_never_use_the_environment() {
        let vars = [HTTPS, HTTP, ("all_proxy", "socks5://s:1")];
        for url in [
            "ws://localhost:9001/",
            "wss://LOCALHOST./",
            "ws://app.localhost/",
            "ws://127.0.0.1/",
            "ws://127.8.9.10/",
            "wss://[::1]:443/",
        ] {
            assert_eq!(proxy_for(url, &vars), None, "{url}");
        }
        assert_eq!(
            proxy_for("ws://localhost.example/", &vars),
            Some(Proxy::http("plain-proxy", 3128))
        );
    }

    #[test]
    fn nothing_set_means_direct() {
        assert_eq!(proxy_for("wss://example.com/", &[]), None);
    }

    #[test]
    fn a_bad_proxy_url_in_the_environment_is_an_error() {
        let target = Target::parse("wss://example.com/").unwrap();
        let result = from_env_with(&target, |name| {
            (name == "https_proxy").then(|| "ftp://p".to_owned())
        });
        assert_eq!(
            result,
            Err(ProxyError::UnsupportedScheme {
                scheme: "ftp".into()
            })
        );
    }
}
