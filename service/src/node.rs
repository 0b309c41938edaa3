//! A cache node: its executor behind three servers (Flight, the control
//! plane, HTTP), its place in the cluster, and its background tasks.
//!
//! ```text
//! main ─▶ Node ─▶ serve (Flight, control plane, HTTP) ─▶ exec (Executor) ─▶ cluster, read, plan, ...
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use arrow_cache_protocol::control::control_plane_server::ControlPlaneServer;
use arrow_flight::flight_service_server::FlightServiceServer;
use tokio::net::TcpListener;

use crate::cluster::{Cluster, MemberInfo};
use crate::config::Config;
use crate::error::{CacheError, Result};
use crate::exec::Executor;
use crate::serve::control::ControlService;
use crate::serve::flight::FlightFront;

/// The largest gRPC message a server decodes or sends (Flight batches are cut
/// well below it by the encoder).
const MAX_MESSAGE_SIZE: usize = 64 << 20;

/// One cache node (a handle: clones share the node).
#[derive(Debug, Clone)]
pub struct Node {
    exec: Arc<Executor>,
}

impl Node {
    /// Connects to the catalog and sets up the caches; does not listen yet.
    pub async fn new(config: Config) -> Result<Self> {
        let net = &config.networking;
        let host = net.advertise_host.clone().unwrap_or_else(|| match net.bind_address.as_str() {
            "0.0.0.0" | "::" => hostname(),
            other => other.to_string(),
        });
        let me = MemberInfo {
            node_id: config.cluster.node_id.clone().unwrap_or_else(|| format!("{host}:{}", net.grpc_port)),
            flight: format!("grpc+tcp://{host}:{}", net.flight_port),
            control: format!("{host}:{}", net.grpc_port),
        };
        Ok(Self { exec: Executor::new(config, me).await? })
    }

    /// The node's executor: what its servers call (benchmarks call it directly).
    pub fn executor(&self) -> &Arc<Executor> {
        &self.exec
    }

    /// Serves Flight, the control plane and HTTP, and joins the cluster,
    /// until `shutdown` resolves or a server fails.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<()> {
        let exec = self.exec;
        let net = &exec.config.networking;
        let flight = bind(&net.bind_address, net.flight_port, "networking.flight_port").await?;
        let control = bind(&net.bind_address, net.grpc_port, "networking.grpc_port").await?;
        let http = bind(&net.bind_address, net.http_port, "networking.http_port").await?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stop_tx = Arc::new(stop_tx);
        let stop_on_join_failure = stop_tx.clone();
        let flight_service = FlightServiceServer::new(FlightFront::new(exec.clone()))
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        let flight_server = tonic::transport::Server::builder()
            .add_service(flight_service)
            .serve_with_incoming_shutdown(nodelay(flight), stopped(stop_rx.clone()));
        let control_service = ControlPlaneServer::new(ControlService::new(exec.clone()))
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        let control_server = tonic::transport::Server::builder()
            .add_service(control_service)
            .serve_with_incoming_shutdown(nodelay(control), stopped(stop_rx.clone()));
        let http_server =
            axum::serve(http, crate::serve::http::router(exec.clone())).with_graceful_shutdown(stopped(stop_rx));
        // Join once the servers listen: from then on other nodes may route here.
        let serving = async {
            let cluster = Cluster::join(&exec.config, exec.me.clone(), exec.peers.clone()).await?;
            exec.joined(cluster);
            exec.announce_snapshots();
            exec.drop_unreferenced_files();
            exec.poll_catalog();
            let me = &exec.me;
            tracing::info!(node_id = %me.node_id, flight = %me.flight, control = %me.control, http_port = net.http_port, "serving");
            Ok::<_, CacheError>(())
        };
        let servers = async {
            let (f, c, h) = tokio::join!(flight_server, control_server, http_server);
            f.map_err(|e| CacheError::unavailable("Flight server", e))?;
            c.map_err(|e| CacheError::unavailable("control plane server", e))?;
            h.map_err(|e| CacheError::unavailable("HTTP server", e))
        };
        let leaving = exec.clone();
        tokio::spawn(async move {
            shutdown.await;
            if let Some(cluster) = leaving.cluster() {
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
fn nodelay(listener: TcpListener) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
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
    let addr: SocketAddr = format!("{host}:{port}").parse().map_err(|_| {
        CacheError::config("cache_node.networking.bind_address", format!("`{host}` is not an IP address"))
    })?;
    TcpListener::bind(addr)
        .await
        .map_err(|e| CacheError::config(format!("cache_node.{key}"), format!("cannot listen on {addr}: {e}")))
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
