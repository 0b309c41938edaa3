//! A cache node: the parts of the data path wired together, and its servers.
//!
//! ```text
//! catalog (TableRegistry) -> plan (Planner) -> load (Loader) -> cache -> read (SplitReader) -> serve (Flight, SQL)
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arrow_flight::flight_service_server::FlightServiceServer;
use tokio::net::TcpListener;

use crate::catalog::{SnapshotChange, TableRegistry};
use crate::cluster::control::ControlService;
use crate::cluster::proto::control_plane_server::ControlPlaneServer;
use crate::cluster::{Cluster, MemberInfo, proto};
use crate::config::Config;
use crate::error::{CacheError, Result};
use crate::load::Loader;
use crate::plan::{Planner, SnapshotSelector};
use crate::read::SplitReader;
use crate::serve::flight::FlightFront;
use crate::storage::ObjectStores;

pub struct Node {
    pub config: Config,
    pub node_id: String,
    /// This node's Flight address as clients should dial it, `grpc+tcp://host:port`.
    pub location: String,
    pub registry: Arc<TableRegistry>,
    pub loader: Arc<Loader>,
    pub planner: Planner,
    pub reader: SplitReader,
    pub started: Instant,
    /// This node's control plane address as peers should dial it, `host:port`.
    pub control: String,
    /// Set once the node serves (see [`Node::serve`]); until then it is on its own.
    cluster: OnceLock<Arc<Cluster>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("node_id", &self.node_id).field("location", &self.location).finish()
    }
}

impl Node {
    /// Connects to the catalog and sets up the caches; does not listen yet.
    pub async fn new(config: Config) -> Result<Arc<Self>> {
        let stores = Arc::new(ObjectStores::new(&config.storage.object_store));
        let ttl = Duration::from_secs(config.caching.ttl_seconds);
        let registry = Arc::new(TableRegistry::connect(&config.storage.iceberg, stores.clone(), ttl).await?);
        let loader = Arc::new(Loader::new(&config, stores));
        let planner = Planner::new(registry.clone(), loader.clone(), config.caching.split_bytes());
        let net = &config.networking;
        let host = net.advertise_host.clone().unwrap_or_else(|| match net.bind_address.as_str() {
            "0.0.0.0" | "::" => hostname(),
            other => other.to_string(),
        });
        let location = format!("grpc+tcp://{host}:{}", net.flight_port);
        let control = format!("{host}:{}", net.grpc_port);
        let node_id = config.cluster.node_id.clone().unwrap_or_else(|| format!("{host}:{}", net.grpc_port));
        Ok(Arc::new(Self {
            reader: SplitReader::new(loader.clone()),
            config,
            node_id,
            location,
            registry,
            loader,
            planner,
            started: Instant::now(),
            control,
            cluster: OnceLock::new(),
        }))
    }

    /// The cluster this node is in, once it serves.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.get()
    }

    /// This node as other members see it.
    pub fn member(&self) -> MemberInfo {
        MemberInfo { node_id: self.node_id.clone(), flight: self.location.clone(), control: self.control.clone() }
    }

    /// Reloads every table this node has read each `caching.poll_interval_ms`, so
    /// new snapshots (a streaming writer's commits) are seen without waiting for
    /// the TTL; `refresh` announces each one to the cluster.
    fn poll_catalog(self: &Arc<Self>) {
        let interval = Duration::from_millis(self.config.caching.poll_interval_ms);
        if interval.is_zero() {
            return;
        }
        let registry = self.registry.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                for table in registry.loaded_tables() {
                    match registry.refresh(&table).await {
                        Ok(_) => {}
                        // Dropped: stop polling it; a query would load it again.
                        Err(CacheError::NotFound(_)) => registry.forget(&table),
                        Err(e) => tracing::warn!(%table, "polling the catalog failed: {e}"),
                    }
                }
            }
        });
    }

    /// Tells the other members about each new snapshot this node finds.
    fn announce_snapshots(self: &Arc<Self>) {
        let node = self.clone();
        let mut changes = self.registry.changes();
        tokio::spawn(async move {
            while let Some(change) = next_change(&mut changes).await {
                let Some(cluster) = node.cluster() else { continue };
                if change.from_peer {
                    continue;
                }
                let (table, snapshot_id) = (change.table, change.snapshot_id);
                for member in cluster.others() {
                    let Ok(mut client) = cluster.peers.control(&member.control) else { continue };
                    let notice = proto::SnapshotNotice { table: table.clone(), snapshot_id, from_node: node.node_id.clone() };
                    tokio::spawn(async move {
                        let call = client.snapshot_changed(notice);
                        if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(5), call).await {
                            tracing::debug!(peer = %member.node_id, "snapshot notice not delivered: {}", e.message());
                        }
                    });
                }
            }
        });
    }

    /// Drops cached files each table's new current snapshot no longer references
    /// (see [`Loader::drop_unreferenced`]).
    fn drop_unreferenced_files(self: &Arc<Self>) {
        let node = self.clone();
        let mut changes = self.registry.changes();
        tokio::spawn(async move {
            while let Some(change) = next_change(&mut changes).await {
                let planned = async {
                    let resolved = node.planner.resolve(&change.table, SnapshotSelector::Current).await?;
                    node.planner.plan(&resolved, &[]).await
                };
                match planned.await {
                    Ok(parts) => {
                        let referenced = parts
                            .iter()
                            .flat_map(|p| std::iter::once(p.path.as_str()).chain(p.deletes.iter().map(|d| d.path.as_str())))
                            .collect();
                        let freed = node.loader.drop_unreferenced(&change.table, &referenced);
                        if freed > 0 {
                            tracing::info!(table = %change.table, snapshot = change.snapshot_id, freed, "dropped unreferenced files");
                        }
                    }
                    Err(e) => tracing::warn!(table = %change.table, "cannot list the new snapshot's files: {e}"),
                }
            }
        });
    }

    /// Serves Flight, the control plane and HTTP, and joins the cluster,
    /// until `shutdown` resolves or a server fails.
    pub async fn serve(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<()> {
        let net = &self.config.networking;
        let flight = bind(&net.bind_address, net.flight_port, "networking.flight_port").await?;
        let control = bind(&net.bind_address, net.grpc_port, "networking.grpc_port").await?;
        let http = bind(&net.bind_address, net.http_port, "networking.http_port").await?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stop_tx = Arc::new(stop_tx);
        let stop_on_join_failure = stop_tx.clone();
        let flight_service = FlightServiceServer::new(FlightFront::new(self.clone()))
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        let flight_server = tonic::transport::Server::builder()
            .add_service(flight_service)
            .serve_with_incoming_shutdown(nodelay(flight), stopped(stop_rx.clone()));
        let control_service = ControlPlaneServer::new(ControlService { node: self.clone() })
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        let control_server = tonic::transport::Server::builder()
            .add_service(control_service)
            .serve_with_incoming_shutdown(nodelay(control), stopped(stop_rx.clone()));
        let http_server = axum::serve(http, crate::serve::http::router(self.clone())).with_graceful_shutdown(stopped(stop_rx));
        // Join once the servers listen: from then on other nodes may route here.
        let serving = async {
            let cluster = Cluster::join(&self.config, self.member()).await?;
            let _ = self.cluster.set(cluster);
            self.announce_snapshots();
            self.drop_unreferenced_files();
            self.poll_catalog();
            tracing::info!(node_id = %self.node_id, flight = %self.location, control = %self.control, http_port = net.http_port, "serving");
            Ok::<_, CacheError>(())
        };
        let servers = async {
            let (f, c, h) = tokio::join!(flight_server, control_server, http_server);
            f.map_err(|e| CacheError::unavailable("Flight server", e))?;
            c.map_err(|e| CacheError::unavailable("control plane server", e))?;
            h.map_err(|e| CacheError::unavailable("HTTP server", e))
        };
        let node = self.clone();
        tokio::spawn(async move {
            shutdown.await;
            if let Some(cluster) = node.cluster() {
                cluster.leave().await;
            }
            let _ = stop_tx.send(true);
        });
        let (joined, served) = tokio::join!(
            async {
                let r = serving.await;
                if r.is_err() {
                    // Could not join: stop serving and report why.
                    let _ = stop_on_join_failure.send(true);
                }
                r
            },
            servers
        );
        joined?;
        served
    }
}

/// The listener's connections with TCP_NODELAY: small responses (FlightInfo,
/// the last batch, control-plane replies) must not wait on Nagle's algorithm.
fn nodelay(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    tokio_stream::StreamExt::map(tokio_stream::wrappers::TcpListenerStream::new(listener), |conn| {
        conn.inspect(|c| {
            let _ = c.set_nodelay(true);
        })
    })
}

/// Resolves when the stop flag is raised.
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn bind(host: &str, port: u16, key: &str) -> Result<TcpListener> {
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|_| CacheError::config("cache_node.networking.bind_address", format!("`{host}` is not an IP address")))?;
    TcpListener::bind(addr)
        .await
        .map_err(|e| CacheError::config(format!("cache_node.{key}"), format!("cannot listen on {addr}: {e}")))
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).unwrap_or_else(|| "localhost".into())
}

/// The next snapshot change; `None` once the registry is gone. Changes missed
/// because this listener fell behind are skipped: each table's next change
/// catches up.
async fn next_change(changes: &mut tokio::sync::broadcast::Receiver<SnapshotChange>) -> Option<SnapshotChange> {
    loop {
        match changes.recv().await {
            Ok(change) => return Some(change),
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        }
    }
}
