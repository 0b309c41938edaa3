//! A minimal gRPC client for etcd: etcd's v3 API called through tonic's generic client with the
//! hand-written messages of [`super::pb`].

use std::time::Duration;

use arrow_cache_protocol::with_causes;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};

use super::{Shared, pb};
use crate::error::{CacheError, Result};

/// TCP connect plus one request, per endpoint, before trying the next one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Any other single request.
pub(super) const RPC_TIMEOUT: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

pub(super) const KV_RANGE: &str = "/etcdserverpb.KV/Range";
pub(super) const KV_TXN: &str = "/etcdserverpb.KV/Txn";
pub(super) const LEASE_GRANT: &str = "/etcdserverpb.Lease/LeaseGrant";
pub(super) const LEASE_REVOKE: &str = "/etcdserverpb.Lease/LeaseRevoke";
pub(super) const LEASE_KEEP_ALIVE: &str = "/etcdserverpb.Lease/LeaseKeepAlive";
pub(super) const WATCH: &str = "/etcdserverpb.Watch/Watch";

#[derive(Clone)]
pub(super) struct Client {
    channel: Channel,
    pub(super) endpoint: String,
}

impl Client {
    /// The first endpoint that accepts a connection and answers a read of `probe_prefix`.
    pub(super) async fn connect(endpoints: &[String], probe_prefix: &[u8]) -> Result<Client> {
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
            .map_err(|e| with_causes(&e))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            // etcd refuses pings more often than every 5 s (--grpc-keepalive-min-time).
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5))
            .keep_alive_while_idle(true);
        let channel = match timeout(CONNECT_TIMEOUT, endpoint.connect()).await {
            Ok(Ok(channel)) => channel,
            Ok(Err(e)) => return Err(with_causes(&e)),
            Err(_) => return Err(format!("no connection within {CONNECT_TIMEOUT:?}")),
        };
        let client = Client { channel, endpoint: addr.to_string() };
        let probe =
            pb::RangeRequest { key: probe_prefix.to_vec(), range_end: prefix_end(probe_prefix), count_only: true };
        client.unary::<_, pb::RangeResponse>(KV_RANGE, probe, CONNECT_TIMEOUT).await.map_err(|s| describe(&s))?;
        Ok(client)
    }

    pub(super) async fn unary<Q, R>(
        &self,
        path: &'static str,
        request: Q,
        deadline: Duration,
    ) -> std::result::Result<R, Status>
    where
        Q: prost::Message + Send + Sync + 'static,
        R: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        let call = async move {
            grpc.ready().await.map_err(|e| Status::unavailable(with_causes(&e)))?;
            let codec = tonic_prost::ProstCodec::<Q, R>::default();
            grpc.unary(tonic::Request::new(request), PathAndQuery::from_static(path), codec).await
        };
        match timeout(deadline, call).await {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(Status::deadline_exceeded(format!("no answer within {deadline:?}"))),
        }
    }

    /// Opens a bidirectional stream whose first request is `first`.
    pub(super) async fn bidi<Q, R>(
        &self,
        path: &'static str,
        first: Q,
    ) -> std::result::Result<(mpsc::Sender<Q>, tonic::Streaming<R>), Status>
    where
        Q: prost::Message + Send + Sync + 'static,
        R: prost::Message + Default + Send + Sync + 'static,
    {
        let (tx, rx) = mpsc::channel(8);
        tx.try_send(first).map_err(|_| Status::internal("request queue full"))?;
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        let call = async move {
            grpc.ready().await.map_err(|e| Status::unavailable(with_causes(&e)))?;
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
pub(super) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0] // all keys
}

/// A gRPC status as a short message (tonic's Display also prints metadata).
pub(super) fn describe(status: &Status) -> String {
    let mut msg =
        if status.message().is_empty() { format!("{:?}", status.code()) } else { status.message().to_string() };
    // The status's own Display adds metadata; its causes say what happened.
    for cause in arrow_cache_protocol::error_chain(status).skip(1) {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
    }
    msg
}

pub(super) struct Backoff(Duration);

impl Backoff {
    pub(super) fn new() -> Self {
        Self(BACKOFF_MIN)
    }
    pub(super) fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
        d
    }
    pub(super) fn reset(&mut self) {
        self.0 = BACKOFF_MIN;
    }
}

/// Waits, then connects to the first endpoint that answers; retries until one does.
pub(super) async fn reconnect(shared: &Shared, backoff: &mut Backoff) -> Client {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_the_last_byte() {
        assert_eq!(prefix_end(b"/a/members/"), b"/a/members0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b""), vec![0]);
    }
}
