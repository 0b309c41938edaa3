//! The cache actions (`table_stats`, `invalidate`, `refresh`, `warm`) and
//! `cluster_status`.
//!
//! A table operation asked of any node runs on every live member: the asked
//! node fans out with `local_only` set, runs its own share, and merges the
//! answers. Flight's `DoAction`, the control plane and the CLI get the same
//! merged JSON.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow_cache_protocol::action::{TableAction, TableOp};
use arrow_cache_protocol::control::{self, NodeResult};
use arrow_cache_protocol::scan::SnapshotSelector;
use futures::TryStreamExt;
use serde_json::{Value, json};

use super::Executor;
use crate::cache::{Owner, Usage};
use crate::cluster::MemberInfo;
use crate::error::{CacheError, Result};
use crate::read::ScanSpec;

/// How long a fanned-out operation may take on another node. Warming loads
/// data, so it gets longer.
const FAN_OUT_TIMEOUT: Duration = Duration::from_secs(30);
const WARM_TIMEOUT: Duration = Duration::from_secs(600);

/// Does a partition path (`k=v/k2=v2`) match a selector (`k=v,k2=v2`)?
///
/// ```
/// # use arrow_cache::exec::table_ops::partition_matches;
/// assert!(partition_matches("region=EU/month=2024-01", "region=EU"));
/// assert!(!partition_matches("region=EU/month=2024-01", "region=NA"));
/// ```
pub fn partition_matches(path: &str, selector: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    selector.split(',').map(str::trim).filter(|s| !s.is_empty()).all(|kv| parts.contains(&kv))
}

fn rate(hits: u64, misses: u64) -> f64 {
    if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 }
}

fn usage_json(u: &Usage) -> Value {
    json!({
        "hits": u.hits, "misses": u.misses,
        "hit_rate": rate(u.hits, u.misses), "miss_rate": if u.hits + u.misses == 0 { 0.0 } else { 1.0 - rate(u.hits, u.misses) },
        "bytes_cached": u.bytes, "entries": u.entries,
    })
}

impl Executor {
    /// Hit/miss counts and rates and bytes cached, for the table and per partition.
    pub async fn table_stats(&self, action: &TableAction) -> Result<Value> {
        let resolved = self.planner.resolve(&action.table, SnapshotSelector::Current).await?;
        let usage = self.loader.columns.usage_where(|o| *o.table == *action.table);
        let mut total = Usage::default();
        let mut partitions = BTreeMap::new();
        for (owner, u) in &usage {
            total.hits += u.hits;
            total.misses += u.misses;
            total.bytes += u.bytes;
            total.entries += u.entries;
            partitions.insert(owner.partition.to_string(), usage_json(u));
        }
        let index_bytes: u64 =
            self.loader.index.usage_where(|o| *o.table == *action.table).iter().map(|(_, u)| u.bytes).sum();
        let mut out = usage_json(&total);
        out["table"] = json!(action.table);
        out["snapshot_id"] = json!(resolved.snapshot_id());
        out["index_bytes_cached"] = json!(index_bytes);
        out["partitions"] = json!(partitions);
        Ok(out)
    }

    /// Drops the table's cached data (or one partition's) and forgets its snapshot.
    pub async fn invalidate(&self, action: &TableAction) -> Result<Value> {
        crate::catalog::parse_table_name(&action.table)?;
        action.check()?;
        let matches = |o: &Owner| {
            *o.table == *action.table && action.partition.as_deref().is_none_or(|p| partition_matches(&o.partition, p))
        };
        let freed =
            self.loader.columns.remove_where(|_, o| matches(o)) + self.loader.index.remove_where(|_, o| matches(o));
        self.loader.columns.clear_usage_where(matches);
        self.registry.forget(&action.table);
        tracing::info!(table = %action.table, partition = ?action.partition, freed, "invalidated");
        Ok(json!({"table": action.table, "partition": action.partition, "bytes_freed": freed}))
    }

    /// Reloads the table's metadata from the catalog now.
    pub async fn refresh(&self, action: &TableAction) -> Result<Value> {
        let table = self.registry.refresh(&action.table).await?;
        Ok(json!({"table": action.table, "snapshot_id": table.metadata().current_snapshot_id()}))
    }

    /// Loads the table (or one partition, or some columns) into the cache:
    /// in a cluster, the splits this node owns (as primary or replica).
    pub async fn warm(&self, action: &TableAction) -> Result<Value> {
        action.check()?;
        let resolved = self.planner.resolve(&action.table, SnapshotSelector::Current).await?;
        let schema = resolved.schema.clone();
        let projection = match &action.columns {
            None => (0..schema.fields().len()).collect(),
            Some(cols) => cols
                .iter()
                .map(|c| {
                    schema
                        .index_of(c)
                        .map_err(|_| CacheError::invalid(format!("column `{c}` does not exist in `{}`", action.table)))
                })
                .collect::<Result<Vec<_>>>()?,
        };
        let spec = Arc::new(ScanSpec::new(&resolved.name, schema, projection, &[], None)?);
        let mut parts = self.planner.plan(&resolved, &[]).await?;
        if let Some(p) = &action.partition {
            parts.retain(|part| partition_matches(&part.partition, p));
        }
        if let Some(cluster) = self.cluster() {
            let placement = cluster.placement();
            parts.retain(|part| cluster.owners(&placement, &resolved.name, part).iter().any(|m| cluster.is_me(m)));
        }
        let files = parts.len();
        let mut rows = 0u64;
        for split in self.planner.pack(parts) {
            let mut stream = self.reader.read(spec.clone(), split);
            while let Some(batch) = stream.try_next().await? {
                rows += batch.num_rows() as u64;
            }
        }
        let bytes: u64 =
            self.loader.columns.usage_where(|o| *o.table == *action.table).iter().map(|(_, u)| u.bytes).sum();
        Ok(
            json!({"table": action.table, "partition": action.partition, "files": files, "rows": rows, "bytes_cached": bytes}),
        )
    }
}

impl Executor {
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
        let mut nodes = vec![NodeResult {
            node_id: self.me.node_id.clone(),
            ok: true,
            json: local.to_string(),
            error: String::new(),
        }];
        nodes.extend(remote);
        Ok((merge(op, &local, &nodes), nodes))
    }

    async fn table_op_on(&self, member: MemberInfo, op: TableOp, action: &TableAction) -> NodeResult {
        let failed =
            |error: String| NodeResult { node_id: member.node_id.clone(), ok: false, json: String::new(), error };
        if self.cluster().is_none() {
            return failed("not in a cluster".into());
        }
        let mut client = match self.peers.control(&member.control) {
            Ok(c) => c,
            Err(e) => return failed(e.to_string()),
        };
        let request = action.to_request(true);
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
            Ok(Ok(reply)) => {
                reply.into_inner().nodes.into_iter().next().unwrap_or_else(|| failed("empty answer".into()))
            }
        }
    }

    /// The cluster as this node sees it.
    pub async fn cluster_status(self: &Arc<Self>, local_only: bool) -> control::ClusterStatus {
        let me = self.member_status();
        let mut members = vec![me];
        if let (Some(cluster), false) = (self.cluster(), local_only) {
            for (key, state) in cluster.states.snapshot() {
                let Some(member) = state.member.clone().filter(|m| !cluster.is_me(m)) else {
                    if state.member.is_none() {
                        // A configured peer that never answered.
                        members.push(control::MemberStatus {
                            member: Some(control::Member {
                                node_id: String::new(),
                                flight: String::new(),
                                control: key,
                            }),
                            state: state.state.into(),
                            error: state.error.unwrap_or_default(),
                            ..Default::default()
                        });
                    }
                    continue;
                };
                let mut entry = control::MemberStatus {
                    member: Some((&member).into()),
                    state: state.state.into(),
                    error: state.error.clone().unwrap_or_default(),
                    ..Default::default()
                };
                if state.state == "up"
                    && let Some(theirs) = self.remote_status(&member).await
                {
                    entry.bytes_cached = theirs.bytes_cached;
                    entry.budget_bytes = theirs.budget_bytes;
                    entry.uptime_seconds = theirs.uptime_seconds;
                }
                members.push(entry);
            }
        }
        control::ClusterStatus {
            node_id: self.me.node_id.clone(),
            replication_factor: self.config.cluster.replication_factor,
            discovery: self.config.networking.discovery_service.clone().unwrap_or_else(|| "single".into()),
            members,
        }
    }

    async fn remote_status(&self, member: &MemberInfo) -> Option<control::MemberStatus> {
        let mut client = self.peers.control(&member.control).ok()?;
        let call = client.status(control::StatusRequest { local_only: true });
        let reply = tokio::time::timeout(Duration::from_secs(2), call).await.ok()?.ok()?;
        reply.into_inner().members.into_iter().next()
    }

    fn member_status(&self) -> control::MemberStatus {
        let stats = self.loader.columns.stats();
        control::MemberStatus {
            member: Some((&self.me).into()),
            state: "up".into(),
            error: String::new(),
            bytes_cached: stats.used_bytes,
            budget_bytes: stats.budget_bytes,
            uptime_seconds: self.started.elapsed().as_secs(),
        }
    }
}

/// The answers of every node as one: counts and bytes summed, rates
/// recomputed, and each node's own answer (or error) under `nodes`.
pub fn merge(op: TableOp, local: &Value, nodes: &[NodeResult]) -> Value {
    let answers: Vec<Value> =
        nodes.iter().filter(|n| n.ok).filter_map(|n| serde_json::from_str(&n.json).ok()).collect();
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
