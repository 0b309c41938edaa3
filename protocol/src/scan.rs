//! Scans: the request a client sends (`GetFlightInfo` command), the snapshot
//! it selects, the splits a node plans, the self-contained ticket of each
//! split (`DoGet`), and what a scan's `FlightInfo` reports.
//!
//! A ticket carries everything needed to read its split (snapshot, schema,
//! columns, filter, the split's files and delete files), so any node can serve
//! it without remembering the plan, and a reader can retry it on another owner.

use serde::{Deserialize, Serialize};

use crate::InvalidRequest;

/// A client's scan request (the `GetFlightInfo` command of the contract).
///
/// ```
/// # use arrow_cache_protocol::scan::ScanRequest;
/// let r: ScanRequest = serde_json::from_str(r#"{"table": "ns.t", "columns": ["a"], "limit": 10}"#).unwrap();
/// assert_eq!(r.limit, Some(10));
/// assert!(serde_json::from_str::<ScanRequest>(r#"{"table": "ns.t", "colums": ["a"]}"#).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// `namespace.table`.
    pub table: String,
    /// Only these columns, in this order; `None`: every column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// An Iceberg REST expression (`{"type": "eq", "term": "a", "value": 1}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<serde_json::Value>,
    /// Read this snapshot, with the schema it was written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<i64>,
    /// Read the snapshot that was current at this time (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_timestamp_ms: Option<i64>,
    /// The head of this branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The snapshot this tag names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// At most this many rows in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

impl ScanRequest {
    /// The snapshot the request selects; at most one selector may be given.
    pub fn snapshot(&self) -> Result<SnapshotSelector, InvalidRequest> {
        let mut given = vec![];
        if let Some(id) = self.snapshot_id {
            given.push(("snapshot_id", SnapshotSelector::Id(id)));
        }
        if let Some(ts) = self.as_of_timestamp_ms {
            given.push(("as_of_timestamp_ms", SnapshotSelector::AsOf(ts)));
        }
        if let Some(b) = &self.branch {
            given.push(("branch", SnapshotSelector::Branch(b.clone())));
        }
        if let Some(t) = &self.tag {
            given.push(("tag", SnapshotSelector::Tag(t.clone())));
        }
        match given.len() {
            0 => Ok(SnapshotSelector::Current),
            1 => Ok(given.remove(0).1),
            _ => {
                let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
                Err(InvalidRequest(format!(
                    "give one of snapshot_id, as_of_timestamp_ms, branch and tag, not {}",
                    names.join(" and ")
                )))
            }
        }
    }
}

/// Which snapshot of a table a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotSelector {
    /// The table's current snapshot.
    Current,
    /// A snapshot by id.
    Id(i64),
    /// The snapshot that was current at this time (milliseconds since the epoch).
    AsOf(i64),
    /// The head of a branch (`main` is the current snapshot).
    Branch(String),
    /// The snapshot a tag names.
    Tag(String),
}

impl SnapshotSelector {
    /// Whether a read sees the table's current schema rather than the one its
    /// snapshot was written with. As in Iceberg's Spark reads: the current
    /// state and branch heads use the table's schema (so a column added since
    /// the last commit shows, as nulls); a snapshot id, a time or a tag reads
    /// the table as it was.
    pub fn reads_current_schema(&self) -> bool {
        matches!(self, SnapshotSelector::Current | SnapshotSelector::Branch(_))
    }
}

/// What one stream reads: parts of one or more data files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    /// The parts, read in this order.
    pub parts: Vec<FilePart>,
}

impl Split {
    /// Parquet bytes the split covers.
    pub fn bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }

    /// Rows before filters, when every part knows its count.
    pub fn rows(&self) -> Option<u64> {
        self.parts.iter().map(|p| p.rows).sum()
    }
}

/// A data file, or a range of its row groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePart {
    /// The file's location (`s3://…`, `gs://…`, `abfss://…`, `file://…`).
    pub path: String,
    /// The whole file's size in bytes (saves a HEAD request).
    pub file_size: u64,
    /// Parquet bytes this part covers.
    pub bytes: u64,
    /// Rows this part covers, if known.
    pub rows: Option<u64>,
    /// The Iceberg partition as a path, `k=v/k2=v2`; empty when unpartitioned.
    pub partition: String,
    /// `[first, end)` row groups; `None` means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_groups: Option<(usize, usize)>,
    /// The delete files that apply to this data file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deletes: Vec<DeleteFile>,
}

/// A delete file that applies to a data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteFile {
    /// The file's location.
    pub path: String,
    /// Its size in bytes.
    pub file_size: u64,
    /// Set for equality deletes: the field ids that identify deleted rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equality_ids: Option<Vec<i32>>,
}

/// The `DoGet` ticket of one split of a scan: opaque to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanTicket {
    /// `namespace.table`.
    pub table: String,
    /// The snapshot planned; `None`: the table had no snapshot (no rows).
    pub snapshot_id: Option<i64>,
    /// The schema the plan read the table with (it may be newer than the snapshot's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<i32>,
    /// The output columns, in order.
    pub columns: Vec<String>,
    /// An Iceberg REST expression (scan requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<serde_json::Value>,
    /// DataFusion filters pushed into a SQL scan, as base64 datafusion-proto:
    /// lossless, so the node that reads applies exactly what SQL meant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_filter: Option<String>,
    /// At most this many rows.
    #[serde(default)]
    pub limit: Option<usize>,
    /// What to read.
    pub split: Split,
}

impl ScanTicket {
    /// The ticket's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a scan ticket is plain JSON")
    }
}

/// The `DoGet` ticket that asks a node to run a plan fragment over splits it
/// owns (a partial aggregate over a split scan); opaque to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FragmentTicket {
    /// The fragment as base64 datafusion-proto.
    pub fragment: String,
}

impl FragmentTicket {
    /// The ticket's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a fragment ticket is plain JSON")
    }
}

/// What a scan's `FlightInfo.app_metadata` reports: the snapshot and schema
/// read, so a client can check the answer or read the same state again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanMetadata {
    /// `None` for a table without snapshots.
    pub snapshot_id: Option<i64>,
    /// The Iceberg schema id read.
    pub schema_id: i32,
}

/// The Flight SQL messages' type URL prefix (a protobuf `Any`).
const FLIGHT_SQL_TYPE_PREFIX: &str = "type.googleapis.com/arrow.flight.protocol.sql.";

/// What a `DoGet` ticket or a `GetFlightInfo` command holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A Flight SQL message (a protobuf `Any`).
    FlightSql,
    /// JSON: a scan request, a scan ticket or a fragment ticket.
    Json,
    /// SQL text.
    Sql(String),
}

impl Command {
    /// Tells what `bytes` are.
    ///
    /// ```
    /// # use arrow_cache_protocol::scan::Command;
    /// assert_eq!(Command::classify(b" SELECT 1").unwrap(), Command::Sql("SELECT 1".into()));
    /// assert_eq!(Command::classify(br#"{"table": "a.b"}"#).unwrap(), Command::Json);
    /// assert!(Command::classify(b"  ").is_err());
    /// ```
    pub fn classify(bytes: &[u8]) -> Result<Self, InvalidRequest> {
        use prost::Message;
        if let Ok(any) = arrow_flight::sql::Any::decode(bytes)
            && any.type_url.starts_with(FLIGHT_SQL_TYPE_PREFIX)
        {
            return Ok(Command::FlightSql);
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| InvalidRequest("the ticket is neither UTF-8 SQL, JSON nor a Flight SQL command".into()))?
            .trim_start();
        if text.starts_with('{') {
            Ok(Command::Json)
        } else if text.is_empty() {
            Err(InvalidRequest("empty ticket: send SQL text or a scan request".into()))
        } else {
            Ok(Command::Sql(text.to_string()))
        }
    }
}
