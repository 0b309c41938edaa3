//! Node addresses (`host:port` of a control plane) and Flight locations
//! (`grpc+tcp://host:port`), as users and nodes write them.

use crate::InvalidRequest;

/// The control plane's default port.
pub const DEFAULT_CONTROL_PORT: u16 = 8816;

/// The addresses of a cluster setting (`cache.cluster`, `--cluster`):
/// `host:port` separated by commas (a missing port is 8816; `http://` or
/// `grpc://` prefixes are accepted).
///
/// ```
/// # use arrow_cache_protocol::address::parse_cluster;
/// assert_eq!(parse_cluster("a, grpc://b:9, [::1]").unwrap(), ["a:8816", "b:9", "[::1]:8816"]);
/// assert!(parse_cluster(" , ").is_err());
/// ```
pub fn parse_cluster(cluster: &str) -> Result<Vec<String>, InvalidRequest> {
    let addrs = cluster
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| parse_addr(a, DEFAULT_CONTROL_PORT))
        .collect::<Result<Vec<_>, _>>()?;
    if addrs.is_empty() {
        return Err(InvalidRequest(format!(
            "the cluster address `{cluster}` names no node: expected host:port[,host:port...] (control plane, port {DEFAULT_CONTROL_PORT})"
        )));
    }
    Ok(addrs)
}

/// `host:port` of a Flight location (`grpc+tcp://host:port`, `grpc://host:port`
/// or a bare `host:port`).
///
/// ```
/// # use arrow_cache_protocol::address::flight_addr;
/// assert_eq!(flight_addr("grpc+tcp://node-1:8815/").unwrap(), "node-1:8815");
/// assert!(flight_addr("grpc+tcp://node-1").is_err());
/// ```
pub fn flight_addr(location: &str) -> Result<String, InvalidRequest> {
    if location.starts_with("grpc+tls://") || location.starts_with("https://") {
        return Err(InvalidRequest(format!("`{location}`: TLS locations are not supported yet")));
    }
    let addr = parse_addr(location.trim(), 0)?;
    if addr.ends_with(":0") {
        return Err(InvalidRequest(format!("the Flight location `{location}` has no port")));
    }
    Ok(addr)
}

/// Normalizes `[scheme://]host[:port][/]` to `host:port`.
pub fn parse_addr(text: &str, default_port: u16) -> Result<String, InvalidRequest> {
    let bad = |why: &str| InvalidRequest(format!("`{text}` is not a node address (host:port): {why}"));
    let rest = match text.split_once("://") {
        Some(("http" | "grpc" | "grpc+tcp" | "tcp", rest)) => rest,
        Some((scheme, _)) => return Err(bad(&format!("unsupported scheme `{scheme}`"))),
        None => text,
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(bad("expected `:port` after `]`")),
        };
        (format!("[{host}]"), port)
    } else {
        match rest.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => return Err(bad("write IPv6 addresses as [addr]:port")),
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (rest.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" || host.contains('/') {
        return Err(bad("no host"));
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| bad(&format!("`{p}` is not a port")))?,
        None => default_port,
    };
    Ok(format!("{host}:{port}"))
}

/// The host of a Flight location, for engines' preferred locations
/// (`grpc+tcp://node-1:8815` is `node-1`; `[::1]:8815` is `::1`).
///
/// ```
/// # use arrow_cache_protocol::address::location_host;
/// assert_eq!(location_host("grpc+tcp://node-1:8815"), "node-1");
/// assert_eq!(location_host("[::1]:8815"), "::1");
/// ```
pub fn location_host(location: &str) -> String {
    let rest = location.split_once("://").map(|(_, r)| r).unwrap_or(location).trim_end_matches('/');
    if let Some(v6) = rest.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h).unwrap_or(v6).to_string();
    }
    match rest.rsplit_once(':') {
        Some((h, _)) if !h.contains(':') => h.to_string(),
        _ => rest.to_string(),
    }
}

/// Whether `addr` (`host:port`) is on this host: `auto` IPC compression only
/// compresses off-host traffic.
pub fn is_loopback(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or(addr).trim_matches(['[', ']']);
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_addresses() {
        assert_eq!(parse_cluster("a:1").unwrap(), ["a:1"]);
        assert_eq!(parse_cluster(" a:1 , b ,, http://c:3/").unwrap(), ["a:1", "b:8816", "c:3"]);
        assert_eq!(parse_cluster("[::1]:9,[fe80::1]").unwrap(), ["[::1]:9", "[fe80::1]:8816"]);
        assert_eq!(parse_cluster("grpc://10.0.0.1:8816").unwrap(), ["10.0.0.1:8816"]);
        for bad in ["", " , ", "a:port", "a:99999", "::1", "ftp://a:1", ":8816", "[::1"] {
            assert!(parse_cluster(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flight_locations() {
        assert_eq!(flight_addr("grpc+tcp://node-1:8815").unwrap(), "node-1:8815");
        assert_eq!(flight_addr("grpc://127.0.0.1:8815/").unwrap(), "127.0.0.1:8815");
        assert_eq!(flight_addr("[::1]:8815").unwrap(), "[::1]:8815");
        assert_eq!(flight_addr("host:1").unwrap(), "host:1");
        assert!(flight_addr("grpc+tls://h:1").is_err());
        assert!(flight_addr("grpc+tcp://h").is_err());
        assert_eq!(location_host("grpc+tcp://[::1]:8815"), "::1");
        assert_eq!(location_host("10.1.2.3:8815"), "10.1.2.3");
        assert_eq!(location_host("node"), "node");
        assert!(is_loopback("127.0.0.2:1") && is_loopback("localhost:1") && is_loopback("[::1]:1"));
        assert!(!is_loopback("10.1.2.3:8815"));
    }
}
