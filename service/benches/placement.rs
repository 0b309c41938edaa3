//! Placement of splits on nodes: balance and movement, simulated (issue 3).
//!
//! Not a test and not part of CI; no data and no network. Run:
//!
//! ```sh
//! CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target cargo bench --locked --workspace --bench placement
//! ```
//!
//! It builds a synthetic lake (seeded, so every run builds the same one): tables
//! with Zipf-skewed partition sizes, big files and small uncompacted ones, cut
//! into placement keys as `plan::Planner::cut` cuts them (a file of at most
//! `caching.split_size` is one key, a larger file one key per range of row groups
//! reaching `split_size`). For N in 3..100 nodes and each placement scheme it
//! reports max/mean of splits and of bytes per node (primaries, R=1), and the share
//! of splits that move when one node joins (every one of 8 new ids tried) or one
//! leaves (every member tried), for primaries and for R=2 owner sets. The figures go
//! to `bench/results/placement.json` (printed instead with `BENCH_NO_DOCS=1`), and
//! `bench/render.py` writes them into docs/BENCHMARKS.md ("Placement (issue 3)"). The
//! schemes: [`Placement`] (rendezvous hashing) and the `consistent_hash_ring` crate (the
//! design card's choice) at several vnode counts.

mod common;

use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::time::Instant;

use arrow_cache::cluster::{Placement, PlacementKey};
use arrow_cache::config::CachingConfig;
use common::{Res, RunClock, cargo_bench, write_results};
use consistent_hash_ring::{Ring, RingBuilder};
use serde_json::{Value, json};

const MIB: u64 = 1 << 20;
const NODE_COUNTS: [usize; 6] = [3, 5, 10, 20, 50, 100];
/// New node ids tried for a join.
const JOINERS: usize = 8;
/// Small lakes are noisy: each of their cells is the median over this many lakes.
const SMALL_LAKES: u64 = 20;
const GOAL_BALANCE: f64 = 1.10;
const GOAL_MOVEMENT: f64 = 0.02;
/// Keys per lookup-cost measurement.
const LOOKUP_KEYS: usize = 20_000;

/// SplitMix64: a tiny seeded PRNG, so every run builds the same lakes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }
}

/// One table of the synthetic lake.
struct TableSpec {
    name: &'static str,
    /// Partition column and count; `None` for an unpartitioned table.
    partitioning: Option<(&'static str, usize)>,
    gib: f64,
    /// Zipf exponent of partition sizes: the partition of rank `i` (from 1)
    /// holds bytes proportional to `1 / i^zipf`.
    zipf: f64,
    /// Target data file size (files are 60-120% of it).
    file_mib: f64,
    /// Parquet row group size (80-120% of it).
    row_group_mib: f64,
    /// Share of each partition's bytes in small files (0.5-32 MiB,
    /// log-uniform): streaming commits not compacted yet.
    small_share: f64,
}

/// A lake of a few big fact tables and some small ones: ~9 TiB at scale 1.
#[rustfmt::skip]
const LAKE: &[TableSpec] = &[
    TableSpec { name: "web.events", partitioning: Some(("event_day", 730)), gib: 5000.0, zipf: 1.0, file_mib: 512.0, row_group_mib: 128.0, small_share: 0.05 },
    TableSpec { name: "web.clicks", partitioning: Some(("event_hour", 2160)), gib: 1500.0, zipf: 1.2, file_mib: 128.0, row_group_mib: 32.0, small_share: 0.3 },
    TableSpec { name: "sales.orders", partitioning: Some(("order_day", 365)), gib: 1200.0, zipf: 0.8, file_mib: 256.0, row_group_mib: 64.0, small_share: 0.1 },
    TableSpec { name: "sales.order_lines", partitioning: Some(("order_month", 36)), gib: 1500.0, zipf: 0.5, file_mib: 512.0, row_group_mib: 128.0, small_share: 0.0 },
    TableSpec { name: "crm.customers", partitioning: Some(("bucket", 16)), gib: 200.0, zipf: 0.0, file_mib: 512.0, row_group_mib: 128.0, small_share: 0.0 },
    TableSpec { name: "crm.accounts", partitioning: None, gib: 40.0, zipf: 0.0, file_mib: 256.0, row_group_mib: 16.0, small_share: 0.2 },
    TableSpec { name: "catalog.products", partitioning: None, gib: 5.0, zipf: 0.0, file_mib: 64.0, row_group_mib: 8.0, small_share: 0.5 },
    TableSpec { name: "ref.countries", partitioning: None, gib: 0.01, zipf: 0.0, file_mib: 1.0, row_group_mib: 1.0, small_share: 0.0 },
];

/// One placement key, cut as `plan::Planner::cut` cuts a file.
struct Part {
    table: usize,
    partition: String,
    file: String,
    row_groups: Option<(usize, usize)>,
    bytes: u64,
}

struct Lake {
    tables: Vec<&'static str>,
    parts: Vec<Part>,
    /// The stable hash of every part's key (the ring crate's key).
    hashes: Vec<u64>,
    files: usize,
    partitions: usize,
}

impl Lake {
    /// [`LAKE`] with every table's bytes and partition count times `scale`.
    fn generate(scale: f64, seed: u64, split_bytes: u64) -> Self {
        let mut rng = Rng(seed);
        let mut lake = Lake {
            tables: LAKE.iter().map(|t| t.name).collect(),
            parts: vec![],
            hashes: vec![],
            files: 0,
            partitions: 0,
        };
        for (t, spec) in LAKE.iter().enumerate() {
            let (column, count) = match spec.partitioning {
                Some((column, count)) => (column, ((count as f64 * scale).round() as usize).max(1)),
                None => ("", 1),
            };
            let weights: Vec<f64> = (1..=count).map(|i| 1.0 / (i as f64).powf(spec.zipf)).collect();
            let total: f64 = weights.iter().sum();
            // Shuffled ranks: the big partitions are not the first ones.
            let mut ranks: Vec<usize> = (0..count).collect();
            for i in (1..count).rev() {
                ranks.swap(i, rng.below(i + 1));
            }
            for (p, &rank) in ranks.iter().enumerate() {
                let partition = if column.is_empty() { String::new() } else { format!("{column}={p:05}") };
                let bytes = (spec.gib * scale * 1024.0 * weights[rank] / total * MIB as f64) as u64;
                if bytes == 0 {
                    continue;
                }
                lake.partitions += 1;
                let small = (bytes as f64 * spec.small_share) as u64;
                let mut sizes = vec![];
                let mut left = small;
                while left > 0 {
                    let size = ((0.5f64.ln() + rng.unit() * 64f64.ln()).exp() * MIB as f64) as u64;
                    sizes.push(size.min(left).max(1));
                    left = left.saturating_sub(size);
                }
                let mut left = bytes - small;
                while left > 0 {
                    let size = (spec.file_mib * rng.uniform(0.6, 1.2) * MIB as f64) as u64;
                    sizes.push(size.min(left).max(1));
                    left = left.saturating_sub(size);
                }
                for size in sizes {
                    let file = format!(
                        "s3://lake/warehouse/{}/data/{partition}/{:05}-{:016x}.parquet",
                        spec.name.replace('.', "/"),
                        lake.files % 100_000,
                        rng.next()
                    );
                    lake.files += 1;
                    lake.cut(&mut rng, split_bytes, t, &partition, file, size, spec.row_group_mib);
                }
            }
        }
        lake.hashes = lake.parts.iter().map(|p| lake.key(p).stable_hash()).collect();
        lake
    }

    /// As `plan::Planner::cut`: a file of at most `split_bytes` is one key; a
    /// larger one is cut into ranges of row groups, each closed when it reaches
    /// `split_bytes` (or at the last row group).
    #[allow(clippy::too_many_arguments)]
    fn cut(
        &mut self,
        rng: &mut Rng,
        split_bytes: u64,
        table: usize,
        partition: &str,
        file: String,
        size: u64,
        rg_mib: f64,
    ) {
        if size <= split_bytes {
            self.parts.push(Part { table, partition: partition.into(), file, row_groups: None, bytes: size });
            return;
        }
        let mut groups = vec![];
        let mut left = size;
        while left > 0 {
            let rg = ((rg_mib * rng.uniform(0.8, 1.2) * MIB as f64) as u64).max(1);
            groups.push(rg.min(left));
            left = left.saturating_sub(rg);
        }
        let (mut start, mut bytes) = (0, 0);
        for (rg, b) in groups.iter().enumerate() {
            bytes += b;
            if bytes >= split_bytes || rg + 1 == groups.len() {
                let part = Part {
                    table,
                    partition: partition.into(),
                    file: file.clone(),
                    row_groups: Some((start, rg + 1)),
                    bytes,
                };
                self.parts.push(part);
                (start, bytes) = (rg + 1, 0);
            }
        }
    }

    fn key<'a>(&'a self, part: &'a Part) -> PlacementKey<'a> {
        PlacementKey {
            table: self.tables[part.table],
            partition: &part.partition,
            file: &part.file,
            row_groups: part.row_groups,
        }
    }

    fn bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }

    fn describe(&self) -> Value {
        let mean = self.bytes() as f64 / self.parts.len() as f64;
        let var = self.parts.iter().map(|p| (p.bytes as f64 - mean).powi(2)).sum::<f64>() / self.parts.len() as f64;
        let whole = self.parts.iter().filter(|p| p.row_groups.is_none()).count();
        let mut by_partition: std::collections::HashMap<(usize, &str), u64> = Default::default();
        for p in &self.parts {
            *by_partition.entry((p.table, &p.partition)).or_default() += p.bytes;
        }
        let biggest = by_partition.values().max().copied().unwrap_or(0);
        json!({
            "tables": self.tables.len(),
            "partitions": self.partitions,
            "data_files": self.files,
            "bytes": self.bytes(),
            "splits": self.parts.len(),
            "whole_files": whole,
            "row_group_ranges": self.parts.len() - whole,
            "mean_split_bytes": mean.round(),
            "split_size_cv": round3(var.sqrt() / mean),
            "largest_partition_bytes": biggest,
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A stable `BuildHasher` for the ring (XXH3 of each write, chained), to tell
/// the ring's structure apart from its default FNV hash.
#[derive(Clone, Default)]
struct Xxh3Build;

struct Xxh3Chain(u64);

impl Hasher for Xxh3Chain {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = twox_hash::XxHash3_64::oneshot_with_seed(self.0, bytes);
    }
    fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for Xxh3Build {
    type Hasher = Xxh3Chain;
    fn build_hasher(&self) -> Xxh3Chain {
        Xxh3Chain(0)
    }
}

#[derive(Clone, Copy)]
enum Scheme {
    Rendezvous,
    /// `consistent_hash_ring` with this many vnodes per node; `xxh3`: with
    /// [`Xxh3Build`] instead of the crate's default FNV.
    Ring {
        vnodes: usize,
        xxh3: bool,
    },
}

impl Scheme {
    fn name(&self) -> String {
        match self {
            Scheme::Rendezvous => "rendezvous (`Placement`)".into(),
            Scheme::Ring { vnodes, xxh3: false } => format!("ring, {vnodes} vnodes"),
            Scheme::Ring { vnodes, xxh3: true } => format!("ring, {vnodes} vnodes, XXH3"),
        }
    }
}

fn node_name(id: usize) -> String {
    format!("cache-{id:03}.cluster.local")
}

fn node_id(name: &str) -> u32 {
    name[6..9].parse().unwrap()
}

/// One cluster's placement, as each scheme builds it.
#[derive(Clone)]
enum Placer {
    Rendezvous(Placement),
    Ring(Ring<String>),
    RingXxh3(Ring<String, Xxh3Build>),
}

impl Placer {
    fn new(scheme: Scheme, ids: &[usize]) -> Self {
        let names = ids.iter().map(|&i| node_name(i));
        match scheme {
            Scheme::Rendezvous => Placer::Rendezvous(Placement::new(names, 2)),
            Scheme::Ring { vnodes, xxh3: false } => {
                Placer::Ring(RingBuilder::default().vnodes(vnodes).nodes_iter(names).build())
            }
            Scheme::Ring { vnodes, xxh3: true } => {
                Placer::RingXxh3(RingBuilder::new(Xxh3Build).vnodes(vnodes).nodes_iter(names).build())
            }
        }
    }

    /// The same cluster with node `id` added (the ring: the crate's `insert`).
    fn with(&self, id: usize) -> Self {
        match self {
            Placer::Rendezvous(p) => {
                Placer::Rendezvous(Placement::new(p.nodes().iter().cloned().chain([node_name(id)]), p.replication()))
            }
            Placer::Ring(ring) => {
                let mut ring = ring.clone();
                ring.insert(node_name(id));
                Placer::Ring(ring)
            }
            Placer::RingXxh3(ring) => {
                let mut ring = ring.clone();
                ring.insert(node_name(id));
                Placer::RingXxh3(ring)
            }
        }
    }

    /// The same cluster without node `id` (the ring: the crate's `remove`).
    fn without(&self, id: usize) -> Self {
        let gone = node_name(id);
        match self {
            Placer::Rendezvous(p) => {
                Placer::Rendezvous(Placement::new(p.nodes().iter().filter(|&n| *n != gone).cloned(), p.replication()))
            }
            Placer::Ring(ring) => {
                let mut ring = ring.clone();
                ring.remove(&gone);
                Placer::Ring(ring)
            }
            Placer::RingXxh3(ring) => {
                let mut ring = ring.clone();
                ring.remove(&gone);
                Placer::RingXxh3(ring)
            }
        }
    }

    /// The R=2 owners (primary first; `u32::MAX` for none) of every part. The
    /// ring is given each key's stable hash as its key; its owners are its
    /// `replicas` iterator (the first one is what `get` returns).
    fn assign(&self, lake: &Lake) -> Vec<[u32; 2]> {
        fn pair<'a>(mut it: impl Iterator<Item = &'a str>) -> [u32; 2] {
            let a = it.next().map_or(u32::MAX, node_id);
            let b = it.next().map_or(u32::MAX, node_id);
            [a, b]
        }
        match self {
            Placer::Rendezvous(p) => {
                lake.parts.iter().map(|part| pair(p.owners(&lake.key(part)).into_iter())).collect()
            }
            Placer::Ring(ring) => lake.hashes.iter().map(|h| pair(ring.replicas(h).map(String::as_str))).collect(),
            Placer::RingXxh3(ring) => lake.hashes.iter().map(|h| pair(ring.replicas(h).map(String::as_str))).collect(),
        }
    }
}

/// Max over mean of per-node totals.
fn max_over_mean(totals: &[f64]) -> f64 {
    let mean = totals.iter().sum::<f64>() / totals.len() as f64;
    totals.iter().cloned().fold(0.0, f64::max) / mean
}

/// The share of parts whose primary changed, and the share of R=2 owner slots
/// now held by a node that did not own the part before.
fn moved(before: &[[u32; 2]], after: &[[u32; 2]]) -> (f64, f64) {
    let mut primaries = 0usize;
    let (mut slots, mut new_slots) = (0usize, 0usize);
    for (b, a) in before.iter().zip(after) {
        primaries += (b[0] != a[0]) as usize;
        for &o in a.iter().filter(|&&o| o != u32::MAX) {
            slots += 1;
            new_slots += (!b.contains(&o)) as usize;
        }
    }
    (primaries as f64 / before.len() as f64, new_slots as f64 / slots as f64)
}

/// The mean of `values` and the one farthest from `ideal`.
#[derive(Clone, Copy)]
struct Spread {
    mean: f64,
    worst: f64,
}

impl Spread {
    fn of(values: &[f64], ideal: f64) -> Self {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let worst =
            values.iter().cloned().fold(ideal, |w, v| if (v - ideal).abs() > (w - ideal).abs() { v } else { w });
        Spread { mean, worst }
    }
}

/// One scheme at one N on one lake.
#[derive(Clone, Copy)]
struct Outcome {
    splits: f64,
    bytes: f64,
    join: Spread,
    leave: Spread,
    join_r2: Spread,
    leave_r2: Spread,
}

impl Outcome {
    fn meets(&self, n: usize) -> bool {
        self.splits <= GOAL_BALANCE
            && self.bytes <= GOAL_BALANCE
            && (self.join.worst - 1.0 / (n + 1) as f64).abs() <= GOAL_MOVEMENT
            && (self.leave.worst - 1.0 / n as f64).abs() <= GOAL_MOVEMENT
    }
}

/// The cluster of N nodes, with every single join (of `JOINERS` new ids) and
/// every single leave, placed by `scheme`.
struct Clusters {
    base: Placer,
    joined: Vec<Placer>,
    left: Vec<Placer>,
}

impl Clusters {
    fn new(scheme: Scheme, n: usize) -> Self {
        let ids: Vec<usize> = (0..n).collect();
        let base = Placer::new(scheme, &ids);
        let joined = (0..JOINERS).map(|j| base.with(500 + j)).collect();
        let left = ids.iter().map(|&gone| base.without(gone)).collect();
        Clusters { base, joined, left }
    }

    fn run(&self, lake: &Lake, n: usize) -> Outcome {
        let base = self.base.assign(lake);
        let mut splits = vec![0.0; n];
        let mut bytes = vec![0.0; n];
        for (owners, part) in base.iter().zip(&lake.parts) {
            splits[owners[0] as usize] += 1.0;
            bytes[owners[0] as usize] += part.bytes as f64;
        }
        let (join, join_r2): (Vec<f64>, Vec<f64>) = self.joined.iter().map(|p| moved(&base, &p.assign(lake))).unzip();
        let (leave, leave_r2): (Vec<f64>, Vec<f64>) = self.left.iter().map(|p| moved(&base, &p.assign(lake))).unzip();
        let (join_ideal, leave_ideal) = (1.0 / (n + 1) as f64, 1.0 / n as f64);
        Outcome {
            splits: max_over_mean(&splits),
            bytes: max_over_mean(&bytes),
            join: Spread::of(&join, join_ideal),
            leave: Spread::of(&leave, leave_ideal),
            join_r2: Spread::of(&join_r2, join_ideal),
            leave_r2: Spread::of(&leave_r2, leave_ideal),
        }
    }
}

/// Max/mean of splits and bytes when each part goes to an independent uniform
/// random node (median of 9 draws): what any stateless hash can at best expect.
fn random_floor(lake: &Lake, n: usize) -> (f64, f64) {
    let mut draws: Vec<(f64, f64)> = (0..9)
        .map(|d| {
            let mut rng = Rng(0xf1002 + 1000 * n as u64 + d);
            let mut splits = vec![0.0; n];
            let mut bytes = vec![0.0; n];
            for part in &lake.parts {
                let node = rng.below(n);
                splits[node] += 1.0;
                bytes[node] += part.bytes as f64;
            }
            (max_over_mean(&splits), max_over_mean(&bytes))
        })
        .collect();
    let mut bytes: Vec<f64> = draws.iter().map(|d| d.1).collect();
    draws.sort_by(|a, b| a.0.total_cmp(&b.0));
    bytes.sort_by(f64::total_cmp);
    (draws[4].0, bytes[4])
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 }
}

/// Every scheme at every N over `lakes`, as rows for the results (with more than one lake,
/// each figure is the median over the lakes).
fn report(lakes: &[Lake], schemes: &[Scheme]) -> (Vec<Value>, Vec<(usize, Outcome)>) {
    let mut rows = vec![];
    let mut all = vec![];
    for &scheme in schemes {
        for &n in &NODE_COUNTS {
            let started = Instant::now();
            let clusters = Clusters::new(scheme, n);
            let built = started.elapsed();
            let outcomes: Vec<Outcome> = lakes.iter().map(|lake| clusters.run(lake, n)).collect();
            let floors: Vec<(f64, f64)> = lakes.iter().map(|lake| random_floor(lake, n)).collect();
            let med = |f: &dyn Fn(&Outcome) -> f64| round3(median(outcomes.iter().map(f).collect()));
            let spread =
                |f: &dyn Fn(&Outcome) -> Spread| json!({"mean": med(&|o| f(o).mean), "worst": med(&|o| f(o).worst)});
            rows.push(json!({
                "scheme": scheme.name(),
                "n": n,
                "splits_per_node": lakes.iter().map(|l| l.parts.len()).sum::<usize>() as f64 / lakes.len() as f64 / n as f64,
                "max_mean_splits": med(&|o| o.splits),
                "max_mean_bytes": med(&|o| o.bytes),
                "random_floor_splits": round3(median(floors.iter().map(|f| f.0).collect())),
                "random_floor_bytes": round3(median(floors.iter().map(|f| f.1).collect())),
                "join": spread(&|o| o.join),
                "leave": spread(&|o| o.leave),
                "join_r2": spread(&|o| o.join_r2),
                "leave_r2": spread(&|o| o.leave_r2),
                "ideal_join": 1.0 / (n + 1) as f64,
                "ideal_leave": 1.0 / n as f64,
                "lakes": lakes.len(),
                "lakes_meeting_goals": outcomes.iter().filter(|o| o.meets(n)).count(),
            }));
            eprintln!(
                "  {} N={n}: clusters built in {:.2} s, simulated in {:.2} s",
                scheme.name(),
                built.as_secs_f64(),
                (started.elapsed() - built).as_secs_f64()
            );
            all.extend(outcomes.into_iter().map(|o| (n, o)));
        }
    }
    (rows, all)
}

/// Rendezvous balance as the lake shrinks (median over 9 lakes per scale).
fn degradation(split_bytes: u64) -> Vec<Value> {
    let mut rows = vec![];
    for (label, scale) in
        [("1/256", 1.0 / 256.0), ("1/64", 1.0 / 64.0), ("1/16", 1.0 / 16.0), ("1/4", 0.25), ("1", 1.0)]
    {
        let lakes: Vec<Lake> =
            (0..if scale < 1.0 { 9 } else { 1 }).map(|s| Lake::generate(scale, 0xde9_0000 + s, split_bytes)).collect();
        let splits = lakes.iter().map(|l| l.parts.len()).sum::<usize>() / lakes.len();
        let mut cells = vec![];
        for n in NODE_COUNTS {
            let placement = Placement::new((0..n).map(node_name), 1);
            let (mut s, mut b) = (vec![], vec![]);
            for lake in &lakes {
                let mut splits = vec![0.0; n];
                let mut bytes = vec![0.0; n];
                for part in &lake.parts {
                    let owner = node_id(placement.primary(&lake.key(part)).unwrap()) as usize;
                    splits[owner] += 1.0;
                    bytes[owner] += part.bytes as f64;
                }
                s.push(max_over_mean(&splits));
                b.push(max_over_mean(&bytes));
            }
            cells.push(json!({"n": n, "max_mean_splits": round3(median(s)), "max_mean_bytes": round3(median(b))}));
        }
        rows.push(json!({"scale": label, "lakes": lakes.len(), "splits": splits, "by_n": cells}));
    }
    rows
}

/// ns per lookup (the key's hash included), and cluster build times.
fn lookup_cost(lake: &Lake) -> Vec<Value> {
    let keys: Vec<PlacementKey<'_>> = lake.parts.iter().take(LOOKUP_KEYS).map(|p| lake.key(p)).collect();
    let best_of = |f: &mut dyn FnMut() -> usize| {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            black_box(f());
            best = best.min(started.elapsed().as_nanos() as f64);
        }
        best
    };
    let mut rows = vec![];
    for n in [3, 10, 20, 100] {
        let names: Vec<String> = (0..n).map(node_name).collect();
        let p1 = Placement::new(names.clone(), 1);
        let p2 = Placement::new(names.clone(), 2);
        let ring: Ring<String> = RingBuilder::default().vnodes(1000).nodes_iter(names.iter().cloned()).build();
        let per_key = |f: &dyn Fn(&PlacementKey<'_>) -> usize| {
            (best_of(&mut || keys.iter().map(|k| f(black_box(k))).sum()) / keys.len() as f64).round()
        };
        rows.push(json!({
            "n": n,
            "owners_r1_ns": per_key(&|k| p1.owners(k).len()),
            "owners_r2_ns": per_key(&|k| p2.owners(k).len()),
            "primary_ns": per_key(&|k| p1.primary(k).map_or(0, str::len)),
            "ring_1000_get_ns": per_key(&|k| ring.get(k.stable_hash()).len()),
            "placement_new_us": round3(best_of(&mut || Placement::new(names.clone(), 2).nodes().len()) / 1e3),
            "ring_1000_build_ms": round3(
                best_of(&mut || RingBuilder::default().vnodes(1000).nodes_iter(names.iter().cloned()).build().len()) / 1e6
            ),
        }));
    }
    rows
}

fn main() -> Res<()> {
    let clock = RunClock::start("placement");
    let split_bytes = CachingConfig::default().split_bytes();
    let schemes = [
        Scheme::Rendezvous,
        Scheme::Ring { vnodes: 10, xxh3: false },
        Scheme::Ring { vnodes: 100, xxh3: false },
        Scheme::Ring { vnodes: 100, xxh3: true },
        Scheme::Ring { vnodes: 1000, xxh3: false },
    ];

    let large = Lake::generate(1.0, 0x1ce_be26, split_bytes);
    eprintln!("large lake: {}", large.describe());
    let (large_rows, outcomes) = report(std::slice::from_ref(&large), &schemes);

    let small: Vec<Lake> =
        (0..SMALL_LAKES).map(|s| Lake::generate(1.0 / 40.0, 0x5_3a11 + 7777 * s, split_bytes)).collect();
    eprintln!("small lakes (scale 1/40), the first: {}", small[0].describe());
    let (small_rows, _) = report(&small, &[Scheme::Rendezvous, Scheme::Ring { vnodes: 1000, xxh3: false }]);
    let small_splits = small.iter().map(|l| l.parts.len()).sum::<usize>() / small.len();

    eprintln!("balance as the lake shrinks");
    let shrinking = degradation(split_bytes);
    eprintln!("lookup cost");
    let lookups = lookup_cost(&large);

    let rendezvous_met = outcomes.iter().take(NODE_COUNTS.len()).filter(|(n, o)| o.meets(*n)).count();
    let results = json!({
        "bench": "placement",
        "command": cargo_bench("placement"),
        "run": clock.finish(),
        "settings": {
            "split_bytes": split_bytes,
            "node_counts": NODE_COUNTS,
            "joiners": JOINERS,
            "goal_balance": GOAL_BALANCE,
            "goal_movement": GOAL_MOVEMENT,
            "lookup_keys": LOOKUP_KEYS,
        },
        "large_lake": large.describe(),
        "large": large_rows,
        "small_lake": {"scale": "1/40", "lakes": SMALL_LAKES, "mean_splits": small_splits, "first": small[0].describe()},
        "small": small_rows,
        "shrinking": shrinking,
        "lookup": lookups,
        "rendezvous_meets_goals_at": rendezvous_met,
    });
    write_results("placement", &results, false)
}
