//! What the benches share: the prepared TPC-H warehouse, nodes started in-process on their own
//! runtimes, a Flight client as connectors read, timing series, the machine and its load, and
//! the results file.
//!
//! A bench writes its figures as JSON to `bench/results/<bench>.json` ([`write_results`]);
//! `bench/render.py` turns every results file into docs/BENCHMARKS.md. Each bench uses part
//! of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow_cache::config::Config;
use arrow_cache::exec::Executor;
use arrow_cache::node::Node;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{Action, FlightData, FlightDescriptor, FlightInfo, Ticket};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tonic::transport::{Channel, Endpoint};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Res<T> = std::result::Result<T, BoxError>;

pub(crate) const TABLE: &str = "tpch.lineitem";
/// The largest gRPC message a bench client or server sends or decodes (as the node).
pub(crate) const MAX_MESSAGE: usize = 64 << 20;
pub(crate) const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

// ---------------------------------------------------------------------------------------------
// Settings from the environment

/// A number from the environment, at least 1.
pub(crate) fn env_num(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|r| r.parse().ok()).unwrap_or(default).max(1)
}

/// `BENCH_ONLY`: a comma list of the parts to run; a partial run never writes the results file.
pub(crate) struct Only(Option<Vec<String>>);

impl Only {
    pub(crate) fn from_env() -> Self {
        Self(std::env::var("BENCH_ONLY").ok().map(|s| s.split(',').map(|p| p.trim().to_string()).collect()))
    }

    pub(crate) fn wants(&self, key: &str) -> bool {
        self.0.as_ref().is_none_or(|o| o.iter().any(|x| x == key))
    }

    pub(crate) fn partial(&self) -> bool {
        self.0.is_some()
    }
}

/// `nproc`: the worker threads of every runtime a bench starts.
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

pub(crate) fn runtime(name: &str, workers: usize) -> Res<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(workers).thread_name(name).enable_all().build()?)
}

// ---------------------------------------------------------------------------------------------
// The prepared warehouse (bench/prepare_tpch.sh)

pub(crate) struct Warehouse {
    pub(crate) dir: PathBuf,
    /// The scale factor it was prepared at.
    pub(crate) sf: String,
}

impl Warehouse {
    /// `ARROW_CACHE_BENCH_DIR`, default `~/.cache/arrow-cache/bench/sf1`.
    pub(crate) fn find() -> Res<Self> {
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
        Ok(Self { dir, sf })
    }

    /// The node's `storage.iceberg` setting for it (YAML flow mapping).
    fn catalog_yaml(&self) -> String {
        let d = self.dir.display();
        format!(
            "{{catalog_type: sql, catalog_uri: \"sqlite:///{d}/catalog.db\", catalog_name: default, warehouse: \"file://{d}/warehouse\"}}"
        )
    }

    /// `bench/prepare_tpch.sh <sf> && <cargo bench of this bench>`: what reproduces a run.
    pub(crate) fn command(&self, bench: &str) -> String {
        format!("bench/prepare_tpch.sh {} && {}", self.sf, cargo_bench(bench))
    }
}

/// The command that runs the bench `name`.
pub(crate) fn cargo_bench(name: &str) -> String {
    format!("CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target cargo bench --locked --workspace --bench {name}")
}

// ---------------------------------------------------------------------------------------------
// Nodes, in this process

/// A free TCP port on `ip`.
pub(crate) fn free_port(ip: IpAddr) -> Res<u16> {
    Ok(StdListener::bind((ip, 0))?.local_addr()?.port())
}

/// A node serving on its own runtime, as a separate process would.
pub(crate) struct Running {
    pub(crate) node: Node,
    pub(crate) rt: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<arrow_cache::Result<()>>,
    pub(crate) flight: SocketAddr,
}

/// A member of a static cluster: its id and every member's control plane (`host:port,...`).
pub(crate) struct Member<'a> {
    pub(crate) id: &'a str,
    pub(crate) peers: &'a str,
}

impl Running {
    /// Starts a node for `warehouse` on `ip` with `total_memory` `memory`, serving on free ports
    /// (`ports`: Flight, control plane, HTTP), on a runtime of `cpus()` workers.
    pub(crate) fn start(
        warehouse: &Warehouse,
        memory: &str,
        ip: IpAddr,
        ports: Option<(u16, u16, u16)>,
        member: Option<Member<'_>>,
    ) -> Res<Self> {
        let (flight_port, grpc_port, http_port) = match ports {
            Some(p) => p,
            None => (free_port(ip)?, free_port(ip)?, free_port(ip)?),
        };
        let (discovery, cluster) = match &member {
            Some(m) => (
                format!(", discovery_service: \"static://{}\"", m.peers),
                format!("  cluster: {{node_id: {}, replication_factor: 1}}\n", m.id),
            ),
            None => (String::new(), String::new()),
        };
        let yaml = format!(
            "cache_node:
  memory: {{total_memory: \"{memory}\"}}
  storage:
    iceberg: {}
  caching: {{ttl_seconds: 3600}}
  networking: {{bind_address: {ip}, advertise_host: {ip}, flight_port: {flight_port}, grpc_port: {grpc_port}, http_port: {http_port}{discovery}}}
{cluster}",
            warehouse.catalog_yaml()
        );
        let config = Config::from_yaml(&yaml)?;
        let rt = runtime(member.as_ref().map_or("node", |m| m.id), cpus())?;
        let node = rt.block_on(Node::new(config))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = rt.spawn(node.clone().serve(async move {
            let _ = stopped.await;
        }));
        Ok(Self { node, rt, stop, serving, flight: SocketAddr::new(ip, flight_port) })
    }

    pub(crate) fn exec(&self) -> &Arc<Executor> {
        self.node.executor()
    }

    /// Where clients reach its Flight server (`grpc+tcp://host:port`).
    pub(crate) fn location(&self) -> String {
        self.exec().me.flight.clone()
    }

    /// Runs `f` with the node's executor on the node's runtime.
    pub(crate) fn block_on<T, F>(&self, f: impl FnOnce(Arc<Executor>) -> F) -> T
    where
        F: Future<Output = T>,
    {
        self.rt.block_on(f(self.exec().clone()))
    }

    /// Stops serving and shuts its runtime down.
    pub(crate) fn stop(self) {
        let _ = self.stop.send(());
        let serving = self.serving;
        let _ = self.rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), serving).await });
        self.rt.shutdown_timeout(Duration::from_secs(2));
    }
}

// ---------------------------------------------------------------------------------------------
// The queries: TPC-H Q1 and Q6 with their validation parameters, as SQL and as scan requests

/// `{t}` is the table.
pub(crate) const Q1_SQL: &str = "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, \
     sum(l_extendedprice) AS sum_base_price, sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, \
     sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty, \
     avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order \
     FROM {t} WHERE l_shipdate <= DATE '1998-09-02' \
     GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus";
pub(crate) const Q6_SQL: &str = "SELECT sum(l_extendedprice * l_discount) AS revenue FROM {t} \
     WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' \
     AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24";

/// One scan request over [`TABLE`]: Q1's and Q6's projections and filters, and the full table.
pub(crate) struct TpchScan {
    pub(crate) key: &'static str,
    pub(crate) name: &'static str,
    pub(crate) columns: Option<&'static [&'static str]>,
    /// An Iceberg REST expression.
    pub(crate) filter: Option<Value>,
    /// The same projection and filter as SQL over `lineitem`.
    pub(crate) sql: &'static str,
}

impl TpchScan {
    /// The scan request (JSON, as a Flight command).
    pub(crate) fn request(&self) -> Value {
        let mut request = json!({"table": TABLE});
        if let Some(cols) = self.columns {
            request["columns"] = json!(cols);
        }
        if let Some(f) = &self.filter {
            request["filter"] = f.clone();
        }
        request
    }
}

pub(crate) fn tpch_scans() -> Vec<TpchScan> {
    let and = |l: Value, r: Value| json!({"type": "and", "left": l, "right": r});
    let cmp = |op: &str, col: &str, v: &str| json!({"type": op, "term": col, "value": v});
    vec![
        TpchScan {
            key: "q1",
            name: "Q1 scan",
            columns: Some(&["l_returnflag", "l_linestatus", "l_quantity", "l_extendedprice", "l_discount", "l_tax"]),
            filter: Some(cmp("lt-eq", "l_shipdate", "1998-09-02")),
            sql: "SELECT l_returnflag, l_linestatus, l_quantity, l_extendedprice, l_discount, l_tax FROM lineitem \
                  WHERE l_shipdate <= DATE '1998-09-02'",
        },
        TpchScan {
            key: "q6",
            name: "Q6 scan",
            columns: Some(&["l_extendedprice", "l_discount"]),
            filter: Some(and(
                and(
                    and(cmp("gt-eq", "l_shipdate", "1994-01-01"), cmp("lt", "l_shipdate", "1995-01-01")),
                    and(cmp("gt-eq", "l_discount", "0.05"), cmp("lt-eq", "l_discount", "0.07")),
                ),
                cmp("lt", "l_quantity", "24"),
            )),
            sql: "SELECT l_extendedprice, l_discount FROM lineitem \
                  WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' \
                  AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24",
        },
        TpchScan {
            key: "full",
            name: "Full scan (16 cols)",
            columns: None,
            filter: None,
            sql: "SELECT * FROM lineitem",
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// A Flight client as connectors keep one

/// What one read returned.
#[derive(Default, Clone)]
pub(crate) struct Outcome {
    pub(crate) rows: u64,
    /// Arrow IPC bytes the client received (message headers and bodies).
    pub(crate) wire_bytes: u64,
    /// Time to the FlightInfo (planning), for scan requests.
    pub(crate) plan: Duration,
    pub(crate) endpoints: usize,
    /// Distinct locations the endpoints were read from.
    pub(crate) locations: usize,
}

/// Where a scan's endpoints are read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadAt {
    /// At each endpoint's first location (its primary owner), as connectors read.
    Owner,
    /// At the server that answered `GetFlightInfo` (a bare server answers with the node's plan).
    Entry,
}

/// A few connections per location (made on first use and kept), optionally all from one
/// local address; at most `pool` endpoints are read at once.
#[derive(Clone)]
pub(crate) struct Client {
    pool: usize,
    local: Option<IpAddr>,
    channels: Arc<Mutex<HashMap<String, Vec<Channel>>>>,
}

/// `grpc+tcp://host:port` -> `host:port`.
fn host_port(location: &str) -> &str {
    location.split_once("://").map(|(_, rest)| rest).unwrap_or(location).trim_end_matches('/')
}

impl Client {
    pub(crate) fn new(pool: usize, local: Option<IpAddr>) -> Self {
        Self { pool: pool.max(1), local, channels: Arc::default() }
    }

    async fn connect(&self, addr: &str) -> Res<Channel> {
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))?.tcp_nodelay(true).local_address(self.local);
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

    /// Connection `i` (mod the pool) to the server at `location` (`grpc+tcp://host:port` or `host:port`).
    pub(crate) async fn flight(&self, location: &str, i: usize) -> Res<FlightServiceClient<Channel>> {
        let addr = host_port(location).to_string();
        let existing = self.channels.lock().expect("channels").get(&addr).cloned();
        let channels = match existing {
            Some(c) => c,
            None => {
                let mut fresh = Vec::new();
                for _ in 0..self.pool {
                    fresh.push(self.connect(&addr).await?);
                }
                self.channels.lock().expect("channels").entry(addr).or_insert(fresh).clone()
            }
        };
        Ok(FlightServiceClient::new(channels[i % channels.len()].clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE))
    }

    /// A Flight action with a JSON body: its last result, as JSON.
    pub(crate) async fn action(&self, location: &str, kind: &str, body: Value) -> Res<Value> {
        let action = Action { r#type: kind.into(), body: serde_json::to_vec(&body)?.into() };
        let mut stream = self.flight(location, 0).await?.do_action(action).await?.into_inner();
        let mut out = Value::Null;
        while let Some(r) = stream.message().await? {
            out = serde_json::from_slice(&r.body)?;
        }
        Ok(out)
    }

    pub(crate) async fn flight_info(&self, location: &str, request: &Value) -> Res<FlightInfo> {
        let descriptor = FlightDescriptor::new_cmd(serde_json::to_vec(request)?);
        Ok(self.flight(location, 0).await?.get_flight_info(descriptor).await?.into_inner())
    }

    /// DoGet of one ticket from `location` on connection `i`: the batches and the IPC bytes.
    pub(crate) async fn fetch(&self, location: &str, i: usize, ticket: Ticket) -> Res<(Vec<RecordBatch>, u64)> {
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

    /// SQL text as a ticket (`DoGet(Ticket(sql))`).
    pub(crate) async fn sql(&self, location: &str, sql: &str) -> Res<(Vec<RecordBatch>, Outcome)> {
        let (batches, wire_bytes) = self.fetch(location, 0, Ticket::new(sql.to_string())).await?;
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        Ok((batches, Outcome { rows, wire_bytes, endpoints: 1, locations: 1, ..Default::default() }))
    }

    /// A scan request as a client runs it: `GetFlightInfo` on `entry`, then `DoGet` of every
    /// endpoint (one task each, at most `pool` at once), where `at` says.
    pub(crate) async fn scan(&self, entry: &str, request: &Value, at: ReadAt) -> Res<(Vec<RecordBatch>, Outcome)> {
        let start = Instant::now();
        let info = self.flight_info(entry, request).await?;
        let plan = start.elapsed();
        let mut reads = Vec::new();
        for e in &info.endpoint {
            let ticket = e.ticket.clone().ok_or("endpoint without ticket")?;
            let location = match at {
                ReadAt::Entry => entry.to_string(),
                ReadAt::Owner => e.location.first().map(|l| l.uri.clone()).ok_or("endpoint without location")?,
            };
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
}

// ---------------------------------------------------------------------------------------------
// Timing

pub(crate) fn median(times: &[Duration]) -> Duration {
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

/// Milliseconds, to 0.1 ms.
pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

/// The runs of one measurement, taken one at a time (taking turns with other series, so that
/// load from anything else on the machine falls on all of them alike).
pub(crate) struct Series {
    pub(crate) label: String,
    pub(crate) times: Vec<Duration>,
    /// Each run's time to the FlightInfo.
    pub(crate) plans: Vec<Duration>,
    /// The last run's outcome.
    pub(crate) outcome: Outcome,
    /// Every run must return this many rows (by default: as many as the first).
    rows: Option<u64>,
}

impl Series {
    pub(crate) fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), times: Vec::new(), plans: Vec::new(), outcome: Outcome::default(), rows: None }
    }

    pub(crate) fn expecting(label: impl Into<String>, rows: u64) -> Self {
        Self { rows: Some(rows), ..Self::new(label) }
    }

    /// Times one run (what it returns besides its outcome is dropped after the clock stops).
    pub(crate) async fn time<T>(&mut self, run: impl Future<Output = Res<(T, Outcome)>>) -> Res<()> {
        let start = Instant::now();
        let (out, o) = run.await?;
        self.times.push(start.elapsed());
        drop(out);
        let expected = *self.rows.get_or_insert(o.rows);
        if o.rows != expected {
            return Err(format!("{}: {} rows, expected {expected}", self.label, o.rows).into());
        }
        self.plans.push(o.plan);
        self.outcome = o;
        Ok(())
    }

    pub(crate) fn median(&self) -> Duration {
        median(&self.times)
    }

    pub(crate) fn secs(&self) -> f64 {
        self.median().as_secs_f64()
    }

    /// The median time to the FlightInfo.
    pub(crate) fn plan(&self) -> Duration {
        median(&self.plans)
    }

    /// Prints it to stderr, as the run goes.
    pub(crate) fn report(&self) {
        let min = self.times.iter().min().copied().unwrap_or_default();
        let max = self.times.iter().max().copied().unwrap_or_default();
        eprintln!(
            "  {:<60} median {:>9.1} ms  min {:>9.1} ms  max {:>9.1} ms  rows {:>9}  GetFlightInfo {:>7.1} ms",
            self.label,
            ms(self.median()),
            ms(min),
            ms(max),
            self.outcome.rows,
            ms(self.plan())
        );
    }

    /// The figures, for the results file. `plan_ms` and the Flight counts are null where the
    /// runs had no FlightInfo or did not go over Flight.
    pub(crate) fn json(&self) -> Value {
        let o = &self.outcome;
        let over_flight = o.wire_bytes > 0;
        json!({
            "label": self.label,
            "median_ms": ms(self.median()),
            "min_ms": self.times.iter().min().copied().map(ms),
            "max_ms": self.times.iter().max().copied().map(ms),
            "runs_ms": self.times.iter().map(|t| ms(*t)).collect::<Vec<_>>(),
            "plan_ms": (self.plan() > Duration::ZERO).then(|| ms(self.plan())),
            "rows": o.rows,
            "endpoints": over_flight.then_some(o.endpoints),
            "locations": over_flight.then_some(o.locations),
            "wire_bytes": over_flight.then_some(o.wire_bytes),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The machine, its load, and the results file

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

fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).filter_map(|v| v.parse().ok()).collect())
        .unwrap_or_default()
}

/// CPUs, CPU model and memory.
fn machine() -> Value {
    let mem_kb = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
    });
    let model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
        c.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string())
    });
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "memory_gib": mem_kb.map(|kb| (kb / 1024.0 / 1024.0 * 10.0).round() / 10.0),
    })
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf()
}

/// The commit, and whether the code a bench builds has uncommitted changes.
fn git_rev() -> Value {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(repo())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let dirty =
        run(&["status", "--porcelain", "--", "service", "protocol", "Cargo.toml", "Cargo.lock"]).map(|s| !s.is_empty());
    json!({"commit": run(&["rev-parse", "--short", "HEAD"]), "uncommitted_changes": dirty})
}

/// One run's clock: when it started, and the machine's load and CPU use over it.
pub(crate) struct RunClock {
    date: chrono::DateTime<chrono::Utc>,
    started: Instant,
    load_before: Vec<f64>,
    cpu_before: Option<(u64, u64, u64)>,
}

impl RunClock {
    pub(crate) fn start(bench: &str) -> Self {
        let load_before = load_average();
        eprintln!("{bench} bench: load average {load_before:?} at the start");
        Self { date: chrono::Utc::now(), started: Instant::now(), load_before, cpu_before: cpu_ticks() }
    }

    /// The run's header: date, commit, machine, load before and after, and the share of the
    /// machine's CPU time that other processes and this one used.
    pub(crate) fn finish(&self) -> Value {
        let cpu = match (self.cpu_before, cpu_ticks()) {
            (Some((b0, t0, o0)), Some((b1, t1, o1))) if t1 > t0 => {
                let total = (t1 - t0) as f64;
                let share = |x: u64| (x as f64 / total * 1000.0).round() / 1000.0;
                json!({"others": share((b1 - b0).saturating_sub(o1 - o0)), "this_process": share(o1 - o0)})
            }
            _ => Value::Null,
        };
        let mut run = git_rev();
        run["date"] = json!(self.date.format("%Y-%m-%d %H:%M UTC").to_string());
        run["seconds"] = json!(self.started.elapsed().as_secs());
        run["machine"] = machine();
        run["load_before"] = json!(self.load_before);
        run["load_after"] = json!(load_average());
        run["cpu_share"] = cpu;
        run
    }
}

/// Writes `results` to `bench/results/<bench>.json` and renders docs/BENCHMARKS.md with
/// `bench/render.py`; prints it instead for a partial run (`BENCH_ONLY`) or with `BENCH_NO_DOCS=1`.
pub(crate) fn write_results(bench: &str, results: &Value, partial: bool) -> Res<()> {
    let text = serde_json::to_string_pretty(results)? + "\n";
    if partial || std::env::var("BENCH_NO_DOCS").is_ok() {
        println!("{text}");
        eprintln!("{bench} bench: results printed, not written (BENCH_ONLY or BENCH_NO_DOCS)");
        return Ok(());
    }
    let path = repo().join("bench").join("results").join(format!("{bench}.json"));
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&path, text)?;
    eprintln!("{bench} bench: results written to {}", path.display());
    let render = std::process::Command::new("python3").arg(repo().join("bench").join("render.py")).status();
    match render {
        Ok(s) if s.success() => eprintln!("{bench} bench: docs/BENCHMARKS.md rendered"),
        other => eprintln!("{bench} bench: bench/render.py failed ({other:?}); run it by hand"),
    }
    Ok(())
}
