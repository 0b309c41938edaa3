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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep, timeout};
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use super::MemberInfo;
use crate::error::{CacheError, Result};

/// The setting that names the etcd endpoints, for configuration errors.
const CONFIG_KEY: &str = "cache_node.networking.discovery_service";
/// TCP connect plus one request, per endpoint, before trying the next one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Any other single request.
const RPC_TIMEOUT: Duration = Duration::from_secs(5);
/// How often an idle watch asks etcd for a progress report, to notice a silent connection.
const WATCH_PROGRESS_EVERY: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

const KV_RANGE: &str = "/etcdserverpb.KV/Range";
const KV_TXN: &str = "/etcdserverpb.KV/Txn";
const LEASE_GRANT: &str = "/etcdserverpb.Lease/LeaseGrant";
const LEASE_REVOKE: &str = "/etcdserverpb.Lease/LeaseRevoke";
const LEASE_KEEP_ALIVE: &str = "/etcdserverpb.Lease/LeaseKeepAlive";
const WATCH: &str = "/etcdserverpb.Watch/Watch";

/// The subset of etcd's v3 protocol we speak (package `etcdserverpb`, and `mvccpb` for
/// `KeyValue` and `Event`). Field numbers are etcd's; do not renumber.
pub(crate) mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResponseHeader {
        #[prost(int64, tag = "3")]
        pub revision: i64,
    }

    /// mvccpb.KeyValue
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValue {
        #[prost(bytes = "vec", tag = "1")]
        pub key: Vec<u8>,
        #[prost(int64, tag = "2")]
        pub create_revision: i64,
        #[prost(int64, tag = "3")]
        pub mod_revision: i64,
        #[prost(bytes = "vec", tag = "5")]
        pub value: Vec<u8>,
        #[prost(int64, tag = "6")]
        pub lease: i64,
    }

    /// mvccpb.Event; `r#type` is 0 = PUT, 1 = DELETE.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Event {
        #[prost(int32, tag = "1")]
        pub r#type: i32,
        #[prost(message, optional, tag = "2")]
        pub kv: Option<KeyValue>,
    }
    pub const EVENT_PUT: i32 = 0;
    pub const EVENT_DELETE: i32 = 1;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RangeRequest {
        #[prost(bytes = "vec", tag = "1")]
        pub key: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub range_end: Vec<u8>,
        #[prost(bool, tag = "9")]
        pub count_only: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RangeResponse {
        #[prost(message, optional, tag = "1")]
        pub header: Option<ResponseHeader>,
        #[prost(message, repeated, tag = "2")]
        pub kvs: Vec<KeyValue>,
        #[prost(bool, tag = "3")]
        pub more: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PutRequest {
        #[prost(bytes = "vec", tag = "1")]
        pub key: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub value: Vec<u8>,
        #[prost(int64, tag = "3")]
        pub lease: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PutResponse {
        #[prost(message, optional, tag = "1")]
        pub header: Option<ResponseHeader>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RequestOp {
        #[prost(oneof = "request_op::Request", tags = "1, 2")]
        pub request: Option<request_op::Request>,
    }
    pub mod request_op {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Request {
            #[prost(message, tag = "1")]
            RequestRange(super::RangeRequest),
            #[prost(message, tag = "2")]
            RequestPut(super::PutRequest),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResponseOp {
        #[prost(oneof = "response_op::Response", tags = "1, 2")]
        pub response: Option<response_op::Response>,
    }
    pub mod response_op {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Response {
            #[prost(message, tag = "1")]
            ResponseRange(super::RangeResponse),
            #[prost(message, tag = "2")]
            ResponsePut(super::PutResponse),
        }
    }

    /// `result`: 0 = EQUAL; `target`: 1 = CREATE (create_revision), 3 = VALUE.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Compare {
        #[prost(int32, tag = "1")]
        pub result: i32,
        #[prost(int32, tag = "2")]
        pub target: i32,
        #[prost(bytes = "vec", tag = "3")]
        pub key: Vec<u8>,
        #[prost(oneof = "compare::TargetUnion", tags = "5, 7")]
        pub target_union: Option<compare::TargetUnion>,
    }
    pub mod compare {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum TargetUnion {
            #[prost(int64, tag = "5")]
            CreateRevision(i64),
            #[prost(bytes = "vec", tag = "7")]
            Value(Vec<u8>),
        }
    }
    pub const COMPARE_EQUAL: i32 = 0;
    pub const TARGET_CREATE: i32 = 1;
    pub const TARGET_VALUE: i32 = 3;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TxnRequest {
        #[prost(message, repeated, tag = "1")]
        pub compare: Vec<Compare>,
        #[prost(message, repeated, tag = "2")]
        pub success: Vec<RequestOp>,
        #[prost(message, repeated, tag = "3")]
        pub failure: Vec<RequestOp>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TxnResponse {
        #[prost(message, optional, tag = "1")]
        pub header: Option<ResponseHeader>,
        #[prost(bool, tag = "2")]
        pub succeeded: bool,
        #[prost(message, repeated, tag = "3")]
        pub responses: Vec<ResponseOp>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WatchRequest {
        #[prost(oneof = "watch_request::RequestUnion", tags = "1, 3")]
        pub request_union: Option<watch_request::RequestUnion>,
    }
    pub mod watch_request {
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum RequestUnion {
            #[prost(message, tag = "1")]
            CreateRequest(super::WatchCreateRequest),
            #[prost(message, tag = "3")]
            ProgressRequest(super::WatchProgressRequest),
        }
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WatchCreateRequest {
        #[prost(bytes = "vec", tag = "1")]
        pub key: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub range_end: Vec<u8>,
        #[prost(int64, tag = "3")]
        pub start_revision: i64,
    }

    /// Asks for a progress notification (etcd 3.4+): an empty WatchResponse with the
    /// current revision, which proves the stream is alive.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WatchProgressRequest {}

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WatchResponse {
        #[prost(message, optional, tag = "1")]
        pub header: Option<ResponseHeader>,
        #[prost(int64, tag = "2")]
        pub watch_id: i64,
        #[prost(bool, tag = "3")]
        pub created: bool,
        #[prost(bool, tag = "4")]
        pub canceled: bool,
        #[prost(int64, tag = "5")]
        pub compact_revision: i64,
        #[prost(string, tag = "6")]
        pub cancel_reason: String,
        #[prost(message, repeated, tag = "11")]
        pub events: Vec<Event>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LeaseGrantRequest {
        /// Seconds.
        #[prost(int64, tag = "1")]
        pub ttl: i64,
        /// 0: etcd picks the id.
        #[prost(int64, tag = "2")]
        pub id: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LeaseGrantResponse {
        #[prost(message, optional, tag = "1")]
        pub header: Option<ResponseHeader>,
        #[prost(int64, tag = "2")]
        pub id: i64,
        #[prost(int64, tag = "3")]
        pub ttl: i64,
        #[prost(string, tag = "4")]
        pub error: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LeaseRevokeRequest {
        #[prost(int64, tag = "1")]
        pub id: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LeaseRevokeResponse {
        #[prost(message, optional, tag = "1")]
        pub header: Option<ResponseHeader>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LeaseKeepAliveRequest {
        #[prost(int64, tag = "1")]
        pub id: i64,
    }

    /// `ttl` <= 0 means the lease no longer exists.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LeaseKeepAliveResponse {
        #[prost(message, optional, tag = "1")]
        pub header: Option<ResponseHeader>,
        #[prost(int64, tag = "2")]
        pub id: i64,
        #[prost(int64, tag = "3")]
        pub ttl: i64,
    }
}

/// Live cluster membership through etcd. Dropping it stops the keep-alive and the watch
/// (without revoking: the lease then expires within ttl, as if the node had died).
pub struct EtcdMembership {
    shared: Arc<Shared>,
    client: Client,
    members: watch::Receiver<BTreeMap<String, MemberInfo>>,
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
    members: watch::Sender<BTreeMap<String, MemberInfo>>,
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
        let value = serde_json::to_vec(&me)
            .map_err(|e| CacheError::internal(format!("cannot encode member info: {e}")))?;
        let (members_tx, members_rx) = watch::channel(BTreeMap::new());
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
    pub fn members(&self) -> watch::Receiver<BTreeMap<String, MemberInfo>> {
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
            let bad = |why: &str| CacheError::config(CONFIG_KEY, format!("bad etcd endpoint `{part}` in `{entry}`: {why}"));
            let (host, port) = part.rsplit_once(':').ok_or_else(|| bad("expected host:port"))?;
            if host.is_empty() || host.contains('/') || host.contains('@') {
                return Err(bad("expected host:port"));
            }
            match port.parse::<u16>() {
                Ok(p) if p > 0 => {}
                _ => return Err(bad("the port must be a number from 1 to 65535")),
            }
            Endpoint::from_shared(format!("http://{part}")).map_err(|e| bad(&chain(&e)))?;
            out.push(part.to_string());
        }
    }
    if out.is_empty() {
        return Err(CacheError::config(CONFIG_KEY, "no etcd endpoint given (expected etcd://host:port[,host:port...])"));
    }
    Ok(out)
}

fn duplicate_error(node_id: &str, other_flight: &str) -> CacheError {
    CacheError::config(
        "cache_node.cluster.node_id",
        format!("duplicate cluster.node_id `{node_id}`: already registered by {other_flight}"),
    )
}

// ---------------------------------------------------------------------------------------------
// A minimal gRPC client for etcd.

#[derive(Clone)]
struct Client {
    channel: Channel,
    endpoint: String,
}

impl Client {
    /// The first endpoint that accepts a connection and answers a read of `probe_prefix`.
    async fn connect(endpoints: &[String], probe_prefix: &[u8]) -> Result<Client> {
        let mut failures = Vec::new();
        for addr in endpoints {
            match Self::connect_one(addr, probe_prefix).await {
                Ok(client) => return Ok(client),
                Err(e) => failures.push((addr.as_str(), e)),
            }
        }
        let message = match failures.as_slice() {
            [(_, e)] => e.clone(),
            all => all.iter().map(|(a, e)| format!("{a}: {e}")).collect::<Vec<_>>().join("; "),
        };
        Err(CacheError::unavailable(format!("cannot reach etcd at {}", endpoints.join(",")), message))
    }

    async fn connect_one(addr: &str, probe_prefix: &[u8]) -> std::result::Result<Client, String> {
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| chain(&e))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            // etcd refuses pings more often than every 5 s (--grpc-keepalive-min-time).
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5))
            .keep_alive_while_idle(true);
        let channel = match timeout(CONNECT_TIMEOUT, endpoint.connect()).await {
            Ok(Ok(channel)) => channel,
            Ok(Err(e)) => return Err(chain(&e)),
            Err(_) => return Err(format!("no connection within {CONNECT_TIMEOUT:?}")),
        };
        let client = Client { channel, endpoint: addr.to_string() };
        let probe = pb::RangeRequest {
            key: probe_prefix.to_vec(),
            range_end: prefix_end(probe_prefix),
            count_only: true,
        };
        client
            .unary::<_, pb::RangeResponse>(KV_RANGE, probe, CONNECT_TIMEOUT)
            .await
            .map_err(|s| describe(&s))?;
        Ok(client)
    }

    async fn unary<Q, R>(&self, path: &'static str, request: Q, deadline: Duration) -> std::result::Result<R, Status>
    where
        Q: prost::Message + Send + Sync + 'static,
        R: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        let call = async move {
            grpc.ready().await.map_err(|e| Status::unavailable(chain(&e)))?;
            let codec = tonic_prost::ProstCodec::<Q, R>::default();
            grpc.unary(tonic::Request::new(request), PathAndQuery::from_static(path), codec).await
        };
        match timeout(deadline, call).await {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(Status::deadline_exceeded(format!("no answer within {deadline:?}"))),
        }
    }

    /// Opens a bidirectional stream whose first request is `first`.
    async fn bidi<Q, R>(&self, path: &'static str, first: Q) -> std::result::Result<(mpsc::Sender<Q>, tonic::Streaming<R>), Status>
    where
        Q: prost::Message + Send + Sync + 'static,
        R: prost::Message + Default + Send + Sync + 'static,
    {
        let (tx, rx) = mpsc::channel(8);
        tx.try_send(first).map_err(|_| Status::internal("request queue full"))?;
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        let call = async move {
            grpc.ready().await.map_err(|e| Status::unavailable(chain(&e)))?;
            let codec = tonic_prost::ProstCodec::<Q, R>::default();
            let request = tonic::Request::new(ReceiverStream::new(rx));
            grpc.streaming(request, PathAndQuery::from_static(path), codec).await
        };
        match timeout(RPC_TIMEOUT, call).await {
            Ok(result) => Ok((tx, result?.into_inner())),
            Err(_) => Err(Status::deadline_exceeded(format!("no answer within {RPC_TIMEOUT:?}"))),
        }
    }
}

/// The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0] // all keys
}

/// An error and its sources on one line, without repeats.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// A gRPC status as a short message (tonic's Display also prints metadata).
fn describe(status: &Status) -> String {
    let mut msg = if status.message().is_empty() { format!("{:?}", status.code()) } else { status.message().to_string() };
    let mut source = std::error::Error::source(status);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(BACKOFF_MIN)
    }
    fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
        d
    }
    fn reset(&mut self) {
        self.0 = BACKOFF_MIN;
    }
}

/// Waits, then connects to the first endpoint that answers; retries until one does.
async fn reconnect(shared: &Shared, backoff: &mut Backoff) -> Client {
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        sleep(backoff.next()).await;
        match Client::connect(&shared.endpoints, &shared.members_prefix).await {
            Ok(client) => {
                if attempt > 1 {
                    tracing::info!(node_id = %shared.me.node_id, etcd = %client.endpoint, "reconnected to etcd");
                }
                return client;
            }
            // The first failure, then about every 20 s (the backoff tops at 2 s).
            Err(e) if attempt == 1 || attempt.is_multiple_of(10) => {
                tracing::warn!(node_id = %shared.me.node_id, "{e}; retrying (attempt {attempt})")
            }
            Err(e) => tracing::debug!(node_id = %shared.me.node_id, "{e}; retrying (attempt {attempt})"),
        }
    }
}

async fn revoke(client: &Client, lease: i64) -> std::result::Result<(), Status> {
    client
        .unary::<_, pb::LeaseRevokeResponse>(LEASE_REVOKE, pb::LeaseRevokeRequest { id: lease }, RPC_TIMEOUT)
        .await
        .map(drop)
}

// ---------------------------------------------------------------------------------------------
// Registration and keep-alive.

enum RegisterError {
    /// Another node holds our node id; its Flight address.
    Duplicate(String),
    Etcd(Status),
}

/// Grants a lease and writes this node's key with it; returns the lease and its granted ttl.
async fn register(client: &Client, shared: &Shared) -> std::result::Result<(i64, i64), RegisterError> {
    let grant: pb::LeaseGrantResponse = client
        .unary(LEASE_GRANT, pb::LeaseGrantRequest { ttl: shared.ttl_secs, id: 0 }, RPC_TIMEOUT)
        .await
        .map_err(RegisterError::Etcd)?;
    if !grant.error.is_empty() {
        return Err(RegisterError::Etcd(Status::unavailable(format!("lease grant: {}", grant.error))));
    }
    // Stored before the key is written, so that leave() revokes whatever lease the key may have.
    shared.lease.store(grant.id, Ordering::SeqCst);
    match put_member(client, shared, grant.id).await {
        Ok(()) => Ok((grant.id, grant.ttl)),
        Err(e) => {
            revoke(client, grant.id).await.ok();
            Err(e)
        }
    }
}

/// Writes the member key atomically: when it does not exist, or when it holds a node with our
/// Flight address (this node again, restarted before its old lease expired).
async fn put_member(client: &Client, shared: &Shared, lease: i64) -> std::result::Result<(), RegisterError> {
    let put = pb::RequestOp {
        request: Some(pb::request_op::Request::RequestPut(pb::PutRequest {
            key: shared.key.clone(),
            value: shared.value.clone(),
            lease,
        })),
    };
    for _ in 0..5 {
        let txn = pb::TxnRequest {
            compare: vec![pb::Compare {
                result: pb::COMPARE_EQUAL,
                target: pb::TARGET_CREATE,
                key: shared.key.clone(),
                target_union: Some(pb::compare::TargetUnion::CreateRevision(0)),
            }],
            success: vec![put.clone()],
            failure: vec![pb::RequestOp {
                request: Some(pb::request_op::Request::RequestRange(pb::RangeRequest {
                    key: shared.key.clone(),
                    ..Default::default()
                })),
            }],
        };
        let resp: pb::TxnResponse = client.unary(KV_TXN, txn, RPC_TIMEOUT).await.map_err(RegisterError::Etcd)?;
        if resp.succeeded {
            return Ok(());
        }
        let existing = resp.responses.into_iter().find_map(|r| match r.response {
            Some(pb::response_op::Response::ResponseRange(range)) => range.kvs.into_iter().next(),
            _ => None,
        });
        let Some(existing) = existing else { continue }; // deleted in between: try again
        match serde_json::from_slice::<MemberInfo>(&existing.value) {
            Ok(other) if other.flight != shared.me.flight => return Err(RegisterError::Duplicate(other.flight)),
            Ok(_) => {}
            Err(e) => tracing::warn!(
                node_id = %shared.me.node_id,
                "replacing an unreadable member entry {:?} in etcd: {e}",
                String::from_utf8_lossy(&existing.key)
            ),
        }
        let txn = pb::TxnRequest {
            compare: vec![pb::Compare {
                result: pb::COMPARE_EQUAL,
                target: pb::TARGET_VALUE,
                key: shared.key.clone(),
                target_union: Some(pb::compare::TargetUnion::Value(existing.value)),
            }],
            success: vec![put.clone()],
            failure: vec![],
        };
        let resp: pb::TxnResponse = client.unary(KV_TXN, txn, RPC_TIMEOUT).await.map_err(RegisterError::Etcd)?;
        if resp.succeeded {
            return Ok(());
        }
    }
    Err(RegisterError::Etcd(Status::aborted("the member key kept changing while registering")))
}

/// Whether our key exists with our value and lease.
async fn still_registered(client: &Client, shared: &Shared, lease: i64) -> std::result::Result<bool, Status> {
    let req = pb::RangeRequest { key: shared.key.clone(), ..Default::default() };
    let resp: pb::RangeResponse = client.unary(KV_RANGE, req, RPC_TIMEOUT).await?;
    Ok(resp.kvs.first().is_some_and(|kv| kv.value == shared.value && kv.lease == lease))
}

enum SessionEnd {
    /// The connection failed: reconnect and keep the same lease alive.
    Broken(String),
    /// The lease or the key is gone: register again.
    Lost(String),
    /// The watch saw our key missing or changed.
    Check,
}

async fn keep_alive_task(mut client: Client, shared: Arc<Shared>, mut lease: i64, mut ttl_secs: i64) {
    let node_id = shared.me.node_id.as_str();
    let mut backoff = Backoff::new();
    loop {
        let lost = match keep_alive_session(&client, &shared, lease, ttl_secs, &mut backoff).await {
            SessionEnd::Broken(reason) => {
                tracing::warn!(node_id, "etcd keep-alive of lease {lease:x} interrupted ({reason}); reconnecting");
                client = reconnect(&shared, &mut backoff).await;
                continue;
            }
            SessionEnd::Lost(reason) => reason,
            SessionEnd::Check => match still_registered(&client, &shared, lease).await {
                Ok(true) => continue,
                Ok(false) => "this node's key in etcd is missing or was changed".to_string(),
                Err(s) => {
                    tracing::warn!(node_id, "cannot read this node's key from etcd ({}); reconnecting", describe(&s));
                    client = reconnect(&shared, &mut backoff).await;
                    continue;
                }
            },
        };
        tracing::warn!(node_id, "etcd lease {lease:x} lost ({lost}); registering again");
        loop {
            match register(&client, &shared).await {
                Ok((new_lease, granted)) => {
                    tracing::warn!(node_id, "registered again in etcd with lease {new_lease:x}");
                    (lease, ttl_secs) = (new_lease, granted);
                    backoff.reset();
                    break;
                }
                Err(RegisterError::Duplicate(other)) => {
                    tracing::error!(node_id, "cannot register again: {}; retrying", duplicate_error(node_id, &other));
                    sleep(backoff.next()).await;
                }
                Err(RegisterError::Etcd(s)) => {
                    tracing::warn!(node_id, "cannot register again in etcd ({}); retrying", describe(&s));
                    client = reconnect(&shared, &mut backoff).await;
                }
            }
        }
    }
}

async fn keep_alive_session(
    client: &Client,
    shared: &Shared,
    lease: i64,
    ttl_secs: i64,
    backoff: &mut Backoff,
) -> SessionEnd {
    let ttl = Duration::from_secs(ttl_secs.max(1) as u64);
    let every = (ttl / 3).max(Duration::from_millis(100));
    let request = pb::LeaseKeepAliveRequest { id: lease };
    let (tx, mut responses) = match client.bidi::<_, pb::LeaseKeepAliveResponse>(LEASE_KEEP_ALIVE, request.clone()).await {
        Ok(stream) => stream,
        Err(s) => return SessionEnd::Broken(describe(&s)),
    };
    let mut last_answer = Instant::now();
    let mut tick = interval_at(Instant::now() + every, every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if last_answer.elapsed() > ttl {
                    return SessionEnd::Broken(format!("no keep-alive answer for {ttl:?}"));
                }
                // A full queue means the connection is stalled; the check above catches it.
                if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(request.clone()) {
                    return SessionEnd::Broken("the keep-alive stream closed".into());
                }
            }
            _ = shared.check_registration.notified() => return SessionEnd::Check,
            answer = responses.next() => match answer {
                Some(Ok(resp)) if resp.ttl <= 0 => return SessionEnd::Lost("etcd says it expired".into()),
                Some(Ok(_)) => {
                    last_answer = Instant::now();
                    backoff.reset();
                }
                Some(Err(s)) => return SessionEnd::Broken(describe(&s)),
                None => return SessionEnd::Broken("etcd closed the keep-alive stream".into()),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Watching the members.

/// All members under the prefix and the revision they were read at.
async fn read_members(
    client: &Client,
    shared: &Shared,
) -> std::result::Result<(BTreeMap<String, MemberInfo>, i64), Status> {
    let req = pb::RangeRequest {
        key: shared.members_prefix.clone(),
        range_end: prefix_end(&shared.members_prefix),
        count_only: false,
    };
    let resp: pb::RangeResponse = client.unary(KV_RANGE, req, RPC_TIMEOUT).await?;
    let revision = resp.header.map(|h| h.revision).unwrap_or(0);
    let members = resp.kvs.iter().filter_map(|kv| decode_member(shared, kv)).collect();
    Ok((members, revision))
}

fn node_id_of<'a>(shared: &Shared, key: &'a [u8]) -> Option<&'a str> {
    let id = key.strip_prefix(shared.members_prefix.as_slice())?;
    std::str::from_utf8(id).ok().filter(|id| !id.is_empty())
}

fn decode_member(shared: &Shared, kv: &pb::KeyValue) -> Option<(String, MemberInfo)> {
    let id = node_id_of(shared, &kv.key)?;
    match serde_json::from_slice::<MemberInfo>(&kv.value) {
        Ok(member) => Some((id.to_string(), member)),
        Err(e) => {
            tracing::warn!(
                node_id = %shared.me.node_id,
                "ignoring member `{id}` in etcd: its value is not a member description: {e}"
            );
            None
        }
    }
}

/// Publishes the member set (when it changed) and asks the keep-alive task to check our
/// registration when our own entry is not there.
fn publish(shared: &Shared, members: BTreeMap<String, MemberInfo>) {
    let me_present = members.get(&shared.me.node_id) == Some(&shared.me);
    shared.members.send_if_modified(|current| {
        if *current == members {
            false
        } else {
            *current = members;
            true
        }
    });
    if !me_present {
        shared.check_registration.notify_one();
    }
}

async fn watch_task(mut client: Client, shared: Arc<Shared>, mut revision: i64) {
    let node_id = shared.me.node_id.as_str();
    let mut backoff = Backoff::new();
    loop {
        let reason = watch_session(&client, &shared, revision, &mut backoff).await;
        tracing::warn!(node_id, "etcd watch of the cluster members interrupted ({reason}); reading them again");
        sleep(backoff.next()).await;
        loop {
            match read_members(&client, &shared).await {
                Ok((members, rev)) => {
                    publish(&shared, members);
                    revision = rev;
                    break;
                }
                Err(s) => {
                    tracing::warn!(node_id, "cannot read the cluster members from etcd ({}); reconnecting", describe(&s));
                    client = reconnect(&shared, &mut backoff).await;
                }
            }
        }
    }
}

/// Watches from `revision + 1` (the members were read at `revision`) until the stream breaks;
/// returns why.
async fn watch_session(client: &Client, shared: &Shared, revision: i64, backoff: &mut Backoff) -> String {
    let create = pb::WatchRequest {
        request_union: Some(pb::watch_request::RequestUnion::CreateRequest(pb::WatchCreateRequest {
            key: shared.members_prefix.clone(),
            range_end: prefix_end(&shared.members_prefix),
            start_revision: revision + 1,
        })),
    };
    let (tx, mut responses) = match client.bidi::<_, pb::WatchResponse>(WATCH, create).await {
        Ok(stream) => stream,
        Err(s) => return describe(&s),
    };
    let progress = pb::WatchRequest {
        request_union: Some(pb::watch_request::RequestUnion::ProgressRequest(pb::WatchProgressRequest {})),
    };
    let mut last_answer = Instant::now();
    let mut tick = interval_at(Instant::now() + WATCH_PROGRESS_EVERY, WATCH_PROGRESS_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let silent = last_answer.elapsed();
                if silent > WATCH_PROGRESS_EVERY * 3 {
                    return format!("no answer from etcd for {}s", silent.as_secs());
                }
                if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(progress.clone()) {
                    return "the watch stream closed".into();
                }
            }
            answer = responses.next() => match answer {
                Some(Ok(resp)) => {
                    last_answer = Instant::now();
                    if resp.canceled {
                        return format!(
                            "etcd canceled the watch: {} (compact revision {})",
                            resp.cancel_reason, resp.compact_revision
                        );
                    }
                    if resp.created {
                        backoff.reset();
                    }
                    if !resp.events.is_empty() {
                        let mut members = shared.members.borrow().clone();
                        for event in &resp.events {
                            let Some(kv) = &event.kv else { continue };
                            match event.r#type {
                                pb::EVENT_PUT => match decode_member(shared, kv) {
                                    Some((id, member)) => {
                                        members.insert(id, member);
                                    }
                                    None => {
                                        if let Some(id) = node_id_of(shared, &kv.key) {
                                            members.remove(id);
                                        }
                                    }
                                },
                                pb::EVENT_DELETE => {
                                    if let Some(id) = node_id_of(shared, &kv.key) {
                                        members.remove(id);
                                    }
                                }
                                _ => {}
                            }
                        }
                        publish(shared, members);
                    }
                }
                Some(Err(s)) => return describe(&s),
                None => return "etcd closed the watch stream".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_parsed_and_checked() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_endpoints(&s(&["etcd://h1:2379,h2:2379"])).unwrap(),
            vec!["h1:2379", "h2:2379"]
        );
        assert_eq!(parse_endpoints(&s(&["127.0.0.1:1", "http://[::1]:2379/"])).unwrap(), vec![
            "127.0.0.1:1",
            "[::1]:2379"
        ]);
        for bad in ["https://h:2379", "h", "h:x", "h:0", "etcd://", "h:2379/path", ""] {
            let err = parse_endpoints(&s(&[bad])).unwrap_err();
            assert!(matches!(err, CacheError::Config { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn prefix_end_increments_the_last_byte() {
        assert_eq!(prefix_end(b"/a/members/"), b"/a/members0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b""), vec![0]);
    }

    #[test]
    fn messages_use_etcds_field_numbers() {
        use prost::Message;
        // PutRequest{key: "k", value: "v", lease: 5}: tags 1, 2, 3.
        let bytes = pb::PutRequest { key: b"k".to_vec(), value: b"v".to_vec(), lease: 5 }.encode_to_vec();
        assert_eq!(bytes, [0x0a, 1, b'k', 0x12, 1, b'v', 0x18, 5]);
        // Compare{target: CREATE, key: "k", create_revision: 0}: the oneof field 5 is written even when 0.
        let cmp = pb::Compare {
            result: pb::COMPARE_EQUAL,
            target: pb::TARGET_CREATE,
            key: b"k".to_vec(),
            target_union: Some(pb::compare::TargetUnion::CreateRevision(0)),
        };
        assert_eq!(cmp.encode_to_vec(), [0x10, 1, 0x1a, 1, b'k', 0x28, 0]);
        // WatchResponse.events is field 11.
        let resp = pb::WatchResponse { events: vec![pb::Event::default()], ..Default::default() };
        assert_eq!(resp.encode_to_vec(), [0x5a, 0]);
    }
}
