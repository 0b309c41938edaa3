//! The control plane (gRPC, port 8816; `proto/arrow_cache/control/v1/control.proto`).
//!
//! Table operations (`table_stats`, `invalidate`, `refresh`, `warm`) asked of
//! any node run on every live member: the asked node fans out with
//! `local_only` set, runs its own share, and merges the answers. Flight's
//! `DoAction` and the CLI get the same merged JSON.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tonic::{Request, Response, Status};

use super::proto::control_plane_server::ControlPlane;
use super::proto::{self, NodeResult, NodeResults};
use super::MemberInfo;
use crate::error::{CacheError, Result};
use crate::node::Node;
use crate::serve::actions::TableAction;

/// How long a fanned-out operation may take on another node. Warming loads
/// data, so it gets longer.
const FAN_OUT_TIMEOUT: Duration = Duration::from_secs(30);
const WARM_TIMEOUT: Duration = Duration::from_secs(600);

/// A cache operation on one table that every member runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOp {
    Stats,
    Invalidate,
    Refresh,
    Warm,
}

impl TableOp {
    pub fn name(self) -> &'static str {
        match self {
            TableOp::Stats => "table_stats",
            TableOp::Invalidate => "invalidate",
            TableOp::Refresh => "refresh",
            TableOp::Warm => "warm",
        }
    }
}

fn to_request(action: &TableAction, local_only: bool) -> proto::TableRequest {
    proto::TableRequest {
        table: action.table.clone(),
        partition: action.partition.clone(),
        columns: action.columns.clone().unwrap_or_default(),
        local_only,
    }
}

fn from_request(r: proto::TableRequest) -> TableAction {
    TableAction { table: r.table, partition: r.partition, columns: (!r.columns.is_empty()).then_some(r.columns) }
}

impl Node {
    /// Runs `op` on this node only.
    pub async fn table_op_local(&self, op: TableOp, action: &TableAction) -> Result<Value> {
        match op {
            TableOp::Stats => self.table_stats(action).await,
            TableOp::Invalidate => self.invalidate(action).await,
            TableOp::Refresh => self.refresh(action).await,
            TableOp::Warm => self.warm(action).await,
        }
    }

    /// Runs `op` on every live member and merges the answers. An error of
    /// this node's own share is the answer (it is the same everywhere: an
    /// unknown table, a bad partition); other nodes' errors are listed.
    pub async fn table_op(self: &Arc<Self>, op: TableOp, action: &TableAction) -> Result<(Value, Vec<NodeResult>)> {
        let others = self.cluster().map(|c| c.others()).unwrap_or_default();
        let remote = futures::future::join_all(others.into_iter().map(|m| self.table_op_on(m, op, action)));
        let (local, remote) = futures::join!(self.table_op_local(op, action), remote);
        let local = local?;
        let mut nodes = vec![NodeResult { node_id: self.node_id.clone(), ok: true, json: local.to_string(), error: String::new() }];
        nodes.extend(remote);
        Ok((merge(op, &local, &nodes), nodes))
    }

    async fn table_op_on(&self, member: MemberInfo, op: TableOp, action: &TableAction) -> NodeResult {
        let failed = |error: String| NodeResult { node_id: member.node_id.clone(), ok: false, json: String::new(), error };
        let Some(cluster) = self.cluster() else { return failed("not in a cluster".into()) };
        let mut client = match cluster.peers.control(&member.control) {
            Ok(c) => c,
            Err(e) => return failed(e.to_string()),
        };
        let request = to_request(action, true);
        let call = async {
            match op {
                TableOp::Stats => client.table_stats(request).await,
                TableOp::Invalidate => client.invalidate(request).await,
                TableOp::Refresh => client.refresh(request).await,
                TableOp::Warm => client.warm(request).await,
            }
        };
        let limit = if op == TableOp::Warm { WARM_TIMEOUT } else { FAN_OUT_TIMEOUT };
        match tokio::time::timeout(limit, call).await {
            Err(_) => failed(format!("no answer within {limit:?}")),
            Ok(Err(status)) => failed(status.message().to_string()),
            Ok(Ok(reply)) => reply.into_inner().nodes.into_iter().next().unwrap_or_else(|| failed("empty answer".into())),
        }
    }

    /// The cluster as this node sees it.
    pub async fn cluster_status(self: &Arc<Self>, local_only: bool) -> proto::ClusterStatus {
        let me = self.member_status();
        let mut members = vec![me];
        if let (Some(cluster), false) = (self.cluster(), local_only) {
            for (key, state) in cluster.states.snapshot() {
                let Some(member) = state.member.clone().filter(|m| !cluster.is_me(m)) else {
                    if state.member.is_none() {
                        // A configured peer that never answered.
                        members.push(proto::MemberStatus {
                            member: Some(proto::Member { node_id: String::new(), flight: String::new(), control: key }),
                            state: state.state.into(),
                            error: state.error.unwrap_or_default(),
                            ..Default::default()
                        });
                    }
                    continue;
                };
                let mut entry = proto::MemberStatus {
                    member: Some((&member).into()),
                    state: state.state.into(),
                    error: state.error.clone().unwrap_or_default(),
                    ..Default::default()
                };
                if state.state == "up" {
                    if let Some(theirs) = self.remote_status(&member).await {
                        entry.bytes_cached = theirs.bytes_cached;
                        entry.budget_bytes = theirs.budget_bytes;
                        entry.uptime_seconds = theirs.uptime_seconds;
                    }
                }
                members.push(entry);
            }
        }
        proto::ClusterStatus {
            node_id: self.node_id.clone(),
            replication_factor: self.config.cluster.replication_factor,
            discovery: self.config.networking.discovery_service.clone().unwrap_or_else(|| "single".into()),
            members,
        }
    }

    async fn remote_status(&self, member: &MemberInfo) -> Option<proto::MemberStatus> {
        let mut client = self.cluster()?.peers.control(&member.control).ok()?;
        let call = client.status(proto::StatusRequest { local_only: true });
        let reply = tokio::time::timeout(Duration::from_secs(2), call).await.ok()?.ok()?;
        reply.into_inner().members.into_iter().next()
    }

    fn member_status(&self) -> proto::MemberStatus {
        let stats = self.loader.columns.stats();
        proto::MemberStatus {
            member: Some((&self.member()).into()),
            state: "up".into(),
            error: String::new(),
            bytes_cached: stats.used_bytes,
            budget_bytes: stats.budget_bytes,
            uptime_seconds: self.started.elapsed().as_secs(),
        }
    }
}

/// `cluster_status` as JSON (the Flight action and the CLI print this).
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

/// The answers of every node as one: counts and bytes summed, rates
/// recomputed, and each node's own answer (or error) under `nodes`.
pub fn merge(op: TableOp, local: &Value, nodes: &[NodeResult]) -> Value {
    let answers: Vec<Value> = nodes.iter().filter(|n| n.ok).filter_map(|n| serde_json::from_str(&n.json).ok()).collect();
    let sum = |key: &str| -> u64 { answers.iter().filter_map(|a| a[key].as_u64()).sum() };
    let mut out = local.clone();
    let summed: &[&str] = match op {
        TableOp::Stats => &["hits", "misses", "bytes_cached", "entries", "index_bytes_cached"],
        TableOp::Invalidate => &["bytes_freed"],
        TableOp::Warm => &["files", "rows", "bytes_cached"],
        TableOp::Refresh => &[],
    };
    for key in summed {
        out[*key] = json!(sum(key));
    }
    if op == TableOp::Stats {
        let (hits, misses) = (sum("hits"), sum("misses"));
        let rate = if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 };
        out["hit_rate"] = json!(rate);
        out["miss_rate"] = json!(if hits + misses == 0 { 0.0 } else { 1.0 - rate });
        out["partitions"] = merge_partitions(&answers);
    }
    out["nodes"] = nodes
        .iter()
        .map(|n| match (n.ok, serde_json::from_str::<Value>(&n.json)) {
            (true, Ok(mut v)) => {
                if let Some(o) = v.as_object_mut() {
                    o.remove("partitions");
                    o.insert("node_id".into(), json!(n.node_id));
                    o.insert("ok".into(), json!(true));
                }
                v
            }
            _ => json!({"node_id": n.node_id, "ok": false, "error": n.error}),
        })
        .collect();
    out
}

fn merge_partitions(answers: &[Value]) -> Value {
    let mut merged: BTreeMap<String, (u64, u64, u64, u64)> = BTreeMap::new();
    for a in answers {
        for (name, p) in a["partitions"].as_object().into_iter().flatten() {
            let e = merged.entry(name.clone()).or_default();
            e.0 += p["hits"].as_u64().unwrap_or(0);
            e.1 += p["misses"].as_u64().unwrap_or(0);
            e.2 += p["bytes_cached"].as_u64().unwrap_or(0);
            e.3 += p["entries"].as_u64().unwrap_or(0);
        }
    }
    merged
        .into_iter()
        .map(|(name, (hits, misses, bytes, entries))| {
            let rate = if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 };
            let miss_rate = if hits + misses == 0 { 0.0 } else { 1.0 - rate };
            (name, json!({"hits": hits, "misses": misses, "hit_rate": rate, "miss_rate": miss_rate, "bytes_cached": bytes, "entries": entries}))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The gRPC service.
pub struct ControlService {
    pub node: Arc<Node>,
}

impl ControlService {
    async fn table_op(&self, op: TableOp, request: proto::TableRequest) -> Result<NodeResults> {
        let local_only = request.local_only;
        let action = from_request(request);
        if local_only {
            let answer = self.node.table_op_local(op, &action).await?;
            let node = NodeResult { node_id: self.node.node_id.clone(), ok: true, json: answer.to_string(), error: String::new() };
            return Ok(NodeResults { merged_json: node.json.clone(), nodes: vec![node] });
        }
        let (merged, nodes) = self.node.table_op(op, &action).await?;
        Ok(NodeResults { nodes, merged_json: merged.to_string() })
    }
}

#[tonic::async_trait]
impl ControlPlane for ControlService {
    async fn status(&self, request: Request<proto::StatusRequest>) -> std::result::Result<Response<proto::ClusterStatus>, Status> {
        Ok(Response::new(self.node.cluster_status(request.into_inner().local_only).await))
    }

    async fn ping(&self, _request: Request<proto::PingRequest>) -> std::result::Result<Response<proto::Member>, Status> {
        Ok(Response::new((&self.node.member()).into()))
    }

    async fn list_tables(&self, request: Request<proto::ListTablesRequest>) -> std::result::Result<Response<proto::TableList>, Status> {
        let namespace = request.into_inner().namespace;
        let prefix = format!("{namespace}.");
        let tables = self.node.registry.list().await?;
        let tables = tables.into_iter().filter(|t| namespace.is_empty() || t.starts_with(&prefix)).collect();
        Ok(Response::new(proto::TableList { tables }))
    }

    async fn plan_scan(&self, request: Request<proto::PlanScanRequest>) -> std::result::Result<Response<proto::ScanPlan>, Status> {
        let text = request.into_inner().scan_request_json;
        let scan = crate::serve::flight::parse_json(text.as_bytes(), "scan request")?;
        let plan = self.node.plan_scan(&scan).await?;
        let options = arrow::ipc::writer::IpcWriteOptions::default();
        let schema = arrow_flight::IpcMessage::try_from(arrow_flight::SchemaAsIpc::new(&plan.schema, &options))
            .map_err(|e| CacheError::internal(format!("encoding the schema: {e}")))?;
        let splits = plan
            .splits
            .into_iter()
            .map(|s| {
                Ok(proto::PlannedSplit {
                    bytes: s.ticket.split.bytes(),
                    rows: s.ticket.split.rows().map(|r| r as i64).unwrap_or(-1),
                    ticket: s.ticket.to_bytes()?,
                    owners: if s.owners.is_empty() { vec![(&self.node.member()).into()] } else { s.owners.iter().map(Into::into).collect() },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Response::new(proto::ScanPlan {
            arrow_schema: schema.0.to_vec(),
            splits,
            total_rows: plan.total_rows.map(|r| r as i64).unwrap_or(-1),
            total_bytes: plan.total_bytes,
            snapshot_id: plan.snapshot_id,
        }))
    }

    async fn table_stats(&self, request: Request<proto::TableRequest>) -> std::result::Result<Response<NodeResults>, Status> {
        Ok(Response::new(self.table_op(TableOp::Stats, request.into_inner()).await?))
    }

    async fn invalidate(&self, request: Request<proto::TableRequest>) -> std::result::Result<Response<NodeResults>, Status> {
        Ok(Response::new(self.table_op(TableOp::Invalidate, request.into_inner()).await?))
    }

    async fn refresh(&self, request: Request<proto::TableRequest>) -> std::result::Result<Response<NodeResults>, Status> {
        Ok(Response::new(self.table_op(TableOp::Refresh, request.into_inner()).await?))
    }

    async fn warm(&self, request: Request<proto::TableRequest>) -> std::result::Result<Response<NodeResults>, Status> {
        Ok(Response::new(self.table_op(TableOp::Warm, request.into_inner()).await?))
    }

    async fn snapshot_changed(&self, request: Request<proto::SnapshotNotice>) -> std::result::Result<Response<proto::Ack>, Status> {
        let notice = request.into_inner();
        tracing::debug!(table = %notice.table, snapshot = notice.snapshot_id, from = %notice.from_node, "snapshot notice");
        self.node.registry.adopt(&notice.table, notice.snapshot_id).await?;
        Ok(Response::new(proto::Ack {}))
    }
}
