//! The control plane (gRPC, port 8816; `protocol/proto/arrow_cache/control/v1/control.proto`):
//! a thin adapter over the executor. Table operations asked of any node run on
//! every live member (see `exec::table_ops`).

use std::sync::Arc;

use arrow_cache_protocol::action::{TableAction, TableOp};
use arrow_cache_protocol::control::control_plane_server::ControlPlane;
use arrow_cache_protocol::control::{self, NodeResult, NodeResults};
use arrow_cache_protocol::from_json;
use tonic::{Request, Response, Status};

use crate::error::{CacheError, Result};
use crate::exec::Executor;

/// The gRPC service.
pub(crate) struct ControlService {
    exec: Arc<Executor>,
}

impl ControlService {
    pub(crate) fn new(exec: Arc<Executor>) -> Self {
        Self { exec }
    }

    async fn table_op(&self, op: TableOp, request: control::TableRequest) -> Result<NodeResults> {
        let local_only = request.local_only;
        let action = TableAction::from(request);
        if local_only {
            let answer = self.exec.table_op_local(op, &action).await?;
            let node = NodeResult {
                node_id: self.exec.me.node_id.clone(),
                ok: true,
                json: answer.to_string(),
                error: String::new(),
            };
            return Ok(NodeResults { merged_json: node.json.clone(), nodes: vec![node] });
        }
        let (merged, nodes) = self.exec.table_op(op, &action).await?;
        Ok(NodeResults { nodes, merged_json: merged.to_string() })
    }
}

#[tonic::async_trait]
impl ControlPlane for ControlService {
    async fn status(
        &self,
        request: Request<control::StatusRequest>,
    ) -> std::result::Result<Response<control::ClusterStatus>, Status> {
        Ok(Response::new(self.exec.cluster_status(request.into_inner().local_only).await))
    }

    async fn ping(
        &self,
        _request: Request<control::PingRequest>,
    ) -> std::result::Result<Response<control::Member>, Status> {
        Ok(Response::new((&self.exec.me).into()))
    }

    async fn list_tables(
        &self,
        request: Request<control::ListTablesRequest>,
    ) -> std::result::Result<Response<control::TableList>, Status> {
        let namespace = request.into_inner().namespace;
        let prefix = format!("{namespace}.");
        let tables = self.exec.registry.list().await?;
        let tables = tables.into_iter().filter(|t| namespace.is_empty() || t.starts_with(&prefix)).collect();
        Ok(Response::new(control::TableList { tables }))
    }

    async fn plan_scan(
        &self,
        request: Request<control::PlanScanRequest>,
    ) -> std::result::Result<Response<control::ScanPlan>, Status> {
        let text = request.into_inner().scan_request_json;
        let scan = from_json(text.as_bytes(), "scan request").map_err(CacheError::from)?;
        let plan = self.exec.plan_scan(&scan).await?;
        let options = arrow::ipc::writer::IpcWriteOptions::default();
        let schema = arrow_flight::IpcMessage::try_from(arrow_flight::SchemaAsIpc::new(&plan.schema, &options))
            .map_err(|e| CacheError::internal(format!("encoding the schema: {e}")))?;
        let splits = plan
            .endpoints()
            .into_iter()
            .map(|s| control::PlannedSplit {
                bytes: s.bytes,
                rows: s.rows.map(|r| r as i64).unwrap_or(-1),
                ticket: s.ticket,
                owners: if s.owners.is_empty() {
                    vec![(&self.exec.me).into()]
                } else {
                    s.owners.iter().map(Into::into).collect()
                },
            })
            .collect();
        Ok(Response::new(control::ScanPlan {
            arrow_schema: schema.0.to_vec(),
            splits,
            total_rows: plan.total_rows.map(|r| r as i64).unwrap_or(-1),
            total_bytes: plan.total_bytes,
            snapshot_id: plan.snapshot_id,
        }))
    }

    async fn table_stats(
        &self,
        request: Request<control::TableRequest>,
    ) -> std::result::Result<Response<NodeResults>, Status> {
        Ok(Response::new(self.table_op(TableOp::Stats, request.into_inner()).await?))
    }

    async fn invalidate(
        &self,
        request: Request<control::TableRequest>,
    ) -> std::result::Result<Response<NodeResults>, Status> {
        Ok(Response::new(self.table_op(TableOp::Invalidate, request.into_inner()).await?))
    }

    async fn refresh(
        &self,
        request: Request<control::TableRequest>,
    ) -> std::result::Result<Response<NodeResults>, Status> {
        Ok(Response::new(self.table_op(TableOp::Refresh, request.into_inner()).await?))
    }

    async fn warm(
        &self,
        request: Request<control::TableRequest>,
    ) -> std::result::Result<Response<NodeResults>, Status> {
        Ok(Response::new(self.table_op(TableOp::Warm, request.into_inner()).await?))
    }

    async fn snapshot_changed(
        &self,
        request: Request<control::SnapshotNotice>,
    ) -> std::result::Result<Response<control::Ack>, Status> {
        let notice = request.into_inner();
        tracing::debug!(table = %notice.table, snapshot = notice.snapshot_id, from = %notice.from_node, "snapshot notice");
        self.exec.registry.adopt(&notice.table, notice.snapshot_id).await?;
        Ok(Response::new(control::Ack {}))
    }
}
