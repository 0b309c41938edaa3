//! The wire protocol of arrow-cache, in one place for every party that speaks it.
//!
//! A cache node serves Arrow Flight (port 8815) and a gRPC control plane
//! (port 8816). This crate holds what crosses those ports, and nothing of how
//! a node computes its answers:
//!
//! - [`control`]: the control plane's generated types and stubs
//!   (`proto/arrow_cache/control/v1/control.proto`);
//! - [`scan`]: scan requests, the snapshot they select, splits and their
//!   tickets, fragment tickets, what a scan's `FlightInfo` reports;
//! - [`action`]: the cache actions (`table_stats`, `invalidate`, `refresh`,
//!   `warm`, `cluster_status`) with their names and bodies;
//! - [`status`]: `cluster_status` as JSON;
//! - [`headers`]: request headers and which status codes a reader retries;
//! - [`address`]: node addresses and Flight locations;
//! - [`client`]: the one channel pool and the one split reader with owner
//!   failover, used by nodes (routing) and by the JNI bridge.
//!
//! The JSON documents have golden copies under `protocol/testdata/` that the
//! Rust, Java and Python suites all parse and re-emit.
//!
//! ```
//! use arrow_cache_protocol::scan::{ScanRequest, SnapshotSelector};
//! let request: ScanRequest = arrow_cache_protocol::from_json(br#"{"table": "ns.t", "tag": "v1"}"#, "scan request").unwrap();
//! assert_eq!(request.snapshot().unwrap(), SnapshotSelector::Tag("v1".into()));
//! ```

pub mod action;
pub mod address;
pub mod client;
pub mod headers;
pub mod scan;
pub mod status;

/// The control plane's generated types and gRPC stubs (`proto/arrow_cache/control/v1`).
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod control {
    tonic::include_proto!("arrow_cache.control.v1");
}

/// A request that does not follow the protocol; the message names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRequest(pub String);

impl From<InvalidRequest> for tonic::Status {
    fn from(e: InvalidRequest) -> Self {
        tonic::Status::invalid_argument(e.0)
    }
}

/// Parses a JSON document of the protocol; errors name the field at fault
/// (`malformed scan request: limit: invalid type: ...`).
pub fn from_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, InvalidRequest> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { format!("{path}: ") };
        InvalidRequest(format!("malformed {what}: {at}{}", e.inner()))
    })
}

/// `err` and its causes, outermost first: the one walker of error chains.
pub fn error_chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

/// `err`'s message followed by those of its causes that it does not already
/// contain: "error sending request" says little without "tcp connect error:
/// Connection refused".
pub fn with_causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    for cause in error_chain(err).skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message = if message.is_empty() { text } else { format!("{message}: {text}") };
        }
    }
    message
}
