//! Membership: which nodes are live members of the cluster.
//!
//! - **single**: no `discovery_service`; the node is a cluster of one.
//! - **static** (`static://host:8816,...`): every node pings every listed
//!   control-plane address each `heartbeat_interval_ms`; a peer that has not
//!   answered for `failure_timeout_ms` leaves the ring and rejoins when it
//!   answers again. No consensus is needed: every node derives the same ring
//!   from the same live set, and a short disagreement while a failure is being
//!   detected costs only a failover, never a wrong answer.
//! - **etcd** (`etcd://host:2379,...`): registration under a lease with a TTL of
//!   `failure_timeout_ms`, kept alive by the node; a watch on the prefix
//!   reports joins and leaves (see [`super::etcd`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::etcd::EtcdMembership;
use arrow_cache_protocol::client::Channels;
use arrow_cache_protocol::control;

use super::{MemberInfo, Members};
use crate::config::{Config, Discovery};
use crate::error::Result;

/// What this node knows about each member or configured peer, for `cluster status`.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemberStates(Arc<Mutex<BTreeMap<String, MemberState>>>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberState {
    /// The member, once it has answered.
    pub member: Option<MemberInfo>,
    /// `up`, `down` (stopped answering) or `rejected` (answers, but may not join).
    pub state: &'static str,
    pub error: Option<String>,
}

impl MemberStates {
    /// Keyed by control address (static) or node id (etcd).
    pub(crate) fn snapshot(&self) -> BTreeMap<String, MemberState> {
        self.0.lock().expect("member states poisoned").clone()
    }

    fn set(&self, key: &str, state: MemberState) {
        let mut all = self.0.lock().expect("member states poisoned");
        let changed = all.get(key) != Some(&state);
        if changed {
            match (&state.state, &state.error) {
                (&"up", _) => tracing::info!(peer = key, "cluster member up"),
                (s, Some(e)) => tracing::warn!(peer = key, state = s, "cluster member {s}: {e}"),
                (s, None) => tracing::warn!(peer = key, state = s, "cluster member {s}"),
            }
            all.insert(key.to_string(), state);
        }
    }

    fn replace(&self, states: BTreeMap<String, MemberState>) {
        *self.0.lock().expect("member states poisoned") = states;
    }
}

/// The running membership protocol; dropping it stops its tasks.
#[expect(dead_code, reason = "the variants hold their tasks and senders for their Drop")]
pub(super) enum Membership {
    /// Holds the sender so the member set (just this node) stays open.
    Single(watch::Sender<Members>),
    Static(AbortOnDrop),
    Etcd(EtcdMembership, AbortOnDrop),
}

impl Membership {
    pub(super) async fn start(
        discovery: &Discovery,
        config: &Config,
        me: MemberInfo,
        peers: Channels,
        states: MemberStates,
    ) -> Result<(Self, watch::Receiver<Members>)> {
        let heartbeat = Duration::from_millis(config.cluster.heartbeat_interval_ms);
        let timeout = Duration::from_millis(config.cluster.failure_timeout_ms);
        let alone: Members = [(me.node_id.clone(), me.clone())].into();
        match discovery {
            Discovery::Single => {
                states.set(&me.node_id, MemberState { member: Some(me.clone()), state: "up", error: None });
                let (tx, rx) = watch::channel(alone);
                Ok((Membership::Single(tx), rx))
            }
            Discovery::Static(addrs) => {
                let (tx, rx) = watch::channel(alone);
                let pinger = StaticPinger { me, addrs: addrs.clone(), peers, states, heartbeat, timeout };
                Ok((Membership::Static(AbortOnDrop(tokio::spawn(pinger.run(tx)))), rx))
            }
            Discovery::Etcd(endpoints) => {
                let etcd = EtcdMembership::join(endpoints, &config.cluster.etcd_prefix, me.clone(), timeout).await?;
                let mut from_etcd = etcd.members();
                let (tx, rx) = watch::channel(from_etcd.borrow().clone());
                let forward = tokio::spawn(async move {
                    loop {
                        let members = from_etcd.borrow_and_update().clone();
                        states.replace(
                            members
                                .iter()
                                .map(|(id, m)| {
                                    (id.clone(), MemberState { member: Some(m.clone()), state: "up", error: None })
                                })
                                .collect(),
                        );
                        tx.send_if_modified(|current| {
                            let changed = *current != members;
                            *current = members;
                            changed
                        });
                        if from_etcd.changed().await.is_err() {
                            return;
                        }
                    }
                });
                Ok((Membership::Etcd(etcd, AbortOnDrop(forward)), rx))
            }
        }
    }

    pub(super) async fn leave(&self) {
        if let Membership::Etcd(etcd, _) = self
            && let Err(e) = etcd.leave().await
        {
            tracing::warn!("leaving the cluster: {e}");
        }
    }
}

/// Aborts a background task when dropped.
pub(super) struct AbortOnDrop(pub JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Static membership: pings every configured peer and publishes who answers.
struct StaticPinger {
    me: MemberInfo,
    addrs: Vec<String>,
    peers: Channels,
    states: MemberStates,
    heartbeat: Duration,
    timeout: Duration,
}

impl StaticPinger {
    async fn run(self, tx: watch::Sender<Members>) {
        let mut last_ok: BTreeMap<String, (Instant, MemberInfo)> = BTreeMap::new();
        let mut tick = tokio::time::interval(self.heartbeat);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let this = &self;
            let pings = self
                .addrs
                .iter()
                .filter(|a| **a != self.me.control)
                .map(|addr| async move { (addr.clone(), this.ping(addr).await) });
            for (addr, answer) in futures::future::join_all(pings).await {
                match answer {
                    Ok(member) if member.node_id == self.me.node_id && member.flight == self.me.flight => {
                        // The list names this node under another address.
                        continue;
                    }
                    Ok(member) if member.node_id == self.me.node_id => {
                        last_ok.remove(&addr);
                        let error = format!(
                            "duplicate cluster.node_id `{}`: {addr} (Flight {}) uses this node's id; give each node its own",
                            member.node_id, member.flight
                        );
                        self.states
                            .set(&addr, MemberState { member: Some(member), state: "rejected", error: Some(error) });
                    }
                    Ok(member) => {
                        let duplicate = last_ok.iter().find(|(other, (_, m))| {
                            **other != addr && m.node_id == member.node_id && m.flight != member.flight
                        });
                        if let Some((other, _)) = duplicate {
                            let error =
                                format!("duplicate cluster.node_id `{}`: {other} already uses it", member.node_id);
                            self.states.set(
                                &addr,
                                MemberState { member: Some(member), state: "rejected", error: Some(error) },
                            );
                            continue;
                        }
                        last_ok.insert(addr.clone(), (Instant::now(), member.clone()));
                        self.states.set(&addr, MemberState { member: Some(member), state: "up", error: None });
                    }
                    Err(error) => {
                        // A missed ping or two is not a failure; silence past the timeout is.
                        if last_ok.get(&addr).is_some_and(|(at, _)| at.elapsed() < self.timeout) {
                            continue;
                        }
                        let member = last_ok.remove(&addr).map(|(_, m)| m);
                        self.states.set(&addr, MemberState { member, state: "down", error: Some(error) });
                    }
                }
            }
            self.states.set(&self.me.control, MemberState { member: Some(self.me.clone()), state: "up", error: None });
            let mut live: Members = [(self.me.node_id.clone(), self.me.clone())].into();
            live.extend(last_ok.values().map(|(_, m)| (m.node_id.clone(), m.clone())));
            tx.send_if_modified(|current| {
                let changed = *current != live;
                if changed {
                    tracing::info!(members = ?live.keys().collect::<Vec<_>>(), "cluster membership changed");
                    *current = live;
                }
                changed
            });
        }
    }

    async fn ping(&self, addr: &str) -> std::result::Result<MemberInfo, String> {
        let mut client = self.peers.control(addr).map_err(|e| e.to_string())?;
        let request = control::PingRequest { from: Some((&self.me).into()) };
        let wait = self.timeout.min(Duration::from_secs(2));
        match tokio::time::timeout(wait, client.ping(request)).await {
            Err(_) => Err(format!("no answer from {addr} within {wait:?}")),
            Ok(Err(status)) if status.code() == tonic::Code::Unimplemented || status.code() == tonic::Code::Unknown => {
                Err(format!("{addr} is not an arrow-cache control plane: {}", status.message()))
            }
            Ok(Err(status)) => Err(format!("no arrow-cache control plane answers at {addr}: {}", status.message())),
            Ok(Ok(reply)) => Ok(reply.into_inner().into()),
        }
    }
}
