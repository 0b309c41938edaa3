//! The one client of arrow-cache nodes: a pool of gRPC channels, and a split
//! reader that fails over between a split's owners without repeating or
//! losing rows. Nodes use it to route reads and fragments to owners; the JNI
//! bridge uses it to stream splits into the JVM.
//!
//! Failover: a split is read deterministically (same files, row groups in
//! order, same filter), so when a source fails mid-stream the next one is read
//! from the start and the rows already passed on are skipped: the reader sees
//! every row exactly once. Errors a retry cannot fix (a bad request, a missing
//! table, a corrupt file) are reported at once.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;
use arrow_flight::Ticket;
use arrow_flight::decode::{DecodedPayload, FlightDataDecoder};
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::InvalidRequest;
use crate::control::control_plane_client::ControlPlaneClient;
use crate::headers::{IPC_COMPRESSION, IpcCodec};

/// The largest gRPC message a client decodes (a Flight batch, a scan plan).
pub const MAX_MESSAGE_SIZE: usize = 1 << 30;

/// Pooled gRPC channels by `host:port`: one per address, shared by every
/// request (tonic channels multiplex HTTP/2 streams), for both the control
/// plane and Flight.
#[derive(Clone)]
pub struct Channels {
    pool: Arc<Mutex<HashMap<String, Channel>>>,
    connect_timeout: Duration,
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channels").field("connect_timeout", &self.connect_timeout).finish_non_exhaustive()
    }
}

impl Channels {
    /// An empty pool whose channels give up connecting after `connect_timeout`.
    pub fn new(connect_timeout: Duration) -> Self {
        Self { pool: Arc::default(), connect_timeout }
    }

    /// The shared channel to `addr` (`host:port`), connected lazily on first
    /// use and reconnected by tonic after a failure. Call it inside a Tokio
    /// runtime: the channel's worker is spawned on it.
    pub fn channel(&self, addr: &str) -> Result<Channel, InvalidRequest> {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = pool.get(addr) {
            return Ok(c.clone());
        }
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| InvalidRequest(format!("`{addr}` is not a node address (host:port): {e}")))?
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5));
        let channel = endpoint.connect_lazy();
        pool.insert(addr.to_string(), channel.clone());
        Ok(channel)
    }

    /// A control-plane client for `addr` (`host:port`).
    pub fn control(&self, addr: &str) -> Result<ControlPlaneClient<Channel>, InvalidRequest> {
        Ok(ControlPlaneClient::new(self.channel(addr)?).max_decoding_message_size(MAX_MESSAGE_SIZE))
    }

    /// A Flight client for `addr` (`host:port`).
    pub fn flight(&self, addr: &str) -> Result<FlightServiceClient<Channel>, InvalidRequest> {
        Ok(FlightServiceClient::new(self.channel(addr)?).max_decoding_message_size(MAX_MESSAGE_SIZE))
    }

    /// Starts `DoGet(ticket)` on the node at `addr` (`host:port`), asking for
    /// `codec`-compressed buffers, and waits for the stream's schema.
    pub async fn do_get(&self, addr: &str, ticket: Vec<u8>, codec: Option<IpcCodec>) -> Result<Opened<Status>, Status> {
        let mut client = self.flight(addr).map_err(|e| Status::invalid_argument(e.0))?;
        let mut request = tonic::Request::new(Ticket::new(ticket));
        if let Some(codec) = codec {
            request.metadata_mut().insert(IPC_COMPRESSION, tonic::metadata::MetadataValue::from_static(codec.name()));
        }
        let response = client.do_get(request).await?;
        let data = response.into_inner().map_err(|s| FlightError::Tonic(Box::new(s)));
        let mut decoder = FlightDataDecoder::new(data);
        let schema = loop {
            match decoder.next().await {
                Some(Ok(decoded)) => match decoded.payload {
                    DecodedPayload::Schema(schema) => break schema,
                    DecodedPayload::None => continue,
                    DecodedPayload::RecordBatch(_) => {
                        return Err(Status::internal("a Flight stream sent data before its schema"));
                    }
                },
                Some(Err(e)) => return Err(flight_status(e)),
                None => return Err(Status::internal("the Flight stream ended without a schema")),
            }
        };
        let batches = decoder
            .filter_map(|item| async move {
                match item {
                    Ok(decoded) => match decoded.payload {
                        DecodedPayload::RecordBatch(batch) => Some(Ok(batch)),
                        DecodedPayload::None | DecodedPayload::Schema(_) => None,
                    },
                    Err(e) => Some(Err(flight_status(e))),
                }
            })
            .boxed();
        Ok(Opened { schema, batches })
    }
}

fn flight_status(e: FlightError) -> Status {
    match e {
        FlightError::Tonic(status) => *status,
        other => Status::internal(other.to_string()),
    }
}

/// A split stream, opened: its schema, then its batches.
pub struct Opened<E> {
    /// The stream's schema.
    pub schema: SchemaRef,
    /// The batches.
    pub batches: BoxStream<'static, Result<RecordBatch, E>>,
}

/// What a failover read passes on: the schema (once, first), then batches.
#[derive(Debug)]
pub enum Event<T> {
    /// The schema of the first source that opened.
    Schema(SchemaRef),
    /// A batch, after the reader's own preparation.
    Batch(T),
}

/// The errors of a failover read.
pub trait ReadError: fmt::Display + Sized {
    /// Would another source answer differently?
    fn retryable(&self) -> bool;
    /// An unexpected state, such as a source whose batches do not fit the schema.
    fn internal(message: String) -> Self;
    /// This error, from the last source tried, after the `earlier` ones
    /// failed (`"where: why"` each).
    fn after_failover(self, _earlier: &[String]) -> Self {
        self
    }
}

impl ReadError for Status {
    fn retryable(&self) -> bool {
        crate::headers::is_retryable(self.code())
    }

    fn internal(message: String) -> Self {
        Status::new(Code::Internal, message)
    }
}

/// Reads one split from `sources` in order until one finishes, sending the
/// schema and then every row exactly once to `tx` (see the module docs).
/// `open` starts a source; `prepare` turns each batch, already under the
/// first source's schema, into what the reader sends on; `on_failover` is told
/// (in words) when a source failed and the next is tried. Returns when done,
/// when an error was sent, or when the receiver went away. (`open` returns an
/// owned future, so that the read can run on a spawned task.)
pub async fn read_with_failover<S, E, T>(
    sources: &[S],
    mut open: impl FnMut(&S) -> BoxFuture<'static, Result<Opened<E>, E>>,
    mut prepare: impl FnMut(RecordBatch) -> Result<T, E>,
    on_failover: impl Fn(&str),
    tx: &mpsc::Sender<Result<Event<T>, E>>,
) where
    S: fmt::Display,
    E: ReadError,
{
    let mut read = Progress { schema: None, sent: 0 };
    let mut failures: Vec<String> = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let outcome = async {
            let opened = open(source).await?;
            read.relay(opened, &mut prepare, tx).await
        };
        let Err(e) = outcome.await else { return };
        match sources.get(i + 1) {
            Some(next) if e.retryable() => {
                on_failover(&format!(
                    "reading a split from {source} failed after {} rows ({e}); continuing from {next}",
                    read.sent
                ));
                failures.push(format!("{source}: {e}"));
            }
            _ => {
                let e = if failures.is_empty() { e } else { e.after_failover(&failures) };
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
    if sources.is_empty() {
        let _ = tx.send(Err(E::internal("a split needs at least one source to read from".into()))).await;
    }
}

/// How far a failover read got.
struct Progress {
    /// The first source's schema, once one opened.
    schema: Option<SchemaRef>,
    /// Rows passed on so far.
    sent: usize,
}

impl Progress {
    /// Passes on the rows of one source after those already sent. `Ok`: the
    /// source finished, or the receiver went away.
    async fn relay<E: ReadError, T>(
        &mut self,
        opened: Opened<E>,
        prepare: &mut impl FnMut(RecordBatch) -> Result<T, E>,
        tx: &mpsc::Sender<Result<Event<T>, E>>,
    ) -> Result<(), E> {
        let schema = match &self.schema {
            Some(schema) => schema.clone(),
            None => {
                self.schema = Some(opened.schema.clone());
                if tx.send(Ok(Event::Schema(opened.schema.clone()))).await.is_err() {
                    return Ok(());
                }
                opened.schema
            }
        };
        let (skip, mut seen) = (self.sent, 0usize);
        let mut batches = opened.batches;
        while let Some(batch) = batches.next().await {
            let batch = batch?;
            let (start, rows) = (seen, batch.num_rows());
            seen += rows;
            if seen <= skip {
                continue; // passed on before the failover
            }
            let from = skip.saturating_sub(start);
            let batch = if from > 0 { batch.slice(from, rows - from) } else { batch };
            // Another source's batches carry its schema (metadata may differ); hand on the first's.
            let batch = if *batch.schema_ref() == schema {
                batch
            } else {
                let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
                RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &options)
                    .map_err(|e| E::internal(format!("a source's batches do not fit the first source's schema: {e}")))?
            };
            let rows = batch.num_rows();
            let item = prepare(batch)?;
            self.sent += rows;
            if tx.send(Ok(Event::Batch(item))).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int32Array;
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch(values: &[i32]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int32Array::from(values.to_vec()))]).unwrap()
    }

    /// A source that yields `batches` and then fails with `fail`, if any.
    struct Source {
        name: &'static str,
        batches: Vec<RecordBatch>,
        fail: Option<Status>,
    }

    impl fmt::Display for Source {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.name)
        }
    }

    async fn read(sources: &[Source]) -> (Vec<i32>, Option<Status>) {
        let (tx, mut rx) = mpsc::channel(16);
        let open = |s: &Source| -> BoxFuture<'static, Result<Opened<Status>, Status>> {
            let mut items: Vec<Result<RecordBatch, Status>> = s.batches.iter().cloned().map(Ok).collect();
            items.extend(s.fail.clone().map(Err));
            let opened = Opened { schema: batch(&[]).schema(), batches: futures::stream::iter(items).boxed() };
            Box::pin(async move { Ok(opened) })
        };
        read_with_failover(sources, open, Ok, |_| {}, &tx).await;
        drop(tx);
        let (mut values, mut error) = (vec![], None);
        while let Some(item) = rx.recv().await {
            match item {
                Ok(Event::Batch(b)) => {
                    values.extend(b.column(0).as_any().downcast_ref::<Int32Array>().unwrap().values().iter().copied())
                }
                Ok(Event::Schema(_)) => {}
                Err(e) => error = Some(e),
            }
        }
        (values, error)
    }

    #[tokio::test]
    async fn a_failed_source_is_replaced_and_no_row_repeats() {
        let all = vec![batch(&[1, 2, 3]), batch(&[4, 5])];
        let sources = [
            Source { name: "a", batches: vec![batch(&[1, 2, 3])], fail: Some(Status::unavailable("gone")) },
            Source { name: "b", batches: vec![batch(&[1, 2]), batch(&[3, 4])], fail: Some(Status::internal("boom")) },
            Source { name: "c", batches: all, fail: None },
        ];
        let (values, error) = read(&sources).await;
        assert_eq!(values, vec![1, 2, 3, 4, 5]);
        assert!(error.is_none(), "{error:?}");
    }

    #[tokio::test]
    async fn a_final_error_is_not_retried() {
        let sources = [
            Source { name: "a", batches: vec![batch(&[1])], fail: Some(Status::not_found("no table")) },
            Source { name: "b", batches: vec![batch(&[1, 2])], fail: None },
        ];
        let (values, error) = read(&sources).await;
        assert_eq!(values, vec![1]);
        assert_eq!(error.unwrap().code(), Code::NotFound);
    }

    #[tokio::test]
    async fn the_last_source_error_is_reported() {
        let sources = [
            Source { name: "a", batches: vec![], fail: Some(Status::unavailable("a down")) },
            Source { name: "b", batches: vec![], fail: Some(Status::unavailable("b down")) },
        ];
        let (_, error) = read(&sources).await;
        assert_eq!(error.unwrap().message(), "b down");
    }
}
