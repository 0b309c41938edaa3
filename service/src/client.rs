//! The command-line clients (`query`, `stats`, `invalidate`, `warm`,
//! `cluster status`): thin Flight clients of a running node.

use arrow::array::RecordBatch;
use arrow_flight::{Action, FlightClient, Ticket};
use futures::TryStreamExt;
use serde_json::Value;
use tonic::transport::Channel;

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

pub async fn connect(addr: &str) -> Result<FlightClient> {
    let url = endpoint(addr);
    let channel = Channel::from_shared(url.clone())
        .map_err(|e| CacheError::invalid(format!("`{addr}` is not a node address (host:port): {e}")))?
        .connect()
        .await
        .map_err(|e| {
            CacheError::unavailable(format!("cannot reach an arrow-cache node at {addr} (is `arrow-cache serve` running there?)"), e)
        })?;
    Ok(FlightClient::new(channel))
}

fn from_flight(e: arrow_flight::error::FlightError) -> CacheError {
    match e {
        arrow_flight::error::FlightError::Tonic(status) => match status.code() {
            tonic::Code::InvalidArgument => CacheError::invalid(status.message()),
            tonic::Code::NotFound => CacheError::not_found(status.message()),
            tonic::Code::Unavailable => CacheError::unavailable("node", status.message()),
            _ => CacheError::internal(status.message()),
        },
        other => CacheError::internal(other.to_string()),
    }
}

/// Runs SQL on the node and returns the batches.
pub async fn query(addr: &str, sql: &str) -> Result<Vec<RecordBatch>> {
    let mut client = connect(addr).await?;
    let stream = client.do_get(Ticket::new(sql.to_string())).await.map_err(from_flight)?;
    stream.try_collect().await.map_err(from_flight)
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

/// Runs a `DoAction` and returns its JSON result.
pub async fn action(addr: &str, name: &str, body: Value) -> Result<Value> {
    let mut client = connect(addr).await?;
    let action = Action::new(name, serde_json::to_vec(&body).map_err(|e| CacheError::internal(e.to_string()))?);
    let results: Vec<_> = client.do_action(action).await.map_err(from_flight)?.try_collect().await.map_err(from_flight)?;
    let first = results.first().ok_or_else(|| CacheError::internal(format!("`{name}` returned nothing")))?;
    serde_json::from_slice(first).map_err(|e| CacheError::internal(format!("`{name}` returned invalid JSON: {e}")))
}
