//! The Flight data plane on port 8815.
//!
//! [`FlightFront`] answers the contract's own requests (SQL text tickets, scan
//! request commands, split tickets, actions, `ListFlights`) and hands every
//! Flight SQL message (a protobuf `Any` of `arrow.flight.protocol.sql`) to
//! [`FlightSqlFront`], which implements arrow-flight's `FlightSqlService` so that
//! ADBC and JDBC Flight SQL drivers work. Both only translate between Flight
//! and the [`Executor`].

use std::pin::Pin;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::CompressionType;
use arrow::ipc::writer::IpcWriteOptions;
use arrow_cache_protocol::action::{ACTIONS, CLUSTER_STATUS, TableAction, TableOp};
use arrow_cache_protocol::from_json;
use arrow_cache_protocol::headers::{IPC_COMPRESSION, IpcCodec};
use arrow_cache_protocol::scan::{AggregateMode, Command, FragmentTicket, ScanRequest, ScanTicket, SnapshotSelector};
use arrow_cache_protocol::status::StatusReport;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest,
    HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use tonic::{Request, Response, Status, Streaming};

use super::flight_sql::FlightSqlFront;
use crate::error::{CacheError, Result};
use crate::exec::Executor;
use crate::exec::sql::SqlEngine;

pub(super) type FlightStream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

pub(super) fn arrow_status(e: arrow::error::ArrowError) -> Status {
    CacheError::from(e).into()
}

/// Encodes batches as Flight data, with the schema first even when there are no rows.
pub(super) fn encode(schema: SchemaRef, batches: BoxStream<'static, Result<RecordBatch>>) -> FlightStream<FlightData> {
    encode_with(schema, batches, IpcWriteOptions::default())
}

fn encode_with(
    schema: SchemaRef,
    batches: BoxStream<'static, Result<RecordBatch>>,
    options: IpcWriteOptions,
) -> FlightStream<FlightData> {
    let batches = batches.map_err(|e| arrow_flight::error::FlightError::Tonic(Box::new(Status::from(e))));
    FlightDataEncoderBuilder::new()
        .with_options(options)
        .with_schema(schema)
        .build(batches)
        .map_err(Status::from)
        .boxed()
}

/// The IPC options a reader asked for in the compression header (see [`IPC_COMPRESSION`]).
fn requested_options<T>(request: &Request<T>) -> Result<IpcWriteOptions> {
    let asked = request.metadata().get(IPC_COMPRESSION).and_then(|v| v.to_str().ok());
    let codec = IpcCodec::parse(asked)?.map(|codec| match codec {
        IpcCodec::Lz4 => CompressionType::LZ4_FRAME,
        IpcCodec::Zstd => CompressionType::ZSTD,
    });
    IpcWriteOptions::default().try_with_compression(codec).map_err(CacheError::from)
}

/// The Flight service of one node.
#[derive(Clone)]
pub struct FlightFront {
    exec: Arc<Executor>,
    sql: SqlEngine,
    flight_sql: FlightSqlFront,
}

impl FlightFront {
    pub fn new(exec: Arc<Executor>) -> Self {
        let sql = SqlEngine::new(exec.clone());
        Self { flight_sql: FlightSqlFront::new(exec.clone(), sql.clone()), exec, sql }
    }

    async fn run_sql(&self, sql: &str) -> Result<FlightStream<FlightData>> {
        let (schema, stream) = self.sql.execute(sql).await?;
        Ok(encode(schema, stream.map_err(CacheError::from).boxed()))
    }

    async fn scan_info(&self, descriptor: FlightDescriptor, request: ScanRequest) -> Result<FlightInfo> {
        let plan = self.exec.plan_scan(&request).await?;
        let mut info = FlightInfo::new()
            .try_with_schema(&plan.schema)?
            .with_descriptor(descriptor)
            .with_total_bytes(plan.total_bytes as i64)
            .with_total_records(plan.total_rows.map(|r| r as i64).unwrap_or(-1))
            .with_ordered(request.limit.is_some())
            // What the answer is of, so a client can check it or read the same snapshot again.
            .with_app_metadata(serde_json::to_vec(&plan.metadata()).unwrap_or_default());
        for split in plan.endpoints() {
            let mut endpoint = FlightEndpoint::new().with_ticket(Ticket::new(split.ticket));
            // Owners, primary first; a node outside a cluster owns everything.
            if split.owners.is_empty() {
                endpoint = endpoint.with_location(self.exec.me.flight.clone());
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
        if action.r#type == CLUSTER_STATUS {
            return Ok(StatusReport::from(&self.exec.cluster_status(false).await).to_json());
        }
        let Some(op) = TableOp::from_name(&action.r#type) else {
            return Err(CacheError::internal(format!("action `{}` is listed but not handled", action.r#type)));
        };
        let body: TableAction = from_json(&action.body, &format!("`{}` action body", action.r#type))?;
        // Every member runs it; the answers come back merged.
        Ok(self.exec.table_op(op, &body).await?.0)
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

    async fn handshake(
        &self,
        _request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        // No authentication yet: accept every client.
        let reply = HandshakeResponse { protocol_version: 0, payload: Default::default() };
        Ok(Response::new(futures::stream::once(async { Ok(reply) }).boxed()))
    }

    async fn list_flights(&self, _request: Request<Criteria>) -> Result<Response<Self::ListFlightsStream>, Status> {
        let names = self.exec.registry.list().await?;
        let mut infos = Vec::new();
        for name in names {
            match self.exec.planner.resolve(&name, SnapshotSelector::Current).await {
                Ok(t) => {
                    let descriptor = FlightDescriptor::new_cmd(
                        serde_json::to_vec(&ScanRequest { table: name.clone(), ..Default::default() })
                            .unwrap_or_default(),
                    );
                    let mut info =
                        FlightInfo::new().try_with_schema(&t.schema).map_err(arrow_status)?.with_descriptor(descriptor);
                    if let Some(s) = &t.snapshot {
                        if let Some(rows) =
                            s.summary().additional_properties.get("total-records").and_then(|r| r.parse().ok())
                        {
                            info = info.with_total_records(rows);
                        }
                        if let Some(bytes) =
                            s.summary().additional_properties.get("total-files-size").and_then(|r| r.parse().ok())
                        {
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
        match Command::classify(&descriptor.cmd)? {
            Command::FlightSql => self.flight_sql.get_flight_info(request).await,
            Command::Json => {
                let scan: ScanRequest = from_json(&descriptor.cmd, "scan request")?;
                Ok(Response::new(self.scan_info(descriptor, scan).await?))
            }
            Command::Sql(sql) => Ok(Response::new(self.sql_info(descriptor, sql).await?)),
        }
    }

    async fn poll_flight_info(&self, _request: Request<FlightDescriptor>) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented("PollFlightInfo: use GetFlightInfo; every plan is returned at once"))
    }

    async fn get_schema(&self, request: Request<FlightDescriptor>) -> Result<Response<SchemaResult>, Status> {
        let info = self.get_flight_info(request).await?.into_inner();
        let schema: Schema = info.try_decode_schema().map_err(arrow_status)?;
        let options = IpcWriteOptions::default();
        let result: SchemaResult = SchemaAsIpc::new(&schema, &options).try_into().map_err(arrow_status)?;
        Ok(Response::new(result))
    }

    async fn do_get(&self, request: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        let bytes = request.get_ref().ticket.clone();
        match Command::classify(&bytes)? {
            Command::FlightSql => self.flight_sql.do_get(request).await,
            Command::Json => {
                if let Ok(fragment) = serde_json::from_slice::<FragmentTicket>(&bytes) {
                    let options = requested_options(&request)?;
                    let (schema, stream) = self.exec.run_fragment(&fragment)?;
                    return Ok(Response::new(encode_with(schema, stream, options)));
                }
                let ticket: ScanTicket = match serde_json::from_slice(&bytes) {
                    Ok(t) => t,
                    // A scan request used as a ticket reads the whole plan as one stream.
                    Err(_) => {
                        let scan: ScanRequest = from_json(&bytes, "ticket")?;
                        if scan.aggregate.as_ref().is_some_and(|a| a.mode == AggregateMode::Final) {
                            let (schema, stream) = self.exec.run_whole(&scan).await?;
                            return Ok(Response::new(encode(schema, stream)));
                        }
                        let plan = self.exec.plan_scan(&scan).await?;
                        let (exec, schema) = (self.exec.clone(), plan.schema.clone());
                        let streams = futures::stream::iter(plan.splits)
                            .map(move |s| exec.read_routed(s.ticket, s.owners, schema.clone()))
                            .flatten()
                            .boxed();
                        return Ok(Response::new(encode(plan.schema, streams)));
                    }
                };
                let options = requested_options(&request)?;
                let (schema, stream) = self.exec.read_ticket(ticket).await?;
                Ok(Response::new(encode_with(schema, stream, options)))
            }
            Command::Sql(sql) => Ok(Response::new(self.run_sql(&sql).await?)),
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

    async fn do_exchange(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("DoExchange is not supported; use DoGet"))
    }
}
