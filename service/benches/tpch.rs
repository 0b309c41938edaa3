//! TPC-H lineitem through arrow-cache vs DataFusion on the same Parquet files.
//!
//! Not a test and not part of CI. Prepare the table once, then run:
//!
//! ```sh
//! bench/prepare_tpch.sh 1                      # tpch.lineitem, SF 1, in ~/.cache/arrow-cache/bench/sf1
//! CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target cargo bench --locked --workspace --bench tpch
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
//! - *in-node*: the executor's `plan_scan` + `read_ticket` called in-process, without Flight;
//! - the full Q1 and Q6 SQL through the node's SQL ticket (warm) vs DataFusion direct;
//! - the Flight ceiling: a bare in-process `FlightService` streaming, from memory, the
//!   batches the node's warm scan returns, split the same way into endpoints.
//!
//! Row counts (and SQL results) must match between the cache and the direct read.
//! The figures go to `bench/results/tpch.json`, and `bench/render.py` writes them into
//! docs/BENCHMARKS.md ("TPC-H lineitem").
//!
//! Environment: `ARROW_CACHE_BENCH_DIR` (default `~/.cache/arrow-cache/bench/sf1`),
//! `BENCH_REPS` (default 5), `BENCH_MEMORY` (node `total_memory`, default `8GB`),
//! `BENCH_STREAMS` (client connections, default 4), `BENCH_NO_DOCS=1` (print the results
//! instead of writing them), `BENCH_ONLY` (comma list of q1,q6,full,sql; implies
//! BENCH_NO_DOCS), `BENCH_PROFILE=<q1|q6|full>[:warm|cold|inproc|direct]` (repeat one
//! measurement for `BENCH_PROFILE_SECS`, default 20, for `perf record`).

mod common;

use std::net::TcpListener as StdListener;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::array::{AsArray, BooleanArray};
use arrow::compute::{and, filter_record_batch};
use arrow::datatypes::SchemaRef;
use arrow_cache::exec::Executor;
use arrow_cache_protocol::scan::ScanRequest;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, HandshakeResponse,
    PollInfo, PutResult, SchemaResult, Ticket,
};
use common::{
    Client, LOCALHOST, MAX_MESSAGE, Only, Outcome, Q1_SQL, Q6_SQL, ReadAt, Res, RunClock, Running, Series, TABLE,
    TpchScan, Warehouse, cpus, env_num, median, ms, runtime, tpch_scans, write_results,
};
use datafusion::common::DFSchema;
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::physical_expr::create_physical_expr;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::{Value, json};
use tonic::{Request, Response, Status, Streaming};

const SQL_QUERIES: [(&str, &str, &str); 2] = [("q1", "Q1 SQL", Q1_SQL), ("q6", "Q6 SQL", Q6_SQL)];

// ---------------------------------------------------------------------------------------------
// The node without Flight: what the read path costs before the transport

/// What an in-node read returned: the output schema and each split's batches.
struct Splits {
    schema: SchemaRef,
    parts: Vec<Vec<RecordBatch>>,
}

/// Plans `request` and reads every split in-process (one task per split on the node's
/// runtime), as `DoGet` would, but keeps the batches instead of encoding them.
async fn in_node(exec: &Arc<Executor>, rt: &tokio::runtime::Handle, request: &Value) -> Res<(Splits, Outcome)> {
    let start = Instant::now();
    let request: ScanRequest = serde_json::from_value(request.clone())?;
    let plan = {
        let exec = exec.clone();
        rt.spawn(async move { exec.plan_scan(&request).await.map_err(|e| e.to_string()) }).await??
    };
    let planned = start.elapsed();
    let endpoints = plan.splits.len();
    let tasks: Vec<_> = plan
        .splits
        .into_iter()
        .map(|s| {
            let exec = exec.clone();
            rt.spawn(async move {
                let (_, stream) = exec.read_ticket(s.ticket).await.map_err(|e| e.to_string())?;
                stream.try_collect::<Vec<RecordBatch>>().await.map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut parts = Vec::new();
    for t in tasks {
        parts.push(t.await??);
    }
    let rows = parts.iter().flatten().map(|b| b.num_rows() as u64).sum();
    Ok((Splits { schema: plan.schema, parts }, Outcome { rows, plan: planned, endpoints, ..Default::default() }))
}

/// Where the in-node time of a filtered scan goes: the query's filter evaluated over the
/// cached columns (fetched unfiltered, zero-copy) on one core, as one DataFusion
/// `PhysicalExpr` for the whole conjunction and conjunct by conjunct with the masks and-ed
/// (as read.rs evaluates it), and the copy of the kept rows (`filter_record_batch` of the
/// projection). Medians of 5.
async fn filter_breakdown(exec: &Arc<Executor>, rt: &tokio::runtime::Handle, q: &TpchScan) -> Res<Value> {
    let filter = q.filter.as_ref().ok_or("no filter")?;
    let projection: Vec<&str> = q.columns.ok_or("no columns")?.to_vec();
    let mut columns = projection.clone();
    for c in ["l_quantity", "l_extendedprice", "l_discount", "l_shipdate"] {
        if filter.to_string().contains(&format!("\"{c}\"")) && !columns.contains(&c) {
            columns.push(c);
        }
    }
    let (splits, _) = in_node(exec, rt, &json!({"table": TABLE, "columns": columns})).await?;
    let schema = splits.schema;
    let batches: Vec<RecordBatch> = splits.parts.into_iter().flatten().collect();
    let expr = arrow_cache::plan::filter::parse_iceberg_json(filter, &schema)?;
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let props = ExecutionProps::new();
    let whole = create_physical_expr(&expr, &df_schema, &props)?;
    let conjuncts = split_conjunction(&expr)
        .into_iter()
        .map(|e| create_physical_expr(e, &df_schema, &props))
        .collect::<Result<Vec<_>, _>>()?;
    let out: Vec<usize> = (0..projection.len()).collect();
    let timed = |f: &mut dyn FnMut() -> Res<Vec<BooleanArray>>| -> Res<(Duration, Vec<BooleanArray>)> {
        let mut times = Vec::new();
        let mut masks = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            masks = f()?;
            times.push(start.elapsed());
        }
        Ok((median(&times), masks))
    };
    let (t_whole, masks) = timed(&mut || {
        batches.iter().map(|b| Ok(whole.evaluate(b)?.into_array(b.num_rows())?.as_boolean().clone())).collect()
    })?;
    let (t_split, split_masks) = timed(&mut || {
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
    let (t_copy, _) = timed(&mut || {
        for (b, m) in batches.iter().zip(&masks) {
            filter_record_batch(&b.project(&out)?, m)?;
        }
        Ok(vec![])
    })?;
    Ok(json!({
        "query": q.name,
        "rows": batches.iter().map(|b| b.num_rows()).sum::<usize>(),
        "conjuncts": conjuncts.len(),
        "kept": kept,
        "one_expression_ms": ms(t_whole),
        "conjunct_by_conjunct_ms": ms(t_split),
        "output_columns": projection.len(),
        "copy_ms": ms(t_copy),
    }))
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

/// Serves `bare` on a free loopback port through tonic's `TcpIncoming` with TCP_NODELAY (as
/// node.rs serves the node's connections).
#[allow(clippy::type_complexity)]
fn start_bare(
    rt: &tokio::runtime::Runtime,
    bare: BareFlight,
) -> Res<(String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<Result<(), tonic::transport::Error>>)> {
    let std = StdListener::bind("127.0.0.1:0")?;
    std.set_nonblocking(true)?;
    let port = std.local_addr()?.port();
    let listener = {
        let _guard = rt.enter();
        tokio::net::TcpListener::from_std(std)?
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service =
        FlightServiceServer::new(bare).max_decoding_message_size(MAX_MESSAGE).max_encoding_message_size(MAX_MESSAGE);
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let handle = rt.spawn(tonic::transport::Server::builder().add_service(service).serve_with_incoming_shutdown(
        incoming,
        async move {
            let _ = stopped.await;
        },
    ));
    Ok((format!("127.0.0.1:{port}"), stop, handle))
}

// ---------------------------------------------------------------------------------------------
// DataFusion directly on the files

/// Runs `sql` on a fresh session over exactly `files`, as table `lineitem` (footers read
/// again, as a cold node must), and collects it.
async fn direct(files: &[String], sql: &str) -> Res<(Vec<RecordBatch>, Outcome)> {
    let ctx = SessionContext::new();
    let df = ctx.read_parquet(files.to_vec(), ParquetReadOptions::default()).await?;
    ctx.register_table("lineitem", df.into_view())?;
    let batches = ctx.sql(sql).await?.collect().await?;
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    Ok((batches, Outcome { rows, ..Default::default() }))
}

// ---------------------------------------------------------------------------------------------

/// What the run shares between its parts.
struct Bench<'a> {
    client: Client,
    /// The node's Flight location.
    entry: String,
    exec: Arc<Executor>,
    /// The node's runtime.
    server: &'a tokio::runtime::Runtime,
    /// The table's data files.
    files: Vec<String>,
    reps: usize,
}

/// One goal (or a what-if without one) for the results: `value` is a ratio or a share.
fn goal(goal: String, target: Option<&str>, value: f64, met: bool) -> Value {
    json!({"goal": goal, "target": target, "value": (value * 1000.0).round() / 1000.0, "met": target.map(|_| met)})
}

impl Bench<'_> {
    async fn invalidate(&self) -> Res<()> {
        self.client.action(&self.entry, "invalidate", json!({"table": TABLE})).await.map(|_| ())
    }

    /// The five variants of one scan request, taking turns; adds their figures and goals to `out`.
    async fn scan(&self, q: &TpchScan, out: &mut Results) -> Res<()> {
        let r = &q.request();
        let handle = self.server.handle();
        // The bare server answers with what the node answers: its FlightInfo for this
        // request and, per endpoint, the batches its split reader produces.
        self.client.scan(&self.entry, r, ReadAt::Entry).await?;
        let info = self.client.flight_info(&self.entry, r).await?;
        let (splits, _) = in_node(&self.exec, handle, r).await?;
        let tickets =
            info.endpoint.iter().map(|e| e.ticket.as_ref().map(|t| t.ticket.clone()).unwrap_or_default()).collect();
        let bare =
            BareFlight { schema: splits.schema, parts: Arc::new(splits.parts), tickets: Arc::new(tickets), info };
        let (bare_at, stop_bare, bare_serving) = start_bare(self.server, bare)?;

        let variants = [
            ("cold", "cold"),
            ("warm", "warm"),
            ("direct", "DataFusion direct"),
            ("inproc", "warm, in-node read, no Flight"),
            ("ceiling", "bare Flight (ceiling)"),
        ];
        let mut series = variants.map(|(_, label)| Series::new(format!("{} {label}", q.name)));
        for _ in 0..self.reps {
            let [cold, warm, direct_m, inproc, ceiling] = &mut series;
            self.invalidate().await?;
            cold.time(self.client.scan(&self.entry, r, ReadAt::Entry)).await?;
            warm.time(self.client.scan(&self.entry, r, ReadAt::Entry)).await?;
            inproc.time(in_node(&self.exec, handle, r)).await?;
            direct_m.time(direct(&self.files, q.sql)).await?;
            ceiling.time(self.client.scan(&bare_at, r, ReadAt::Entry)).await?;
        }
        let [cold, warm, direct_m, inproc, ceiling] = &series;
        for s in &series {
            s.report();
            if s.outcome.rows != direct_m.outcome.rows {
                return Err(format!(
                    "{}: {} rows, DataFusion direct {}",
                    s.label, s.outcome.rows, direct_m.outcome.rows
                )
                .into());
            }
        }
        if ceiling.outcome.wire_bytes != warm.outcome.wire_bytes {
            out.notes.push(format!(
                "{}: bare Flight sent {} bytes, the node {}",
                q.name, ceiling.outcome.wire_bytes, warm.outcome.wire_bytes
            ));
        }
        let speedup = direct_m.secs() / warm.secs();
        let cold_ratio = cold.secs() / direct_m.secs();
        out.goals.push(goal(format!("{}: direct ÷ warm", q.name), Some(">= 5"), speedup, speedup >= 5.0));
        out.goals.push(goal(format!("{}: cold ÷ direct", q.name), Some("<= 1.2"), cold_ratio, cold_ratio <= 1.2));
        if q.key == "full" {
            let share = ceiling.secs() / warm.secs();
            let share_doget = ceiling.secs() / (warm.secs() - warm.plan().as_secs_f64());
            out.goals.push(goal(
                "Full scan: bare Flight ÷ warm (throughput share of the ceiling)".into(),
                Some(">= 70%"),
                share,
                share >= 0.7,
            ));
            out.goals.push(goal(
                "Full scan: bare Flight ÷ warm, without GetFlightInfo".into(),
                None,
                share_doget,
                true,
            ));
        }

        if q.key == "q6" {
            // Round trips of GetFlightInfo for this request and its answer.
            let rtt = |at: String| async move {
                let mut times = Vec::new();
                for _ in 0..20 {
                    let start = Instant::now();
                    self.client.flight_info(&at, r).await?;
                    times.push(start.elapsed());
                }
                Res::Ok(ms(median(&times)))
            };
            out.diagnostics["get_flight_info"] = json!({
                "query": q.name,
                "rounds": 20,
                "node_ms": rtt(self.entry.clone()).await?,
                "bare_ms": rtt(bare_at.clone()).await?,
                "planning_in_process_ms": ms(inproc.plan()),
            });
        }
        let _ = stop_bare.send(());
        let _ = bare_serving.await;
        if q.filter.is_some() {
            let f = filter_breakdown(&self.exec, handle, q).await?;
            out.diagnostics["filters"].as_array_mut().ok_or("filters")?.push(f);
        }
        for ((key, _), s) in variants.iter().zip(&series) {
            out.push(q.key, q.name, key, s);
        }
        Ok(())
    }

    /// The full Q1 and Q6 as a SQL ticket (warm) against DataFusion on the same files.
    async fn sql(&self, out: &mut Results) -> Res<()> {
        for (key, name, sql) in SQL_QUERIES {
            let node_sql = sql.replace("{t}", TABLE);
            let direct_sql = sql.replace("{t}", "lineitem");
            // Warm the columns the query reads, and compare the answers once.
            let (via_node, _) = self.client.sql(&self.entry, &node_sql).await?;
            let (via_df, _) = direct(&self.files, &direct_sql).await?;
            let a = arrow::util::pretty::pretty_format_batches(&via_node)?.to_string();
            let b = arrow::util::pretty::pretty_format_batches(&via_df)?.to_string();
            if a != b {
                return Err(format!("{name}: the node and DataFusion disagree:\n{a}\n{b}").into());
            }
            let mut warm = Series::new(format!("{name} warm (SQL ticket)"));
            let mut direct_m = Series::new(format!("{name} DataFusion direct"));
            for _ in 0..self.reps {
                warm.time(self.client.sql(&self.entry, &node_sql)).await?;
                direct_m.time(direct(&self.files, &direct_sql)).await?;
            }
            warm.report();
            direct_m.report();
            out.goals.push(goal(format!("{name}: direct ÷ warm (extra)"), None, direct_m.secs() / warm.secs(), true));
            let query = format!("{key}-sql");
            out.push(&query, name, "warm", &warm);
            out.push(&query, name, "direct", &direct_m);
        }
        Ok(())
    }
}

/// The figures of a run, as they go into the results file.
struct Results {
    measurements: Vec<Value>,
    goals: Vec<Value>,
    diagnostics: Value,
    notes: Vec<String>,
}

impl Results {
    fn push(&mut self, query: &str, name: &str, variant: &str, s: &Series) {
        let mut m = s.json();
        m["id"] = json!(format!("{query}-{variant}"));
        m["query"] = json!(name);
        m["variant"] = json!(variant);
        self.measurements.push(m);
    }
}

/// `BENCH_PROFILE=<q1|q6|full>[:warm|cold|inproc|direct]`: runs only that, in a loop for
/// `BENCH_PROFILE_SECS` (default 20) seconds, for `perf record` and friends.
async fn profile_loop(target: &str, b: &Bench<'_>) -> Res<()> {
    let (key, phase) = target.split_once(':').unwrap_or((target, "warm"));
    let q =
        tpch_scans().into_iter().find(|q| q.key == key).ok_or_else(|| format!("BENCH_PROFILE: no query `{key}`"))?;
    let request = q.request();
    let secs = env_num("BENCH_PROFILE_SECS", 20) as u64;
    b.client.scan(&b.entry, &request, ReadAt::Entry).await?;
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_secs(secs) {
        match phase {
            "cold" => {
                b.invalidate().await?;
                b.client.scan(&b.entry, &request, ReadAt::Entry).await?;
            }
            "inproc" => {
                in_node(&b.exec, b.server.handle(), &request).await?;
            }
            "direct" => {
                direct(&b.files, q.sql).await?;
            }
            _ => {
                b.client.scan(&b.entry, &request, ReadAt::Entry).await?;
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

fn main() -> Res<()> {
    let warehouse = Warehouse::find()?;
    let reps = env_num("BENCH_REPS", 5);
    let memory = std::env::var("BENCH_MEMORY").unwrap_or_else(|_| "8GB".into());
    let streams = env_num("BENCH_STREAMS", 4);
    let only = Only::from_env();

    // The node (and the bare server) get their own runtime, as a separate process would;
    // the client and the direct DataFusion read run on another.
    let node = Running::start(&warehouse, &memory, LOCALHOST, None, None)?;
    let client_rt = runtime("client", cpus())?;
    let clock = RunClock::start("tpch");
    let mut out = Results {
        measurements: vec![],
        goals: vec![],
        diagnostics: json!({"filters": [], "get_flight_info": null}),
        notes: vec![],
    };

    let table: Res<Value> = client_rt.block_on(async {
        let mut bench = Bench {
            client: Client::new(streams, None),
            entry: node.location(),
            exec: node.exec().clone(),
            server: &node.rt,
            files: vec![],
            reps,
        };

        // The table's data files, from the node's own plan of the whole table.
        bench.invalidate().await?;
        let info: FlightInfo = bench.client.flight_info(&bench.entry, &json!({"table": TABLE})).await?;
        let plan = {
            let exec = bench.exec.clone();
            let request = ScanRequest { table: TABLE.into(), ..Default::default() };
            node.rt.spawn(async move { exec.plan_scan(&request).await.map_err(|e| e.to_string()) }).await??
        };
        for part in plan.splits.iter().flat_map(|s| &s.ticket.split.parts) {
            if !bench.files.contains(&part.path) {
                bench.files.push(part.path.clone());
            }
        }
        eprintln!(
            "  {TABLE}: {} rows, {} data files, {} endpoints for a full scan",
            info.total_records,
            bench.files.len(),
            info.endpoint.len()
        );
        if let Ok(target) = std::env::var("BENCH_PROFILE") {
            profile_loop(&target, &bench).await?;
        }

        for q in tpch_scans() {
            if only.wants(q.key) {
                bench.scan(&q, &mut out).await?;
            }
        }
        if only.wants("sql") {
            bench.sql(&mut out).await?;
        }
        Ok(json!({
            "name": TABLE,
            "rows": info.total_records,
            "data_files": bench.files.len(),
            "parquet_bytes": info.total_bytes,
            "endpoints": info.endpoint.len(),
        }))
    });
    let run = clock.finish();
    node.stop();
    let table = table?;

    let results = json!({
        "bench": "tpch",
        "command": warehouse.command("tpch"),
        "run": run,
        "settings": {"sf": warehouse.sf, "reps": reps, "memory": memory, "streams": streams},
        "table": table,
        "measurements": out.measurements,
        "diagnostics": out.diagnostics,
        "goals": out.goals,
        "notes": out.notes,
    });
    write_results("tpch", &results, only.partial())
}
