//! The cache cluster: who is in it (membership), which nodes own which split
//! (placement), and how nodes talk to each other (control plane, peers).
//!
//! ```text
//! membership (static:// pings | etcd:// leases + watch | single node)
//!      │ live members
//!      ▼
//! placement (split key -> owners, primary first)
//!      │
//!      ▼
//! routing: GetFlightInfo endpoints list the owners; SQL reads each split
//! from its owners over Flight, failing over to the next owner, then itself.
//! ```
//!
//! Any node accepts any request: a ticket carries everything needed to read
//! its split, so a node that does not own a split still answers it (it loads
//! the data itself). When membership changes, only splits whose owners changed
//! move; their cached data on the old owner is not handed over, it ages out of
//! that node's cache under its eviction policy, and the new owner loads it on
//! first read.

pub mod control;
pub mod etcd;
pub mod fragment;
pub mod membership;
pub mod peers;
pub mod placement;
pub mod route;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::config::{Config, Discovery};
use crate::plan::FilePart;
pub use membership::MemberStates;
pub use peers::Peers;
pub use placement::{Placement, PlacementKey};

/// The generated control-plane types and gRPC stubs (proto/arrow_cache/control/v1).
pub mod proto {
    tonic::include_proto!("arrow_cache.control.v1");
}

/// One node as the cluster knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MemberInfo {
    /// `cluster.node_id`, unique in the cluster.
    pub node_id: String,
    /// Where clients read Flight data: `grpc+tcp://host:port`.
    pub flight: String,
    /// The control plane: `host:port`.
    pub control: String,
}

impl From<proto::Member> for MemberInfo {
    fn from(m: proto::Member) -> Self {
        Self { node_id: m.node_id, flight: m.flight, control: m.control }
    }
}

impl From<&MemberInfo> for proto::Member {
    fn from(m: &MemberInfo) -> Self {
        Self { node_id: m.node_id.clone(), flight: m.flight.clone(), control: m.control.clone() }
    }
}

/// Live members by node id, this node included.
pub type Members = BTreeMap<String, MemberInfo>;

/// This node's view of the cluster.
pub struct Cluster {
    pub me: MemberInfo,
    pub discovery: Discovery,
    pub replication: usize,
    pub peers: Peers,
    members: watch::Receiver<Members>,
    /// Placement for the member set it was built from; rebuilt when that changes.
    placement: Mutex<Arc<Placement>>,
    /// Health of every member or configured peer, for `cluster status`.
    pub states: MemberStates,
    membership: membership::Membership,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("me", &self.me).field("discovery", &self.discovery).finish()
    }
}

impl Cluster {
    /// Joins the cluster the config describes. Call once the node's servers
    /// listen: from then on other nodes may route reads here.
    pub async fn join(config: &Config, me: MemberInfo) -> crate::Result<Arc<Self>> {
        let discovery = config.networking.discovery()?;
        let states = MemberStates::default();
        let peers = Peers::new(config.networking.ipc_compression);
        let (membership, members) =
            membership::Membership::start(&discovery, config, me.clone(), peers.clone(), states.clone()).await?;
        let replication = config.cluster.replication_factor as usize;
        let placement = Mutex::new(Arc::new(Placement::new(members.borrow().keys().cloned(), replication)));
        let cluster = Arc::new(Self { me, discovery, replication, peers, members, placement, states, membership });
        let n = cluster.members().len();
        if replication > n && !matches!(cluster.discovery, Discovery::Single) {
            tracing::warn!(replication, members = n, "replication_factor is larger than the cluster: every split lives on every node");
        }
        Ok(cluster)
    }

    /// The live members now, this node included.
    pub fn members(&self) -> Members {
        self.members.borrow().clone()
    }

    /// The placement over the live members now.
    pub fn placement(&self) -> Arc<Placement> {
        let members = self.members.borrow();
        let mut placement = self.placement.lock().expect("placement lock poisoned");
        if !placement.nodes().iter().eq(members.keys()) {
            *placement = Arc::new(Placement::new(members.keys().cloned(), self.replication));
        }
        placement.clone()
    }

    /// The owners of a file part, primary first.
    pub fn owners(&self, placement: &Placement, table: &str, part: &FilePart) -> Vec<MemberInfo> {
        let key = PlacementKey { table, partition: &part.partition, file: &part.path, row_groups: part.row_groups };
        let members = self.members.borrow();
        placement.owners(&key).into_iter().filter_map(|id| members.get(id).cloned()).collect()
    }

    pub fn is_me(&self, member: &MemberInfo) -> bool {
        member.node_id == self.me.node_id
    }

    /// Every live member except this node.
    pub fn others(&self) -> Vec<MemberInfo> {
        self.members.borrow().values().filter(|m| !self.is_me(m)).cloned().collect()
    }

    /// Leaves the cluster (an etcd node revokes its lease so the others see it go at once).
    pub async fn leave(&self) {
        self.membership.leave().await;
    }
}
