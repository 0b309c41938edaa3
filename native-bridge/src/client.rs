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

use crate::error::{BridgeError, Result};
use crate::proto::control_plane_client::ControlPlaneClient;
use crate::proto::{self, ListTablesRequest, PlanScanRequest, StatusRequest, TableRequest};
use crate::runtime::{self, MAX_MESSAGE_SIZE};

/// The control plane's default port.
pub const DEFAULT_CONTROL_PORT: u16 = 8816;

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
        for (i, addr) in addrs.iter().enumerate() {
            let mut control = control_client(runtime::channel(addr)?);
            // The timer must be made inside the runtime, hence the async block.
            let probe = async { tokio::time::timeout(timeout, control.status(StatusRequest { local_only: true })).await };
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
            match call(control_client(runtime::channel(addr)?)).await {
                Ok(reply) => {
                    self.preferred.store(i, Ordering::Relaxed);
                    return Ok(reply.into_inner());
                }
                Err(status) => {
                    let error = BridgeError::from_status(&format!("{what} at {addr}"), &status);
                    // Only an unreachable node is worth asking another about.
                    if error.code != "UNAVAILABLE" {
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
            return Ok(status_json(&status).to_string());
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
        Op::ClusterStatus => "cluster_status",
        Op::ListTables => "list_tables",
        Op::TableStats => "table_stats",
        Op::Invalidate => "invalidate",
        Op::Refresh => "refresh",
        Op::Warm => "warm",
    }
}

fn control_client(channel: Channel) -> ControlPlaneClient<Channel> {
    ControlPlaneClient::new(channel).max_decoding_message_size(MAX_MESSAGE_SIZE)
}

/// The addresses of a `cache.cluster` value: `host:port` separated by commas
/// (a missing port is 8816; `http://` or `grpc://` prefixes are accepted).
pub fn parse_cluster(cluster: &str) -> Result<Vec<String>> {
    let addrs = cluster
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| parse_addr(a, DEFAULT_CONTROL_PORT))
        .collect::<Result<Vec<_>>>()?;
    if addrs.is_empty() {
        return Err(BridgeError::invalid(format!(
            "the cluster address `{cluster}` names no node: expected host:port[,host:port...] (control plane, port {DEFAULT_CONTROL_PORT})"
        )));
    }
    Ok(addrs)
}

/// `host:port` of a Flight location (`grpc+tcp://host:port`, `grpc://host:port`
/// or a bare `host:port`).
pub fn flight_addr(location: &str) -> Result<String> {
    if location.starts_with("grpc+tls://") || location.starts_with("https://") {
        return Err(BridgeError::invalid(format!("`{location}`: TLS locations are not supported by the arrow-cache bridge")));
    }
    let addr = parse_addr(location.trim(), 0)?;
    if addr.ends_with(":0") {
        return Err(BridgeError::invalid(format!("the Flight location `{location}` has no port")));
    }
    Ok(addr)
}

/// Normalizes `[scheme://]host[:port][/]` to `host:port`.
fn parse_addr(text: &str, default_port: u16) -> Result<String> {
    let bad = |why: &str| BridgeError::invalid(format!("`{text}` is not a node address (host:port): {why}"));
    let rest = match text.split_once("://") {
        Some(("http" | "grpc" | "grpc+tcp" | "tcp", rest)) => rest,
        Some((scheme, _)) => return Err(bad(&format!("unsupported scheme `{scheme}`"))),
        None => text,
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(bad("expected `:port` after `]`")),
        };
        (format!("[{host}]"), port)
    } else {
        match rest.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => return Err(bad("write IPv6 addresses as [addr]:port")),
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (rest.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" || host.contains('/') {
        return Err(bad("no host"));
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| bad(&format!("`{p}` is not a port")))?,
        None => default_port,
    };
    Ok(format!("{host}:{port}"))
}

/// The host of a Flight location, for Spark's preferred locations
/// (`grpc+tcp://node-1:8815` is `node-1`; `[::1]:8815` is `::1`).
pub fn location_host(location: &str) -> String {
    let rest = location.split_once("://").map(|(_, r)| r).unwrap_or(location).trim_end_matches('/');
    if let Some(v6) = rest.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h).unwrap_or(v6).to_string();
    }
    match rest.rsplit_once(':') {
        Some((h, _)) if !h.contains(':') => h.to_string(),
        _ => rest.to_string(),
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

/// `cluster_status` as JSON, shaped like the service's `status_json` (what
/// Flight's `DoAction` and the CLI print).
pub fn status_json(status: &proto::ClusterStatus) -> Value {
    let nodes: Vec<Value> = status
        .members
        .iter()
        .map(|m| {
            let member = m.member.clone().unwrap_or_default();
            let mut node = json!({
                "node_id": member.node_id, "flight": member.flight, "control": member.control, "status": m.state,
                "bytes_cached": m.bytes_cached, "budget_bytes": m.budget_bytes, "uptime_seconds": m.uptime_seconds,
            });
            if !m.error.is_empty() {
                node["error"] = json!(m.error);
            }
            node
        })
        .collect();
    json!({
        "node_id": status.node_id,
        "discovery": status.discovery,
        "replication_factor": status.replication_factor,
        "nodes": nodes,
    })
}

/// The `TableRequest` of a `{"table":..,"partition":..,"columns":[..]}`
/// argument. `partition` is `k=v[,k=v]` or an object `{"k": v, ...}`.
pub fn table_request(args: &str) -> Result<TableRequest> {
    let value: Value = serde_json::from_str(args)
        .map_err(|e| BridgeError::invalid(format!("the operation's argument is not JSON ({e}): {args}")))?;
    let obj = value.as_object().ok_or_else(|| BridgeError::invalid(format!("expected a JSON object like {{\"table\": \"ns.tbl\"}}, got {args}")))?;
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
        Some(other) => return Err(BridgeError::invalid(format!("`partition` must be \"k=v[,k=v]\" or an object, got {other}"))),
    };
    let columns = match obj.get("columns") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(cols)) => cols
            .iter()
            .map(|c| c.as_str().map(str::to_string).ok_or_else(|| BridgeError::invalid(format!("`columns` must be strings, got {c}"))))
            .collect::<Result<_>>()?,
        Some(other) => return Err(BridgeError::invalid(format!("`columns` must be an array of names, got {other}"))),
    };
    Ok(TableRequest { table, partition, columns, local_only: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Member, MemberStatus, PlannedSplit, ScanPlan};

    #[test]
    fn connecting_to_nothing_is_unavailable_and_says_why() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let start = std::time::Instant::now();
        let e = Client::connect(&format!("127.0.0.1:{port}"), Duration::from_secs(2)).unwrap_err();
        assert_eq!(e.code, "UNAVAILABLE");
        assert!(e.message.contains(&format!("127.0.0.1:{port}")) && e.message.contains("refused"), "{}", e.message);
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn cluster_addresses() {
        assert_eq!(parse_cluster("a:1").unwrap(), ["a:1"]);
        assert_eq!(parse_cluster(" a:1 , b ,, http://c:3/").unwrap(), ["a:1", "b:8816", "c:3"]);
        assert_eq!(parse_cluster("[::1]:9,[fe80::1]").unwrap(), ["[::1]:9", "[fe80::1]:8816"]);
        assert_eq!(parse_cluster("grpc://10.0.0.1:8816").unwrap(), ["10.0.0.1:8816"]);
        for bad in ["", " , ", "a:port", "a:99999", "::1", "ftp://a:1", ":8816", "[::1"] {
            let e = parse_cluster(bad).unwrap_err();
            assert_eq!(e.code, "INVALID_ARGUMENT", "{bad}");
        }
    }

    #[test]
    fn flight_locations() {
        assert_eq!(flight_addr("grpc+tcp://node-1:8815").unwrap(), "node-1:8815");
        assert_eq!(flight_addr("grpc://127.0.0.1:8815/").unwrap(), "127.0.0.1:8815");
        assert_eq!(flight_addr("[::1]:8815").unwrap(), "[::1]:8815");
        assert_eq!(flight_addr("host:1").unwrap(), "host:1");
        assert_eq!(flight_addr("grpc+tls://h:1").unwrap_err().code, "INVALID_ARGUMENT");
        assert_eq!(flight_addr("grpc+tcp://h").unwrap_err().code, "INVALID_ARGUMENT");
        assert_eq!(location_host("grpc+tcp://node-1:8815"), "node-1");
        assert_eq!(location_host("grpc+tcp://[::1]:8815"), "::1");
        assert_eq!(location_host("10.1.2.3:8815"), "10.1.2.3");
        assert_eq!(location_host("node"), "node");
    }

    #[test]
    fn plan_as_json() {
        let member = |id: &str, flight: &str| Member { node_id: id.into(), flight: flight.into(), control: String::new() };
        let plan = ScanPlan {
            arrow_schema: vec![],
            splits: vec![
                PlannedSplit { ticket: b"t1".to_vec(), owners: vec![member("n1", "grpc+tcp://h1:8815"), member("n2", "grpc+tcp://h2:8815")], bytes: 10, rows: 5 },
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
        assert_eq!(plan_json(&no_snapshot), json!({"snapshot_id": null, "total_rows": 0, "total_bytes": 0, "splits": []}));
    }

    #[test]
    fn status_as_json() {
        let status = proto::ClusterStatus {
            node_id: "n1".into(),
            replication_factor: 2,
            discovery: "single".into(),
            members: vec![MemberStatus {
                member: Some(Member { node_id: "n1".into(), flight: "grpc+tcp://h:8815".into(), control: "h:8816".into() }),
                state: "down".into(),
                error: "gone".into(),
                bytes_cached: 1,
                budget_bytes: 2,
                uptime_seconds: 3,
            }],
        };
        assert_eq!(
            status_json(&status),
            json!({"node_id": "n1", "discovery": "single", "replication_factor": 2, "nodes": [
                {"node_id": "n1", "flight": "grpc+tcp://h:8815", "control": "h:8816", "status": "down",
                 "bytes_cached": 1, "budget_bytes": 2, "uptime_seconds": 3, "error": "gone"}]})
        );
    }

    #[test]
    fn table_requests() {
        let r = table_request(r#"{"table":"demo.t","partition":"m=1,r=EU","columns":["a","b"]}"#).unwrap();
        assert_eq!((r.table.as_str(), r.partition.as_deref(), r.columns.len(), r.local_only), ("demo.t", Some("m=1,r=EU"), 2, false));
        let r = table_request(r#"{"table":"demo.t","partition":{"m":1,"r":"EU"}}"#).unwrap();
        assert_eq!(r.partition.as_deref(), Some("m=1,r=EU"));
        assert!(table_request(r#"{"table":"demo.t","partition":null,"columns":null}"#).unwrap().partition.is_none());
        for bad in ["", "[]", "{}", r#"{"table":""}"#, r#"{"table":"t","columns":[1]}"#, r#"{"table":"t","partition":3}"#] {
            assert_eq!(table_request(bad).unwrap_err().code, "INVALID_ARGUMENT", "{bad}");
        }
        assert_eq!(Op::parse("warm").unwrap(), Op::Warm);
        assert_eq!(Op::parse("sql").unwrap_err().code, "INVALID_ARGUMENT");
    }
}
