//! Reading a split where it lives: from its owners in order, then locally.
//!
//! A split is read deterministically (same files, row groups in order, same
//! filter), so when an owner fails mid-stream the next source is read from the
//! start and the rows already passed on are skipped: the query sees every row
//! exactly once. A node that is unreachable, dies or fails makes the read move
//! on; a bad request, a missing table or a corrupt file fails the same
//! everywhere and is reported at once.

use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use futures::stream::{BoxStream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::MemberInfo;
use crate::error::{CacheError, Result};
use crate::node::Node;
use crate::serve::scan::ScanTicket;

/// Where one attempt reads from.
#[derive(Debug, Clone)]
enum Source {
    Remote(MemberInfo),
    Local,
}

impl Node {
    /// Streams `ticket` from its owners (primary first), failing over to the
    /// next owner and finally to this node. `schema` is the stream's schema.
    pub fn read_routed(
        self: &Arc<Self>,
        ticket: ScanTicket,
        owners: Vec<MemberInfo>,
        schema: SchemaRef,
    ) -> BoxStream<'static, Result<RecordBatch>> {
        let sources = match self.cluster() {
            // An owner reads itself; so does a node outside any cluster.
            Some(cluster) if !owners.iter().any(|m| cluster.is_me(m)) => {
                owners.into_iter().map(Source::Remote).chain([Source::Local]).collect()
            }
            _ => vec![Source::Local],
        };
        let (tx, rx) = mpsc::channel(2);
        let node = self.clone();
        tokio::spawn(async move { node.relay(ticket, sources, schema, tx).await });
        ReceiverStream::new(rx).boxed()
    }

    async fn relay(
        self: Arc<Self>,
        ticket: ScanTicket,
        sources: Vec<Source>,
        schema: SchemaRef,
        tx: mpsc::Sender<Result<RecordBatch>>,
    ) {
        let mut sent = 0usize;
        let last = sources.len() - 1;
        for (i, source) in sources.into_iter().enumerate() {
            let outcome = self.relay_from(&source, &ticket, &schema, sent, &tx).await;
            match outcome {
                Ok(None) => return, // done, or the reader went away
                Ok(Some(rows)) => sent = rows,
                Err((rows, e)) => {
                    sent = rows;
                    if i == last || !worth_retrying(&e) {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    tracing::warn!(?source, "split read failed, trying the next owner: {e}");
                }
            }
        }
    }

    /// Passes on the rows of one source after the first `skip`. `Ok(None)`:
    /// finished; `Err((rows, e))`: failed after `rows` rows in total.
    #[allow(clippy::type_complexity)]
    async fn relay_from(
        &self,
        source: &Source,
        ticket: &ScanTicket,
        schema: &SchemaRef,
        skip: usize,
        tx: &mpsc::Sender<Result<RecordBatch>>,
    ) -> std::result::Result<Option<usize>, (usize, CacheError)> {
        let stream = match source {
            Source::Local => self.read_ticket(ticket.clone()).await.map(|(_, s)| s),
            Source::Remote(member) => match (self.cluster(), ticket.to_bytes()) {
                (Some(cluster), Ok(bytes)) => cluster.peers.read(&member.flight, bytes).await,
                (None, _) => Err(CacheError::internal("a remote read outside a cluster")),
                (_, Err(e)) => Err(e),
            },
        };
        let mut stream = stream.map_err(|e| (skip, e))?;
        let (mut seen, mut sent) = (0usize, skip);
        while let Some(item) = stream.next().await {
            let batch = item.map_err(|e| (sent, e))?;
            let (start, rows) = (seen, batch.num_rows());
            seen += rows;
            if seen <= skip {
                continue; // passed on before the failover
            }
            let from = skip.saturating_sub(start);
            let batch = batch.slice(from, rows - from);
            // Remote batches carry the sender's schema; hand on ours.
            let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
            let batch = RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &options)
                .map_err(|e| (sent, CacheError::internal(format!("a split from {source:?} has another schema: {e}"))))?;
            sent += batch.num_rows();
            if tx.send(Ok(batch)).await.is_err() {
                return Ok(None);
            }
        }
        Ok(None)
    }
}

/// Would another node answer differently? Not for errors in the request or the data.
pub(crate) fn worth_retrying(e: &CacheError) -> bool {
    !matches!(
        e,
        CacheError::InvalidArgument(_)
            | CacheError::NotFound(_)
            | CacheError::Unsupported(_)
            | CacheError::CorruptFile { .. }
            | CacheError::Config { .. }
            | CacheError::PermissionDenied { .. }
    )
}
