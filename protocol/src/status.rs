//! `cluster_status` as JSON: what the Flight action, the CLI and the JNI
//! bridge print, from the control plane's [`ClusterStatus`].

use serde::{Deserialize, Serialize};

use crate::control::ClusterStatus;

/// The cluster as one node sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    /// The node that answered.
    pub node_id: String,
    /// `networking.discovery_service`, or `single`.
    pub discovery: String,
    /// `cluster.replication_factor`.
    pub replication_factor: u32,
    /// Every member or configured peer, the answering node first.
    pub nodes: Vec<NodeReport>,
}

/// One member of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeReport {
    /// Empty for a configured peer that never answered.
    pub node_id: String,
    /// Its Flight location, `grpc+tcp://host:port`.
    pub flight: String,
    /// Its control plane, `host:port`.
    pub control: String,
    /// `up`, `down`, `suspect`, ...
    pub status: String,
    /// Bytes of decoded Arrow it holds.
    pub bytes_cached: u64,
    /// Its budget for decoded Arrow.
    pub budget_bytes: u64,
    /// Seconds since it started.
    pub uptime_seconds: u64,
    /// Why it is not up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<&ClusterStatus> for StatusReport {
    fn from(status: &ClusterStatus) -> Self {
        let nodes = status
            .members
            .iter()
            .map(|m| {
                let member = m.member.clone().unwrap_or_default();
                NodeReport {
                    node_id: member.node_id,
                    flight: member.flight,
                    control: member.control,
                    status: m.state.clone(),
                    bytes_cached: m.bytes_cached,
                    budget_bytes: m.budget_bytes,
                    uptime_seconds: m.uptime_seconds,
                    error: (!m.error.is_empty()).then(|| m.error.clone()),
                }
            })
            .collect();
        Self {
            node_id: status.node_id.clone(),
            discovery: status.discovery.clone(),
            replication_factor: status.replication_factor,
            nodes,
        }
    }
}

impl StatusReport {
    /// As a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a status report is plain JSON")
    }
}
