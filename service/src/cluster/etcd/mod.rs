//! Cluster membership backed by etcd (`discovery_service: etcd://h1:2379,h2:2379`).
//!
//! Each node writes `<prefix>/members/<node_id>` = JSON of its [`MemberInfo`], attached to a
//! lease that it keeps alive every ttl/3. A node that dies stops the keep-alive, etcd expires
//! the lease within ttl and deletes the key; a node that leaves revokes its lease and
//! disappears at once. Every node watches `<prefix>/members/` and publishes the live set.
//!
//! Why our own etcd client: the `etcd-client` crate generates its gRPC code from `.proto` files
//! in a build script that needs `protoc`, and this project must build with plain `cargo` on a
//! machine without it. etcd's v3 API is plain gRPC, so the few messages used here are written
//! out by hand (module [`pb`]) with the field numbers of etcd's `api/etcdserverpb/rpc.proto` and
//! `api/mvccpb/kv.proto`, and called through tonic's generic client. Only the fields we use are
//! declared; prost skips the others when decoding.

mod client;
mod lease;
mod pb;
mod watch;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use arrow_cache_protocol::with_causes;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::Endpoint;

use self::client::{Client, describe};
use self::lease::{RegisterError, keep_alive_task, register, revoke};
use self::watch::{publish, read_members, watch_task};
use crate::cluster::MemberInfo;
use crate::error::{CacheError, Result};

/// The setting that names the etcd endpoints, for configuration errors.
const CONFIG_KEY: &str = "cache_node.networking.discovery_service";

/// Live cluster membership through etcd. Dropping it stops the keep-alive and the watch
/// (without revoking: the lease then expires within ttl, as if the node had died).
pub struct EtcdMembership {
    shared: Arc<Shared>,
    client: Client,
    members: tokio::sync::watch::Receiver<BTreeMap<String, MemberInfo>>,
    keep_alive: std::sync::Mutex<Option<JoinHandle<()>>>,
    watcher: JoinHandle<()>,
}

/// State the background tasks share with the handle.
struct Shared {
    endpoints: Vec<String>,
    /// `<prefix>/members/`
    members_prefix: Vec<u8>,
    key: Vec<u8>,
    value: Vec<u8>,
    me: MemberInfo,
    /// The ttl asked for, in seconds.
    ttl_secs: i64,
    /// The lease the member key is attached to now.
    lease: AtomicI64,
    members: tokio::sync::watch::Sender<BTreeMap<String, MemberInfo>>,
    /// The watch saw this node's key missing or changed: the keep-alive task checks it.
    check_registration: Notify,
}

impl EtcdMembership {
    /// Connects, registers `me` under `<prefix>/members/<node_id>` with a lease of `ttl`, keeps
    /// it alive (every ttl/3), watches the prefix, and publishes the live member set. Fails
    /// when no endpoint answers ("cannot reach etcd at h:p: ...") or when another live node
    /// already holds `me.node_id` with a different Flight address ("duplicate cluster.node_id
    /// `x`: already registered by <flight addr>"); the check and the write are one Txn.
    ///
    /// `endpoints` entries are `host:port`, optionally with an `etcd://` or `http://` scheme and
    /// several comma-separated (`etcd://h1:2379,h2:2379`); they are tried in order.
    pub async fn join(endpoints: &[String], prefix: &str, me: MemberInfo, ttl: Duration) -> Result<Self> {
        let endpoints = parse_endpoints(endpoints)?;
        if me.node_id.is_empty() || me.node_id.contains('/') {
            return Err(CacheError::config(
                "cache_node.cluster.node_id",
                format!("`{}` is not a valid node id: it must be non-empty and contain no `/`", me.node_id),
            ));
        }
        let members_prefix = format!("{}/members/", prefix.trim_end_matches('/')).into_bytes();
        let mut key = members_prefix.clone();
        key.extend_from_slice(me.node_id.as_bytes());
        let value =
            serde_json::to_vec(&me).map_err(|e| CacheError::internal(format!("cannot encode member info: {e}")))?;
        let (members_tx, members_rx) = tokio::sync::watch::channel(BTreeMap::new());
        let shared = Arc::new(Shared {
            endpoints,
            members_prefix,
            key,
            value,
            me,
            ttl_secs: (ttl.as_secs_f64().ceil() as i64).max(1),
            lease: AtomicI64::new(0),
            members: members_tx,
            check_registration: Notify::new(),
        });

        let client = Client::connect(&shared.endpoints, &shared.members_prefix).await?;
        let node_id = &shared.me.node_id;
        let (lease, granted_ttl) = register(&client, &shared).await.map_err(|e| match e {
            RegisterError::Duplicate(other) => duplicate_error(node_id, &other),
            RegisterError::Etcd(s) => CacheError::unavailable(
                format!("cannot register node `{node_id}` in etcd at {}", client.endpoint),
                describe(&s),
            ),
        })?;
        let (members, revision) = match read_members(&client, &shared).await {
            Ok(read) => read,
            Err(s) => {
                revoke(&client, lease).await.ok();
                return Err(CacheError::unavailable(
                    format!("cannot read the cluster members from etcd at {}", client.endpoint),
                    describe(&s),
                ));
            }
        };
        tracing::info!(
            node_id = %node_id,
            etcd = %client.endpoint,
            lease = %format!("{lease:x}"),
            ttl_secs = granted_ttl,
            "joined the cluster through etcd; {} live member(s)",
            members.len()
        );
        publish(&shared, members);

        let keep_alive = tokio::spawn(keep_alive_task(client.clone(), shared.clone(), lease, granted_ttl));
        let watcher = tokio::spawn(watch_task(client.clone(), shared.clone(), revision));
        Ok(Self { shared, client, members: members_rx, keep_alive: std::sync::Mutex::new(Some(keep_alive)), watcher })
    }

    /// The live members (including this node), updated as etcd reports joins and leaves
    /// (lease expiry of a killed node removes it within ttl).
    pub fn members(&self) -> tokio::sync::watch::Receiver<BTreeMap<String, MemberInfo>> {
        self.members.clone()
    }

    /// Revokes the lease so the others see this node leave at once. The keep-alive stops
    /// for good; the watch goes on until the handle is dropped.
    pub async fn leave(&self) -> Result<()> {
        let task = self.keep_alive.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            task.abort();
            let _ = task.await; // so that it cannot register again after the revoke
        }
        let lease = self.shared.lease.load(Ordering::SeqCst);
        let mut result = revoke(&self.client, lease).await;
        if matches!(&result, Err(s) if s.code() != Code::NotFound) {
            // The endpoint we used may be gone: try them all.
            if let Ok(client) = Client::connect(&self.shared.endpoints, &self.shared.members_prefix).await {
                result = revoke(&client, lease).await;
            }
        }
        match result {
            // NotFound: the lease had expired already, so the key is gone too.
            Ok(()) => {}
            Err(s) if s.code() == Code::NotFound => {}
            Err(s) => {
                return Err(CacheError::unavailable(
                    format!(
                        "cannot leave the cluster: revoking the etcd lease of node `{}` at {}",
                        self.shared.me.node_id,
                        self.shared.endpoints.join(",")
                    ),
                    describe(&s),
                ));
            }
        }
        let me = &self.shared.me.node_id;
        self.shared.members.send_if_modified(|m| m.remove(me).is_some());
        tracing::info!(node_id = %me, "left the cluster (etcd lease revoked)");
        Ok(())
    }
}

impl Drop for EtcdMembership {
    fn drop(&mut self) {
        if let Ok(task) = self.keep_alive.get_mut()
            && let Some(task) = task.take()
        {
            task.abort();
        }
        self.watcher.abort();
    }
}

impl std::fmt::Debug for EtcdMembership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdMembership")
            .field("node_id", &self.shared.me.node_id)
            .field("endpoints", &self.shared.endpoints)
            .field("lease", &format_args!("{:x}", self.shared.lease.load(Ordering::Relaxed)))
            .finish()
    }
}

/// Splits and checks etcd endpoints: `host:port`, `etcd://h1:2379,h2:2379`, `http://host:port`.
pub fn parse_endpoints(endpoints: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in endpoints {
        let mut rest = entry.trim();
        if let Some((scheme, after)) = rest.split_once("://") {
            if scheme != "etcd" && scheme != "http" {
                return Err(CacheError::config(
                    CONFIG_KEY,
                    format!(
                        "unsupported scheme `{scheme}://` in etcd endpoint `{entry}`: use \
                         etcd://host:port[,host:port...] (TLS is not supported)"
                    ),
                ));
            }
            rest = after;
        }
        for part in rest.split(',').map(|p| p.trim().trim_end_matches('/')) {
            if part.is_empty() {
                continue;
            }
            let bad =
                |why: &str| CacheError::config(CONFIG_KEY, format!("bad etcd endpoint `{part}` in `{entry}`: {why}"));
            let (host, port) = part.rsplit_once(':').ok_or_else(|| bad("expected host:port"))?;
            if host.is_empty() || host.contains('/') || host.contains('@') {
                return Err(bad("expected host:port"));
            }
            match port.parse::<u16>() {
                Ok(p) if p > 0 => {}
                _ => return Err(bad("the port must be a number from 1 to 65535")),
            }
            Endpoint::from_shared(format!("http://{part}")).map_err(|e| bad(&with_causes(&e)))?;
            out.push(part.to_string());
        }
    }
    if out.is_empty() {
        return Err(CacheError::config(
            CONFIG_KEY,
            "no etcd endpoint given (expected etcd://host:port[,host:port...])",
        ));
    }
    Ok(out)
}

fn duplicate_error(node_id: &str, other_flight: &str) -> CacheError {
    CacheError::config(
        "cache_node.cluster.node_id",
        format!("duplicate cluster.node_id `{node_id}`: already registered by {other_flight}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_parsed_and_checked() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_endpoints(&s(&["etcd://h1:2379,h2:2379"])).unwrap(), vec!["h1:2379", "h2:2379"]);
        assert_eq!(
            parse_endpoints(&s(&["127.0.0.1:1", "http://[::1]:2379/"])).unwrap(),
            vec!["127.0.0.1:1", "[::1]:2379"]
        );
        for bad in ["https://h:2379", "h", "h:x", "h:0", "etcd://", "h:2379/path", ""] {
            let err = parse_endpoints(&s(&[bad])).unwrap_err();
            assert!(matches!(err, CacheError::Config { .. }), "{bad}: {err}");
        }
    }
}
