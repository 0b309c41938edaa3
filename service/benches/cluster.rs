//! Routing overhead: a 3-node loopback cluster against one node, on the same TPC-H lineitem.
//!
//! Not a test and not part of CI. Prepare the table once, then run:
//!
//! ```sh
//! bench/prepare_tpch.sh 1                      # tpch.lineitem, SF 1, in ~/.cache/arrow-cache/bench/sf1
//! export CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target
//! cargo bench -p arrow-cache --bench cluster
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
//! the entry node; default: the first evenly spread, as above), `BENCH_NO_DOCS=1` (do not touch docs/BENCHMARKS.md). The
//! Markdown is printed; docs/BENCHMARKS.md is rewritten only between
//! `<!-- BEGIN CLUSTER RESULTS -->` and `<!-- END CLUSTER RESULTS -->` when both are there.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::row::{RowConverter, SortField};
use arrow_cache::config::Config;
use arrow_cache::node::Node;
use arrow_cache::cluster::{Placement, PlacementKey};
use arrow_cache::plan::{FilePart, ScanRequest};
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{Action, FlightData, FlightDescriptor, FlightInfo, Ticket};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tonic::transport::{Channel, Endpoint};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = std::result::Result<T, BoxError>;

const TABLE: &str = "tpch.lineitem";
const MAX_MESSAGE: usize = 64 << 20;
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
    key: &'static str,
    name: &'static str,
    kind: Kind,
}

/// TPC-H Q1 and Q6 with their validation parameters, as `tpch.rs` runs them.
const Q1_SQL: &str = "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price, \
     sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, \
     sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty, \
     avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order \
     FROM {t} WHERE l_shipdate <= DATE '1998-09-02' \
     GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus";
const Q6_SQL: &str = "SELECT sum(l_extendedprice * l_discount) AS revenue FROM {t} \
     WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' \
     AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24";

fn queries() -> Vec<Query> {
    let sql = |s: &str| Kind::Sql(s.replace("{t}", TABLE));
    let and = |l: Value, r: Value| json!({"type": "and", "left": l, "right": r});
    let cmp = |op: &str, col: &str, v: &str| json!({"type": op, "term": col, "value": v});
    vec![
        Query { key: "q6", name: "Q6 (SQL)", kind: sql(Q6_SQL) },
        Query { key: "q1", name: "Q1 (SQL)", kind: sql(Q1_SQL) },
        Query {
            key: "agg",
            name: "`sum(l_quantity), count(*)` (SQL, full scan)",
            kind: sql("SELECT sum(l_quantity) AS sum_qty, count(*) AS n FROM {t}"),
        },
        Query { key: "star", name: "`SELECT *` (SQL, 16 columns)", kind: sql("SELECT * FROM {t}") },
        Query {
            key: "scan-q6",
            name: "Q6 scan request",
            kind: Kind::Scan(json!({
                "table": TABLE,
                "columns": ["l_extendedprice", "l_discount"],
                "filter": and(
                    and(
                        and(cmp("gt-eq", "l_shipdate", "1994-01-01"), cmp("lt", "l_shipdate", "1995-01-01")),
                        and(cmp("gt-eq", "l_discount", "0.05"), cmp("lt-eq", "l_discount", "0.07")),
                    ),
                    cmp("lt", "l_quantity", "24"),
                ),
            })),
        },
        Query {
            key: "scan-q1",
            name: "Q1 scan request",
            kind: Kind::Scan(json!({
                "table": TABLE,
                "columns": ["l_returnflag", "l_linestatus", "l_quantity", "l_extendedprice", "l_discount", "l_tax"],
                "filter": cmp("lt-eq", "l_shipdate", "1998-09-02"),
            })),
        },
        Query { key: "scan-full", name: "Full scan request (16 cols)", kind: Kind::Scan(json!({"table": TABLE})) },
    ]
}

// ---------------------------------------------------------------------------------------------
// Measuring

/// What one run returned.
#[derive(Default, Clone)]
struct Outcome {
    rows: u64,
    /// Arrow IPC bytes the client received (message headers and bodies).
    wire_bytes: u64,
    /// Time to the FlightInfo, for scan requests.
    plan: Duration,
    endpoints: usize,
    /// Distinct first locations among the endpoints.
    locations: usize,
}

fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    let n = t.len();
    if n == 0 {
        Duration::ZERO
    } else if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// The runs of one measurement, taken one at a time (interleaved with the other variant).
struct Series {
    label: String,
    times: Vec<Duration>,
    plans: Vec<Duration>,
    rows: u64,
}

impl Series {
    fn new(label: impl Into<String>, rows: u64) -> Self {
        Self { label: label.into(), times: Vec::new(), plans: Vec::new(), rows }
    }

    /// Times one run; it must return the rows the untimed runs returned.
    async fn time(&mut self, run: impl std::future::Future<Output = Res<(Vec<RecordBatch>, Outcome)>>) -> Res<Outcome> {
        let start = Instant::now();
        let (batches, o) = run.await?;
        self.times.push(start.elapsed());
        drop(batches);
        self.plans.push(o.plan);
        if o.rows != self.rows {
            return Err(format!("{}: {} rows, expected {}", self.label, o.rows, self.rows).into());
        }
        Ok(o)
    }

    fn median(&self) -> Duration {
        median(&self.times)
    }

    fn plan(&self) -> Duration {
        median(&self.plans)
    }

    fn report(&self) {
        let min = self.times.iter().min().copied().unwrap_or_default();
        let max = self.times.iter().max().copied().unwrap_or_default();
        eprintln!(
            "  {:<60} median {:>9} ms  min {:>9} ms  max {:>9} ms  ({} runs)",
            self.label,
            ms(self.median()),
            ms(min),
            ms(max),
            self.times.len()
        );
    }
}

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
// Flight client side

/// A Flight client as a connector keeps one: a few connections per location (made on first
/// use and kept), all from [`CLIENT_IP`].
#[derive(Clone)]
struct Client {
    pool: usize,
    channels: Arc<Mutex<HashMap<String, Vec<Channel>>>>,
}

/// `grpc+tcp://host:port` -> `host:port`.
fn host_port(location: &str) -> &str {
    location.split_once("://").map(|(_, rest)| rest).unwrap_or(location).trim_end_matches('/')
}

impl Client {
    fn new(pool: usize) -> Self {
        Self { pool: pool.max(1), channels: Arc::default() }
    }

    async fn connect(addr: &str) -> Res<Channel> {
        let endpoint =
            Endpoint::from_shared(format!("http://{addr}"))?.tcp_nodelay(true).local_address(Some(CLIENT_IP));
        let mut last = None;
        for _ in 0..100 {
            match endpoint.connect().await {
                Ok(c) => return Ok(c),
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Err(format!("cannot connect to {addr}: {last:?}").into())
    }

    /// Connection `i` (mod the pool) to the node at `location`.
    async fn flight(&self, location: &str, i: usize) -> Res<FlightServiceClient<Channel>> {
        let addr = host_port(location).to_string();
        let existing = self.channels.lock().expect("channels").get(&addr).cloned();
        let channels = match existing {
            Some(c) => c,
            None => {
                let mut fresh = Vec::new();
                for _ in 0..self.pool {
                    fresh.push(Self::connect(&addr).await?);
                }
                self.channels.lock().expect("channels").entry(addr).or_insert(fresh).clone()
            }
        };
        Ok(FlightServiceClient::new(channels[i % channels.len()].clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE))
    }

    async fn action(&self, location: &str, kind: &str, body: Value) -> Res<Value> {
        let action = Action { r#type: kind.into(), body: serde_json::to_vec(&body)?.into() };
        let mut stream = self.flight(location, 0).await?.do_action(action).await?.into_inner();
        let mut out = Value::Null;
        while let Some(r) = stream.message().await? {
            out = serde_json::from_slice(&r.body)?;
        }
        Ok(out)
    }

    /// DoGet of one ticket from `location` on connection `i`: the batches and the IPC bytes.
    async fn fetch(&self, location: &str, i: usize, ticket: Ticket) -> Res<(Vec<RecordBatch>, u64)> {
        let stream = self.flight(location, i).await?.do_get(ticket).await?.into_inner();
        let bytes = Arc::new(AtomicU64::new(0));
        let counter = bytes.clone();
        let data = stream
            .map_ok(move |d: FlightData| {
                counter.fetch_add((d.data_header.len() + d.data_body.len()) as u64, Ordering::Relaxed);
                d
            })
            .map_err(|s| FlightError::Tonic(Box::new(s)));
        let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(data).try_collect().await?;
        Ok((batches, bytes.load(Ordering::Relaxed)))
    }

    /// SQL text as a ticket on the entry node.
    async fn sql(&self, entry: &str, sql: &str) -> Res<(Vec<RecordBatch>, Outcome)> {
        let (batches, wire_bytes) = self.fetch(entry, 0, Ticket::new(sql.to_string())).await?;
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        Ok((batches, Outcome { rows, wire_bytes, endpoints: 1, locations: 1, ..Default::default() }))
    }

    /// A scan request as a connector reads it: GetFlightInfo on the entry node, then DoGet of
    /// every endpoint from its first location, at most `pool` at once (one task each).
    async fn scan(&self, entry: &str, request: &Value) -> Res<(Vec<RecordBatch>, Outcome)> {
        let start = Instant::now();
        let descriptor = FlightDescriptor::new_cmd(serde_json::to_vec(request)?);
        let info: FlightInfo = self.flight(entry, 0).await?.get_flight_info(descriptor).await?.into_inner();
        let plan = start.elapsed();
        let mut reads = Vec::new();
        for e in &info.endpoint {
            let ticket = e.ticket.clone().ok_or("endpoint without ticket")?;
            let location = e.location.first().map(|l| l.uri.clone()).ok_or("endpoint without location")?;
            reads.push((location, ticket));
        }
        let endpoints = reads.len();
        let mut locations: Vec<&String> = reads.iter().map(|(l, _)| l).collect();
        locations.sort();
        locations.dedup();
        let locations = locations.len();
        let results: Vec<_> = futures::stream::iter(reads.into_iter().enumerate().map(|(i, (location, ticket))| {
            let client = self.clone();
            tokio::spawn(async move { client.fetch(&location, i, ticket).await.map_err(|e| e.to_string()) })
        }))
        .buffer_unordered(self.pool)
        .collect()
        .await;
        let mut batches = Vec::new();
        let mut wire_bytes = 0;
        for r in results {
            let (b, n) = r??;
            batches.extend(b);
            wire_bytes += n;
        }
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        Ok((batches, Outcome { rows, wire_bytes, plan, endpoints, locations }))
    }

    async fn run(&self, entry: &str, q: &Query) -> Res<(Vec<RecordBatch>, Outcome)> {
        match &q.kind {
            Kind::Sql(sql) => self.sql(entry, sql).await,
            Kind::Scan(request) => self.scan(entry, request).await,
        }
    }
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
// Nodes

struct Running {
    node: Arc<Node>,
    rt: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<arrow_cache::Result<()>>,
    flight: SocketAddr,
}

/// A free port on `ip`.
fn free_port(ip: IpAddr) -> Res<u16> {
    Ok(StdListener::bind((ip, 0))?.local_addr()?.port())
}

/// Starts a node on `ip` on its own runtime of `cpus` workers.
fn start_node(
    catalog: &str,
    memory: &str,
    cpus: usize,
    ip: IpAddr,
    ports: (u16, u16, u16),
    cluster: Option<(&str, &str)>,
) -> Res<Running> {
    let (flight_port, grpc_port, http_port) = ports;
    let (discovery, cluster_yaml) = match cluster {
        Some((id, peers)) => {
            (format!(", discovery_service: \"static://{peers}\""), format!("  cluster: {{node_id: {id}, replication_factor: 1}}\n"))
        }
        None => (String::new(), String::new()),
    };
    let yaml = format!(
        "cache_node:
  memory: {{total_memory: \"{memory}\"}}
  storage:
    iceberg: {catalog}
  caching: {{ttl_seconds: 3600}}
  networking: {{bind_address: {ip}, advertise_host: {ip}, flight_port: {flight_port}, grpc_port: {grpc_port}, http_port: {http_port}{discovery}}}
{cluster_yaml}"
    );
    let config = Config::from_yaml(&yaml)?;
    let name = cluster.map(|(id, _)| id.to_string()).unwrap_or_else(|| "single".into());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(cpus).thread_name(name).enable_all().build()?;
    let node = rt.block_on(Node::new(config))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = rt.spawn(node.clone().serve(async move {
        let _ = stopped.await;
    }));
    Ok(Running { node, rt, stop, serving, flight: SocketAddr::new(ip, flight_port) })
}

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

// ---------------------------------------------------------------------------------------------
// Environment and report (as tpch.rs)

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "?".into());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs (`nproc`; {model}), {mem} memory")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn git_rev(repo: &Path) -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "--short", "HEAD"]) {
        Some(rev) => {
            let dirty = run(&["status", "--porcelain", "--", "service", "Cargo.toml", "Cargo.lock"])
                .is_some_and(|s| !s.is_empty());
            if dirty { format!("{rev} + uncommitted changes") } else { rev }
        }
        None => "unknown".into(),
    }
}

/// CPU ticks: (busy on the machine, total on the machine, used by this process), from /proc.
fn cpu_ticks() -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal
    let busy = v.first()? + v.get(1)? + v.get(2)? + v.get(5)? + v.get(6)?;
    let total = busy + v.get(3)? + v.get(4)? + v.get(7).unwrap_or(&0);
    let me = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = me.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
    let own: u64 = after.get(11)?.parse::<u64>().ok()? + after.get(12)?.parse::<u64>().ok()?;
    Some((busy, total, own))
}

/// The share of the machine's CPU time other processes used between two [`cpu_ticks`].
fn others_share(before: Option<(u64, u64, u64)>, after: Option<(u64, u64, u64)>) -> String {
    match (before, after) {
        (Some((b0, t0, o0)), Some((b1, t1, o1))) if t1 > t0 => {
            let total = (t1 - t0) as f64;
            let others = (b1 - b0).saturating_sub(o1 - o0) as f64;
            format!("{:.0}% (this process {:.0}%)", others / total * 100.0, (o1 - o0) as f64 / total * 100.0)
        }
        _ => "unknown".into(),
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

/// One query's results, for the report.
struct Row {
    name: String,
    scan: bool,
    rows: u64,
    warm: [Series; 2],
    cold: [Series; 2],
    /// Bytes the cluster's nodes sent to other nodes, and to the client, during one run.
    node_to_node: Option<u64>,
    to_client: [Option<u64>; 2],
    endpoints: [usize; 2],
    locations: [usize; 2],
}

// ---------------------------------------------------------------------------------------------

fn main() -> Res<()> {
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    let dir = PathBuf::from(
        std::env::var("ARROW_CACHE_BENCH_DIR").unwrap_or_else(|_| format!("{home}/.cache/arrow-cache/bench/sf1")),
    );
    let dir = dir.canonicalize().map_err(|e| {
        format!("{}: {e}; run bench/prepare_tpch.sh first (or set ARROW_CACHE_BENCH_DIR)", dir.display())
    })?;
    let prepared = std::fs::read_to_string(dir.join(".prepared"))
        .map_err(|_| format!("{} is not a prepared TPC-H warehouse; run bench/prepare_tpch.sh", dir.display()))?;
    let sf = prepared.split_whitespace().find_map(|w| w.strip_prefix("sf=")).unwrap_or("?").to_string();
    let env_num = |k: &str, d: usize| std::env::var(k).ok().and_then(|r| r.parse().ok()).unwrap_or(d).max(1);
    let reps = env_num("BENCH_REPS", 5);
    let cold_reps = env_num("BENCH_COLD_REPS", 3);
    let pool = env_num("BENCH_POOL", 3);
    let memory = std::env::var("BENCH_MEMORY").unwrap_or_else(|_| "8GB".into());
    let only: Option<Vec<String>> =
        std::env::var("BENCH_ONLY").ok().map(|s| s.split(',').map(|p| p.trim().to_string()).collect());
    let wants = |k: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == k));
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let d = dir.display();
    let catalog = format!(
        "{{catalog_type: sql, catalog_uri: \"sqlite:///{d}/catalog.db\", catalog_name: default, warehouse: \"file://{d}/warehouse\"}}"
    );

    // The single node and the three members, each on its own runtime as a process would be.
    let ip = |n: u8| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n));
    let ports = |ip: IpAddr| -> Res<(u16, u16, u16)> { Ok((free_port(ip)?, free_port(ip)?, free_port(ip)?)) };
    let single = start_node(&catalog, &memory, cpus, ip(1), ports(ip(1))?, None)?;

    // Node ids. Placement hashes the ids with the file parts (6 whole files at SF 1), so with
    // so few parts the spread depends on the names: pick the first ids (n1..n3, then n1-k..n3-k)
    // that give every node as many parts as an even spread would, unless BENCH_NODE_IDS names them.
    let parts: Vec<FilePart> = {
        let node = single.node.clone();
        let plan = single.rt.block_on(async move {
            node.plan_scan(&ScanRequest { table: TABLE.into(), ..Default::default() }).await
        })?;
        plan.splits.iter().flat_map(|s| s.ticket.split.parts.clone()).collect()
    };
    let spread = |ids: &[String]| -> Vec<usize> {
        let placement = Placement::new(ids.iter().cloned(), 1);
        ids.iter()
            .map(|id| {
                parts
                    .iter()
                    .filter(|p| {
                        let key = PlacementKey { table: TABLE, partition: &p.partition, file: &p.path, row_groups: p.row_groups };
                        placement.primary(&key) == Some(id.as_str())
                    })
                    .count()
            })
            .collect()
    };
    let named = |k: usize| -> Vec<String> {
        (1..=3).map(|i| if k == 0 { format!("n{i}") } else { format!("n{i}-{k}") }).collect()
    };
    let default_spread = spread(&named(0));
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
    let ids_note = if ids == named(0) {
        format!("node ids {}", ids.join(", "))
    } else {
        format!(
            "node ids {} (chosen for an even spread of the {} file parts; n1, n2, n3 would own {:?})",
            ids.join(", "),
            parts.len(),
            default_spread
        )
    };
    eprintln!("cluster bench: {ids_note}");
    let member_ports: Vec<(IpAddr, (u16, u16, u16))> =
        (1..=3).map(|n| Ok::<_, BoxError>((ip(n), ports(ip(n))?))).collect::<Res<_>>()?;
    let peers = member_ports.iter().map(|(ip, (_, g, _))| format!("{ip}:{g}")).collect::<Vec<_>>().join(",");
    let members: Vec<Running> = member_ports
        .iter()
        .enumerate()
        .map(|(i, (ip, p))| start_node(&catalog, &memory, cpus, *ip, *p, Some((&ids[i], &peers))))
        .collect::<Res<_>>()?;

    // Wait until every member sees all three.
    let waited = Instant::now();
    loop {
        let sizes: Vec<usize> = members.iter().map(|m| m.node.cluster().map(|c| c.members().len()).unwrap_or(0)).collect();
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
        Variant { name: "single", entry: single.node.location.clone(), servers: vec![single.flight], members: 1 },
        Variant {
            name: "cluster",
            entry: members[0].node.location.clone(),
            servers: members.iter().map(|m| m.flight).collect(),
            members: 3,
        },
    ];

    // Placement of the table's splits, as the entry node plans a full scan.
    let placement = {
        let node = members[0].node.clone();
        let plan = members[0].rt.block_on(async move {
            node.plan_scan(&ScanRequest { table: TABLE.into(), ..Default::default() }).await
        })?;
        let mut per_node: std::collections::BTreeMap<String, (usize, usize, u64)> =
            members.iter().map(|m| (m.node.node_id.clone(), (0, 0, 0))).collect();
        for s in &plan.splits {
            let owner = s.owners.first().map(|m| m.node_id.clone()).unwrap_or_default();
            let e = per_node.entry(owner).or_default();
            e.0 += 1;
            e.1 += s.ticket.split.parts.len();
            e.2 += s.ticket.split.bytes();
        }
        per_node
    };
    let total_bytes: u64 = placement.values().map(|p| p.2).sum();
    let entry_bytes = placement.get(&members[0].node.node_id).map(|p| p.2).unwrap_or(0);
    let remote_share = 1.0 - entry_bytes as f64 / total_bytes.max(1) as f64;
    let placement_text = placement
        .iter()
        .map(|(id, (splits, parts, bytes))| format!("{id}: {parts} file part(s) in {splits} split(s), {} MB", mb(*bytes)))
        .collect::<Vec<_>>()
        .join("; ");
    eprintln!("cluster bench: placement (primary owners) {placement_text}");

    let client_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(cpus).thread_name("client").enable_all().build()?;
    let load_before = load_average();
    eprintln!(
        "cluster bench: SF {sf}, {reps} warm / {cold_reps} cold runs each, pool {pool}, {}, load average {load_before}",
        machine()
    );
    let mut rows_out: Vec<Row> = Vec::new();
    let cpu_before = cpu_ticks();
    let result: Res<()> = client_rt.block_on(async {
        let client = Client::new(pool);
        for q in queries() {
            if !wants(q.key) {
                continue;
            }
            // The untimed first run of each side, compared for exactness; the cluster's is
            // also where the bytes between nodes are counted.
            let mut firsts = Vec::new();
            let mut to_client = [None, None];
            let mut node_to_node = None;
            for (i, v) in variants.iter().enumerate() {
                let before = tcp_snapshot();
                let (batches, o) = client.run(&v.entry, &q).await?;
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
            let (single_first, cluster_first) = (&firsts[0], &firsts[1]);
            if single_first.0.rows != cluster_first.0.rows
                || single_first.1 != cluster_first.1
                || single_first.2 != cluster_first.2
            {
                return Err(format!(
                    "{}: single and cluster disagree: {} vs {} rows, digest {:x} vs {:x}\n{}\n{}",
                    q.name,
                    single_first.0.rows,
                    cluster_first.0.rows,
                    single_first.1,
                    cluster_first.1,
                    single_first.2.as_deref().unwrap_or(""),
                    cluster_first.2.as_deref().unwrap_or("")
                )
                .into());
            }
            let rows = single_first.0.rows;
            eprintln!(
                "{} ({rows} rows, identical on both; Arrow IPC to the client {} / {} MB, TCP to the client {} / {} MB, \
                 node to node {} MB):",
                q.name,
                mb(single_first.0.wire_bytes),
                mb(cluster_first.0.wire_bytes),
                to_client[0].map(mb).unwrap_or_default(),
                to_client[1].map(mb).unwrap_or_default(),
                node_to_node.map(mb).unwrap_or_default(),
            );

            let mut warm = variants.each_ref().map(|v| Series::new(format!("{} warm, {}", q.name, v.name), rows));
            for r in 0..reps {
                for k in 0..2 {
                    let i = (r + k) % 2; // alternate which side goes first
                    warm[i].time(client.run(&variants[i].entry, &q)).await?;
                }
            }
            let mut cold = variants.each_ref().map(|v| Series::new(format!("{} cold, {}", q.name, v.name), rows));
            for r in 0..cold_reps {
                for k in 0..2 {
                    let i = (r + k) % 2;
                    invalidate(&client, &variants[i]).await?;
                    cold[i].time(client.run(&variants[i].entry, &q)).await?;
                }
            }
            for s in warm.iter().chain(&cold) {
                s.report();
            }
            rows_out.push(Row {
                name: q.name.to_string(),
                scan: matches!(q.kind, Kind::Scan(_)),
                rows,
                warm,
                cold,
                node_to_node,
                to_client,
                endpoints: [single_first.0.endpoints, cluster_first.0.endpoints],
                locations: [single_first.0.locations, cluster_first.0.locations],
            });
        }
        Ok(())
    });

    let load_after = load_average();
    let others = others_share(cpu_before, cpu_ticks());
    for r in std::iter::once(single).chain(members) {
        let _ = r.stop.send(());
        let _ = r.rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), r.serving).await });
        r.rt.shutdown_timeout(Duration::from_secs(2));
    }
    result?;

    // -- the report
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf();
    let cmd = format!(
        "bench/prepare_tpch.sh {sf} && CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target cargo bench -p arrow-cache --bench cluster"
    );
    let mut md = String::new();
    md.push_str(&format!(
        "Run {date} · TPC-H SF {sf} · {} · load average before / after the run {load_before} / {load_after} · CPU \
         time of other processes during the run: {others} of the machine · arrow-cache {} · warm: median of {reps} runs, \
         cold: median of {cold_reps} runs · endpoints read {pool} at once\n\n",
        machine(),
        git_rev(&repo)
    ));
    md.push_str(&format!("```sh\n{cmd}\n```\n\n"));
    md.push_str(&format!(
        "- Cluster: {ids_note}, replication factor 1; the entry node is `{}` (127.0.0.1).\n- Placement (primary \
         owners) of a full scan's splits: {placement_text}. The entry node owns {:.0}% of the Parquet bytes; the other \
         {:.0}% is read on the other two nodes.\n",
        ids[0],
        (1.0 - remote_share) * 100.0,
        remote_share * 100.0
    ));
    md.push('\n');
    md.push_str(
        "| query | rows | warm single ms | warm cluster ms | warm cluster ÷ single | cold single ms | cold cluster ms | \
         cold cluster ÷ single | node-to-node MB | to client MB (single / cluster) |\n",
    );
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let opt_mb = |b: Option<u64>| b.map(mb).unwrap_or_else(|| "n/a".into());
    for r in &rows_out {
        let ratio = |s: &[Series; 2]| format!("{:.2}", s[1].median().as_secs_f64() / s[0].median().as_secs_f64());
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} |\n",
            r.name,
            r.rows,
            ms(r.warm[0].median()),
            ms(r.warm[1].median()),
            ratio(&r.warm),
            ms(r.cold[0].median()),
            ms(r.cold[1].median()),
            ratio(&r.cold),
            opt_mb(r.node_to_node),
            opt_mb(r.to_client[0]),
            opt_mb(r.to_client[1]),
        ));
    }
    if rows_out.iter().any(|r| r.scan) {
        md.push_str(
            "\n| scan request | endpoints (single / cluster) | locations read (single / cluster) | \
             GetFlightInfo ms warm (single / cluster) | GetFlightInfo ms cold (single / cluster) |\n",
        );
        md.push_str("|---|---:|---:|---:|---:|\n");
        for r in rows_out.iter().filter(|r| r.scan) {
            md.push_str(&format!(
                "| {} | {} / {} | {} / {} | {} / {} | {} / {} |\n",
                r.name,
                r.endpoints[0],
                r.endpoints[1],
                r.locations[0],
                r.locations[1],
                ms(r.warm[0].plan()),
                ms(r.warm[1].plan()),
                ms(r.cold[0].plan()),
                ms(r.cold[1].plan()),
            ));
        }
    }
    println!("\n{md}");

    if std::env::var("BENCH_NO_DOCS").is_err() && only.is_none() {
        let path = repo.join("docs").join("BENCHMARKS.md");
        let begin = "<!-- BEGIN CLUSTER RESULTS -->";
        let end = "<!-- END CLUSTER RESULTS -->";
        let doc = std::fs::read_to_string(&path).unwrap_or_default();
        match (doc.find(begin), doc.find(end)) {
            (Some(b), Some(e)) if b < e => {
                std::fs::write(&path, format!("{}{begin}\n{md}{}", &doc[..b], &doc[e..]))?;
                eprintln!("cluster bench: results written to {}", path.display());
            }
            _ => eprintln!("cluster bench: no `{begin}` / `{end}` in {}; not written", path.display()),
        }
    }
    Ok(())
}
