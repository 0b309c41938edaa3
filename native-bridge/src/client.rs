//! The control-plane client behind a JNI client handle: connecting, planning
//! scans and the cache operations, plus the pure helpers that shape their
//! answers as the JSON the connectors read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arrow::datatypes::Schema;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tonic::transport::Channel;

use arrow_cache_protocol::action::TableOp;
use arrow_cache_protocol::address::{DEFAULT_CONTROL_PORT, location_host, parse_cluster};
use arrow_cache_protocol::control::control_plane_client::ControlPlaneClient;
use arrow_cache_protocol::control::{self as proto, ListTablesRequest, PlanScanRequest, StatusRequest, TableRequest};
use arrow_cache_protocol::status::StatusReport;

use crate::error::{BridgeError, Result};
use crate::runtime;

/// The timeout of `connect` when Java passes 0 or less.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Deadline of control-plane calls other than `warm` (which loads data and
/// may take as long as it takes).
const CALL_TIMEOUT: Duration = Duration::from_secs(300);

/// A connection to a cluster's control plane: the addresses it was given
/// (any node answers any request) and the one that answered last.
#[derive(Debug)]
pub struct Client {
    addrs: Vec<String>,
    preferred: AtomicUsize,
}

/// A table operation of the control plane, by the name `NativeBridge.call` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ClusterStatus,
    /// `{"namespace": "ns"}` (optional) -> `{"tables": ["ns.tbl", ...]}`.
    ListTables,
    TableStats,
    Invalidate,
    Refresh,
    Warm,
}

impl Op {
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "cluster_status" => Op::ClusterStatus,
            "list_tables" => Op::ListTables,
            "table_stats" => Op::TableStats,
            "invalidate" => Op::Invalidate,
            "refresh" => Op::Refresh,
            "warm" => Op::Warm,
            other => {
                return Err(BridgeError::invalid(format!(
                    "unknown operation `{other}`: expected cluster_status, list_tables, table_stats, invalidate, refresh or warm"
                )));
            }
        })
    }
}

impl Client {
    /// Connects to the first address of `cluster` (`host:port[,host:port...]`)
    /// whose control plane answers within `timeout`.
    pub fn connect(cluster: &str, timeout: Duration) -> Result<Self> {
        let addrs = parse_cluster(cluster)?;
        let mut failures = Vec::new();
        // A new channel spawns its worker on the bridge's runtime.
        let _runtime = runtime::runtime().enter();
        for (i, addr) in addrs.iter().enumerate() {
            let mut control = runtime::channels().control(addr)?;
            // The timer must be made inside the runtime, hence the async block.
            let probe =
                async { tokio::time::timeout(timeout, control.status(StatusRequest { local_only: true })).await };
            match runtime::runtime().block_on(probe) {
                Ok(Ok(_)) => return Ok(Self { addrs, preferred: AtomicUsize::new(i) }),
                Ok(Err(status)) => failures.push(BridgeError::from_status(addr, &status).message),
                Err(_) => failures.push(format!("{addr}: no answer within {} ms", timeout.as_millis())),
            }
        }
        Err(BridgeError::unavailable(format!(
            "cannot reach the arrow-cache cluster at `{cluster}` ({}); check the address (the control plane, port {DEFAULT_CONTROL_PORT} by default) and that a node is running",
            failures.join("; ")
        )))
    }

    #[cfg(test)]
    pub(crate) fn for_tests(addrs: Vec<String>) -> Self {
        Self { addrs, preferred: AtomicUsize::new(0) }
    }

    /// Runs `call` against the preferred node and, while nodes are
    /// unreachable, against the others in turn.
    async fn with_control<T>(
        &self,
        what: &str,
        call: impl AsyncFn(ControlPlaneClient<Channel>) -> std::result::Result<tonic::Response<T>, tonic::Status>,
    ) -> Result<T> {
        let start = self.preferred.load(Ordering::Relaxed);
        let mut last = None;
        for k in 0..self.addrs.len() {
            let i = (start + k) % self.addrs.len();
            let addr = &self.addrs[i];
            match call(runtime::channels().control(addr)?).await {
                Ok(reply) => {
                    self.preferred.store(i, Ordering::Relaxed);
                    return Ok(reply.into_inner());
                }
                Err(status) => {
                    let error = BridgeError::from_status(&format!("{what} at {addr}"), &status);
                    // Only an unreachable node is worth asking another about.
                    if error.code != tonic::Code::Unavailable {
                        return Err(error);
                    }
                    last = Some(error);
                }
            }
        }
        Err(last.unwrap_or_else(|| BridgeError::unavailable(format!("{what}: no node to ask"))))
    }

    /// Plans a scan: its output schema and the plan as JSON (see [`plan_json`]).
    pub fn plan(&self, request_json: String) -> Result<(Schema, String)> {
        let plan = runtime::runtime().block_on(self.with_control("planning the scan", async |mut c| {
            let mut request = tonic::Request::new(PlanScanRequest { scan_request_json: request_json.clone() });
            request.set_timeout(CALL_TIMEOUT);
            c.plan_scan(request).await
        }))?;
        let schema = arrow::ipc::convert::try_schema_from_ipc_buffer(&plan.arrow_schema)
            .map_err(|e| BridgeError::internal(format!("the node sent a schema that does not decode: {e}")))?;
        Ok((schema, plan_json(&plan).to_string()))
    }

    /// Runs a control-plane operation; see `NativeBridge.call`.
    pub fn call(&self, op: Op, args: &str) -> Result<String> {
        let rt = runtime::runtime();
        if op == Op::ClusterStatus {
            let status = rt.block_on(self.with_control("asking for the cluster status", async |mut c| {
                let mut request = tonic::Request::new(StatusRequest { local_only: false });
                request.set_timeout(CALL_TIMEOUT);
                c.status(request).await
            }))?;
            return Ok(StatusReport::from(&status).to_json().to_string());
        }
        if op == Op::ListTables {
            let namespace = serde_json::from_str::<Value>(if args.trim().is_empty() { "{}" } else { args })
                .map_err(|e| BridgeError::invalid(format!("list_tables arguments are not JSON: {e}")))?
                .get("namespace")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_string();
            let list = rt.block_on(self.with_control("listing tables", async |mut c| {
                let mut request = tonic::Request::new(ListTablesRequest { namespace: namespace.clone() });
                request.set_timeout(CALL_TIMEOUT);
                c.list_tables(request).await
            }))?;
            return Ok(json!({ "tables": list.tables }).to_string());
        }
        let table_request = table_request(args)?;
        let what = format!("{} of `{}`", op_name(op), table_request.table);
        let results = rt.block_on(self.with_control(&what, async |mut c| {
            let mut request = tonic::Request::new(table_request.clone());
            if op != Op::Warm {
                request.set_timeout(CALL_TIMEOUT);
            }
            match op {
                Op::TableStats => c.table_stats(request).await,
                Op::Invalidate => c.invalidate(request).await,
                Op::Refresh => c.refresh(request).await,
                Op::Warm => c.warm(request).await,
                Op::ClusterStatus | Op::ListTables => unreachable!("handled above"),
            }
        }))?;
        Ok(results.merged_json)
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::ClusterStatus => arrow_cache_protocol::action::CLUSTER_STATUS,
        Op::ListTables => "list_tables",
        Op::TableStats => TableOp::Stats.name(),
        Op::Invalidate => TableOp::Invalidate.name(),
        Op::Refresh => TableOp::Refresh.name(),
        Op::Warm => TableOp::Warm.name(),
    }
}

/// The plan as `NativeBridge.plan` returns it.
pub fn plan_json(plan: &proto::ScanPlan) -> Value {
    let splits: Vec<Value> = plan
        .splits
        .iter()
        .map(|s| {
            let owners: Vec<Value> = s
                .owners
                .iter()
                .map(|m| json!({"node_id": m.node_id, "flight": m.flight, "host": location_host(&m.flight)}))
                .collect();
            json!({"ticket": BASE64.encode(&s.ticket), "owners": owners, "bytes": s.bytes, "rows": s.rows})
        })
        .collect();
    json!({
        "snapshot_id": plan.snapshot_id,
        "total_rows": plan.total_rows,
        "total_bytes": plan.total_bytes,
        "splits": splits,
    })
}

/// The `TableRequest` of a `{"table":..,"partition":..,"columns":[..]}`
/// argument. `partition` is `k=v[,k=v]` or an object `{"k": v, ...}`.
pub fn table_request(args: &str) -> Result<TableRequest> {
    let value: Value = serde_json::from_str(args)
        .map_err(|e| BridgeError::invalid(format!("the operation's argument is not JSON ({e}): {args}")))?;
    let obj = value.as_object().ok_or_else(|| {
        BridgeError::invalid(format!("expected a JSON object like {{\"table\": \"ns.tbl\"}}, got {args}"))
    })?;
    let table = match obj.get("table") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        _ => return Err(BridgeError::invalid(format!("`table` (\"ns.tbl\") is missing in {args}"))),
    };
    let partition = match obj.get("partition") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(Value::Object(kv)) => Some(
            kv.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(other) => {
            return Err(BridgeError::invalid(format!("`partition` must be \"k=v[,k=v]\" or an object, got {other}")));
        }
    };
    let columns = match obj.get("columns") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(cols)) => cols
            .iter()
            .map(|c| {
                c.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| BridgeError::invalid(format!("`columns` must be strings, got {c}")))
            })
            .collect::<Result<_>>()?,
        Some(other) => return Err(BridgeError::invalid(format!("`columns` must be an array of names, got {other}"))),
    };
    Ok(TableRequest { table, partition, columns, local_only: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_cache_protocol::control::{Member, PlannedSplit, ScanPlan};

    #[test]
    fn connecting_to_nothing_is_unavailable_and_says_why() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let start = std::time::Instant::now();
        let e = Client::connect(&format!("127.0.0.1:{port}"), Duration::from_secs(2)).unwrap_err();
        assert_eq!(e.code_name(), "UNAVAILABLE");
        assert!(e.message.contains(&format!("127.0.0.1:{port}")) && e.message.contains("refused"), "{}", e.message);
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn plan_as_json() {
        let member =
            |id: &str, flight: &str| Member { node_id: id.into(), flight: flight.into(), control: String::new() };
        let plan = ScanPlan {
            arrow_schema: vec![],
            splits: vec![
                PlannedSplit {
                    ticket: b"t1".to_vec(),
                    owners: vec![member("n1", "grpc+tcp://h1:8815"), member("n2", "grpc+tcp://h2:8815")],
                    bytes: 10,
                    rows: 5,
                },
                PlannedSplit { ticket: vec![0, 255], owners: vec![], bytes: 0, rows: -1 },
            ],
            total_rows: -1,
            total_bytes: 10,
            snapshot_id: Some(42),
        };
        let expected = json!({
            "snapshot_id": 42, "total_rows": -1, "total_bytes": 10,
            "splits": [
                {"ticket": "dDE=", "bytes": 10, "rows": 5, "owners": [
                    {"node_id": "n1", "flight": "grpc+tcp://h1:8815", "host": "h1"},
                    {"node_id": "n2", "flight": "grpc+tcp://h2:8815", "host": "h2"}]},
                {"ticket": "AP8=", "bytes": 0, "rows": -1, "owners": []},
            ]
        });
        assert_eq!(plan_json(&plan), expected);
        let no_snapshot = ScanPlan { snapshot_id: None, ..Default::default() };
        assert_eq!(
            plan_json(&no_snapshot),
            json!({"snapshot_id": null, "total_rows": 0, "total_bytes": 0, "splits": []})
        );
    }

    #[test]
    fn table_requests() {
        let r = table_request(r#"{"table":"demo.t","partition":"m=1,r=EU","columns":["a","b"]}"#).unwrap();
        assert_eq!(
            (r.table.as_str(), r.partition.as_deref(), r.columns.len(), r.local_only),
            ("demo.t", Some("m=1,r=EU"), 2, false)
        );
        let r = table_request(r#"{"table":"demo.t","partition":{"m":1,"r":"EU"}}"#).unwrap();
        assert_eq!(r.partition.as_deref(), Some("m=1,r=EU"));
        assert!(table_request(r#"{"table":"demo.t","partition":null,"columns":null}"#).unwrap().partition.is_none());
        for bad in
            ["", "[]", "{}", r#"{"table":""}"#, r#"{"table":"t","columns":[1]}"#, r#"{"table":"t","partition":3}"#]
        {
            assert_eq!(table_request(bad).unwrap_err().code_name(), "INVALID_ARGUMENT", "{bad}");
        }
        assert_eq!(Op::parse("warm").unwrap(), Op::Warm);
        assert_eq!(Op::parse("sql").unwrap_err().code_name(), "INVALID_ARGUMENT");
    }
}
