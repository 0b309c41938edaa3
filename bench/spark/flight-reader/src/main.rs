//! The Rust Flight client baseline of bench/spark: reads one split of a scan (its endpoint
//! ticket) from a node with arrow-flight's client and prints one JSON line per timed read:
//!
//! ```text
//! spark-bench-flight-reader --location grpc+tcp://127.0.0.1:8815 --ticket-base64 <b64> [--reps 3] [--warmup 1]
//! {"ms": 412.3, "rows": 1974147, "batches": 16, "ipc_bytes": 146213680}
//! ```
//!
//! Connected like the JNI bridge connects (one HTTP/2 channel with TCP_NODELAY, a Tokio
//! runtime with two workers, messages up to 1 GiB), and decoded into `RecordBatch`es the way
//! any Rust client decodes them (`FlightRecordBatchStream`). The connection is made once, before
//! the untimed warm-up reads, as the bridge's pooled channel is already open when Spark reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arrow_flight::Ticket;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use base64::Engine as _;
use futures::{StreamExt, TryStreamExt};
use tonic::transport::{Channel, Endpoint};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The bridge's `runtime::MAX_MESSAGE_SIZE` and `WORKER_THREADS`.
const MAX_MESSAGE_SIZE: usize = 1 << 30;
const WORKER_THREADS: usize = 2;

struct Args {
    location: String,
    ticket: Vec<u8>,
    reps: usize,
    warmup: usize,
}

fn parse_args() -> Res<Args> {
    let mut location = None;
    let mut ticket = None;
    let (mut reps, mut warmup) = (3, 1);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--location" => location = Some(value()?),
            "--ticket-base64" => ticket = Some(base64::engine::general_purpose::STANDARD.decode(value()?.trim())?),
            "--reps" => reps = value()?.parse()?,
            "--warmup" => warmup = value()?.parse()?,
            other => return Err(format!("unknown argument `{other}`; expected --location, --ticket-base64, --reps, --warmup").into()),
        }
    }
    Ok(Args {
        location: location.ok_or("--location grpc+tcp://host:port is required")?,
        ticket: ticket.ok_or("--ticket-base64 is required")?,
        reps,
        warmup,
    })
}

/// `grpc+tcp://host:port` (what a FlightEndpoint's location says) as an http:// URI for tonic.
fn endpoint_uri(location: &str) -> String {
    let rest = location.split_once("://").map_or(location, |(_, r)| r);
    format!("http://{}", rest.trim_end_matches('/'))
}

struct Read {
    ms: f64,
    rows: usize,
    batches: usize,
    ipc_bytes: u64,
}

async fn read_split(channel: &Channel, ticket: &[u8]) -> Res<Read> {
    let start = Instant::now();
    let mut client = FlightServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_SIZE);
    let bytes = Arc::new(AtomicU64::new(0));
    let counted = bytes.clone();
    let data = client
        .do_get(Ticket::new(ticket.to_vec()))
        .await?
        .into_inner()
        .map_err(|s| FlightError::Tonic(Box::new(s)))
        .inspect_ok(move |d| {
            counted.fetch_add((d.data_header.len() + d.data_body.len()) as u64, Ordering::Relaxed);
        });
    let mut stream = FlightRecordBatchStream::new_from_flight_data(data);
    let (mut rows, mut batches) = (0, 0);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows();
        batches += 1;
    }
    Ok(Read { ms: start.elapsed().as_secs_f64() * 1e3, rows, batches, ipc_bytes: bytes.load(Ordering::Relaxed) })
}

fn main() -> Res<()> {
    let args = parse_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(WORKER_THREADS).enable_all().build()?;
    runtime.block_on(async {
        let channel = Endpoint::from_shared(endpoint_uri(&args.location))?.tcp_nodelay(true).connect().await?;
        for _ in 0..args.warmup {
            read_split(&channel, &args.ticket).await?;
        }
        for _ in 0..args.reps {
            let r = read_split(&channel, &args.ticket).await?;
            println!(
                "{{\"ms\": {:.3}, \"rows\": {}, \"batches\": {}, \"ipc_bytes\": {}}}",
                r.ms, r.rows, r.batches, r.ipc_bytes
            );
        }
        Ok(())
    })
}
