//! Who is calling, by network address: the connection's peer, or — only when that peer is a proxy the node
//! was told to trust (`--trusted-proxy`, `BORDERLESS_TRUSTED_PROXIES`) — the client address the proxy put in
//! `X-Forwarded-For`. Rate limits and the login throttle count against this address.

use axum::http::HeaderMap;
use std::net::IpAddr;
use std::sync::OnceLock;

static TRUSTED: OnceLock<Vec<(IpAddr, u8)>> = OnceLock::new();

/// Sets the proxies whose `X-Forwarded-For` is believed (`10.0.0.0/8`, `127.0.0.1`, …); once per process.
pub fn trust_proxies(list: &str) -> Result<(), String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (ip, bits) = match item.split_once('/') {
            Some((ip, bits)) => (ip, Some(bits)),
            None => (item, None),
        };
        let ip: IpAddr = ip.parse().map_err(|_| format!("`{item}` is not an IP address or CIDR range"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => {
                b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| format!("`{item}`: bad prefix length"))?
            }
            None => max,
        };
        out.push((ip, bits));
    }
    TRUSTED.set(out).map_err(|_| "the trusted proxies are already set".to_owned())
}

fn in_range(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// Whether `ip` is a proxy this node was told to trust.
pub fn trusted(ip: IpAddr) -> bool {
    TRUSTED.get().is_some_and(|t| t.iter().any(|r| in_range(ip, *r)))
}

/// The client's address as text (`unknown` when the server was started without peer addresses).
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap) -> String {
    let Some(mut ip) = peer else { return "unknown".to_owned() };
    if trusted(ip) {
        // Walk X-Forwarded-For from the right: the first address not itself a trusted proxy is the client.
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|h| h.trim().parse().ok())
            .collect();
        for hop in hops.into_iter().rev() {
            ip = hop;
            if !trusted(hop) {
                break;
            }
        }
    }
    ip.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_by_prefix() {
        let net = ("10.0.0.0".parse().unwrap(), 8);
        assert!(in_range("10.1.2.3".parse().unwrap(), net));
        assert!(!in_range("11.0.0.1".parse().unwrap(), net));
        assert!(in_range("::1".parse().unwrap(), ("::1".parse().unwrap(), 128)));
    }
}
