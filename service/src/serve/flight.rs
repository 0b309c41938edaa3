//! The Flight data plane on port 8815.
//!
//! [`FlightFront`] answers the contract's own requests (SQL text tickets, scan
//! request commands, split tickets, actions, `ListFlights`) and hands every
//! Flight SQL message (a protobuf `Any` of `arrow.flight.protocol.sql`) to
//! [`FlightSqlFront`], which implements arrow-flight's `FlightSqlService` so that
//! ADBC and JDBC Flight SQL drivers work.

use std::pin::Pin;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    Any, CommandGetCatalogs, CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables,
    CommandStatementQuery, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest,
    HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use arrow::ipc::CompressionType;
use arrow::ipc::writer::IpcWriteOptions;

use crate::cluster::control::{TableOp, status_json};
use crate::cluster::peers::COMPRESSION_HEADER;
use crate::error::{CacheError, Result};
use crate::node::Node;
use crate::plan::ScanRequest;
use crate::serve::actions::TableAction;
use crate::cluster::fragment::FragmentTicket;
use crate::serve::scan::ScanTicket;
use crate::serve::sql::SqlEngine;

type FlightStream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

const FLIGHT_SQL_TYPE_PREFIX: &str = "type.googleapis.com/arrow.flight.protocol.sql.";

/// The actions of the contract, with a one-line description each.
pub const ACTIONS: [(&str, &str); 5] = [
    ("table_stats", "{\"table\"}: hit/miss counts and rates and bytes cached, per partition"),
    ("invalidate", "{\"table\", \"partition\"?}: drop cached data and re-resolve the snapshot"),
    ("refresh", "{\"table\"}: load the table's current snapshot from the catalog now"),
    ("warm", "{\"table\", \"partition\"?, \"columns\"?}: load data into the cache"),
    ("cluster_status", "{}: the cluster's nodes"),
];

/// What a ticket or command is.
enum Incoming {
    FlightSql,
    Scan,
    Sql(String),
}

fn classify(bytes: &[u8]) -> Result<Incoming> {
    if let Ok(any) = Any::decode(bytes) {
        if any.type_url.starts_with(FLIGHT_SQL_TYPE_PREFIX) {
            return Ok(Incoming::FlightSql);
        }
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CacheError::invalid("the ticket is neither UTF-8 SQL, JSON nor a Flight SQL command"))?;
    let text = text.trim_start();
    if text.starts_with('{') {
        Ok(Incoming::Scan)
    } else if text.is_empty() {
        Err(CacheError::invalid("empty ticket: send SQL text or a scan request"))
    } else {
        Ok(Incoming::Sql(text.to_string()))
    }
}

fn arrow_status(e: arrow::error::ArrowError) -> Status {
    CacheError::from(e).into()
}

/// Parses JSON; errors name the field at fault (`malformed scan request: limit: ...`).
pub(crate) fn parse_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { String::new() } else { format!("{path}: ") };
        CacheError::invalid(format!("malformed {what}: {at}{}", e.inner()))
    })
}

/// Encodes batches as Flight data, with the schema first even when there are no rows.
fn encode(schema: SchemaRef, batches: BoxStream<'static, Result<RecordBatch>>) -> FlightStream<FlightData> {
    encode_with(schema, batches, IpcWriteOptions::default())
}

fn encode_with(schema: SchemaRef, batches: BoxStream<'static, Result<RecordBatch>>, options: IpcWriteOptions) -> FlightStream<FlightData> {
    let batches = batches.map_err(|e| arrow_flight::error::FlightError::Tonic(Box::new(Status::from(e))));
    FlightDataEncoderBuilder::new().with_options(options).with_schema(schema).build(batches).map_err(Status::from).boxed()
}

/// The IPC options a reader asked for in the compression header (see [`COMPRESSION_HEADER`]).
fn requested_options<T>(request: &Request<T>) -> Result<IpcWriteOptions> {
    let codec = match request.metadata().get(COMPRESSION_HEADER).and_then(|v| v.to_str().ok()) {
        None | Some("none") => None,
        Some("lz4") => Some(CompressionType::LZ4_FRAME),
        Some("zstd") => Some(CompressionType::ZSTD),
        Some(other) => return Err(CacheError::invalid(format!("{COMPRESSION_HEADER}: `{other}` is not lz4, zstd or none"))),
    };
    IpcWriteOptions::default().try_with_compression(codec).map_err(CacheError::from)
}

/// The Flight service of one node.
#[derive(Clone)]
pub struct FlightFront {
    node: Arc<Node>,
    sql: SqlEngine,
    flight_sql: FlightSqlFront,
}

impl FlightFront {
    pub fn new(node: Arc<Node>) -> Self {
        let sql = SqlEngine::new(node.clone());
        Self { flight_sql: FlightSqlFront { node: node.clone(), sql: sql.clone() }, node, sql }
    }

    async fn run_sql(&self, sql: &str) -> Result<FlightStream<FlightData>> {
        let (schema, stream) = self.sql.execute(sql).await?;
        Ok(encode(schema, stream.map_err(CacheError::from).boxed()))
    }

    async fn scan_info(&self, descriptor: FlightDescriptor, request: ScanRequest) -> Result<FlightInfo> {
        let plan = self.node.plan_scan(&request).await?;
        let mut info = FlightInfo::new()
            .try_with_schema(&plan.schema)?
            .with_descriptor(descriptor)
            .with_total_bytes(plan.total_bytes as i64)
            .with_total_records(plan.total_rows.map(|r| r as i64).unwrap_or(-1))
            .with_ordered(request.limit.is_some())
            // What the answer is of, so a client can check it or read the same snapshot again.
            .with_app_metadata(serde_json::json!({"snapshot_id": plan.snapshot_id, "schema_id": plan.schema_id}).to_string());
        for split in plan.splits {
            let mut endpoint = FlightEndpoint::new().with_ticket(Ticket::new(split.ticket.to_bytes()?));
            // Owners, primary first; a node outside a cluster owns everything.
            if split.owners.is_empty() {
                endpoint = endpoint.with_location(self.node.location.clone());
            }
            for owner in &split.owners {
                endpoint = endpoint.with_location(owner.flight.clone());
            }
            info = info.with_endpoint(endpoint);
        }
        Ok(info)
    }

    async fn sql_info(&self, descriptor: FlightDescriptor, sql: String) -> Result<FlightInfo> {
        let schema = self.sql.schema_of(&sql).await?;
        Ok(FlightInfo::new()
            .try_with_schema(&schema)?
            .with_descriptor(descriptor)
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(sql.into_bytes()))))
    }

    async fn action(&self, action: &Action) -> Result<serde_json::Value> {
        let body = || -> Result<TableAction> { parse_json(&action.body, &format!("`{}` action body", action.r#type)) };
        let op = match action.r#type.as_str() {
            "table_stats" => TableOp::Stats,
            "invalidate" => TableOp::Invalidate,
            "refresh" => TableOp::Refresh,
            "warm" => TableOp::Warm,
            "cluster_status" => return Ok(status_json(&self.node.cluster_status(false).await)),
            other => return Err(CacheError::internal(format!("action `{other}` is listed but not handled"))),
        };
        // Every member runs it; the answers come back merged.
        Ok(self.node.table_op(op, &body()?).await?.0)
    }
}

#[tonic::async_trait]
impl FlightService for FlightFront {
    type HandshakeStream = FlightStream<HandshakeResponse>;
    type ListFlightsStream = FlightStream<FlightInfo>;
    type DoGetStream = FlightStream<FlightData>;
    type DoPutStream = FlightStream<PutResult>;
    type DoActionStream = FlightStream<arrow_flight::Result>;
    type ListActionsStream = FlightStream<ActionType>;
    type DoExchangeStream = FlightStream<FlightData>;

    async fn handshake(&self, _request: Request<Streaming<HandshakeRequest>>) -> Result<Response<Self::HandshakeStream>, Status> {
        // No authentication yet: accept every client.
        let reply = HandshakeResponse { protocol_version: 0, payload: Default::default() };
        Ok(Response::new(futures::stream::once(async { Ok(reply) }).boxed()))
    }

    async fn list_flights(&self, _request: Request<Criteria>) -> Result<Response<Self::ListFlightsStream>, Status> {
        let names = self.node.registry.list().await?;
        let mut infos = Vec::new();
        for name in names {
            match self.node.planner.resolve(&name, crate::plan::SnapshotSelector::Current).await {
                Ok(t) => {
                    let descriptor = FlightDescriptor::new_cmd(serde_json::to_vec(&ScanRequest { table: name.clone(), ..Default::default() }).unwrap_or_default());
                    let mut info = FlightInfo::new().try_with_schema(&t.schema).map_err(arrow_status)?.with_descriptor(descriptor);
                    if let Some(s) = &t.snapshot {
                        if let Some(rows) = s.summary().additional_properties.get("total-records").and_then(|r| r.parse().ok()) {
                            info = info.with_total_records(rows);
                        }
                        if let Some(bytes) = s.summary().additional_properties.get("total-files-size").and_then(|r| r.parse().ok()) {
                            info = info.with_total_bytes(bytes);
                        }
                    }
                    infos.push(Ok(info));
                }
                Err(e) => tracing::warn!(table = %name, "not listed: {e}"),
            }
        }
        Ok(Response::new(futures::stream::iter(infos).boxed()))
    }

    async fn get_flight_info(&self, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let descriptor = request.get_ref().clone();
        if !descriptor.path.is_empty() {
            // A path names a table: ["ns", "tbl"] or ["ns.tbl"].
            let table = descriptor.path.join(".");
            return Ok(Response::new(self.scan_info(descriptor, ScanRequest { table, ..Default::default() }).await?));
        }
        match classify(&descriptor.cmd)? {
            Incoming::FlightSql => self.flight_sql.get_flight_info(request).await,
            Incoming::Scan => {
                let scan: ScanRequest = parse_json(&descriptor.cmd, "scan request")?;
                Ok(Response::new(self.scan_info(descriptor, scan).await?))
            }
            Incoming::Sql(sql) => Ok(Response::new(self.sql_info(descriptor, sql).await?)),
        }
    }

    async fn poll_flight_info(&self, _request: Request<FlightDescriptor>) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented("PollFlightInfo: use GetFlightInfo; every plan is returned at once"))
    }

    async fn get_schema(&self, request: Request<FlightDescriptor>) -> Result<Response<SchemaResult>, Status> {
        let info = self.get_flight_info(request).await?.into_inner();
        let schema: Schema = info.try_decode_schema().map_err(arrow_status)?;
        let options = arrow::ipc::writer::IpcWriteOptions::default();
        let result: SchemaResult = SchemaAsIpc::new(&schema, &options).try_into().map_err(arrow_status)?;
        Ok(Response::new(result))
    }

    async fn do_get(&self, request: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        let bytes = request.get_ref().ticket.clone();
        match classify(&bytes)? {
            Incoming::FlightSql => self.flight_sql.do_get(request).await,
            Incoming::Scan => {
                if let Ok(fragment) = serde_json::from_slice::<FragmentTicket>(&bytes) {
                    let options = requested_options(&request)?;
                    let (schema, stream) = self.node.run_fragment(&fragment)?;
                    return Ok(Response::new(encode_with(schema, stream, options)));
                }
                let ticket: ScanTicket = match serde_json::from_slice(&bytes) {
                    Ok(t) => t,
                    // A scan request used as a ticket reads the whole plan as one stream.
                    Err(_) => {
                        let scan: ScanRequest = parse_json(&bytes, "ticket")?;
                        let plan = self.node.plan_scan(&scan).await?;
                        let (node, schema) = (self.node.clone(), plan.schema.clone());
                        let streams = futures::stream::iter(plan.splits)
                            .map(move |s| node.read_routed(s.ticket, s.owners, schema.clone()))
                            .flatten()
                            .boxed();
                        return Ok(Response::new(encode(plan.schema, streams)));
                    }
                };
                let options = requested_options(&request)?;
                let (schema, stream) = self.node.read_ticket(ticket).await?;
                Ok(Response::new(encode_with(schema, stream, options)))
            }
            Incoming::Sql(sql) => Ok(Response::new(self.run_sql(&sql).await?)),
        }
    }

    async fn do_put(&self, request: Request<Streaming<FlightData>>) -> Result<Response<Self::DoPutStream>, Status> {
        self.flight_sql.do_put(request).await
    }

    async fn do_action(&self, request: Request<Action>) -> Result<Response<Self::DoActionStream>, Status> {
        let action = request.get_ref();
        if ACTIONS.iter().any(|(name, _)| *name == action.r#type) {
            let value = self.action(action).await?;
            let body = serde_json::to_vec(&value).map_err(|e| Status::internal(e.to_string()))?;
            let result = arrow_flight::Result { body: body.into() };
            return Ok(Response::new(futures::stream::once(async { Ok(result) }).boxed()));
        }
        if action.r#type.starts_with("CreatePreparedStatement") || action.r#type.starts_with("ClosePreparedStatement") {
            return self.flight_sql.do_action(request).await;
        }
        Err(CacheError::invalid(format!(
            "unknown action `{}`; actions are {:?}",
            action.r#type,
            ACTIONS.iter().map(|a| a.0).collect::<Vec<_>>()
        ))
        .into())
    }

    async fn list_actions(&self, _request: Request<Empty>) -> Result<Response<Self::ListActionsStream>, Status> {
        let actions = ACTIONS.iter().map(|(t, d)| Ok(ActionType { r#type: t.to_string(), description: d.to_string() }));
        Ok(Response::new(futures::stream::iter(actions.collect::<Vec<_>>()).boxed()))
    }

    async fn do_exchange(&self, _request: Request<Streaming<FlightData>>) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("DoExchange is not supported; use DoGet"))
    }
}

/// Flight SQL: statements through DataFusion, catalog metadata from the catalog.
#[derive(Clone)]
pub struct FlightSqlFront {
    node: Arc<Node>,
    sql: SqlEngine,
}

static SQL_INFO: std::sync::LazyLock<SqlInfoData> = std::sync::LazyLock::new(|| {
    let mut builder = SqlInfoDataBuilder::new();
    builder.append(SqlInfo::FlightSqlServerName, "arrow-cache");
    builder.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    builder.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
    builder.append(SqlInfo::FlightSqlServerReadOnly, true);
    builder.build().expect("static SQL info is valid")
});

impl FlightSqlFront {
    fn info_for(&self, command: Any, schema: &Schema, descriptor: FlightDescriptor) -> Result<Response<FlightInfo>, Status> {
        let endpoint = FlightEndpoint::new().with_ticket(Ticket::new(command.encode_to_vec()));
        Ok(Response::new(FlightInfo::new().try_with_schema(schema).map_err(arrow_status)?.with_endpoint(endpoint).with_descriptor(descriptor)))
    }

    fn one_batch<E: std::fmt::Display>(schema: SchemaRef, batch: std::result::Result<RecordBatch, E>) -> Response<FlightStream<FlightData>> {
        let batch = batch.map_err(|e| CacheError::internal(e.to_string()));
        Response::new(encode(schema, futures::stream::once(async { batch }).boxed()))
    }

    /// `(namespace, table)` pairs of every table.
    async fn tables(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .node
            .registry
            .list()
            .await?
            .into_iter()
            .filter_map(|n| n.rsplit_once('.').map(|(ns, t)| (ns.to_string(), t.to_string())))
            .collect())
    }

}

#[tonic::async_trait]
impl FlightSqlService for FlightSqlFront {
    type FlightService = FlightSqlFront;

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = self.sql.schema_of(&query.query).await?;
        let ticket = TicketStatementQuery { statement_handle: query.query.into_bytes().into() };
        self.info_for(ticket.as_any(), &schema, request.into_inner())
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let sql = String::from_utf8(ticket.statement_handle.to_vec()).map_err(|_| Status::invalid_argument("statement handle is not UTF-8"))?;
        let (schema, stream) = self.sql.execute(&sql).await?;
        Ok(Response::new(encode(schema, stream.map_err(CacheError::from).boxed())))
    }

    async fn get_flight_info_catalogs(&self, query: CommandGetCatalogs, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_catalogs(&self, query: CommandGetCatalogs, _request: Request<Ticket>) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = query.into_builder();
        builder.append(SqlEngine::catalog_name());
        Ok(Self::one_batch(builder.schema(), builder.build()))
    }

    async fn get_flight_info_schemas(&self, query: CommandGetDbSchemas, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_schemas(&self, query: CommandGetDbSchemas, _request: Request<Ticket>) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let catalog = SqlEngine::catalog_name();
        let mut namespaces: Vec<String> = self.tables().await?.into_iter().map(|(ns, _)| ns).collect();
        namespaces.dedup();
        let mut builder = query.into_builder();
        for ns in namespaces {
            builder.append(&catalog, ns);
        }
        Ok(Self::one_batch(builder.schema(), builder.build()))
    }

    async fn get_flight_info_tables(&self, query: CommandGetTables, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_tables(&self, query: CommandGetTables, _request: Request<Ticket>) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let catalog = SqlEngine::catalog_name();
        let include_schema = query.include_schema;
        let mut builder = query.into_builder();
        for (ns, table) in self.tables().await? {
            let schema = if include_schema {
                let name = format!("{ns}.{table}");
                self.node.planner.resolve(&name, crate::plan::SnapshotSelector::Current).await?.schema.as_ref().clone()
            } else {
                Schema::empty()
            };
            builder.append(&catalog, &ns, &table, "TABLE", &schema).map_err(Status::from)?;
        }
        Ok(Self::one_batch(builder.schema(), builder.build()))
    }

    async fn get_flight_info_table_types(&self, query: CommandGetTableTypes, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = Schema::new(vec![arrow::datatypes::Field::new("table_type", arrow::datatypes::DataType::Utf8, false)]);
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_table_types(&self, _query: CommandGetTableTypes, _request: Request<Ticket>) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let schema = Arc::new(Schema::new(vec![arrow::datatypes::Field::new("table_type", arrow::datatypes::DataType::Utf8, false)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(arrow::array::StringArray::from(vec!["TABLE"]))]);
        Ok(Self::one_batch(schema, batch))
    }

    async fn get_flight_info_sql_info(&self, query: CommandGetSqlInfo, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&SQL_INFO).schema();
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_sql_info(&self, query: CommandGetSqlInfo, _request: Request<Ticket>) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let builder = query.into_builder(&SQL_INFO);
        Ok(Self::one_batch(builder.schema(), builder.build()))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
