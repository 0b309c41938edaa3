//! A byte-budgeted cache with pluggable eviction and single-flight loading.
//!
//! Used twice per node: for decoded Arrow columns (the Arrow pool) and for
//! Parquet footers and delete sets (the index pool). Why not `moka` or `lru`?
//! The node must never hold more than its budget, not even for an instant
//! (moka applies weights and evictions asynchronously), it must coalesce
//! concurrent loads of the same missing key, and it needs four eviction
//! policies and per-table/per-partition accounting. All of that is one small
//! priority queue under one lock.
//!
//! (The unit test `a_full_cache_evicts` shows the use.)

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use crate::config::EvictionPolicy;
use crate::error::{CacheError, Result};

/// The bytes a cached value holds in memory.
pub trait Weigh {
    fn weight(&self) -> u64;
}

/// Whose data an entry is: the unit of stats and of partial invalidation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner {
    pub table: Arc<str>,
    /// The Iceberg partition as a path (`region=EU/day=2024-01-01`); empty when unpartitioned.
    pub partition: Arc<str>,
}

impl Owner {
    pub fn new(table: &str, partition: &str) -> Self {
        Self { table: table.into(), partition: partition.into() }
    }
}

/// Counters for one owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
}

/// Counters for the whole cache.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheStats {
    pub budget_bytes: u64,
    pub used_bytes: u64,
    /// The most `used_bytes` ever was; never above `budget_bytes`.
    pub peak_bytes: u64,
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    /// Values too large to cache at all (served, then dropped).
    pub oversized: u64,
}

type LoadFuture<V> = Shared<BoxFuture<'static, Result<V>>>;

/// See the module docs.
pub struct Cache<K, V> {
    name: &'static str,
    budget: u64,
    policy: EvictionPolicy,
    state: Arc<Mutex<State<K, V>>>,
}

impl<K, V> Clone for Cache<K, V> {
    fn clone(&self) -> Self {
        Self { name: self.name, budget: self.budget, policy: self.policy, state: self.state.clone() }
    }
}

struct Entry<V> {
    value: V,
    owner: Owner,
    bytes: u64,
    id: u64,
    priority: u64,
    hits: u64,
    /// Nanoseconds the load took per KiB: what evicting it would cost to undo.
    cost_per_kib: u64,
}

struct State<K, V> {
    entries: HashMap<K, Entry<V>>,
    /// Eviction order: the first element is the next victim.
    queue: BTreeSet<(u64, u64)>,
    keys_by_id: HashMap<u64, K>,
    in_flight: HashMap<K, LoadFuture<V>>,
    usage: HashMap<Owner, Usage>,
    stats: CacheStats,
    /// Logical clock: one tick per access.
    tick: u64,
    next_id: u64,
    /// GreedyDual's inflation value: the priority of the last victim.
    floor: u64,
}

/// How many accesses of protection each doubling of an entry's hit count buys
/// under `lru_frequency`.
const FREQUENCY_WINDOW: u64 = 256;

impl<K, V> Cache<K, V>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
    V: Clone + Weigh + Send + Sync + 'static,
{
    pub fn new(name: &'static str, budget: u64, policy: EvictionPolicy) -> Self {
        let state = State {
            entries: HashMap::new(),
            queue: BTreeSet::new(),
            keys_by_id: HashMap::new(),
            in_flight: HashMap::new(),
            usage: HashMap::new(),
            stats: CacheStats { budget_bytes: budget, ..Default::default() },
            tick: 0,
            next_id: 0,
            floor: 0,
        };
        Self { name, budget, policy, state: Arc::new(Mutex::new(state)) }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        // A panic while holding the lock cannot leave the maps half-updated in a
        // way that breaks invariants we rely on for safety, so keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached value, without loading or counting a miss.
    pub fn peek(&self, key: &K) -> Option<V> {
        self.lock().entries.get(key).map(|e| e.value.clone())
    }

    /// Returns the cached value, or runs `load` once however many callers ask
    /// for the same missing key at the same time. Failed loads are not cached.
    pub async fn get_or_load<F, Fut>(&self, key: K, owner: &Owner, load: F) -> Result<V>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V>> + Send + 'static,
    {
        let pending = {
            let mut st = self.lock();
            if let Some(v) = self.touch(&mut st, &key) {
                st.stats.hits += 1;
                st.usage.entry(owner.clone()).or_default().hits += 1;
                return Ok(v);
            }
            st.stats.misses += 1;
            st.usage.entry(owner.clone()).or_default().misses += 1;
            match st.in_flight.get(&key) {
                Some(f) => f.clone(),
                None => {
                    let f = self.spawn_load(key.clone(), owner.clone(), load());
                    st.in_flight.insert(key.clone(), f.clone());
                    f
                }
            }
        };
        pending.await
    }

    /// Runs the load on its own task so that it completes (and is cached) even if
    /// every caller goes away, and so that a panic in a decoder becomes an error.
    fn spawn_load(
        &self,
        key: K,
        owner: Owner,
        load: impl Future<Output = Result<V>> + Send + 'static,
    ) -> LoadFuture<V> {
        let cache = self.clone();
        let task_key = key.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let result = load.await;
            cache.finish_load(&task_key, owner, &result, started.elapsed());
            result
        });
        let cache = self.clone();
        async move {
            match task.await {
                Ok(result) => result,
                Err(join) => {
                    cache.lock().in_flight.remove(&key);
                    Err(CacheError::internal(format!("a {} load failed: {join}", cache.name)))
                }
            }
        }
        .boxed()
        .shared()
    }

    fn finish_load(&self, key: &K, owner: Owner, result: &Result<V>, took: Duration) {
        let mut st = self.lock();
        st.in_flight.remove(key);
        if let Ok(value) = result {
            self.insert_locked(&mut st, key.clone(), owner, value.clone(), took);
        }
    }

    /// Inserts a value that was produced elsewhere (e.g. by a warm-up).
    pub fn insert(&self, key: K, owner: Owner, value: V) {
        let mut st = self.lock();
        self.insert_locked(&mut st, key, owner, value, Duration::ZERO);
    }

    fn insert_locked(&self, st: &mut State<K, V>, key: K, owner: Owner, value: V, took: Duration) {
        let bytes = value.weight();
        if bytes > self.budget {
            st.stats.oversized += 1;
            return;
        }
        self.remove_locked(st, &key);
        while st.stats.used_bytes + bytes > self.budget {
            let Some(&(priority, id)) = st.queue.first() else { break };
            let victim = st.keys_by_id.get(&id).cloned().expect("queue and id map agree");
            st.floor = st.floor.max(priority);
            self.remove_locked(st, &victim);
            st.stats.evictions += 1;
        }
        st.tick += 1;
        st.next_id += 1;
        let cost_per_kib = (took.as_nanos() as u64).saturating_mul(1024) / bytes.max(1);
        let mut entry = Entry { value, owner, bytes, id: st.next_id, priority: 0, hits: 1, cost_per_kib };
        entry.priority = self.priority(st, &entry);
        st.queue.insert((entry.priority, entry.id));
        st.keys_by_id.insert(entry.id, key.clone());
        let usage = st.usage.entry(entry.owner.clone()).or_default();
        usage.bytes += bytes;
        usage.entries += 1;
        st.stats.used_bytes += bytes;
        st.stats.entries += 1;
        st.stats.peak_bytes = st.stats.peak_bytes.max(st.stats.used_bytes);
        st.entries.insert(key, entry);
    }

    fn priority(&self, st: &State<K, V>, e: &Entry<V>) -> u64 {
        match self.policy {
            EvictionPolicy::Lru => st.tick,
            EvictionPolicy::Lfu => (e.hits.min(u32::MAX as u64) << 32) | (st.tick & 0xffff_ffff),
            EvictionPolicy::LruFrequency => st.tick + FREQUENCY_WINDOW * e.hits.max(1).ilog2() as u64,
            // GreedyDual-Size-Frequency: keep what is used often and slow to reload per byte.
            EvictionPolicy::CostBased => st.floor + e.hits.saturating_mul(e.cost_per_kib.max(1)),
        }
    }

    fn touch(&self, st: &mut State<K, V>, key: &K) -> Option<V> {
        st.tick += 1;
        let (old, id) = {
            let e = st.entries.get(key)?;
            (e.priority, e.id)
        };
        let mut e = st.entries.remove(key).expect("present");
        e.hits += 1;
        e.priority = self.priority(st, &e);
        st.queue.remove(&(old, id));
        st.queue.insert((e.priority, id));
        let v = e.value.clone();
        st.entries.insert(key.clone(), e);
        Some(v)
    }

    fn remove_locked(&self, st: &mut State<K, V>, key: &K) -> bool {
        let Some(e) = st.entries.remove(key) else { return false };
        st.queue.remove(&(e.priority, e.id));
        st.keys_by_id.remove(&e.id);
        st.stats.used_bytes -= e.bytes;
        st.stats.entries -= 1;
        if let Some(u) = st.usage.get_mut(&e.owner) {
            u.bytes -= e.bytes;
            u.entries -= 1;
        }
        true
    }

    /// Drops every entry whose key and owner match; returns how many bytes were freed.
    pub fn remove_where(&self, mut pred: impl FnMut(&K, &Owner) -> bool) -> u64 {
        let mut st = self.lock();
        let victims: Vec<K> = st.entries.iter().filter(|(k, e)| pred(k, &e.owner)).map(|(k, _)| k.clone()).collect();
        let before = st.stats.used_bytes;
        for k in victims {
            self.remove_locked(&mut st, &k);
        }
        before - st.stats.used_bytes
    }

    /// Forgets the hit/miss history of matching owners that hold nothing any more.
    pub fn clear_usage_where(&self, mut pred: impl FnMut(&Owner) -> bool) {
        self.lock().usage.retain(|o, u| !(pred(o) && u.entries == 0));
    }

    pub fn stats(&self) -> CacheStats {
        self.lock().stats
    }

    /// Usage per owner, for the owners `pred` selects.
    pub fn usage_where(&self, mut pred: impl FnMut(&Owner) -> bool) -> Vec<(Owner, Usage)> {
        let st = self.lock();
        let mut out: Vec<_> = st.usage.iter().filter(|(o, _)| pred(o)).map(|(o, u)| (o.clone(), *u)).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Blob(u64);
    impl Weigh for Blob {
        fn weight(&self) -> u64 {
            self.0
        }
    }

    fn owner() -> Owner {
        Owner::new("ns.t", "p=1")
    }

    async fn put(c: &Cache<u32, Blob>, k: u32, size: u64) {
        c.get_or_load(k, &owner(), move || async move { Ok(Blob(size)) }).await.unwrap();
    }

    #[tokio::test]
    async fn stays_within_budget_and_evicts_least_recent() {
        let c = Cache::new("t", 100, EvictionPolicy::Lru);
        put(&c, 1, 40).await;
        put(&c, 2, 40).await;
        put(&c, 1, 40).await; // hit: 1 is now most recent
        put(&c, 3, 40).await; // evicts 2
        assert!(c.peek(&1).is_some() && c.peek(&2).is_none() && c.peek(&3).is_some());
        let s = c.stats();
        assert_eq!((s.used_bytes, s.evictions, s.hits, s.misses), (80, 1, 1, 3));
        assert!(s.peak_bytes <= 100);
        put(&c, 9, 500).await; // larger than the budget: served, not cached
        assert_eq!(c.stats().oversized, 1);
        assert!(c.peek(&9).is_none());
    }

    #[tokio::test]
    async fn lfu_keeps_the_frequent() {
        let c = Cache::new("t", 100, EvictionPolicy::Lfu);
        put(&c, 1, 50).await;
        for _ in 0..5 {
            put(&c, 1, 50).await;
        }
        put(&c, 2, 50).await;
        put(&c, 3, 50).await; // evicts 2 (one use), not 1 (six)
        assert!(c.peek(&1).is_some() && c.peek(&2).is_none());
    }

    #[tokio::test]
    async fn concurrent_misses_load_once() {
        let c: Cache<u32, Blob> = Cache::new("t", 1000, EvictionPolicy::Lru);
        let loads = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let c = c.clone();
                let loads = loads.clone();
                tokio::spawn(async move {
                    c.get_or_load(7, &owner(), move || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(Blob(10))
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), Blob(10));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let c: Cache<u32, Blob> = Cache::new("t", 1000, EvictionPolicy::Lru);
        let err = c.get_or_load(1, &owner(), || async { Err(CacheError::invalid("boom")) }).await;
        assert!(err.is_err());
        put(&c, 1, 5).await;
        assert_eq!(c.peek(&1), Some(Blob(5)));
    }

    #[tokio::test]
    async fn invalidation_by_owner() {
        let c: Cache<u32, Blob> = Cache::new("t", 1000, EvictionPolicy::CostBased);
        c.insert(1, Owner::new("a.t", "p=1"), Blob(10));
        c.insert(2, Owner::new("a.t", "p=2"), Blob(10));
        c.insert(3, Owner::new("b.t", ""), Blob(10));
        assert_eq!(c.remove_where(|_, o| &*o.table == "a.t" && &*o.partition == "p=1"), 10);
        assert!(c.peek(&1).is_none() && c.peek(&2).is_some() && c.peek(&3).is_some());
        let usage = c.usage_where(|o| &*o.table == "a.t");
        assert_eq!(usage.iter().map(|(_, u)| u.bytes).sum::<u64>(), 10);
    }

    #[tokio::test]
    async fn a_full_cache_evicts() {
        #[derive(Clone)]
        struct Blob(u64);
        impl Weigh for Blob {
            fn weight(&self) -> u64 {
                self.0
            }
        }
        let cache: Cache<u32, Blob> = Cache::new("doc", 100, EvictionPolicy::Lru);
        let owner = Owner::new("ns.t", "");
        cache.get_or_load(1, &owner, || async { Ok(Blob(60)) }).await.unwrap();
        cache.get_or_load(2, &owner, || async { Ok(Blob(60)) }).await.unwrap(); // evicts key 1
        assert!(cache.stats().used_bytes <= 100);
        assert_eq!(cache.stats().evictions, 1);
    }
}
