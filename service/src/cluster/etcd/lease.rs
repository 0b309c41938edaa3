//! Registration under a lease, and keeping the lease alive.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep};
use tonic::Status;

use super::client::{
    Backoff, Client, KV_RANGE, KV_TXN, LEASE_GRANT, LEASE_KEEP_ALIVE, LEASE_REVOKE, RPC_TIMEOUT, describe, reconnect,
};
use super::{Shared, duplicate_error, pb};
use crate::cluster::MemberInfo;

pub(super) async fn revoke(client: &Client, lease: i64) -> Result<(), Status> {
    client
        .unary::<_, pb::LeaseRevokeResponse>(LEASE_REVOKE, pb::LeaseRevokeRequest { id: lease }, RPC_TIMEOUT)
        .await
        .map(drop)
}

pub(super) enum RegisterError {
    /// Another node holds our node id; its Flight address.
    Duplicate(String),
    Etcd(Status),
}

/// Grants a lease and writes this node's key with it; returns the lease and its granted ttl.
pub(super) async fn register(client: &Client, shared: &Shared) -> Result<(i64, i64), RegisterError> {
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
async fn put_member(client: &Client, shared: &Shared, lease: i64) -> Result<(), RegisterError> {
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
async fn still_registered(client: &Client, shared: &Shared, lease: i64) -> Result<bool, Status> {
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

pub(super) async fn keep_alive_task(mut client: Client, shared: Arc<Shared>, mut lease: i64, mut ttl_secs: i64) {
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
    let (tx, mut responses) =
        match client.bidi::<_, pb::LeaseKeepAliveResponse>(LEASE_KEEP_ALIVE, request.clone()).await {
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
