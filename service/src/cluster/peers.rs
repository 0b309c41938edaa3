//! Connections to other nodes: one pooled gRPC channel per address, shared by
//! every request (tonic channels multiplex HTTP/2 streams), for both the
//! control plane and Flight.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::Ticket;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use tonic::transport::{Channel, Endpoint};

use super::proto::control_plane_client::ControlPlaneClient;
use crate::config::IpcCompression;
use crate::error::{CacheError, Result};

/// The request header in which a reader asks for compressed Arrow IPC buffers
/// (`lz4` or `zstd`); a node that sees none sends them uncompressed.
pub const COMPRESSION_HEADER: &str = "x-arrow-cache-ipc-compression";

/// Pooled channels to other nodes, by address.
#[derive(Clone)]
pub struct Peers {
    channels: Arc<Mutex<HashMap<String, Channel>>>,
    compression: IpcCompression,
}

impl Peers {
    pub fn new(compression: IpcCompression) -> Self {
        Self { channels: Arc::default(), compression }
    }

    /// The shared channel to `addr` (`host:port`), connected on first use.
    fn channel(&self, addr: &str) -> Result<Channel> {
        let mut channels = self.channels.lock().expect("peer channels poisoned");
        if let Some(c) = channels.get(addr) {
            return Ok(c.clone());
        }
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| CacheError::invalid(format!("`{addr}` is not a node address (host:port): {e}")))?
            .connect_timeout(Duration::from_secs(1))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5));
        let channel = endpoint.connect_lazy();
        channels.insert(addr.to_string(), channel.clone());
        Ok(channel)
    }

    /// A control-plane client for `addr` (`host:port`).
    pub fn control(&self, addr: &str) -> Result<ControlPlaneClient<Channel>> {
        Ok(ControlPlaneClient::new(self.channel(addr)?).max_decoding_message_size(64 << 20))
    }

    /// Streams a ticket from the node at `location` (`grpc+tcp://host:port`).
    pub async fn read(&self, location: &str, ticket: Vec<u8>) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        let addr = host_port(location);
        let context = format!("reading a split from {location}");
        let mut client = FlightServiceClient::new(self.channel(addr)?).max_decoding_message_size(64 << 20);
        let mut request = tonic::Request::new(Ticket::new(ticket));
        if let Some(codec) = self.codec_for(addr) {
            request.metadata_mut().insert(COMPRESSION_HEADER, tonic::metadata::MetadataValue::from_static(codec));
        }
        let response = client.do_get(request).await.map_err(|s| CacheError::from_status(&context, s))?;
        let flight = response.into_inner().map_err(|s| arrow_flight::error::FlightError::Tonic(Box::new(s)));
        let batches = FlightRecordBatchStream::new_from_flight_data(flight).map_err(move |e| match e {
            arrow_flight::error::FlightError::Tonic(s) => CacheError::from_status(&context, *s),
            other => CacheError::unavailable(&context, other),
        });
        Ok(batches.boxed())
    }

    /// The codec to ask `addr` for, if any: `auto` compresses only off this host.
    fn codec_for(&self, addr: &str) -> Option<&'static str> {
        match self.compression {
            IpcCompression::None => None,
            IpcCompression::Lz4 => Some("lz4"),
            IpcCompression::Zstd => Some("zstd"),
            IpcCompression::Auto => (!is_loopback(addr)).then_some("lz4"),
        }
    }
}

/// `host:port` of a Flight location such as `grpc+tcp://host:port`.
pub fn host_port(location: &str) -> &str {
    location.split_once("://").map(|(_, rest)| rest).unwrap_or(location).trim_end_matches('/')
}

fn is_loopback(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or(addr).trim_matches(['[', ']']);
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_compresses_only_off_host() {
        let peers = Peers::new(IpcCompression::Auto);
        assert_eq!(peers.codec_for("127.0.0.2:8815"), None);
        assert_eq!(peers.codec_for("localhost:8815"), None);
        assert_eq!(peers.codec_for("[::1]:8815"), None);
        assert_eq!(peers.codec_for("10.1.2.3:8815"), Some("lz4"));
        assert_eq!(Peers::new(IpcCompression::Zstd).codec_for("127.0.0.1:1"), Some("zstd"));
        assert_eq!(host_port("grpc+tcp://a:1"), "a:1");
    }
}
