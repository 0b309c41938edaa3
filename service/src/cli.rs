//! The command-line clients (`query`, `stats`, `invalidate`, `warm`,
//! `cluster status`): thin clients of a running node's control plane
//! (`--cluster host:8816`); `query` then reads over that node's Flight port.

use arrow::array::RecordBatch;
use arrow_flight::{FlightClient, Ticket};
use futures::TryStreamExt;
use serde_json::Value;
use tonic::transport::Channel;

use arrow_cache_protocol::action::{TableAction, TableOp};
use arrow_cache_protocol::address::flight_addr;
use arrow_cache_protocol::client::MAX_MESSAGE_SIZE;
use arrow_cache_protocol::control::StatusRequest;
use arrow_cache_protocol::control::control_plane_client::ControlPlaneClient;
use arrow_cache_protocol::status::StatusReport;

use crate::error::{CacheError, Result};

/// How `query` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// A Flight address from `host:port`, `grpc://host:port` or `http://host:port`.
pub fn endpoint(addr: &str) -> String {
    let rest = addr
        .strip_prefix("grpc+tcp://")
        .or_else(|| addr.strip_prefix("grpc://"))
        .or_else(|| addr.strip_prefix("http://"))
        .unwrap_or(addr);
    format!("http://{rest}")
}

/// A node's control plane, from the `--cluster` address (`host:8816`).
pub async fn connect(addr: &str) -> Result<ControlPlaneClient<Channel>> {
    let channel = Channel::from_shared(endpoint(addr))
        .map_err(|e| CacheError::invalid(format!("`{addr}` is not a node address (host:port): {e}")))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| {
            CacheError::unavailable(
                format!("cannot reach an arrow-cache control plane at {addr} (is `arrow-cache serve` running there? the default port is 8816)"),
                e,
            )
        })?;
    Ok(ControlPlaneClient::new(channel).max_decoding_message_size(MAX_MESSAGE_SIZE))
}

fn from_status(addr: &str, status: tonic::Status) -> CacheError {
    CacheError::from_status(&format!("node {addr}"), status)
}

/// Runs SQL on the node (over its Flight port, which its control plane names) and returns the batches.
pub async fn query(addr: &str, sql: &str) -> Result<Vec<RecordBatch>> {
    let status =
        connect(addr).await?.status(StatusRequest { local_only: true }).await.map_err(|s| from_status(addr, s))?;
    let flight =
        status.into_inner().members.into_iter().next().and_then(|m| m.member).map(|m| m.flight).unwrap_or_default();
    let flight_addr = flight_addr(&flight)
        .map_err(|e| CacheError::internal(format!("node {addr} names an invalid Flight address `{flight}`: {e}")))?;
    let channel = Channel::from_shared(endpoint(&flight_addr))
        .map_err(|e| CacheError::internal(format!("node {addr} names an invalid Flight address `{flight}`: {e}")))?
        .connect()
        .await
        .map_err(|e| CacheError::unavailable(format!("cannot reach the Flight service of {addr} at {flight}"), e))?;
    let mut client = FlightClient::new(channel);
    let stream = client.do_get(Ticket::new(sql.to_string())).await.map_err(|e| from_flight(addr, e))?;
    stream.try_collect().await.map_err(|e| from_flight(addr, e))
}

fn from_flight(addr: &str, e: arrow_flight::error::FlightError) -> CacheError {
    match e {
        arrow_flight::error::FlightError::Tonic(status) => from_status(addr, *status),
        other => CacheError::internal(other.to_string()),
    }
}

/// Runs a table operation on every node of the cluster; the merged answer.
pub async fn table_op(addr: &str, op: TableOp, action: TableAction) -> Result<Value> {
    let mut client = connect(addr).await?;
    let action = action.to_request(false);
    let reply = match op {
        TableOp::Stats => client.table_stats(action).await,
        TableOp::Invalidate => client.invalidate(action).await,
        TableOp::Refresh => client.refresh(action).await,
        TableOp::Warm => client.warm(action).await,
    }
    .map_err(|s| from_status(addr, s))?;
    serde_json::from_str(&reply.into_inner().merged_json)
        .map_err(|e| CacheError::internal(format!("`{}` returned invalid JSON: {e}", op.name())))
}

/// The cluster as the node at `addr` sees it.
pub async fn cluster_status(addr: &str) -> Result<Value> {
    let status =
        connect(addr).await?.status(StatusRequest { local_only: false }).await.map_err(|s| from_status(addr, s))?;
    Ok(StatusReport::from(&status.into_inner()).to_json())
}

/// Prints batches in the chosen format.
pub fn render(batches: &[RecordBatch], format: OutputFormat) -> Result<String> {
    let mut out = Vec::new();
    match format {
        OutputFormat::Table => return Ok(arrow::util::pretty::pretty_format_batches(batches)?.to_string()),
        OutputFormat::Csv => {
            let mut w = arrow::csv::WriterBuilder::new().with_header(true).build(&mut out);
            for b in batches {
                w.write(b)?;
            }
        }
        OutputFormat::Json => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
    }
    Ok(String::from_utf8_lossy(&out).trim_end().to_string())
}
