//! The node's configuration: the YAML schema of the design card (top key
//! `cache_node`), parsed strictly so that a typo stops start-up with the key's name.
//!
//! ```
//! use arrow_cache::config::Config;
//! let yaml = "cache_node:
//!   memory: {total_memory: 512MiB}
//!   storage: {iceberg: {catalog_type: rest, catalog_uri: 'http://rest:8181'}}
//! ";
//! let cfg = Config::from_yaml(yaml).unwrap();
//! assert_eq!(cfg.memory.total_memory.0, 512 * 1024 * 1024);
//! assert_eq!(cfg.networking.flight_port, 8815);
//! assert!(Config::from_yaml("cache_node:\n  memroy: {}\n").unwrap_err().to_string().contains("memroy"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use crate::error::{CacheError, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    cache_node: Config,
}

/// Everything a node needs to start. Every setting has a default (the contract's
/// ports, 4 GiB of memory, LRU) except where the tables come from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub memory: MemoryConfig,
    pub storage: StorageConfig,
    pub caching: CachingConfig,
    pub networking: NetworkingConfig,
    pub cluster: ClusterConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    #[serde(deserialize_with = "size::total_memory")]
    pub total_memory: ByteSize,
    pub arrow_pool_percent: u8,
    pub index_pool_percent: u8,
    pub system_overhead_percent: u8,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            total_memory: ByteSize(4 << 30),
            arrow_pool_percent: 80,
            index_pool_percent: 10,
            system_overhead_percent: 10,
        }
    }
}

impl MemoryConfig {
    /// Bytes of decoded Arrow data the node may hold.
    pub fn arrow_pool_bytes(&self) -> u64 {
        self.total_memory.0 / 100 * self.arrow_pool_percent as u64
    }

    /// Bytes for Parquet footers, delete sets and other indexes.
    pub fn index_pool_bytes(&self) -> u64 {
        self.total_memory.0 / 100 * self.index_pool_percent as u64
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub object_store: ObjectStoreConfig,
    pub iceberg: IcebergConfig,
}

/// Where table files live. Paths in Iceberg metadata are full URLs
/// (`s3://bucket/key`, `file:///path`), so one node reads any scheme; these
/// settings say how to reach each store.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectStoreConfig {
    /// `local`, `s3`, `gcs` or `azure`: the store for relative warehouse paths.
    #[serde(rename = "type")]
    pub kind: Option<StoreKind>,
    /// Service endpoint of an S3-compatible store, e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// Address buckets as `endpoint/bucket` instead of `bucket.endpoint`.
    pub path_style: Option<bool>,
    /// Allow plain `http://` endpoints (emulators, on-premise stores).
    pub allow_http: Option<bool>,
    /// Any further `object_store` builder option, by its documented key
    /// (`aws_*`, `google_*`, `azure_*`, or a client key such as `timeout`); passed through
    /// unchanged, after the environment and the settings above.
    pub options: BTreeMap<String, String>,
    /// How failed requests are retried (throttling, 5xx, timeouts, refused connections).
    pub retry: RetryConfig,
    /// Time limit of one request, in milliseconds; a timed-out read is retried.
    /// Unset: object_store's default (30 s).
    pub request_timeout_ms: Option<u64>,
    /// Time limit for opening a connection, in milliseconds. Unset: object_store's default (5 s).
    pub connect_timeout_ms: Option<u64>,
}

/// object_store's retry policy: a request that fails with a 5xx, 429 (throttled) or 408
/// status, a refused connection or a timeout (reads only: they are idempotent) is sent again
/// after an exponential backoff with jitter, until `max_retries` or `timeout_ms` is reached.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: usize,
    /// No retry starts later than this after the first attempt, in milliseconds.
    pub timeout_ms: u64,
    /// The first backoff, in milliseconds.
    pub init_backoff_ms: u64,
    /// The longest backoff, in milliseconds.
    pub max_backoff_ms: u64,
    /// Each backoff is drawn at random up to `backoff_base` times the previous one.
    pub backoff_base: f64,
}

impl Default for RetryConfig {
    /// object_store's own defaults.
    fn default() -> Self {
        Self { max_retries: 10, timeout_ms: 180_000, init_backoff_ms: 100, max_backoff_ms: 15_000, backoff_base: 2.0 }
    }
}

impl RetryConfig {
    pub fn to_object_store(&self) -> object_store::RetryConfig {
        use std::time::Duration;
        object_store::RetryConfig {
            backoff: object_store::BackoffConfig {
                init_backoff: Duration::from_millis(self.init_backoff_ms),
                max_backoff: Duration::from_millis(self.max_backoff_ms),
                base: self.backoff_base,
            },
            max_retries: self.max_retries,
            retry_timeout: Duration::from_millis(self.timeout_ms),
        }
    }
}

impl ObjectStoreConfig {
    fn validate(&self) -> Result<()> {
        let key = |k: &str| format!("cache_node.storage.object_store.{k}");
        // The generic credentials are S3's; GCS and Azure take theirs from `options` or the
        // environment (GOOGLE_*, AZURE_*), under object_store's names.
        if matches!(self.kind, Some(StoreKind::Gcs | StoreKind::Azure)) {
            let s3_only = [
                ("region", self.region.is_some()),
                ("access_key_id", self.access_key_id.is_some()),
                ("secret_access_key", self.secret_access_key.is_some()),
                ("session_token", self.session_token.is_some()),
                ("path_style", self.path_style.is_some()),
            ];
            if let Some((name, _)) = s3_only.iter().find(|(_, set)| *set) {
                let hint = match self.kind {
                    Some(StoreKind::Gcs) => "use options.google_service_account (a key file) or GOOGLE_* variables",
                    _ => "use options.azure_storage_account_name / azure_storage_account_key or AZURE_* variables",
                };
                return Err(CacheError::config(key(name), format!("only for type s3; {hint}")));
            }
        }
        for name in self.options.keys() {
            if !is_object_store_option(name) {
                return Err(CacheError::config(
                    key(&format!("options.{name}")),
                    "not an object_store option: use the documented aws_*, google_* or azure_* keys, or a client key such as timeout",
                ));
            }
        }
        let r = &self.retry;
        if r.init_backoff_ms == 0 || r.max_backoff_ms < r.init_backoff_ms {
            return Err(CacheError::config(key("retry"), "need 1 <= init_backoff_ms <= max_backoff_ms"));
        }
        // object_store draws each backoff from [init, previous * base): empty unless base > 1.
        if !(r.backoff_base > 1.0 && r.backoff_base.is_finite()) {
            return Err(CacheError::config(key("retry.backoff_base"), "must be greater than 1"));
        }
        for (name, value) in
            [("request_timeout_ms", self.request_timeout_ms), ("connect_timeout_ms", self.connect_timeout_ms)]
        {
            if value == Some(0) {
                return Err(CacheError::config(key(name), "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// Whether one of object_store's builders knows `name` (any letter case).
fn is_object_store_option(name: &str) -> bool {
    use object_store::{aws::AmazonS3ConfigKey, azure::AzureConfigKey, gcp::GoogleConfigKey};
    let name = name.to_ascii_lowercase();
    name.parse::<AmazonS3ConfigKey>().is_ok()
        || name.parse::<GoogleConfigKey>().is_ok()
        || name.parse::<AzureConfigKey>().is_ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    Local,
    S3,
    Gcs,
    Azure,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IcebergConfig {
    pub catalog_type: CatalogType,
    /// `sqlite:////abs/catalog.db`, `jdbc:sqlite:/abs/catalog.db`, `http://rest:8181`, ...
    pub catalog_uri: Option<String>,
    /// The catalog name that pyiceberg and Spark store in the SQL catalog's rows.
    pub catalog_name: String,
    /// The warehouse location, e.g. `s3://bucket/warehouse` or `file:///data/wh`.
    pub warehouse: Option<String>,
    /// Extra catalog properties, passed to the catalog client unchanged.
    pub properties: BTreeMap<String, String>,
    /// Tables served straight from a `metadata.json`, by name: `{"ns.tbl": "s3://.../v3.metadata.json"}`.
    pub tables: BTreeMap<String, String>,
}

impl Default for IcebergConfig {
    fn default() -> Self {
        Self {
            catalog_type: CatalogType::None,
            catalog_uri: None,
            catalog_name: "default".into(),
            warehouse: None,
            properties: BTreeMap::new(),
            tables: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogType {
    /// No catalog: only the tables listed under `storage.iceberg.tables`.
    None,
    Sql,
    Rest,
    Hive,
    Glue,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CachingConfig {
    pub eviction_policy: EvictionPolicy,
    /// How long a table's current snapshot is trusted before the catalog is asked again.
    pub ttl_seconds: u64,
    /// How often every table this node has read is reloaded from the catalog in the
    /// background (0: never; then `ttl_seconds`, `refresh` and `invalidate` decide).
    /// A new snapshot found this way is told to the other nodes at once.
    pub poll_interval_ms: u64,
    /// The largest single cached partition (a split's data); larger splits are cut smaller.
    #[serde(deserialize_with = "size::max_partition_size")]
    pub max_partition_size: ByteSize,
    /// Target size (in Parquet bytes) of one split, the unit a client reads in parallel.
    #[serde(deserialize_with = "size::split_size")]
    pub split_size: ByteSize,
}

impl Default for CachingConfig {
    fn default() -> Self {
        Self {
            eviction_policy: EvictionPolicy::Lru,
            ttl_seconds: 300,
            poll_interval_ms: 0,
            max_partition_size: ByteSize(1 << 30),
            split_size: ByteSize(64 << 20),
        }
    }
}

impl CachingConfig {
    pub fn split_bytes(&self) -> u64 {
        self.split_size.0.min(self.max_partition_size.0).max(1)
    }
}

/// How the cache picks what to drop when it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvictionPolicy {
    /// Least recently used first.
    Lru,
    /// Least frequently used first (ties: least recent).
    Lfu,
    /// Recency, with each doubling of use frequency buying extra time.
    LruFrequency,
    /// Cheapest to reload per byte first, among the not recently used.
    CostBased,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkingConfig {
    pub bind_address: String,
    /// The host other nodes and clients should use to reach this node.
    pub advertise_host: Option<String>,
    pub flight_port: u16,
    pub grpc_port: u16,
    pub http_port: u16,
    pub discovery_service: Option<String>,
    /// Arrow IPC compression of node-to-node Flight streams.
    pub ipc_compression: IpcCompression,
}

/// Compression of Arrow IPC buffers between nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpcCompression {
    /// LZ4 to peers on other hosts; none on loopback, where it only costs CPU.
    Auto,
    None,
    Lz4,
    Zstd,
}

/// How a node finds the other members of its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    /// No cluster: the node on its own (the embedded default).
    Single,
    /// `static://host:port,...`: control-plane addresses of every member.
    Static(Vec<String>),
    /// `etcd://host:port,...`: etcd endpoints.
    Etcd(Vec<String>),
}

impl Default for NetworkingConfig {
    fn default() -> Self {
        Self {
            bind_address: "0.0.0.0".into(),
            advertise_host: None,
            flight_port: 8815,
            grpc_port: 8816,
            http_port: 8817,
            discovery_service: None,
            ipc_compression: IpcCompression::Auto,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    pub node_id: Option<String>,
    pub replication_factor: u32,
    /// How often members check each other (static discovery) or renew their lease (etcd).
    pub heartbeat_interval_ms: u64,
    /// A member that has not answered for this long leaves the ring.
    pub failure_timeout_ms: u64,
    /// The etcd key prefix under which members register.
    pub etcd_prefix: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            node_id: None,
            replication_factor: 1,
            heartbeat_interval_ms: 500,
            failure_timeout_ms: 3000,
            etcd_prefix: "/arrow-cache".into(),
        }
    }
}

impl NetworkingConfig {
    /// The parsed `discovery_service`.
    pub fn discovery(&self) -> Result<Discovery> {
        let key = "cache_node.networking.discovery_service";
        let Some(d) = self.discovery_service.as_deref().map(str::trim).filter(|d| !d.is_empty()) else {
            return Ok(Discovery::Single);
        };
        let (scheme, list) = d.split_once("://").ok_or_else(|| {
            CacheError::config(key, format!("`{d}`: use static://host:port[,host:port] or etcd://host:port"))
        })?;
        let addrs: Vec<String> = list.split(',').map(str::trim).filter(|a| !a.is_empty()).map(String::from).collect();
        if addrs.is_empty() {
            return Err(CacheError::config(key, format!("`{d}` lists no address")));
        }
        for a in &addrs {
            let port =
                a.rsplit_once(':').and_then(|(h, p)| (!h.is_empty()).then_some(p)).and_then(|p| p.parse::<u16>().ok());
            if port.is_none() {
                return Err(CacheError::config(key, format!("`{a}` is not host:port")));
            }
        }
        match scheme {
            "static" => Ok(Discovery::Static(addrs)),
            "etcd" => Ok(Discovery::Etcd(addrs)),
            other => Err(CacheError::config(key, format!("unknown scheme `{other}://`: use static:// or etcd://"))),
        }
    }
}

impl Config {
    /// Parses and validates a YAML document with the top key `cache_node`.
    pub fn from_yaml(text: &str) -> Result<Self> {
        let file: ConfigFile = serde_yaml::from_str(text).map_err(|e| {
            let msg = e.to_string();
            // serde_yaml puts the path of the bad key first: "cache_node.memory: unknown field ..."
            let key = msg.split(": ").next().filter(|k| !k.contains(' ')).unwrap_or("cache_node");
            CacheError::config(key, msg.clone())
        })?;
        file.cache_node.validate()?;
        Ok(file.cache_node)
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CacheError::config("--config", format!("cannot read {}: {e}", path.display())))?;
        Self::from_yaml(&text)
    }

    /// Checks what serde cannot: ranges and cross-field rules.
    pub fn validate(&self) -> Result<()> {
        let m = &self.memory;
        let sum = m.arrow_pool_percent as u32 + m.index_pool_percent as u32 + m.system_overhead_percent as u32;
        if sum != 100 {
            return Err(CacheError::config(
                "cache_node.memory",
                format!("arrow_pool_percent + index_pool_percent + system_overhead_percent must be 100, got {sum}"),
            ));
        }
        if m.total_memory.0 < 1 << 20 {
            return Err(CacheError::config("cache_node.memory.total_memory", "must be at least 1MiB"));
        }
        if self.caching.split_size.0 == 0 || self.caching.max_partition_size.0 == 0 {
            return Err(CacheError::config("cache_node.caching", "split_size and max_partition_size must be > 0"));
        }
        if self.cluster.replication_factor == 0 {
            return Err(CacheError::config("cache_node.cluster.replication_factor", "must be at least 1"));
        }
        self.storage.object_store.validate()?;
        let ice = &self.storage.iceberg;
        match ice.catalog_type {
            CatalogType::None if ice.tables.is_empty() => {
                return Err(CacheError::config(
                    "cache_node.storage.iceberg.catalog_type",
                    "set a catalog (sql, rest, hive, glue) or list tables under storage.iceberg.tables",
                ));
            }
            // Glue's endpoint follows from the region.
            CatalogType::Sql | CatalogType::Rest | CatalogType::Hive if ice.catalog_uri.is_none() => {
                return Err(CacheError::config(
                    "cache_node.storage.iceberg.catalog_uri",
                    "required for this catalog_type",
                ));
            }
            _ => {}
        }
        for name in ice.tables.keys() {
            if !name.contains('.') {
                return Err(CacheError::config(
                    format!("cache_node.storage.iceberg.tables.{name}"),
                    "table names are `namespace.table`",
                ));
            }
        }
        let net = &self.networking;
        let ports = [net.flight_port, net.grpc_port, net.http_port];
        if ports.iter().enumerate().any(|(i, p)| ports[..i].contains(p)) {
            return Err(CacheError::config(
                "cache_node.networking",
                "flight_port, grpc_port and http_port must differ",
            ));
        }
        net.discovery()?;
        let c = &self.cluster;
        if c.heartbeat_interval_ms == 0 {
            return Err(CacheError::config("cache_node.cluster.heartbeat_interval_ms", "must be at least 1"));
        }
        if c.failure_timeout_ms < 2 * c.heartbeat_interval_ms {
            return Err(CacheError::config(
                "cache_node.cluster.failure_timeout_ms",
                format!("must be at least twice heartbeat_interval_ms ({} ms)", c.heartbeat_interval_ms),
            ));
        }
        if c.node_id.as_deref().is_some_and(|id| id.trim().is_empty() || id.contains('/')) {
            return Err(CacheError::config("cache_node.cluster.node_id", "must be non-empty and contain no `/`"));
        }
        Ok(())
    }

    /// Applies `ARROW_CACHE_*_PORT` environment overrides (used by the demo and tests).
    pub fn apply_env(&mut self) -> Result<()> {
        for (var, port) in [
            ("ARROW_CACHE_FLIGHT_PORT", &mut self.networking.flight_port),
            ("ARROW_CACHE_GRPC_PORT", &mut self.networking.grpc_port),
            ("ARROW_CACHE_HTTP_PORT", &mut self.networking.http_port),
        ] {
            if let Ok(v) = std::env::var(var) {
                *port = v.parse().map_err(|_| CacheError::config(var, format!("`{v}` is not a port number")))?;
            }
        }
        Ok(())
    }
}

/// A byte count written as `64GB`, `512MiB`, `1.5G` or a plain number of bytes.
/// Decimal units are powers of 1000, binary units (`KiB`, `MiB`, ...) powers of 1024.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let num: f64 = num.parse().map_err(|_| format!("`{s}` is not a size like 64GB or 512MiB"))?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1_000,
            "m" | "mb" => 1_000_000,
            "g" | "gb" => 1_000_000_000,
            "t" | "tb" => 1_000_000_000_000,
            "kib" => 1 << 10,
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            "tib" => 1 << 40,
            other => {
                return Err(format!(
                    "unknown size unit `{other}` in `{s}` (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
                ));
            }
        };
        Ok(ByteSize((num * mult as f64) as u64))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => Ok(ByteSize(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Size fields whose parse errors name the key (serde only knows the parent's path).
mod size {
    use serde::{Deserialize, Deserializer};

    use super::ByteSize;

    fn named<'de, D: Deserializer<'de>>(d: D, key: &str) -> Result<ByteSize, D::Error> {
        ByteSize::deserialize(d).map_err(|e| serde::de::Error::custom(format!("{key}: {e}")))
    }

    pub(super) fn total_memory<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
        named(d, "total_memory")
    }

    pub(super) fn max_partition_size<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
        named(d, "max_partition_size")
    }

    pub(super) fn split_size<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
        named(d, "split_size")
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
        let mut v = self.0 as f64;
        let mut i = 0;
        while v >= 1024.0 && i < UNITS.len() - 1 {
            v /= 1024.0;
            i += 1;
        }
        if i == 0 { write!(f, "{} B", self.0) } else { write!(f, "{v:.1} {}", UNITS[i]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!("64GB".parse::<ByteSize>().unwrap().0, 64_000_000_000);
        assert_eq!("512MiB".parse::<ByteSize>().unwrap().0, 512 << 20);
        assert_eq!("1.5 GiB".parse::<ByteSize>().unwrap().0, 3 << 29);
        assert!("lots".parse::<ByteSize>().is_err());
        assert!("5 parsecs".parse::<ByteSize>().unwrap_err().contains("parsecs"));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let err = Config::from_yaml("cache_node:\n  memory:\n    total_memory: lots\n").unwrap_err();
        assert!(err.to_string().contains("total_memory"), "{err}");
        let err = Config::from_yaml("cache_node:\n  caching:\n    eviction_policy: random\n").unwrap_err();
        assert!(err.to_string().contains("eviction_policy"), "{err}");
        let err = Config::from_yaml("cache_node:\n  caching:\n    colour: red\n").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = Config::from_yaml("cache_node:\n  memory:\n    arrow_pool_percent: 95\n").unwrap_err();
        assert!(err.to_string().contains("cache_node.memory"), "{err}");
    }

    #[test]
    fn object_store_settings_are_checked() {
        let err = |yaml: &str| {
            Config::from_yaml(&format!("cache_node:\n  storage:\n    iceberg: {{catalog_type: rest, catalog_uri: 'http://r'}}\n    object_store: {yaml}\n")).unwrap_err().to_string()
        };
        let e = err("{options: {aws_secret_acces_key: x}}");
        assert!(e.contains("object_store.options.aws_secret_acces_key"), "{e}");
        let e = err("{type: gcs, access_key_id: x}");
        assert!(e.contains("object_store.access_key_id") && e.contains("google_service_account"), "{e}");
        let e = err("{retry: {backoff_base: 1}}");
        assert!(e.contains("retry.backoff_base"), "{e}");
        let e = err("{retry: {init_backoff_ms: 500, max_backoff_ms: 100}}");
        assert!(e.contains("object_store.retry"), "{e}");
        let e = err("{retry: {max_retry: 3}}");
        assert!(e.contains("max_retry"), "{e}");
        let e = err("{request_timeout_ms: 0}");
        assert!(e.contains("request_timeout_ms"), "{e}");

        let cfg = Config::from_yaml(
            "cache_node:\n  storage:\n    iceberg: {catalog_type: rest, catalog_uri: 'http://r'}\n    object_store:\n      type: azure\n      options: {AZURE_STORAGE_ACCOUNT_KEY: k, azure_storage_use_emulator: 'true', timeout: 10s}\n      retry: {max_retries: 3, timeout_ms: 20000}\n",
        )
        .unwrap();
        let retry = cfg.storage.object_store.retry.to_object_store();
        assert_eq!((retry.max_retries, retry.retry_timeout.as_secs()), (3, 20));
        assert_eq!(retry.backoff.init_backoff.as_millis(), 100, "object_store's default");
    }

    #[test]
    fn full_example() {
        let cfg = Config::from_yaml(
            r#"
cache_node:
  memory: {total_memory: "64GB", arrow_pool_percent: 80, index_pool_percent: 10, system_overhead_percent: 10}
  storage:
    object_store: {type: s3, endpoint: "http://127.0.0.1:9000", region: us-east-1, path_style: true}
    iceberg: {catalog_type: sql, catalog_uri: "sqlite:////tmp/c.db", warehouse: "s3://b/wh"}
  caching: {eviction_policy: lru_frequency, ttl_seconds: 3600, max_partition_size: "1GB"}
  networking: {flight_port: 9815, grpc_port: 9816, discovery_service: "static://a:8816,b:8816"}
  cluster: {node_id: n1, replication_factor: 2}
"#,
        )
        .unwrap();
        assert_eq!(cfg.caching.eviction_policy, EvictionPolicy::LruFrequency);
        assert_eq!(cfg.storage.object_store.kind, Some(StoreKind::S3));
        assert_eq!(cfg.memory.arrow_pool_bytes(), 51_200_000_000);
    }
}
