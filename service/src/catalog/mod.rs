//! Catalogs: where a table name becomes Iceberg metadata.
//!
//! [`TableRegistry`] resolves `namespace.table` through the configured catalog
//! (iceberg-rust's SQL or REST catalog, or our read-only [`glue`] and [`hive`]
//! clients) or a static `metadata.json` location, and
//! keeps each table's metadata for `caching.ttl_seconds`: within that time a
//! query sees the snapshot loaded last; after it, or after `refresh` /
//! `invalidate`, the catalog is asked again. Cached column data never depends on
//! this: it is keyed by data file, so a new snapshot only changes which files a
//! query needs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use iceberg::io::{FileIO, FileIOBuilder};
use iceberg::table::{StaticTable, Table};
use iceberg::{Catalog, CatalogBuilder, NamespaceIdent, TableIdent};
use iceberg_catalog_rest::RestCatalogBuilder;
use iceberg_catalog_sql::SqlCatalogBuilder;

pub(crate) mod glue;
pub(crate) mod hive;
pub(crate) mod read_only;

use crate::config::{CatalogType, IcebergConfig};
use crate::error::{CacheError, Result};
use crate::storage::{ObjectStoreStorageFactory, ObjectStores};
use read_only::ReadOnlyCatalog;

/// Tables by name, with their metadata kept for a bounded time.
pub struct TableRegistry {
    catalog: Option<Arc<dyn Catalog>>,
    /// Tables served from a fixed `metadata.json`, by `namespace.table`.
    static_tables: BTreeMap<String, String>,
    file_io: FileIO,
    ttl: Duration,
    loaded: RwLock<HashMap<String, (Table, Instant)>>,
    /// Each new current snapshot a reload finds: the cluster tells the other
    /// nodes, and the node drops files the table no longer references.
    changes: tokio::sync::broadcast::Sender<SnapshotChange>,
}

/// A table's current snapshot changed on this node.
#[derive(Debug, Clone)]
pub struct SnapshotChange {
    pub table: String,
    pub snapshot_id: i64,
    /// Adopted from another node's notice (see [`TableRegistry::adopt`]), which
    /// need not be announced again.
    pub from_peer: bool,
}

impl std::fmt::Debug for TableRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableRegistry").field("static_tables", &self.static_tables).finish()
    }
}

impl TableRegistry {
    /// Connects to the configured catalog; fails with a clear error when it is unreachable.
    pub async fn connect(config: &IcebergConfig, stores: Arc<ObjectStores>, ttl: Duration) -> Result<Self> {
        let factory = Arc::new(ObjectStoreStorageFactory::new(stores));
        let file_io = FileIOBuilder::new(factory.clone()).build();
        let mut props: HashMap<String, String> =
            config.properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        if let Some(w) = &config.warehouse {
            props.insert("warehouse".into(), w.clone());
        }
        let uri = config.catalog_uri.clone().unwrap_or_default();
        let catalog: Option<Arc<dyn Catalog>> = match config.catalog_type {
            CatalogType::None => None,
            CatalogType::Sql => {
                let sql = sql_uri(&uri)?;
                // Name the missing file plainly rather than pass on sqlx's "unable to open database file".
                if let Some(file) = sql.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p))
                    && !std::path::Path::new(file).exists()
                {
                    return Err(CacheError::config(
                        "cache_node.storage.iceberg.catalog_uri",
                        format!("SQLite catalog file `{file}` does not exist"),
                    ));
                }
                props.insert("uri".into(), sql);
                let catalog = SqlCatalogBuilder::default()
                    .with_storage_factory(factory)
                    .load(&config.catalog_name, props)
                    .await
                    .map_err(|e| CacheError::from_iceberg(format!("SQL catalog `{uri}`"), e))?;
                Some(Arc::new(catalog))
            }
            CatalogType::Rest => {
                props.insert("uri".into(), uri.clone());
                let catalog = RestCatalogBuilder::default()
                    .with_storage_factory(factory)
                    .load(&config.catalog_name, props)
                    .await
                    .map_err(|e| catalog_error(format!("REST catalog `{uri}`"), e))?;
                Some(Arc::new(catalog))
            }
            CatalogType::Hive => {
                let hive = hive::HiveCatalog::new(&uri)
                    .map_err(|e| CacheError::config("cache_node.storage.iceberg.catalog_uri", e))?;
                Some(Arc::new(ReadOnlyCatalog::new(hive, file_io.clone())))
            }
            CatalogType::Glue => {
                let glue = glue::GlueCatalog::new(config.catalog_uri.as_deref(), &props)
                    .map_err(|e| CacheError::config("cache_node.storage.iceberg.properties", e))?;
                Some(Arc::new(ReadOnlyCatalog::new(glue, file_io.clone())))
            }
        };
        let registry = Self {
            catalog,
            static_tables: config.tables.clone(),
            file_io,
            ttl,
            loaded: RwLock::default(),
            changes: tokio::sync::broadcast::channel(64).0,
        };
        // Fail at start-up, not on the first query, when the catalog cannot be listed.
        if let Some(catalog) = &registry.catalog {
            catalog
                .list_namespaces(None)
                .await
                .map_err(|e| catalog_error(format!("{} catalog `{uri}`", kind_name(config.catalog_type)), e))?;
        }
        Ok(registry)
    }

    /// The table with the snapshot it had when last loaded, reloaded after the TTL.
    pub async fn table(&self, name: &str) -> Result<Table> {
        if let Some((table, at)) = self.loaded.read().expect("registry poisoned").get(name)
            && at.elapsed() < self.ttl
        {
            return Ok(table.clone());
        }
        self.refresh(name).await
    }

    /// Loads the table's current metadata now.
    pub async fn refresh(&self, name: &str) -> Result<Table> {
        let table = self.load(name).await?;
        let before =
            self.loaded.write().expect("registry poisoned").insert(name.to_string(), (table.clone(), Instant::now()));
        let now = table.metadata().current_snapshot_id();
        if let (Some((old, _)), Some(now)) = (before, now)
            && old.metadata().current_snapshot_id() != Some(now)
        {
            tracing::info!(table = name, snapshot = now, "new snapshot");
            let _ = self.changes.send(SnapshotChange { table: name.to_string(), snapshot_id: now, from_peer: false });
        }
        Ok(table)
    }

    /// Another node saw snapshot `snapshot_id` of `name`: reload unless this
    /// node already has it. The change is marked `from_peer`, so it is not announced again.
    pub async fn adopt(&self, name: &str, snapshot_id: i64) -> Result<()> {
        let current =
            self.loaded.read().expect("registry poisoned").get(name).map(|(t, _)| t.metadata().current_snapshot_id());
        match current {
            // Never loaded here: the first query will load it fresh.
            None => Ok(()),
            Some(Some(id)) if id == snapshot_id => Ok(()),
            Some(_) => {
                let table = self.load(name).await?;
                let now = table.metadata().current_snapshot_id();
                self.loaded.write().expect("registry poisoned").insert(name.to_string(), (table, Instant::now()));
                if let Some(now) = now {
                    let _ = self.changes.send(SnapshotChange {
                        table: name.to_string(),
                        snapshot_id: now,
                        from_peer: true,
                    });
                }
                Ok(())
            }
        }
    }

    /// New current snapshots this node's reloads find.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<SnapshotChange> {
        self.changes.subscribe()
    }

    /// The tables whose metadata this node holds.
    pub fn loaded_tables(&self) -> Vec<String> {
        self.loaded.read().expect("registry poisoned").keys().cloned().collect()
    }

    /// Forgets the loaded metadata so the next query asks the catalog.
    pub fn forget(&self, name: &str) {
        self.loaded.write().expect("registry poisoned").remove(name);
    }

    async fn load(&self, name: &str) -> Result<Table> {
        let ident = parse_table_name(name)?;
        if let Some(location) = self.static_tables.get(name) {
            let table = StaticTable::from_metadata_file(location, ident, self.file_io.clone())
                .await
                .map_err(|e| CacheError::from_iceberg(format!("metadata file `{location}`"), e))?;
            return Ok(table.into_table());
        }
        let Some(catalog) = &self.catalog else {
            return Err(CacheError::not_found(format!(
                "table `{name}` does not exist; this node serves only {:?}",
                self.static_tables.keys().collect::<Vec<_>>()
            )));
        };
        match catalog.load_table(&ident).await {
            Ok(t) => Ok(t),
            Err(e) if matches!(e.kind(), iceberg::ErrorKind::TableNotFound | iceberg::ErrorKind::NamespaceNotFound) => {
                Err(CacheError::not_found(format!("table `{name}` does not exist in the catalog: {}", e.message())))
            }
            Err(e) => Err(catalog_error(format!("loading table `{name}`"), e)),
        }
    }

    /// Every table this node can serve, as `namespace.table`, sorted.
    pub async fn list(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self.static_tables.keys().cloned().collect();
        if let Some(catalog) = &self.catalog {
            let mut pending =
                catalog.list_namespaces(None).await.map_err(|e| catalog_error("listing namespaces", e))?;
            while let Some(ns) = pending.pop() {
                // Nested namespaces: list children too.
                if let Ok(children) = catalog.list_namespaces(Some(&ns)).await {
                    pending.extend(children.into_iter().filter(|c| c != &ns));
                }
                let tables = catalog
                    .list_tables(&ns)
                    .await
                    .map_err(|e| catalog_error(format!("listing tables of `{}`", ns.join(".")), e))?;
                names.extend(tables.iter().map(table_name));
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// The table whose current metadata is the file at `location`, as our catalog clients load it.
async fn table_at(ident: &TableIdent, location: &str, file_io: &FileIO) -> iceberg::Result<Table> {
    let metadata = iceberg::spec::TableMetadata::read_from(file_io, location).await?;
    Table::builder()
        .identifier(ident.clone())
        .metadata(metadata)
        .metadata_location(location)
        .file_io(file_io.clone())
        .runtime(iceberg::Runtime::try_current()?)
        .build()
}

/// A catalog client's error, with the HTTP status and the server's own message when a REST
/// catalog answered with an error. iceberg-rust keeps those only in the error's context, which
/// has no accessor and which `CacheError::from_iceberg` leaves out, so a wrong URL or a refused
/// request would read just "Received response with unexpected status code".
fn catalog_error(context: impl Into<String>, err: iceberg::Error) -> CacheError {
    // The context is only reachable through Debug, one `   key: value` line per entry.
    let debug = format!("{err:?}");
    let field = |key: &str| {
        let prefix = format!("   {key}: ");
        debug.lines().find_map(|l| l.strip_prefix(prefix.as_str()).map(str::to_owned))
    };
    let Some(status) = field("status") else {
        return CacheError::from_iceberg(context, err);
    };
    let mut message = format!("{} (HTTP {status}", err.message());
    // REST catalogs describe errors as {"error": {"message": ..., "type": ..., "code": ...}}.
    let server = field("json")
        .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
        .and_then(|body| body["error"]["message"].as_str().map(str::to_owned));
    if let Some(server) = server {
        message.push_str(": ");
        message.push_str(&server);
    }
    message.push(')');
    CacheError::from_iceberg(context, iceberg::Error::new(err.kind(), message))
}

fn kind_name(kind: CatalogType) -> &'static str {
    match kind {
        CatalogType::Sql => "SQL",
        CatalogType::Rest => "REST",
        CatalogType::Hive => "Hive",
        CatalogType::Glue => "Glue",
        CatalogType::None => "static",
    }
}

/// `ns.tbl` (or `a.b.tbl` for nested namespaces) as an Iceberg identifier.
pub(crate) fn parse_table_name(name: &str) -> Result<TableIdent> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(CacheError::invalid(format!("table name `{name}` must look like `namespace.table`")));
    }
    let (table, ns) = parts.split_last().expect("at least two parts");
    let ns = NamespaceIdent::from_strs(ns.iter().copied())
        .map_err(|e| CacheError::invalid(format!("table name `{name}`: {e}")))?;
    Ok(TableIdent::new(ns, table.to_string()))
}

pub(crate) fn table_name(ident: &TableIdent) -> String {
    format!("{}.{}", ident.namespace().join("."), ident.name())
}

/// Accepts the SQL catalog URIs that pyiceberg (SQLAlchemy) and Spark (JDBC)
/// users already have, and turns them into the sqlx form (`sqlite:////data/c.db`
/// and `jdbc:sqlite:/data/c.db` are `sqlite:///data/c.db`).
pub(crate) fn sql_uri(uri: &str) -> Result<String> {
    let uri = uri.strip_prefix("jdbc:").unwrap_or(uri);
    if let Some(rest) = uri.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("file:").trim_start_matches('/');
        return Ok(format!("sqlite:///{path}"));
    }
    for scheme in ["postgresql", "postgres", "mysql"] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            // SQLAlchemy's driver suffix: postgresql+psycopg2://
            let rest = rest.split_once("://").map(|(_, r)| r).unwrap_or(rest);
            return Ok(format!("{scheme}://{rest}"));
        }
    }
    Err(CacheError::config(
        "cache_node.storage.iceberg.catalog_uri",
        format!("`{uri}` is not a SQLite, PostgreSQL or MySQL URI"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_errors_keep_the_http_status_and_server_message() {
        // What iceberg-catalog-rest builds for an unexpected answer (client.rs).
        let err = iceberg::Error::new(iceberg::ErrorKind::Unexpected, "Received response with unexpected status code")
            .with_context("status", "400 Bad Request")
            .with_context("headers", "{}")
            .with_context("json", r#"{"error":{"message":"No route for request: GET nope/v1/config","type":"BadRequestException","code":400}}"#);
        let msg = catalog_error("REST catalog `http://h/nope`", err).to_string();
        assert!(msg.contains("HTTP 400 Bad Request: No route for request: GET nope/v1/config"), "{msg}");
        // Errors without an HTTP answer are unchanged.
        let err = iceberg::Error::new(iceberg::ErrorKind::Unexpected, "Failed to execute http request");
        let msg = catalog_error("REST catalog `http://h`", err).to_string();
        assert!(msg.contains("Failed to execute http request") && !msg.contains("HTTP"), "{msg}");
    }

    #[test]
    fn sql_uris_of_pyiceberg_and_spark() {
        assert_eq!(sql_uri("sqlite:////data/c.db").unwrap(), "sqlite:///data/c.db");
        assert_eq!(sql_uri("jdbc:sqlite:/data/c.db").unwrap(), "sqlite:///data/c.db");
        assert_eq!(sql_uri("jdbc:postgresql://h:5432/db").unwrap(), "postgresql://h:5432/db");
    }
}
