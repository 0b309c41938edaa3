//! Routing overhead: a 3-node loopback cluster against one node, on the same TPC-H lineitem.
//!
//! Not a test and not part of CI. Prepare the table once, then run:
//!
//! ```sh
//! bench/prepare_tpch.sh 1                      # tpch.lineitem, SF 1, in ~/.cache/arrow-cache/bench/sf1
//! CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target cargo bench --locked --workspace --bench cluster
//! ```
//!
//! In one process it starts, each on its own tokio runtime (as separate processes would be):
//!
//! - **single**: one node on its own (no `discovery_service`) on 127.0.0.1;
//! - **cluster**: three nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3 with
//!   `discovery_service: static://...` listing the three control planes and
//!   `replication_factor: 1`; the run starts once every node sees 3 members. The node on
//!   127.0.0.1 is the entry node: the client sends every request to it. At SF 1 the table is 6
//!   whole-file parts, and how rendezvous hashing spreads 6 keys depends on the node ids
//!   (`n1`, `n2`, `n3` give 3/3/0): the bench takes the first ids of `n1..n3`, `n1-1..n3-1`, ...
//!   that give every node an even share, and reports which.
//!
//! and, over the same table, measures against both:
//!
//! - SQL as a ticket (`DoGet(Ticket(sql))`) on the entry node: TPC-H Q6 and Q1 (the texts
//!   `tpch.rs` uses), a full-scan aggregate and `SELECT *`. In the cluster the entry node reads
//!   each split from its owner over Flight (filter and projection pushed down);
//! - scan requests read as connectors read them: `GetFlightInfo` on the entry node, then
//!   `DoGet` of every endpoint from its first location, at most `BENCH_POOL` endpoints at once
//!   (the Q6, Q1 and full-table scans of `tpch.rs`).
//!
//! *Warm*: the median of `BENCH_REPS` runs after one untimed run. *Cold*: the median of
//! `BENCH_COLD_REPS` runs, each right after the `invalidate` action (in the cluster it runs on
//! every member). Single and cluster take turns, run by run, so background load falls on both.
//!
//! Exactness first: the untimed run of each query is compared between single and cluster (row
//! count and an order-independent digest of every row; SQL results also as text) and every
//! timed run must return as many rows; any difference fails the run.
//!
//! The bytes that crossed node-to-node Flight are counted with `ss -ti` (the kernel's
//! `bytes_acked` of each TCP connection): the client connects from 127.0.0.100, so a connection
//! to a node's Flight port from any other address is a node's.
//!
//! Environment: `ARROW_CACHE_BENCH_DIR` (default `~/.cache/arrow-cache/bench/sf1`),
//! `BENCH_REPS` (warm runs, default 5), `BENCH_COLD_REPS` (default 3), `BENCH_MEMORY` (each
//! node's `total_memory`, default `8GB`), `BENCH_POOL` (endpoints read at once and connections
//! per location, default 3), `BENCH_ONLY` (comma list of query keys: q6, q1, agg, star,
//! scan-q6, scan-q1, scan-full), `BENCH_NODE_IDS` (three comma-separated node ids, the first
//! the entry node; default: the first evenly spread, as above), `BENCH_NO_DOCS=1` (print the
//! results instead of writing them). The figures go to `bench/results/cluster.json`, and
//! `bench/render.py` writes them into docs/BENCHMARKS.md ("Routing overhead").

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::row::{RowConverter, SortField};
use arrow_cache::cluster::{Placement, PlacementKey};
use arrow_cache_protocol::scan::{FilePart, ScanRequest};
use common::{
    BoxError, Client, Member, Only, Outcome, Q1_SQL, Q6_SQL, ReadAt, Res, RunClock, Running, Series, TABLE, Warehouse,
    env_num, free_port, runtime, tpch_scans, write_results,
};
use serde_json::{Value, json};

/// The client's source address: traffic from anywhere else to a node is another node's.
const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 100));

// ---------------------------------------------------------------------------------------------
// The queries

enum Kind {
    /// SQL text as a ticket on the entry node.
    Sql(String),
    /// A scan request: GetFlightInfo on the entry node, DoGet of every endpoint at its first location.
    Scan(Value),
}

struct Query {
    key: String,
    name: String,
    kind: Kind,
}

fn queries() -> Vec<Query> {
    let sql = |key: &str, name: &str, s: &str| Query {
        key: key.into(),
        name: name.into(),
        kind: Kind::Sql(s.replace("{t}", TABLE)),
    };
    let mut queries = vec![
        sql("q6", "Q6 (SQL)", Q6_SQL),
        sql("q1", "Q1 (SQL)", Q1_SQL),
        sql(
            "agg",
            "`sum(l_quantity), count(*)` (SQL, full scan)",
            "SELECT sum(l_quantity) AS sum_qty, count(*) AS n FROM {t}",
        ),
        sql("star", "`SELECT *` (SQL, 16 columns)", "SELECT * FROM {t}"),
    ];
    let mut scans = tpch_scans();
    scans.sort_by_key(|q| ["q6", "q1", "full"].iter().position(|k| *k == q.key));
    queries.extend(scans.into_iter().map(|q| Query {
        key: format!("scan-{}", q.key),
        name: if q.key == "full" { "Full scan request (16 cols)".into() } else { format!("{} request", q.name) },
        kind: Kind::Scan(q.request()),
    }));
    queries
}

async fn run(client: &Client, entry: &str, q: &Query) -> Res<(Vec<RecordBatch>, Outcome)> {
    match &q.kind {
        Kind::Sql(sql) => client.sql(entry, sql).await,
        Kind::Scan(request) => client.scan(entry, request, ReadAt::Owner).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Exactness

/// An order-independent digest of every row: the wrapping sum of the xxh3 of each row in
/// arrow's row format. Equal multisets of rows give equal digests.
fn digest(batches: &[RecordBatch]) -> Res<u64> {
    let Some(first) = batches.first() else { return Ok(0) };
    let fields = first.schema().fields().iter().map(|f| SortField::new(f.data_type().clone())).collect();
    let converter = RowConverter::new(fields)?;
    let mut sum = 0u64;
    for b in batches {
        let rows = converter.convert_columns(b.columns())?;
        for r in rows.iter() {
            sum = sum.wrapping_add(twox_hash::XxHash3_64::oneshot(r.as_ref()));
        }
    }
    Ok(sum)
}

// ---------------------------------------------------------------------------------------------
// Bytes on the wire, from the kernel's TCP counters

/// `bytes_acked` of every established TCP connection, by (local, peer) address.
type TcpBytes = HashMap<(SocketAddr, SocketAddr), u64>;

fn tcp_snapshot() -> Option<TcpBytes> {
    let out = std::process::Command::new("ss")
        .args(["-tinH", "state", "established"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map = HashMap::new();
    let mut current: Option<(SocketAddr, SocketAddr)> = None;
    for line in text.lines() {
        if line.starts_with(char::is_whitespace) {
            if let Some(key) = current.take() {
                let acked = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("bytes_acked:"))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                map.insert(key, acked);
            }
        } else {
            let addrs: Vec<SocketAddr> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
            current = (addrs.len() >= 2).then(|| (addrs[addrs.len() - 2], addrs[addrs.len() - 1]));
        }
    }
    Some(map)
}

/// Bytes the `servers` (Flight addresses) sent between two snapshots: (to the client, to other nodes).
fn sent_between(before: &TcpBytes, after: &TcpBytes, servers: &[SocketAddr]) -> (u64, u64) {
    let (mut to_client, mut to_nodes) = (0, 0);
    for ((local, peer), acked) in after {
        if !servers.contains(local) {
            continue;
        }
        let sent = acked.saturating_sub(before.get(&(*local, *peer)).copied().unwrap_or(0));
        if peer.ip() == CLIENT_IP {
            to_client += sent;
        } else {
            to_nodes += sent;
        }
    }
    (to_client, to_nodes)
}

// ---------------------------------------------------------------------------------------------
// The two sides

/// One side of the comparison: where the client sends requests and which Flight servers it has.
struct Variant {
    name: &'static str,
    entry: String,
    servers: Vec<SocketAddr>,
    members: usize,
}

/// Runs `invalidate` through the entry node and checks every member did it.
async fn invalidate(client: &Client, v: &Variant) -> Res<()> {
    let out = client.action(&v.entry, "invalidate", json!({"table": TABLE})).await?;
    let nodes = out["nodes"].as_array().cloned().unwrap_or_default();
    let ok = nodes.iter().filter(|n| n["ok"].as_bool() == Some(true)).count();
    if ok != v.members {
        return Err(format!("{}: invalidate reached {ok} of {} nodes: {out}", v.name, v.members).into());
    }
    Ok(())
}

/// Node ids. Placement hashes the ids with the file parts (6 whole files at SF 1), so with so
/// few parts the spread depends on the names: the first ids (n1..n3, then n1-k..n3-k) that give
/// every node as many parts as an even spread would, unless `BENCH_NODE_IDS` names them.
/// Returns the ids and the spread `n1, n2, n3` would give.
fn node_ids(parts: &[FilePart]) -> Res<(Vec<String>, Vec<usize>)> {
    let spread = |ids: &[String]| -> Vec<usize> {
        let placement = Placement::new(ids.iter().cloned(), 1);
        ids.iter()
            .map(|id| {
                parts
                    .iter()
                    .filter(|p| {
                        let key = PlacementKey {
                            table: TABLE,
                            partition: &p.partition,
                            file: &p.path,
                            row_groups: p.row_groups,
                        };
                        placement.primary(&key) == Some(id.as_str())
                    })
                    .count()
            })
            .collect()
    };
    let named = |k: usize| -> Vec<String> {
        (1..=3).map(|i| if k == 0 { format!("n{i}") } else { format!("n{i}-{k}") }).collect()
    };
    let ids: Vec<String> = match std::env::var("BENCH_NODE_IDS") {
        Ok(s) => s.split(',').map(|p| p.trim().to_string()).collect(),
        Err(_) => (0..10_000)
            .map(named)
            .find(|ids| {
                let c = spread(ids);
                c.iter().max().unwrap_or(&0) - c.iter().min().unwrap_or(&0) <= 1
            })
            .unwrap_or_else(|| named(0)),
    };
    if ids.len() != 3 {
        return Err(format!("BENCH_NODE_IDS: three ids, not {ids:?}").into());
    }
    Ok((ids, spread(&named(0))))
}

/// One query on both sides, for the results.
struct Row {
    key: String,
    name: String,
    scan: bool,
    rows: u64,
    warm: [Series; 2],
    cold: [Series; 2],
    /// Bytes the cluster's nodes sent to other nodes during the untimed run.
    node_to_node: Option<u64>,
    /// Bytes the nodes sent to the client during the untimed run, single and cluster.
    to_client: [Option<u64>; 2],
}

impl Row {
    fn json(&self) -> Value {
        let sides = |s: &[Series; 2]| json!({"single": s[0].json(), "cluster": s[1].json()});
        json!({
            "id": self.key,
            "name": self.name,
            "kind": if self.scan { "scan" } else { "sql" },
            "rows": self.rows,
            "warm": sides(&self.warm),
            "cold": sides(&self.cold),
            "node_to_node_bytes": self.node_to_node,
            "to_client_bytes": {"single": self.to_client[0], "cluster": self.to_client[1]},
        })
    }
}

/// Runs `q` on both sides: the untimed runs compared for exactness (the cluster's is also where
/// the bytes between nodes are counted), then warm and cold runs taking turns.
async fn measure(client: &Client, variants: &[Variant; 2], q: &Query, reps: usize, cold_reps: usize) -> Res<Row> {
    let mut firsts = Vec::new();
    let mut to_client = [None, None];
    let mut node_to_node = None;
    for (i, v) in variants.iter().enumerate() {
        let before = tcp_snapshot();
        let (batches, o) = run(client, &v.entry, q).await?;
        if let (Some(before), Some(after)) = (before, tcp_snapshot()) {
            let (c, n) = sent_between(&before, &after, &v.servers);
            to_client[i] = Some(c);
            if v.members > 1 {
                node_to_node = Some(n);
            }
        }
        let text = match q.kind {
            Kind::Sql(_) if o.rows <= 100 => Some(arrow::util::pretty::pretty_format_batches(&batches)?.to_string()),
            _ => None,
        };
        firsts.push((o, digest(&batches)?, text));
    }
    let (single, cluster) = (&firsts[0], &firsts[1]);
    if single.0.rows != cluster.0.rows || single.1 != cluster.1 || single.2 != cluster.2 {
        return Err(format!(
            "{}: single and cluster disagree: {} vs {} rows, digest {:x} vs {:x}\n{}\n{}",
            q.name,
            single.0.rows,
            cluster.0.rows,
            single.1,
            cluster.1,
            single.2.as_deref().unwrap_or(""),
            cluster.2.as_deref().unwrap_or("")
        )
        .into());
    }
    let rows = single.0.rows;
    let mb = |b: Option<u64>| b.map(|b| format!("{:.1}", b as f64 / 1e6)).unwrap_or_default();
    eprintln!(
        "{} ({rows} rows, identical on both; TCP to the client {} / {} MB, node to node {} MB):",
        q.name,
        mb(to_client[0]),
        mb(to_client[1]),
        mb(node_to_node),
    );

    let mut warm = variants.each_ref().map(|v| Series::expecting(format!("{} warm, {}", q.name, v.name), rows));
    for r in 0..reps {
        for k in 0..2 {
            let i = (r + k) % 2; // alternate which side goes first
            warm[i].time(run(client, &variants[i].entry, q)).await?;
        }
    }
    let mut cold = variants.each_ref().map(|v| Series::expecting(format!("{} cold, {}", q.name, v.name), rows));
    for r in 0..cold_reps {
        for k in 0..2 {
            let i = (r + k) % 2;
            invalidate(client, &variants[i]).await?;
            cold[i].time(run(client, &variants[i].entry, q)).await?;
        }
    }
    for s in warm.iter().chain(&cold) {
        s.report();
    }
    Ok(Row {
        key: q.key.clone(),
        name: q.name.clone(),
        scan: matches!(q.kind, Kind::Scan(_)),
        rows,
        warm,
        cold,
        node_to_node,
        to_client,
    })
}

// ---------------------------------------------------------------------------------------------

fn main() -> Res<()> {
    let warehouse = Warehouse::find()?;
    let reps = env_num("BENCH_REPS", 5);
    let cold_reps = env_num("BENCH_COLD_REPS", 3);
    let pool = env_num("BENCH_POOL", 3);
    let memory = std::env::var("BENCH_MEMORY").unwrap_or_else(|_| "8GB".into());
    let only = Only::from_env();

    // The single node and the three members, each on its own runtime as a process would be.
    let ip = |n: u8| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n));
    let single = Running::start(&warehouse, &memory, ip(1), None, None)?;
    let parts: Vec<FilePart> = {
        let plan = single.block_on(|exec| async move {
            exec.plan_scan(&ScanRequest { table: TABLE.into(), ..Default::default() }).await
        })?;
        plan.splits.iter().flat_map(|s| s.ticket.split.parts.clone()).collect()
    };
    let (ids, default_spread) = node_ids(&parts)?;
    eprintln!("cluster bench: node ids {ids:?} (n1, n2, n3 would own {default_spread:?} of the file parts)");
    let member_ports: Vec<(IpAddr, (u16, u16, u16))> = (1..=3)
        .map(|n| Ok::<_, BoxError>((ip(n), (free_port(ip(n))?, free_port(ip(n))?, free_port(ip(n))?))))
        .collect::<Res<_>>()?;
    let peers = member_ports.iter().map(|(ip, (_, g, _))| format!("{ip}:{g}")).collect::<Vec<_>>().join(",");
    let members: Vec<Running> = member_ports
        .iter()
        .zip(&ids)
        .map(|((ip, p), id)| Running::start(&warehouse, &memory, *ip, Some(*p), Some(Member { id, peers: &peers })))
        .collect::<Res<_>>()?;

    // Wait until every member sees all three.
    let waited = Instant::now();
    loop {
        let sizes: Vec<usize> =
            members.iter().map(|m| m.exec().cluster().map(|c| c.members().len()).unwrap_or(0)).collect();
        if sizes.iter().all(|&n| n == 3) {
            eprintln!("cluster bench: 3 members after {:.1} s", waited.elapsed().as_secs_f64());
            break;
        }
        if waited.elapsed() > Duration::from_secs(30) {
            return Err(format!("the cluster did not form within 30 s: members seen per node {sizes:?}").into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let variants = [
        Variant { name: "single", entry: single.location(), servers: vec![single.flight], members: 1 },
        Variant {
            name: "cluster",
            entry: members[0].location(),
            servers: members.iter().map(|m| m.flight).collect(),
            members: 3,
        },
    ];

    // Placement of the table's splits (primary owners), as the entry node plans a full scan.
    let plan = members[0].block_on(|exec| async move {
        exec.plan_scan(&ScanRequest { table: TABLE.into(), ..Default::default() }).await
    })?;
    let mut placement: BTreeMap<String, (usize, usize, u64)> =
        members.iter().map(|m| (m.exec().me.node_id.clone(), (0, 0, 0))).collect();
    for s in &plan.splits {
        let owner = s.owners.first().map(|m| m.node_id.clone()).unwrap_or_default();
        let e = placement.entry(owner).or_default();
        e.0 += 1;
        e.1 += s.ticket.split.parts.len();
        e.2 += s.ticket.split.bytes();
    }
    eprintln!("cluster bench: placement (primary owners: splits, file parts, bytes) {placement:?}");

    let client_rt = runtime("client", common::cpus())?;
    let clock = RunClock::start("cluster");
    let rows: Res<Vec<Row>> = client_rt.block_on(async {
        let client = Client::new(pool, Some(CLIENT_IP));
        let mut rows = Vec::new();
        for q in queries() {
            if only.wants(&q.key) {
                rows.push(measure(&client, &variants, &q, reps, cold_reps).await?);
            }
        }
        Ok(rows)
    });
    let run_info = clock.finish();
    for r in std::iter::once(single).chain(members) {
        r.stop();
    }
    let rows = rows?;

    let results = json!({
        "bench": "cluster",
        "command": warehouse.command("cluster"),
        "run": run_info,
        "settings": {"sf": warehouse.sf, "reps": reps, "cold_reps": cold_reps, "pool": pool, "memory": memory},
        "cluster": {
            "node_ids": ids,
            "default_ids_spread": default_spread,
            "file_parts": parts.len(),
            "entry": ids[0],
            "entry_address": "127.0.0.1",
            "replication_factor": 1,
            "placement": placement.iter().map(|(id, (splits, parts, bytes))| {
                json!({"node_id": id, "splits": splits, "file_parts": parts, "bytes": bytes})
            }).collect::<Vec<_>>(),
        },
        "queries": rows.iter().map(Row::json).collect::<Vec<_>>(),
    });
    write_results("cluster", &results, only.partial())
}
