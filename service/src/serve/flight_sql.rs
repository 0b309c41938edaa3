//! Flight SQL on the Flight port: statements through DataFusion ([`SqlEngine`]),
//! catalog metadata from the node's catalog, so ADBC and JDBC Flight SQL
//! drivers connect.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow_cache_protocol::scan::SnapshotSelector;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    Any, CommandGetCatalogs, CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables,
    CommandStatementQuery, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, Ticket};
use futures::stream::{StreamExt, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status};

use super::flight::{FlightStream, arrow_status, encode};
use crate::error::{CacheError, Result};
use crate::exec::Executor;
use crate::exec::sql::SqlEngine;

/// Flight SQL: statements through DataFusion, catalog metadata from the catalog.
#[derive(Clone)]
pub(crate) struct FlightSqlFront {
    exec: Arc<Executor>,
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
    pub(crate) fn new(exec: Arc<Executor>, sql: SqlEngine) -> Self {
        Self { exec, sql }
    }

    fn info_for(
        &self,
        command: Any,
        schema: &Schema,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let endpoint = FlightEndpoint::new().with_ticket(Ticket::new(command.encode_to_vec()));
        Ok(Response::new(
            FlightInfo::new()
                .try_with_schema(schema)
                .map_err(arrow_status)?
                .with_endpoint(endpoint)
                .with_descriptor(descriptor),
        ))
    }

    fn one_batch<E: std::fmt::Display>(
        schema: SchemaRef,
        batch: std::result::Result<RecordBatch, E>,
    ) -> Response<FlightStream<FlightData>> {
        let batch = batch.map_err(|e| CacheError::internal(e.to_string()));
        Response::new(encode(schema, futures::stream::once(async { batch }).boxed()))
    }

    /// `(namespace, table)` pairs of every table.
    async fn tables(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .exec
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
        let sql = String::from_utf8(ticket.statement_handle.to_vec())
            .map_err(|_| Status::invalid_argument("statement handle is not UTF-8"))?;
        let (schema, stream) = self.sql.execute(&sql).await?;
        Ok(Response::new(encode(schema, stream.map_err(CacheError::from).boxed())))
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = query.into_builder();
        builder.append(SqlEngine::catalog_name());
        Ok(Self::one_batch(builder.schema(), builder.build()))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let catalog = SqlEngine::catalog_name();
        let mut namespaces: Vec<String> = self.tables().await?.into_iter().map(|(ns, _)| ns).collect();
        namespaces.dedup();
        let mut builder = query.into_builder();
        for ns in namespaces {
            builder.append(&catalog, ns);
        }
        Ok(Self::one_batch(builder.schema(), builder.build()))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let catalog = SqlEngine::catalog_name();
        let include_schema = query.include_schema;
        let mut builder = query.into_builder();
        for (ns, table) in self.tables().await? {
            let schema = if include_schema {
                let name = format!("{ns}.{table}");
                self.exec.planner.resolve(&name, SnapshotSelector::Current).await?.schema.as_ref().clone()
            } else {
                Schema::empty()
            };
            builder.append(&catalog, &ns, &table, "TABLE", &schema).map_err(Status::from)?;
        }
        Ok(Self::one_batch(builder.schema(), builder.build()))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema =
            Schema::new(vec![arrow::datatypes::Field::new("table_type", arrow::datatypes::DataType::Utf8, false)]);
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_table_types(
        &self,
        _query: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let schema = Arc::new(Schema::new(vec![arrow::datatypes::Field::new(
            "table_type",
            arrow::datatypes::DataType::Utf8,
            false,
        )]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(arrow::array::StringArray::from(vec!["TABLE"]))]);
        Ok(Self::one_batch(schema, batch))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&SQL_INFO).schema();
        self.info_for(query.as_any(), &schema, request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let builder = query.into_builder(&SQL_INFO);
        Ok(Self::one_batch(builder.schema(), builder.build()))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
