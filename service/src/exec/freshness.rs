//! Keeping cached tables fresh in the background: polling the catalog for
//! new snapshots, telling the other members about them, and dropping cached
//! files that a new current snapshot no longer references.

use std::sync::Arc;
use std::time::Duration;

use arrow_cache_protocol::control;
use arrow_cache_protocol::scan::SnapshotSelector;

use super::Executor;
use crate::catalog::SnapshotChange;
use crate::error::CacheError;

impl Executor {
    /// Reloads every table this node has read each `caching.poll_interval_ms`, so
    /// new snapshots (a streaming writer's commits) are seen without waiting for
    /// the TTL; `refresh` announces each one to the cluster.
    pub(crate) fn poll_catalog(self: &Arc<Self>) {
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
    pub(crate) fn announce_snapshots(self: &Arc<Self>) {
        let exec = self.clone();
        let mut changes = self.registry.changes();
        tokio::spawn(async move {
            while let Some(change) = next_change(&mut changes).await {
                let Some(cluster) = exec.cluster() else { continue };
                if change.from_peer {
                    continue;
                }
                let (table, snapshot_id) = (change.table, change.snapshot_id);
                for member in cluster.others() {
                    let Ok(mut client) = exec.peers.control(&member.control) else { continue };
                    let notice = control::SnapshotNotice {
                        table: table.clone(),
                        snapshot_id,
                        from_node: exec.me.node_id.clone(),
                    };
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
    pub(crate) fn drop_unreferenced_files(self: &Arc<Self>) {
        let exec = self.clone();
        let mut changes = self.registry.changes();
        tokio::spawn(async move {
            while let Some(change) = next_change(&mut changes).await {
                let planned = async {
                    let resolved = exec.planner.resolve(&change.table, SnapshotSelector::Current).await?;
                    exec.planner.plan(&resolved, &[]).await
                };
                match planned.await {
                    Ok(parts) => {
                        let referenced = parts
                            .iter()
                            .flat_map(|p| {
                                std::iter::once(p.path.as_str()).chain(p.deletes.iter().map(|d| d.path.as_str()))
                            })
                            .collect();
                        let freed = exec.loader.drop_unreferenced(&change.table, &referenced);
                        if freed > 0 {
                            tracing::info!(table = %change.table, snapshot = change.snapshot_id, freed, "dropped unreferenced files");
                        }
                    }
                    Err(e) => tracing::warn!(table = %change.table, "cannot list the new snapshot's files: {e}"),
                }
            }
        });
    }
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
