//! Reading and watching the members under `<prefix>/members/`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep};
use tonic::Status;

use super::client::{Backoff, Client, KV_RANGE, RPC_TIMEOUT, WATCH, describe, prefix_end, reconnect};
use super::{Shared, pb};
use crate::cluster::MemberInfo;

/// How often an idle watch asks etcd for a progress report, to notice a silent connection.
const WATCH_PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// All members under the prefix and the revision they were read at.
pub(super) async fn read_members(
    client: &Client,
    shared: &Shared,
) -> Result<(BTreeMap<String, MemberInfo>, i64), Status> {
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
pub(super) fn publish(shared: &Shared, members: BTreeMap<String, MemberInfo>) {
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

pub(super) async fn watch_task(mut client: Client, shared: Arc<Shared>, mut revision: i64) {
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
                    tracing::warn!(
                        node_id,
                        "cannot read the cluster members from etcd ({}); reconnecting",
                        describe(&s)
                    );
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
