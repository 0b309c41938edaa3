//! Execution: what a node does for a request, whichever port it came in on.
//!
//! The serving adapters (`serve`: Flight, Flight SQL, the control plane, HTTP)
//! are thin: they decode a request, call the [`Executor`], and encode its
//! answer. The executor plans scans into split tickets ([`scan`]), reads each
//! split where it lives with owner failover ([`route`]), runs SQL over the
//! cached tables ([`sql`], [`split_scan`]) with partial aggregates on the
//! splits' owners ([`fragment`]), runs the cache actions on every member
//! ([`table_ops`]), and keeps tables fresh in the background ([`freshness`]).
//!
//! ```text
//! serve ──▶ Executor ──▶ plan (Planner) ──▶ read (SplitReader) ──▶ load / cache
//!              │
//!              └──▶ cluster (members, placement) and other nodes (protocol::client)
//! ```

mod fragment;
mod freshness;
mod pushdown;
mod route;
pub mod scan;
mod split_scan;
pub(crate) mod sql;
pub mod table_ops;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arrow_cache_protocol::client::Channels;

use crate::catalog::TableRegistry;
use crate::cluster::{Cluster, MemberInfo};
use crate::config::Config;
use crate::error::Result;
use crate::load::Loader;
use crate::plan::Planner;
use crate::read::SplitReader;
use crate::storage::ObjectStores;

/// How long a node waits to connect to another node.
const PEER_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// One node's data path, wired together: catalog, planner, loader and caches,
/// split reader, and (once it serves) its cluster.
pub struct Executor {
    pub(crate) config: Config,
    /// This node as other members see it.
    pub me: MemberInfo,
    pub(crate) registry: Arc<TableRegistry>,
    pub(crate) loader: Arc<Loader>,
    pub(crate) planner: Planner,
    pub(crate) reader: SplitReader,
    /// Pooled channels to other nodes.
    pub(crate) peers: Channels,
    pub(crate) started: Instant,
    /// Set once the node serves; until then it is on its own.
    cluster: OnceLock<Arc<Cluster>>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor").field("me", &self.me).finish_non_exhaustive()
    }
}

impl Executor {
    /// Connects to the catalog and sets up the caches for the node `me`.
    pub(crate) async fn new(config: Config, me: MemberInfo) -> Result<Arc<Self>> {
        let stores = Arc::new(ObjectStores::new(&config.storage.object_store));
        let ttl = Duration::from_secs(config.caching.ttl_seconds);
        let registry = Arc::new(TableRegistry::connect(&config.storage.iceberg, stores.clone(), ttl).await?);
        let loader = Arc::new(Loader::new(&config, stores));
        let planner = Planner::new(registry.clone(), loader.clone(), config.caching.split_bytes());
        Ok(Arc::new(Self {
            reader: SplitReader::new(loader.clone()),
            config,
            me,
            registry,
            loader,
            planner,
            peers: Channels::new(PEER_CONNECT_TIMEOUT),
            started: Instant::now(),
            cluster: OnceLock::new(),
        }))
    }

    /// The cluster this node is in, once it serves.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.get()
    }

    /// Records the cluster this node joined (once).
    pub(crate) fn joined(&self, cluster: Arc<Cluster>) {
        let _ = self.cluster.set(cluster);
    }
}
