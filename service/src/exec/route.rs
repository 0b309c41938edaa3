//! Reading a split where it lives: from its owners in order, then locally,
//! through the protocol crate's failover reader (every row exactly once).

use std::fmt;
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use arrow_cache_protocol::address::{flight_addr, is_loopback};
use arrow_cache_protocol::client::{Event, Opened, ReadError, read_with_failover};
use arrow_cache_protocol::headers::IpcCodec;
use arrow_cache_protocol::scan::ScanTicket;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::Executor;
use crate::cluster::MemberInfo;
use crate::config::IpcCompression;
use crate::error::{CacheError, Result};

/// Where one attempt reads from.
#[derive(Debug, Clone)]
enum Source {
    Remote(MemberInfo),
    Local,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Remote(m) => write!(f, "{} ({})", m.node_id, m.flight),
            Source::Local => f.write_str("this node"),
        }
    }
}

impl ReadError for CacheError {
    fn retryable(&self) -> bool {
        self.retryable()
    }

    fn internal(message: String) -> Self {
        CacheError::internal(message)
    }
}

impl Executor {
    /// Streams `ticket` from its owners (primary first), failing over to the
    /// next owner and finally to this node. `schema` is the stream's schema.
    pub(crate) fn read_routed(
        self: &Arc<Self>,
        ticket: ScanTicket,
        owners: Vec<MemberInfo>,
        schema: SchemaRef,
    ) -> BoxStream<'static, Result<RecordBatch>> {
        let sources: Vec<Source> = match self.cluster() {
            // An owner reads itself; so does a node outside any cluster.
            Some(cluster) if !owners.iter().any(|m| cluster.is_me(m)) => {
                owners.into_iter().map(Source::Remote).chain([Source::Local]).collect()
            }
            _ => vec![Source::Local],
        };
        let (tx, rx) = mpsc::channel(2);
        let exec = self.clone();
        tokio::spawn(async move {
            let open = |source: &Source| {
                let (exec, source, ticket) = (exec.clone(), source.clone(), ticket.clone());
                Box::pin(async move { exec.open(&source, &ticket).await }) as BoxFuture<'static, _>
            };
            let warn = |what: &str| tracing::warn!("{what}");
            read_with_failover(&sources, open, Ok, warn, &tx).await;
        });
        ReceiverStream::new(rx)
            .try_filter_map(move |event| {
                let batch = match event {
                    Event::Schema(_) => None,
                    // Remote batches carry the sender's schema; hand on ours.
                    Event::Batch(batch) => Some(relabel(batch, &schema)),
                };
                futures::future::ready(batch.transpose())
            })
            .boxed()
    }

    /// Starts reading `ticket` from `source`.
    async fn open(&self, source: &Source, ticket: &ScanTicket) -> Result<Opened<CacheError>> {
        match source {
            Source::Local => {
                let (schema, batches) = self.read_ticket(ticket.clone()).await?;
                Ok(Opened { schema, batches })
            }
            Source::Remote(member) => self.read_remote(member, ticket.to_bytes()).await,
        }
    }

    /// Streams a ticket (a split or a fragment) from another node.
    pub(crate) async fn read_remote(&self, member: &MemberInfo, ticket: Vec<u8>) -> Result<Opened<CacheError>> {
        let context = format!("reading from {}", member.flight);
        let addr = flight_addr(&member.flight).map_err(|e| CacheError::internal(format!("{context}: {e}")))?;
        let codec = codec_for(self.config.networking.ipc_compression, &addr);
        let opened = self.peers.do_get(&addr, ticket, codec).await.map_err(|s| CacheError::from_status(&context, s))?;
        let batches = opened.batches.map_err(move |s| CacheError::from_status(&context, s)).boxed();
        Ok(Opened { schema: opened.schema, batches })
    }
}

/// `batch` under `schema` (same columns; metadata may differ).
pub(crate) fn relabel(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema_ref() == schema {
        return Ok(batch);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &options)
        .map_err(|e| CacheError::internal(format!("a stream from another node has another schema: {e}")))
}

/// The codec to ask `addr` for, if any: `auto` compresses only off this host.
fn codec_for(compression: IpcCompression, addr: &str) -> Option<IpcCodec> {
    match compression {
        IpcCompression::None => None,
        IpcCompression::Lz4 => Some(IpcCodec::Lz4),
        IpcCompression::Zstd => Some(IpcCodec::Zstd),
        IpcCompression::Auto => (!is_loopback(addr)).then_some(IpcCodec::Lz4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_compresses_only_off_host() {
        assert_eq!(codec_for(IpcCompression::Auto, "127.0.0.2:8815"), None);
        assert_eq!(codec_for(IpcCompression::Auto, "localhost:8815"), None);
        assert_eq!(codec_for(IpcCompression::Auto, "[::1]:8815"), None);
        assert_eq!(codec_for(IpcCompression::Auto, "10.1.2.3:8815"), Some(IpcCodec::Lz4));
        assert_eq!(codec_for(IpcCompression::Zstd, "127.0.0.1:1"), Some(IpcCodec::Zstd));
    }
}
