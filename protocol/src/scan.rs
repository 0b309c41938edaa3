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
    /// At most this many rows in all (after `aggregate` and `order_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Aggregate the rows (per split in `partial` mode, over the whole scan in `final` mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    /// Sort the rows (with `limit`: the top N); applies after `aggregate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<SortKey>>,
    /// A hint: cut the scan into at least this many splits when it can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_splits: Option<usize>,
}

/// A column of the table: its name, or `{"type": "reference", "term": name}`
/// as in the Iceberg REST expressions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Term {
    /// The column's name.
    Name(String),
    /// `{"type": "reference", "term": name}`.
    Reference(Reference),
}

/// `{"type": "reference", "term": name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Always `reference`.
    #[serde(rename = "type")]
    pub kind: ReferenceType,
    /// The column's name.
    pub term: String,
}

/// The only type of a [`Reference`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferenceType {
    /// `reference`.
    Reference,
}

impl Term {
    /// The column's name.
    pub fn column(&self) -> &str {
        match self {
            Term::Name(name) => name,
            Term::Reference(r) => &r.term,
        }
    }
}

/// An aggregation pushed to the cache. Result columns: the `group_by` terms,
/// then one per function in order (in `partial` mode `avg` is two columns,
/// its sum and its count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    /// Group by these columns (none: one row).
    #[serde(default)]
    pub group_by: Vec<Term>,
    /// The aggregate functions, at least one.
    pub functions: Vec<AggregateFunction>,
    /// Per split (`partial`) or merged over the scan (`final`).
    pub mode: AggregateMode,
}

/// One aggregate function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateFunction {
    /// Which function.
    #[serde(rename = "fn")]
    pub function: AggregateFn,
    /// Its argument; none for `count_star`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<Term>,
}

/// The aggregate functions a scan request can push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFn {
    /// `count(*)`: rows.
    CountStar,
    /// Non-null values.
    Count,
    /// Sum of non-null values (null when there are none).
    Sum,
    /// Smallest non-null value.
    Min,
    /// Largest non-null value.
    Max,
    /// Mean of non-null values (in `partial` mode: their sum and count).
    Avg,
}

/// Where an [`Aggregate`] is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateMode {
    /// Each split's endpoint returns that split's aggregate; the client merges.
    Partial,
    /// The cluster merges the splits' partial aggregates; one endpoint.
    Final,
}

/// One key of an `order_by`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SortKey {
    /// A column of the output (a group-by term, or a column of the scan).
    pub term: Term,
    /// `asc` (default) or `desc`.
    #[serde(default)]
    pub direction: Direction,
    /// Where nulls go; default: `first` ascending, `last` descending (as Spark and Trino do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nulls: Option<NullOrder>,
}

impl SortKey {
    /// Whether nulls sort first.
    pub fn nulls_first(&self) -> bool {
        match self.nulls {
            Some(n) => n == NullOrder::First,
            None => self.direction == Direction::Asc,
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// Where nulls sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NullOrder {
    /// Before every value.
    First,
    /// After every value.
    Last,
}

impl ScanRequest {
    /// Checks what serde cannot: functions given, `count_star` without a
    /// term and the others with one, `target_splits` > 0, `order_by` not empty.
    pub fn check(&self) -> Result<(), InvalidRequest> {
        if let Some(aggregate) = &self.aggregate {
            if aggregate.functions.is_empty() {
                return Err(InvalidRequest("aggregate.functions: give at least one function".into()));
            }
            for (i, f) in aggregate.functions.iter().enumerate() {
                match (f.function, &f.term) {
                    (AggregateFn::CountStar, Some(_)) => {
                        return Err(InvalidRequest(format!("aggregate.functions[{i}]: count_star takes no term")));
                    }
                    (AggregateFn::CountStar, None) | (_, Some(_)) => {}
                    (other, None) => {
                        let name = serde_json::to_value(other).unwrap_or_default();
                        let name = name.as_str().unwrap_or_default();
                        return Err(InvalidRequest(format!("aggregate.functions[{i}]: {name} needs a term")));
                    }
                }
            }
        }
        if self.order_by.as_ref().is_some_and(Vec::is_empty) {
            return Err(InvalidRequest("order_by: give at least one key, or leave it out".into()));
        }
        if self.target_splits == Some(0) {
            return Err(InvalidRequest("target_splits: must be at least 1".into()));
        }
        self.snapshot().map(|_| ())
    }

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
    /// This split's aggregate (`partial` mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
    /// This split's order (with `limit`: its top N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<SortKey>>,
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
/// read, so a client can check the answer or read the same state again, and
/// what the cache applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanMetadata {
    /// `None` for a table without snapshots.
    pub snapshot_id: Option<i64>,
    /// The Iceberg schema id read.
    pub schema_id: i32,
    /// What of the request the cache applied (absent: filter, columns and limit only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed: Option<Pushed>,
}

/// The parts of a scan request beyond filters and projections that the cache applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pushed {
    /// The aggregate's mode, if one was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<AggregateMode>,
    /// Whether the rows are sorted by `order_by` (per endpoint, or in all for `final`).
    #[serde(default)]
    pub order_by: bool,
    /// Whether `limit` was applied per endpoint (`partial`) or in all.
    #[serde(default)]
    pub limit: bool,
    /// The number of splits the scan was cut into.
    pub splits: usize,
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
