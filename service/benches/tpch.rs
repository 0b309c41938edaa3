//! TPC-H lineitem through arrow-cache vs DataFusion on the same Parquet files.
//!
//! Not a test and not part of CI. Prepare the table once, then run:
//!
//! ```sh
//! bench/prepare_tpch.sh 1                      # tpch.lineitem, SF 1, in ~/.cache/arrow-cache/bench/sf1
//! export CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target
//! cargo bench -p arrow-cache --bench tpch
//! ```
//!
//! In one process and one run it measures, each `BENCH_REPS` times (median reported; the
//! variants of one query take turns, round by round, so background load hits them alike):
//!
//! - scans (Q1 and Q6 projections and filters, and the full table) as a client sees
//!   them: `GetFlightInfo(scan request)`, then `DoGet` of every endpoint, all
//!   endpoints at once, decoded by arrow-flight over loopback;
//!   *cold* right after the `invalidate` action (columns, footers and table metadata
//!   dropped), *warm* afterwards;
//! - *direct*: DataFusion (fresh `SessionContext` each time) running the same
//!   projection and filter over exactly the table's data files, collecting every batch;
//! - the full Q1 and Q6 SQL through the node's SQL ticket (warm) vs DataFusion direct;
//! - the Flight ceiling: a bare in-process `FlightService` streaming, from memory, the
//!   batches the node's warm full scan returned, split the same way into endpoints.
//!
//! Row counts (and SQL results) must match between the cache and the direct read.
//! The result table is printed and written into docs/BENCHMARKS.md between the
//! `<!-- BEGIN RESULTS -->` / `<!-- END RESULTS -->` markers.
//!
//! Environment: `ARROW_CACHE_BENCH_DIR` (default `~/.cache/arrow-cache/bench/sf1`),
//! `BENCH_REPS` (default 5), `BENCH_MEMORY` (node `total_memory`, default `8GB`),
//! `BENCH_STREAMS` (client connections, default 4), `BENCH_NO_DOCS=1` (do not touch
//! docs/BENCHMARKS.md), `BENCH_ONLY` (comma list of q1,q6,full,sql; implies BENCH_NO_DOCS).

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::array::{AsArray, BooleanArray};
use arrow::compute::{and, filter_record_batch};
use arrow::datatypes::SchemaRef;
use arrow_cache::config::Config;
use arrow_cache::node::Node;
use arrow_cache::plan::ScanRequest;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, HandshakeResponse,
    PollInfo, PutResult, SchemaResult, Ticket,
};
use datafusion::common::DFSchema;
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::physical_expr::create_physical_expr;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status, Streaming};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = std::result::Result<T, BoxError>;

const TABLE: &str = "tpch.lineitem";
const MAX_MESSAGE: usize = 64 << 20;

// ---------------------------------------------------------------------------------------------
// The queries

struct ScanQuery {
    key: &'static str,
    name: &'static str,
    columns: Option<&'static [&'static str]>,
    filter: Option<Value>,
    /// The same projection and filter as SQL over `lineitem`, for the direct read.
    sql: &'static str,
}

fn scan_queries() -> Vec<ScanQuery> {
    let and = |l: Value, r: Value| json!({"type": "and", "left": l, "right": r});
    let cmp = |op: &str, col: &str, v: &str| json!({"type": op, "term": col, "value": v});
    vec![
        ScanQuery {
            key: "q1",
            name: "Q1 scan",
            columns: Some(&["l_returnflag", "l_linestatus", "l_quantity", "l_extendedprice", "l_discount", "l_tax"]),
            filter: Some(cmp("lt-eq", "l_shipdate", "1998-09-02")),
            sql: "SELECT l_returnflag, l_linestatus, l_quantity, l_extendedprice, l_discount, l_tax FROM lineitem \
                  WHERE l_shipdate <= DATE '1998-09-02'",
        },
        ScanQuery {
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
        ScanQuery {
            key: "full",
            name: "Full scan (16 cols)",
            columns: None,
            filter: None,
            sql: "SELECT * FROM lineitem",
        },
    ]
}

/// TPC-H Q1 and Q6 with their validation parameters; `{t}` is the table.
const SQL_QUERIES: [(&str, &str); 2] = [
    (
        "Q1 SQL",
        "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price, \
         sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, \
         sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty, \
         avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order \
         FROM {t} WHERE l_shipdate <= DATE '1998-09-02' \
         GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus",
    ),
    (
        "Q6 SQL",
        "SELECT sum(l_extendedprice * l_discount) AS revenue FROM {t} \
         WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' \
         AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24",
    ),
];

// ---------------------------------------------------------------------------------------------
// Measuring

/// What one run returned.
#[derive(Default, Clone)]
struct Outcome {
    rows: u64,
    /// Arrow IPC bytes received (message headers and bodies); 0 when not over Flight.
    wire_bytes: u64,
    /// Time to the FlightInfo (planning), when there was one.
    plan: Duration,
    endpoints: usize,
}

struct Measured {
    label: String,
    times: Vec<Duration>,
    /// The runs' time to the FlightInfo.
    plans: Vec<Duration>,
    outcome: Outcome,
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

impl Measured {
    fn median(&self) -> Duration {
        median(&self.times)
    }

    fn plan(&self) -> Duration {
        median(&self.plans)
    }

    fn min(&self) -> Duration {
        *self.times.iter().min().expect("at least one run")
    }

    fn secs(&self) -> f64 {
        self.median().as_secs_f64()
    }

    fn rows_per_s(&self) -> f64 {
        self.outcome.rows as f64 / self.secs()
    }

    fn mb_per_s(&self) -> Option<f64> {
        (self.outcome.wire_bytes > 0).then(|| self.outcome.wire_bytes as f64 / 1e6 / self.secs())
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// The runs of one measurement, taken one at a time (interleaved with other series).
struct Series {
    label: String,
    times: Vec<Duration>,
    plans: Vec<Duration>,
    outcome: Option<Outcome>,
}

impl Series {
    fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), times: Vec::new(), plans: Vec::new(), outcome: None }
    }

    /// Times one run; every run must return as many rows as the first.
    async fn time(&mut self, run: impl std::future::Future<Output = Res<Outcome>>) -> Res<()> {
        let start = Instant::now();
        let o = run.await?;
        self.times.push(start.elapsed());
        self.plans.push(o.plan);
        if let Some(first) = &self.outcome {
            if first.rows != o.rows {
                return Err(format!("{}: {} rows, earlier {}", self.label, o.rows, first.rows).into());
            }
        }
        self.outcome = Some(o);
        Ok(())
    }

    fn done(self) -> Measured {
        let m = Measured {
            label: self.label,
            times: self.times,
            plans: self.plans,
            outcome: self.outcome.unwrap_or_default(),
        };
        eprintln!(
            "  {:<60} median {:>9} ms  min {:>9} ms  rows {:>9}  GetFlightInfo {:>7} ms",
            m.label,
            ms(m.median()),
            ms(m.min()),
            m.outcome.rows,
            ms(m.plan())
        );
        m
    }
}

// ---------------------------------------------------------------------------------------------
// Flight client side

/// A few loopback connections to one server; streams are spread over them.
#[derive(Clone)]
struct Conns {
    channels: Vec<Channel>,
}

impl Conns {
    async fn connect(port: u16, n: usize) -> Res<Self> {
        let mut channels = Vec::new();
        for _ in 0..n.max(1) {
            let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))?.tcp_nodelay(true);
            let mut last = None;
            let mut channel = None;
            for _ in 0..100 {
                match endpoint.connect().await {
                    Ok(c) => {
                        channel = Some(c);
                        break;
                    }
                    Err(e) => {
                        last = Some(e);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            channels.push(channel.ok_or_else(|| format!("cannot connect to 127.0.0.1:{port}: {last:?}"))?);
        }
        Ok(Self { channels })
    }

    fn client(&self, i: usize) -> FlightServiceClient<Channel> {
        FlightServiceClient::new(self.channels[i % self.channels.len()].clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    async fn action(&self, kind: &str, body: Value) -> Res<Value> {
        let action = Action { r#type: kind.into(), body: serde_json::to_vec(&body)?.into() };
        let mut stream = self.client(0).do_action(action).await?.into_inner();
        let mut out = Value::Null;
        while let Some(r) = stream.message().await? {
            out = serde_json::from_slice(&r.body)?;
        }
        Ok(out)
    }

    /// DoGet of one ticket on connection `i`: the decoded batches and the IPC bytes received.
    async fn fetch(&self, i: usize, ticket: Ticket) -> Res<(Vec<RecordBatch>, u64)> {
        let mut client = self.client(i);
        let stream = client.do_get(ticket).await?.into_inner();
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

    /// Reads every ticket at once (one task each, spread over the connections).
    async fn fetch_all(&self, tickets: Vec<Ticket>) -> Res<(Vec<Vec<RecordBatch>>, u64)> {
        let tasks: Vec<_> = tickets
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let conns = self.clone();
                tokio::spawn(async move { conns.fetch(i, t).await.map_err(|e| e.to_string()) })
            })
            .collect();
        let mut parts = Vec::new();
        let mut bytes = 0;
        for t in tasks {
            let (b, n) = t.await??;
            parts.push(b);
            bytes += n;
        }
        Ok((parts, bytes))
    }

    /// A scan request as a client runs it: GetFlightInfo, then DoGet of every endpoint.
    async fn scan(&self, request: &Value) -> Res<(Vec<Vec<RecordBatch>>, Outcome)> {
        let start = Instant::now();
        let descriptor = FlightDescriptor::new_cmd(serde_json::to_vec(request)?);
        let info: FlightInfo = self.client(0).get_flight_info(descriptor).await?.into_inner();
        let plan = start.elapsed();
        let tickets: Vec<Ticket> = info
            .endpoint
            .iter()
            .map(|e| e.ticket.clone().ok_or("endpoint without ticket"))
            .collect::<Result<_, _>>()?;
        let endpoints = tickets.len();
        let (parts, wire_bytes) = self.fetch_all(tickets).await?;
        let rows = parts.iter().flatten().map(|b| b.num_rows() as u64).sum();
        Ok((parts, Outcome { rows, wire_bytes, plan, endpoints }))
    }

    /// SQL text as a ticket: the result batches.
    async fn sql(&self, sql: &str) -> Res<(Vec<RecordBatch>, Outcome)> {
        let (mut parts, wire_bytes) = self.fetch_all(vec![Ticket::new(sql.to_string())]).await?;
        let batches = parts.pop().unwrap_or_default();
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        Ok((batches, Outcome { rows, wire_bytes, plan: Duration::ZERO, endpoints: 1 }))
    }
}

// ---------------------------------------------------------------------------------------------
// The node without Flight: what the read path costs before the transport

/// Plans `request` and reads every split in-process (one task per split on the node's
/// runtime), as `DoGet` would, but keeps the batches instead of encoding them.
async fn in_node(
    node: &Arc<Node>,
    rt: &tokio::runtime::Handle,
    request: &Value,
) -> Res<(SchemaRef, Vec<Vec<RecordBatch>>, Outcome)> {
    let start = Instant::now();
    let request: ScanRequest = serde_json::from_value(request.clone())?;
    let plan = {
        let node = node.clone();
        rt.spawn(async move { node.plan_scan(&request).await.map_err(|e| e.to_string()) }).await??
    };
    let planned = start.elapsed();
    let endpoints = plan.tickets.len();
    let tasks: Vec<_> = plan
        .tickets
        .into_iter()
        .map(|t| {
            let node = node.clone();
            rt.spawn(async move {
                let (_, stream) = node.read_ticket(t).await.map_err(|e| e.to_string())?;
                stream.try_collect::<Vec<RecordBatch>>().await.map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut parts = Vec::new();
    for t in tasks {
        parts.push(t.await??);
    }
    let rows = parts.iter().flatten().map(|b| b.num_rows() as u64).sum();
    Ok((plan.schema, parts, Outcome { rows, wire_bytes: 0, plan: planned, endpoints }))
}

/// Where the in-node time of a filtered scan goes: the query's filter evaluated over the
/// cached columns (fetched unfiltered, zero-copy) on one core, as read.rs evaluates it (one
/// DataFusion `PhysicalExpr` for the whole conjunction) and conjunct by conjunct with the masks
/// and-ed, and the copy of the kept rows (`filter_record_batch` of the projection).
async fn filter_breakdown(node: &Arc<Node>, rt: &tokio::runtime::Handle, q: &ScanQuery) -> Res<String> {
    let filter = q.filter.as_ref().ok_or("no filter")?;
    let projection: Vec<&str> = q.columns.ok_or("no columns")?.to_vec();
    let mut columns = projection.clone();
    for c in ["l_quantity", "l_extendedprice", "l_discount", "l_shipdate"] {
        if filter.to_string().contains(&format!("\"{c}\"")) && !columns.contains(&c) {
            columns.push(c);
        }
    }
    let (schema, parts, _) = in_node(node, rt, &json!({"table": TABLE, "columns": columns})).await?;
    let batches: Vec<RecordBatch> = parts.into_iter().flatten().collect();
    let expr = arrow_cache::plan::filter::parse_iceberg_json(filter, &schema)?;
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let props = ExecutionProps::new();
    let whole = create_physical_expr(&expr, &df_schema, &props)?;
    let conjuncts = split_conjunction(&expr)
        .into_iter()
        .map(|e| create_physical_expr(e, &df_schema, &props))
        .collect::<Result<Vec<_>, _>>()?;
    let out: Vec<usize> = (0..projection.len()).collect();
    let best = |f: &mut dyn FnMut() -> Res<Vec<BooleanArray>>| -> Res<(Duration, Vec<BooleanArray>)> {
        let mut times = Vec::new();
        let mut masks = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            masks = f()?;
            times.push(start.elapsed());
        }
        times.sort();
        Ok((times[times.len() / 2], masks))
    };
    let (t_whole, masks) = best(&mut || {
        batches.iter().map(|b| Ok(whole.evaluate(b)?.into_array(b.num_rows())?.as_boolean().clone())).collect()
    })?;
    let (t_split, split_masks) = best(&mut || {
        batches
            .iter()
            .map(|b| {
                let mut mask: Option<BooleanArray> = None;
                for c in &conjuncts {
                    let m = c.evaluate(b)?.into_array(b.num_rows())?.as_boolean().clone();
                    mask = Some(match mask {
                        None => m,
                        Some(prev) => and(&prev, &m)?,
                    });
                }
                Ok(mask.ok_or("no conjuncts")?)
            })
            .collect()
    })?;
    let kept: usize = masks.iter().map(|m| m.true_count()).sum();
    let kept_split: usize = split_masks.iter().map(|m| m.true_count()).sum();
    if kept != kept_split {
        return Err(format!("{}: the two evaluations disagree ({kept} vs {kept_split} rows)", q.name).into());
    }
    let (t_copy, _) = best(&mut || {
        for (b, m) in batches.iter().zip(&masks) {
            filter_record_batch(&b.project(&out)?, m)?;
        }
        Ok(vec![])
    })?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    Ok(format!(
        "{}: filter over {rows} cached rows ({} conjunct(s), {kept} kept), one core: as read.rs evaluates it (one PhysicalExpr) \
         {} ms; conjunct by conjunct, masks and-ed {} ms; copying the kept rows of the {} output columns {} ms",
        q.name,
        conjuncts.len(),
        ms(t_whole),
        ms(t_split),
        projection.len(),
        ms(t_copy)
    ))
}

// ---------------------------------------------------------------------------------------------
// The bare Flight server: the transport's ceiling

/// Answers GetFlightInfo with a stored FlightInfo and DoGet of its `i`-th endpoint's ticket
/// with stored part `i`, encoded as the node encodes.
#[derive(Clone)]
struct BareFlight {
    schema: SchemaRef,
    parts: Arc<Vec<Vec<RecordBatch>>>,
    tickets: Arc<Vec<bytes::Bytes>>,
    info: FlightInfo,
}

type FlightStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl FlightService for BareFlight {
    type HandshakeStream = FlightStream<HandshakeResponse>;
    type ListFlightsStream = FlightStream<FlightInfo>;
    type DoGetStream = FlightStream<FlightData>;
    type DoPutStream = FlightStream<PutResult>;
    type DoActionStream = FlightStream<arrow_flight::Result>;
    type ListActionsStream = FlightStream<ActionType>;
    type DoExchangeStream = FlightStream<FlightData>;

    async fn handshake(
        &self,
        _: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(Status::unimplemented("handshake"))
    }
    async fn list_flights(&self, _: Request<Criteria>) -> Result<Response<Self::ListFlightsStream>, Status> {
        Err(Status::unimplemented("list_flights"))
    }
    async fn get_flight_info(&self, _: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        Ok(Response::new(self.info.clone()))
    }
    async fn poll_flight_info(&self, _: Request<FlightDescriptor>) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented("poll_flight_info"))
    }
    async fn get_schema(&self, _: Request<FlightDescriptor>) -> Result<Response<SchemaResult>, Status> {
        Err(Status::unimplemented("get_schema"))
    }
    async fn do_get(&self, request: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        let ticket = &request.get_ref().ticket;
        let i = self.tickets.iter().position(|t| t == ticket).ok_or_else(|| Status::not_found("unknown ticket"))?;
        let batches = self.parts[i].clone();
        let stream = futures::stream::iter(batches.into_iter().map(Ok));
        Ok(Response::new(
            FlightDataEncoderBuilder::new()
                .with_schema(self.schema.clone())
                .build(stream)
                .map_err(Status::from)
                .boxed(),
        ))
    }
    async fn do_put(&self, _: Request<Streaming<FlightData>>) -> Result<Response<Self::DoPutStream>, Status> {
        Err(Status::unimplemented("do_put"))
    }
    async fn do_action(&self, _: Request<Action>) -> Result<Response<Self::DoActionStream>, Status> {
        Err(Status::unimplemented("do_action"))
    }
    async fn list_actions(&self, _: Request<Empty>) -> Result<Response<Self::ListActionsStream>, Status> {
        Err(Status::unimplemented("list_actions"))
    }
    async fn do_exchange(&self, _: Request<Streaming<FlightData>>) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("do_exchange"))
    }
}

// ---------------------------------------------------------------------------------------------
// DataFusion directly on the files

/// A fresh session over exactly `files`, as table `lineitem`.
async fn direct_session(files: &[String]) -> Res<SessionContext> {
    let ctx = SessionContext::new();
    let df = ctx.read_parquet(files.to_vec(), ParquetReadOptions::default()).await?;
    ctx.register_table("lineitem", df.into_view())?;
    Ok(ctx)
}

/// Runs `sql` on a fresh session (footers read again, as a cold node must) and collects it.
async fn direct(files: &[String], sql: &str) -> Res<(Vec<RecordBatch>, Outcome)> {
    let ctx = direct_session(files).await?;
    let batches = ctx.sql(sql).await?.collect().await?;
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    Ok((batches, Outcome { rows, ..Default::default() }))
}

// ---------------------------------------------------------------------------------------------
// Environment and report

fn free_port() -> Res<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

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

fn ratio(x: f64) -> String {
    format!("{x:.2}")
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
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
    let reps: usize = std::env::var("BENCH_REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    let memory = std::env::var("BENCH_MEMORY").unwrap_or_else(|_| "8GB".into());
    let streams: usize = std::env::var("BENCH_STREAMS").ok().and_then(|r| r.parse().ok()).unwrap_or(4);
    let only: Option<Vec<String>> =
        std::env::var("BENCH_ONLY").ok().map(|s| s.split(',').map(|p| p.trim().to_string()).collect());
    let wants = |k: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == k));
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);

    // The node (and the bare server) get their own runtime, as a separate process would;
    // the client and the direct DataFusion read run on this one.
    let server_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(cpus).thread_name("server").enable_all().build()?;
    let client_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(cpus).thread_name("client").enable_all().build()?;

    let (flight_port, grpc_port, http_port) = (free_port()?, free_port()?, free_port()?);
    let d = dir.display();
    let yaml = format!(
        "cache_node:
  memory: {{total_memory: \"{memory}\"}}
  storage:
    iceberg: {{catalog_type: sql, catalog_uri: \"sqlite:///{d}/catalog.db\", catalog_name: default, warehouse: \"file://{d}/warehouse\"}}
  caching: {{ttl_seconds: 3600}}
  networking: {{bind_address: 127.0.0.1, advertise_host: 127.0.0.1, flight_port: {flight_port}, grpc_port: {grpc_port}, http_port: {http_port}}}
"
    );
    let config = Config::from_yaml(&yaml)?;
    let node = server_rt.block_on(Node::new(config))?;
    let (stop_node, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = server_rt.spawn(node.clone().serve(async move {
        let _ = stopped.await;
    }));
    // What-if: the same node (same caches) also served with TCP_NODELAY, as
    // `tonic::transport::Server::serve` would set it up; node.rs serves with
    // `serve_with_incoming_shutdown` on a plain TcpListenerStream, where tonic's
    // `tcp_nodelay` does not apply.
    let (nodelay_listener, nodelay_port) = bind_loopback(&server_rt)?;
    let (stop_nodelay, nodelay_stopped) = tokio::sync::oneshot::channel::<()>();
    let nodelay_serving = {
        let service = FlightServiceServer::new(arrow_cache::serve::flight::FlightFront::new(node.clone()))
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let incoming = tonic::transport::server::TcpIncoming::from(nodelay_listener).with_nodelay(Some(true));
        server_rt.spawn(tonic::transport::Server::builder().add_service(service).serve_with_incoming_shutdown(
            incoming,
            async move {
                let _ = nodelay_stopped.await;
            },
        ))
    };

    let load_before = load_average();
    eprintln!("tpch bench: SF {sf}, {reps} runs each, {}, load average {load_before}", machine());
    let mut rows_out: Vec<Measured> = Vec::new();
    let mut summary: Vec<(String, String, String, bool)> = Vec::new(); // goal, target, reached, met
    let mut notes: Vec<String> = Vec::new();
    let mut diagnostics: Vec<String> = Vec::new();

    let result: Res<()> = client_rt.block_on(async {
        let conns = Conns::connect(flight_port, streams).await?;
        let nodelay_conns = Conns::connect(nodelay_port, streams).await?;
        let server_handle = server_rt.handle().clone();
        let invalidate = || {
            let c = conns.clone();
            async move { c.action("invalidate", json!({"table": TABLE})).await.map(|_| ()) }
        };

        // The table's data files, from the node's own plan of the whole table.
        invalidate().await?;
        let info: FlightInfo = conns.client(0).get_flight_info(FlightDescriptor::new_cmd(serde_json::to_vec(&json!({"table": TABLE}))?)).await?.into_inner();
        let plan = {
            let node = node.clone();
            let request = ScanRequest { table: TABLE.into(), ..Default::default() };
            server_handle.spawn(async move { node.plan_scan(&request).await.map_err(|e| e.to_string()) }).await??
        };
        let mut files: Vec<String> = Vec::new();
        for part in plan.tickets.iter().flat_map(|t| &t.split.parts) {
            if !files.contains(&part.path) {
                files.push(part.path.clone());
            }
        }
        let total_rows = info.total_records;
        eprintln!("  {TABLE}: {total_rows} rows, {} data files, {} endpoints for a full scan", files.len(), info.endpoint.len());
        notes.push(format!(
            "`{TABLE}`: {total_rows} rows in {} data files ({:.0} MB of Parquet), {} endpoints for a full scan",
            files.len(),
            info.total_bytes as f64 / 1e6,
            info.endpoint.len()
        ));

        if let Ok(target) = std::env::var("BENCH_PROFILE") {
            return profile_loop(&target, &conns, &node, &server_handle, &files).await;
        }

        let mut node_full_warm: Option<(f64, f64)> = None; // (median s, GetFlightInfo s)
        let mut ceiling_full: Option<f64> = None;
        let mut node_full_nodelay: Option<f64> = None;
        for q in scan_queries() {
            if !wants(q.key) {
                continue;
            }
            let mut request = json!({"table": TABLE});
            if let Some(cols) = q.columns {
                request["columns"] = json!(cols);
            }
            if let Some(f) = &q.filter {
                request["filter"] = f.clone();
            }
            let r = &request;

            // The bare servers answer with what the node answers: its FlightInfo for this
            // request and, per endpoint, the batches its split reader produces.
            conns.scan(r).await?;
            let info: FlightInfo = conns.client(0).get_flight_info(FlightDescriptor::new_cmd(serde_json::to_vec(r)?)).await?.into_inner();
            let (schema, parts, _) = in_node(&node, &server_handle, r).await?;
            let tickets = info.endpoint.iter().map(|e| e.ticket.as_ref().map(|t| t.ticket.clone()).unwrap_or_default()).collect();
            let bare = BareFlight { schema, parts: Arc::new(parts), tickets: Arc::new(tickets), info };
            let (bare_port, stop_bare, bare_serving) = start_bare(&server_rt, bare.clone(), true)?;
            let (nagle_port, stop_nagle, nagle_serving) = start_bare(&server_rt, bare, false)?;
            let bare_conns = Conns::connect(bare_port, streams).await?;
            let nagle_conns = Conns::connect(nagle_port, streams).await?;

            // Interleaved: every round runs each variant once, so that load from anything
            // else on the machine falls on all of them alike.
            let mut cold = Series::new(format!("{} cold", q.name));
            let mut warm = Series::new(format!("{} warm", q.name));
            let mut warm_nodelay = Series::new(format!("{} warm, node served with TCP_NODELAY (what-if)", q.name));
            let mut direct_m = Series::new(format!("{} DataFusion direct", q.name));
            let mut inproc = Series::new(format!("{} warm, in-node read, no Flight", q.name));
            let mut ceiling = Series::new(format!("{} bare Flight (ceiling)", q.name));
            let mut nagle = Series::new(format!("{} bare Flight, served as node.rs serves", q.name));
            for _ in 0..reps {
                invalidate().await?;
                cold.time(async { Ok(conns.scan(r).await?.1) }).await?;
                warm.time(async { Ok(conns.scan(r).await?.1) }).await?;
                warm_nodelay.time(async { Ok(nodelay_conns.scan(r).await?.1) }).await?;
                inproc.time(async { Ok(in_node(&node, &server_handle, r).await?.2) }).await?;
                direct_m.time(async { Ok(direct(&files, q.sql).await?.1) }).await?;
                ceiling.time(async { Ok(bare_conns.scan(r).await?.1) }).await?;
                nagle.time(async { Ok(nagle_conns.scan(r).await?.1) }).await?;
            }
            let [cold, warm, warm_nodelay, inproc, direct_m, ceiling, nagle] =
                [cold, warm, warm_nodelay, inproc, direct_m, ceiling, nagle].map(Series::done);
            for m in [&cold, &warm, &warm_nodelay, &inproc, &ceiling, &nagle] {
                if m.outcome.rows != direct_m.outcome.rows {
                    return Err(format!("{}: {} rows, DataFusion direct {}", m.label, m.outcome.rows, direct_m.outcome.rows).into());
                }
            }
            if ceiling.outcome.wire_bytes != warm.outcome.wire_bytes {
                notes.push(format!(
                    "{}: bare Flight sent {} bytes, the node {}",
                    q.name, ceiling.outcome.wire_bytes, warm.outcome.wire_bytes
                ));
            }
            let speedup = direct_m.secs() / warm.secs();
            let cold_ratio = cold.secs() / direct_m.secs();
            summary.push((format!("{}: direct ÷ warm", q.name), ">= 5".into(), ratio(speedup), speedup >= 5.0));
            summary.push((format!("{}: cold ÷ direct", q.name), "<= 1.2".into(), ratio(cold_ratio), cold_ratio <= 1.2));
            summary.push((
                format!("{}: direct ÷ warm, node served with TCP_NODELAY (what-if)", q.name),
                "(no goal)".into(),
                ratio(direct_m.secs() / warm_nodelay.secs()),
                true,
            ));

            if q.key == "q6" {
                // Round trips of GetFlightInfo for this request and its answer.
                let rtt = |conns: Conns| async move {
                    let mut times = Vec::new();
                    for _ in 0..20 {
                        let start = Instant::now();
                        let _ = conns.client(0).get_flight_info(FlightDescriptor::new_cmd(serde_json::to_vec(r)?)).await?;
                        times.push(start.elapsed());
                    }
                    Res::Ok(median(&times))
                };
                let (rtt_node, rtt_nodelay) = (rtt(conns.clone()).await?, rtt(nodelay_conns.clone()).await?);
                let (rtt_bare, rtt_nagle) = (rtt(bare_conns.clone()).await?, rtt(nagle_conns.clone()).await?);
                diagnostics.push(format!(
                    "{}: GetFlightInfo round trip, median of 20: the node {} ms, the same node served with TCP_NODELAY {} ms \
                     (planning in-process: {} ms); a bare server returning the node's FlightInfo from memory: with \
                     TCP_NODELAY {} ms, accepting connections as node.rs does {} ms",
                    q.name,
                    ms(rtt_node),
                    ms(rtt_nodelay),
                    ms(inproc.plan()),
                    ms(rtt_bare),
                    ms(rtt_nagle)
                ));
            }
            for stop in [stop_bare, stop_nagle] {
                let _ = stop.send(());
            }
            let _ = bare_serving.await;
            let _ = nagle_serving.await;
            if q.key == "full" {
                node_full_warm = Some((warm.secs(), warm.plan().as_secs_f64()));
                node_full_nodelay = Some(warm_nodelay.secs());
                ceiling_full = Some(ceiling.secs());
            }
            if q.filter.is_some() {
                diagnostics.push(filter_breakdown(&node, &server_handle, &q).await?);
            }
            rows_out.extend([cold, warm, warm_nodelay, direct_m, inproc, ceiling, nagle]);
        }

        if wants("sql") {
            for (name, sql) in SQL_QUERIES {
                let node_sql = sql.replace("{t}", TABLE);
                let direct_sql = sql.replace("{t}", "lineitem");
                // Warm the columns the query reads, and compare the answers once.
                let (via_node, _) = conns.sql(&node_sql).await?;
                let (via_df, _) = direct(&files, &direct_sql).await?;
                let a = arrow::util::pretty::pretty_format_batches(&via_node)?.to_string();
                let b = arrow::util::pretty::pretty_format_batches(&via_df)?.to_string();
                if a != b {
                    return Err(format!("{name}: the node and DataFusion disagree:\n{a}\n{b}").into());
                }
                let mut warm = Series::new(format!("{name} warm (SQL ticket)"));
                let mut direct_m = Series::new(format!("{name} DataFusion direct"));
                for _ in 0..reps {
                    warm.time(async { Ok(conns.sql(&node_sql).await?.1) }).await?;
                    direct_m.time(async { Ok(direct(&files, &direct_sql).await?.1) }).await?;
                }
                let (warm, direct_m) = (warm.done(), direct_m.done());
                let speedup = direct_m.secs() / warm.secs();
                summary.push((format!("{name}: direct ÷ warm (extra)"), "(no goal)".into(), ratio(speedup), true));
                rows_out.extend([warm, direct_m]);
            }
        }

        if let (Some((node_secs, node_plan)), Some(ceiling)) = (node_full_warm, ceiling_full) {
            let share = ceiling / node_secs;
            let share_doget = ceiling / (node_secs - node_plan);
            summary.push((
                "Full scan: bare Flight ÷ warm (throughput share of the ceiling)".into(),
                ">= 70%".into(),
                format!("{:.0}% ({:.0}% without GetFlightInfo)", share * 100.0, share_doget * 100.0),
                share >= 0.7,
            ));
            if let Some(nd) = node_full_nodelay {
                summary.push((
                    "Full scan: bare Flight ÷ warm, node served with TCP_NODELAY (what-if)".into(),
                    "(no goal)".into(),
                    format!("{:.0}%", ceiling / nd * 100.0),
                    true,
                ));
            }
        }
        Ok(())
    });

    let _ = stop_node.send(());
    let _ = stop_nodelay.send(());
    let _ = server_rt.block_on(serving);
    let _ = server_rt.block_on(nodelay_serving);
    result?;

    // -- the report
    let cmd = format!(
        "bench/prepare_tpch.sh {sf} && CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target cargo bench -p arrow-cache --bench tpch"
    );
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut md = String::new();
    md.push_str(&format!(
        "Run {date} · TPC-H SF {sf} · {} · load average before / after the run {load_before} / {} · arrow-cache {} · \
         {reps} runs each, median\n\n",
        machine(),
        load_average(),
        git_rev(&repo)
    ));
    md.push_str(&format!("```sh\n{cmd}\n```\n\n"));
    for n in &notes {
        md.push_str(&format!("- {n}\n"));
    }
    md.push('\n');
    md.push_str(
        "| measurement | median ms | min ms | rows | endpoints | GetFlightInfo ms | rows/s | MB/s (Arrow IPC) |\n",
    );
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for m in &rows_out {
        let over_flight = m.outcome.wire_bytes > 0;
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            m.label,
            ms(m.median()),
            ms(m.min()),
            m.outcome.rows,
            if over_flight { m.outcome.endpoints.to_string() } else { "–".into() },
            if m.plan() > Duration::ZERO { ms(m.plan()) } else { "–".into() },
            if m.outcome.rows >= 1000 { format!("{:.1} M", m.rows_per_s() / 1e6) } else { "–".into() },
            m.mb_per_s().filter(|_| m.outcome.rows >= 1000).map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into()),
        ));
    }
    if !diagnostics.is_empty() {
        md.push_str("\nDiagnostics (same run):\n\n");
        for d in &diagnostics {
            md.push_str(&format!("- {d}\n"));
        }
    }
    md.push_str("\n| goal | target | reached | |\n|---|---|---|---|\n");
    for (goal, target, reached, ok) in &summary {
        let mark = if target == "(no goal)" { "" } else { verdict(*ok) };
        md.push_str(&format!("| {goal} | {target} | {reached} | {mark} |\n"));
    }
    println!("\n{md}");

    if std::env::var("BENCH_NO_DOCS").is_err() && only.is_none() {
        let path = repo.join("docs").join("BENCHMARKS.md");
        let begin = "<!-- BEGIN RESULTS -->";
        let end = "<!-- END RESULTS -->";
        let doc = std::fs::read_to_string(&path).unwrap_or_else(|_| format!("# Benchmarks\n\n{begin}\n{end}\n"));
        let updated = match (doc.find(begin), doc.find(end)) {
            (Some(b), Some(e)) if b < e => format!("{}{begin}\n{md}{}", &doc[..b], &doc[e..]),
            _ => format!("{doc}\n{begin}\n{md}{end}\n"),
        };
        std::fs::write(&path, updated)?;
        eprintln!("tpch bench: results written to {}", path.display());
    }
    Ok(())
}

/// `BENCH_PROFILE=<q1|q6|full>[:warm|cold|inproc|direct]`: runs only that, in a loop for
/// `BENCH_PROFILE_SECS` (default 20) seconds, for `perf record` and friends.
async fn profile_loop(
    target: &str,
    conns: &Conns,
    node: &Arc<Node>,
    rt: &tokio::runtime::Handle,
    files: &[String],
) -> Res<()> {
    let (key, phase) = target.split_once(':').unwrap_or((target, "warm"));
    let q =
        scan_queries().into_iter().find(|q| q.key == key).ok_or_else(|| format!("BENCH_PROFILE: no query `{key}`"))?;
    let mut request = json!({"table": TABLE});
    if let Some(cols) = q.columns {
        request["columns"] = json!(cols);
    }
    if let Some(f) = &q.filter {
        request["filter"] = f.clone();
    }
    let secs: u64 = std::env::var("BENCH_PROFILE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    conns.scan(&request).await?;
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_secs(secs) {
        match phase {
            "cold" => {
                conns.action("invalidate", json!({"table": TABLE})).await?;
                conns.scan(&request).await?;
            }
            "inproc" => {
                in_node(node, rt, &request).await?;
            }
            "direct" => {
                direct(files, q.sql).await?;
            }
            _ => {
                conns.scan(&request).await?;
            }
        }
        runs += 1;
    }
    eprintln!(
        "BENCH_PROFILE {target}: {runs} runs in {:.1}s, {:.1} ms each",
        start.elapsed().as_secs_f64(),
        start.elapsed().as_secs_f64() * 1e3 / runs as f64
    );
    std::process::exit(0);
}

/// Serves `bare` on a free loopback port: with `nodelay`, through tonic's `TcpIncoming`
/// (TCP_NODELAY, what `Server::serve` does); without, on a plain `TcpListenerStream` as
/// node.rs serves the node.
#[allow(clippy::type_complexity)]
fn start_bare(
    rt: &tokio::runtime::Runtime,
    bare: BareFlight,
    nodelay: bool,
) -> Res<(u16, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<Result<(), tonic::transport::Error>>)> {
    let (listener, port) = bind_loopback(rt)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service =
        FlightServiceServer::new(bare).max_decoding_message_size(MAX_MESSAGE).max_encoding_message_size(MAX_MESSAGE);
    let shutdown = async move {
        let _ = stopped.await;
    };
    let router = tonic::transport::Server::builder().add_service(service);
    let handle = if nodelay {
        let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        rt.spawn(router.serve_with_incoming_shutdown(incoming, shutdown))
    } else {
        rt.spawn(
            router.serve_with_incoming_shutdown(tokio_stream::wrappers::TcpListenerStream::new(listener), shutdown),
        )
    };
    Ok((port, stop, handle))
}

/// A loopback listener on a free port, registered with `rt`'s reactor.
fn bind_loopback(rt: &tokio::runtime::Runtime) -> Res<(tokio::net::TcpListener, u16)> {
    let std = StdListener::bind("127.0.0.1:0")?;
    std.set_nonblocking(true)?;
    let port = std.local_addr()?.port();
    let _guard = rt.enter();
    Ok((tokio::net::TcpListener::from_std(std)?, port))
}
