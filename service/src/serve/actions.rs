//! Cache management: stats, invalidation, refresh and warming of one table.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cache::{Owner, Usage};
use crate::error::{CacheError, Result};
use crate::node::Node;
use crate::plan::SnapshotSelector;
use crate::read::ScanSpec;

/// The body of the `table_stats`, `invalidate`, `refresh` and `warm` actions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableAction {
    pub table: String,
    /// `k=v[,k=v]`: a partition, by its partition field names.
    #[serde(default)]
    pub partition: Option<String>,
    #[serde(default)]
    pub columns: Option<Vec<String>>,
}

/// Does a partition path (`k=v/k2=v2`) match a selector (`k=v,k2=v2`)?
///
/// ```
/// # use arrow_cache::serve::actions::partition_matches;
/// assert!(partition_matches("region=EU/month=2024-01", "region=EU"));
/// assert!(!partition_matches("region=EU/month=2024-01", "region=NA"));
/// ```
pub fn partition_matches(path: &str, selector: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    selector.split(',').map(str::trim).filter(|s| !s.is_empty()).all(|kv| parts.contains(&kv))
}

fn rate(hits: u64, misses: u64) -> f64 {
    if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 }
}

fn usage_json(u: &Usage) -> Value {
    json!({
        "hits": u.hits, "misses": u.misses,
        "hit_rate": rate(u.hits, u.misses), "miss_rate": if u.hits + u.misses == 0 { 0.0 } else { 1.0 - rate(u.hits, u.misses) },
        "bytes_cached": u.bytes, "entries": u.entries,
    })
}

impl Node {
    fn check_partition(selector: &str) -> Result<()> {
        if selector.split(',').all(|kv| kv.contains('=')) {
            Ok(())
        } else {
            Err(CacheError::invalid(format!("partition `{selector}` must look like k=v[,k=v]")))
        }
    }

    /// Hit/miss counts and rates and bytes cached, for the table and per partition.
    pub async fn table_stats(&self, action: &TableAction) -> Result<Value> {
        let resolved = self.planner.resolve(&action.table, SnapshotSelector::Current).await?;
        let usage = self.loader.columns.usage_where(|o| *o.table == *action.table);
        let mut total = Usage::default();
        let mut partitions = BTreeMap::new();
        for (owner, u) in &usage {
            total.hits += u.hits;
            total.misses += u.misses;
            total.bytes += u.bytes;
            total.entries += u.entries;
            partitions.insert(owner.partition.to_string(), usage_json(u));
        }
        let index_bytes: u64 = self.loader.index.usage_where(|o| *o.table == *action.table).iter().map(|(_, u)| u.bytes).sum();
        let mut out = usage_json(&total);
        out["table"] = json!(action.table);
        out["snapshot_id"] = json!(resolved.snapshot_id());
        out["index_bytes_cached"] = json!(index_bytes);
        out["partitions"] = json!(partitions);
        Ok(out)
    }

    /// Drops the table's cached data (or one partition's) and forgets its snapshot.
    pub async fn invalidate(&self, action: &TableAction) -> Result<Value> {
        crate::catalog::parse_table_name(&action.table)?;
        if let Some(p) = &action.partition {
            Self::check_partition(p)?;
        }
        let matches = |o: &Owner| {
            *o.table == *action.table && action.partition.as_deref().is_none_or(|p| partition_matches(&o.partition, p))
        };
        let freed = self.loader.columns.remove_where(|_, o| matches(o)) + self.loader.index.remove_where(|_, o| matches(o));
        self.loader.columns.clear_usage_where(matches);
        self.registry.forget(&action.table);
        tracing::info!(table = %action.table, partition = ?action.partition, freed, "invalidated");
        Ok(json!({"table": action.table, "partition": action.partition, "bytes_freed": freed}))
    }

    /// Reloads the table's metadata from the catalog now.
    pub async fn refresh(&self, action: &TableAction) -> Result<Value> {
        let table = self.registry.refresh(&action.table).await?;
        Ok(json!({"table": action.table, "snapshot_id": table.metadata().current_snapshot_id()}))
    }

    /// Loads the table (or one partition, or some columns) into the cache:
    /// in a cluster, the splits this node owns (as primary or replica).
    pub async fn warm(&self, action: &TableAction) -> Result<Value> {
        if let Some(p) = &action.partition {
            Self::check_partition(p)?;
        }
        let resolved = self.planner.resolve(&action.table, SnapshotSelector::Current).await?;
        let schema = resolved.schema.clone();
        let projection = match &action.columns {
            None => (0..schema.fields().len()).collect(),
            Some(cols) => cols
                .iter()
                .map(|c| schema.index_of(c).map_err(|_| CacheError::invalid(format!("column `{c}` does not exist in `{}`", action.table))))
                .collect::<Result<Vec<_>>>()?,
        };
        let spec = Arc::new(ScanSpec::new(&resolved.name, schema, projection, &[], None)?);
        let mut parts = self.planner.plan(&resolved, &[]).await?;
        if let Some(p) = &action.partition {
            parts.retain(|part| partition_matches(&part.partition, p));
        }
        if let Some(cluster) = self.cluster() {
            let placement = cluster.placement();
            parts.retain(|part| cluster.owners(&placement, &resolved.name, part).iter().any(|m| cluster.is_me(m)));
        }
        let files = parts.len();
        let mut rows = 0u64;
        for split in self.planner.pack(parts) {
            let mut stream = self.reader.read(spec.clone(), split);
            while let Some(batch) = stream.try_next().await? {
                rows += batch.num_rows() as u64;
            }
        }
        let bytes: u64 = self.loader.columns.usage_where(|o| *o.table == *action.table).iter().map(|(_, u)| u.bytes).sum();
        Ok(json!({"table": action.table, "partition": action.partition, "files": files, "rows": rows, "bytes_cached": bytes}))
    }
}
