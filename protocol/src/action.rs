//! The cache actions: Flight `DoAction` types, control-plane calls and CLI
//! commands share these names and bodies.

use serde::{Deserialize, Serialize};

use crate::InvalidRequest;
use crate::control::TableRequest;

/// The `cluster_status` action (no body): the cluster's nodes.
pub const CLUSTER_STATUS: &str = "cluster_status";

/// Every action of the contract, with a one-line description (`ListActions`).
pub const ACTIONS: [(&str, &str); 5] = [
    (TableOp::Stats.name(), "{\"table\"}: hit/miss counts and rates and bytes cached, per partition"),
    (TableOp::Invalidate.name(), "{\"table\", \"partition\"?}: drop cached data and re-resolve the snapshot"),
    (TableOp::Refresh.name(), "{\"table\"}: load the table's current snapshot from the catalog now"),
    (TableOp::Warm.name(), "{\"table\", \"partition\"?, \"columns\"?}: load data into the cache"),
    (CLUSTER_STATUS, "{}: the cluster's nodes"),
];

/// A cache operation on one table, which every member of a cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOp {
    /// Hit/miss counts and rates and bytes cached, per partition.
    Stats,
    /// Drop cached data (of one partition or all) and re-resolve the snapshot.
    Invalidate,
    /// Load the table's current snapshot from the catalog now.
    Refresh,
    /// Load data into the cache.
    Warm,
}

impl TableOp {
    /// Every table operation.
    pub const ALL: [TableOp; 4] = [TableOp::Stats, TableOp::Invalidate, TableOp::Refresh, TableOp::Warm];

    /// The action's name.
    pub const fn name(self) -> &'static str {
        match self {
            TableOp::Stats => "table_stats",
            TableOp::Invalidate => "invalidate",
            TableOp::Refresh => "refresh",
            TableOp::Warm => "warm",
        }
    }

    /// The operation an action name means, if any.
    ///
    /// ```
    /// # use arrow_cache_protocol::action::TableOp;
    /// assert_eq!(TableOp::from_name("warm"), Some(TableOp::Warm));
    /// assert_eq!(TableOp::from_name("cluster_status"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// The body of the `table_stats`, `invalidate`, `refresh` and `warm` actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableAction {
    /// `namespace.table`.
    pub table: String,
    /// `k=v[,k=v]`: a partition, by its partition field names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Only these columns (`warm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
}

impl TableAction {
    /// Checks the partition selector's shape (`k=v[,k=v]`).
    pub fn check(&self) -> Result<(), InvalidRequest> {
        match &self.partition {
            Some(p) if !p.split(',').all(|kv| kv.contains('=')) => {
                Err(InvalidRequest(format!("partition `{p}` must look like k=v[,k=v]")))
            }
            _ => Ok(()),
        }
    }

    /// The control-plane request; `local_only`: run on the asked node only.
    pub fn to_request(&self, local_only: bool) -> TableRequest {
        TableRequest {
            table: self.table.clone(),
            partition: self.partition.clone(),
            columns: self.columns.clone().unwrap_or_default(),
            local_only,
        }
    }
}

impl From<TableRequest> for TableAction {
    fn from(r: TableRequest) -> Self {
        Self { table: r.table, partition: r.partition, columns: (!r.columns.is_empty()).then_some(r.columns) }
    }
}
