//! The cache cluster: who is in it (membership) and which nodes own which
//! split (placement). How nodes talk to each other is the protocol crate's
//! client; what they ask each other is the executor's (`exec`).
//!
//! ```text
//! membership (static:// pings | etcd:// leases + watch | single node)
//!      │ live members
//!      ▼
//! placement (split key -> owners, primary first)
//!      │
//!      ▼
//! routing (exec): GetFlightInfo endpoints list the owners; SQL reads each
//! split from its owners over Flight, failing over to the next owner, then itself.
//! ```
//!
//! Any node accepts any request: a ticket carries everything needed to read
//! its split, so a node that does not own a split still answers it (it loads
//! the data itself). When membership changes, only splits whose owners changed
//! move; their cached data on the old owner is not handed over, it ages out of
//! that node's cache under its eviction policy, and the new owner loads it on
//! first read.

pub mod etcd;
mod membership;
pub mod placement;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use arrow_cache_protocol::client::Channels;
use arrow_cache_protocol::control;
use arrow_cache_protocol::scan::FilePart;

use crate::config::{Config, Discovery};
pub(crate) use membership::MemberStates;
pub use placement::{Placement, PlacementKey};

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

impl From<control::Member> for MemberInfo {
    fn from(m: control::Member) -> Self {
        Self { node_id: m.node_id, flight: m.flight, control: m.control }
    }
}

impl From<&MemberInfo> for control::Member {
    fn from(m: &MemberInfo) -> Self {
        Self { node_id: m.node_id.clone(), flight: m.flight.clone(), control: m.control.clone() }
    }
}

/// Live members by node id, this node included.
pub type Members = BTreeMap<String, MemberInfo>;

/// This node's view of the cluster.
pub struct Cluster {
    pub(crate) me: MemberInfo,
    pub(crate) discovery: Discovery,
    pub(crate) replication: usize,
    members: watch::Receiver<Members>,
    /// Placement for the member set it was built from; rebuilt when that changes.
    placement: Mutex<Arc<Placement>>,
    /// Health of every member or configured peer, for `cluster status`.
    pub(crate) states: MemberStates,
    membership: membership::Membership,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("me", &self.me).field("discovery", &self.discovery).finish()
    }
}

impl Cluster {
    /// Joins the cluster the config describes, pinging peers (static
    /// discovery) over `peers`. Call once the node's servers listen: from then
    /// on other nodes may route reads here.
    pub(crate) async fn join(config: &Config, me: MemberInfo, peers: Channels) -> crate::Result<Arc<Self>> {
        let discovery = config.networking.discovery()?;
        let states = MemberStates::default();
        let (membership, members) =
            membership::Membership::start(&discovery, config, me.clone(), peers, states.clone()).await?;
        let replication = config.cluster.replication_factor as usize;
        let placement = Mutex::new(Arc::new(Placement::new(members.borrow().keys().cloned(), replication)));
        let cluster = Arc::new(Self { me, discovery, replication, members, placement, states, membership });
        let n = cluster.members().len();
        if replication > n && !matches!(cluster.discovery, Discovery::Single) {
            tracing::warn!(
                replication,
                members = n,
                "replication_factor is larger than the cluster: every split lives on every node"
            );
        }
        Ok(cluster)
    }

    /// The live members now, this node included.
    pub fn members(&self) -> Members {
        self.members.borrow().clone()
    }

    /// The placement over the live members now.
    pub(crate) fn placement(&self) -> Arc<Placement> {
        let members = self.members.borrow();
        let mut placement = self.placement.lock().expect("placement lock poisoned");
        if !placement.nodes().iter().eq(members.keys()) {
            *placement = Arc::new(Placement::new(members.keys().cloned(), self.replication));
        }
        placement.clone()
    }

    /// The owners of a file part, primary first.
    pub(crate) fn owners(&self, placement: &Placement, table: &str, part: &FilePart) -> Vec<MemberInfo> {
        let key = PlacementKey { table, partition: &part.partition, file: &part.path, row_groups: part.row_groups };
        let members = self.members.borrow();
        placement.owners(&key).into_iter().filter_map(|id| members.get(id).cloned()).collect()
    }

    pub(crate) fn is_me(&self, member: &MemberInfo) -> bool {
        member.node_id == self.me.node_id
    }

    /// Every live member except this node.
    pub(crate) fn others(&self) -> Vec<MemberInfo> {
        self.members.borrow().values().filter(|m| !self.is_me(m)).cloned().collect()
    }

    /// Leaves the cluster (an etcd node revokes its lease so the others see it go at once).
    pub(crate) async fn leave(&self) {
        self.membership.leave().await;
    }
}
