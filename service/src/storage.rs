//! One I/O stack for metadata and data: `object_store`.
//!
//! [`ObjectStores`] turns any location an Iceberg table mentions
//! (`file:///..`, `s3://bucket/..`, `gs://..`, `abfss://..`) into an
//! `ObjectStore` and a path, building each store once from the node's config
//! and the environment (`AWS_*`, `GOOGLE_*`, `AZURE_*`). Iceberg's catalogs read
//! metadata through [`ObjectStoreStorage`], an iceberg-rust `Storage` backed by
//! the same stores, and the Parquet loader reads data files through them too, so
//! credentials, retries and connection pools are configured in one place.

use std::collections::HashMap;
use std::ops::Range;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use iceberg::io::{FileMetadata, FileRead, FileWrite, InputFile, OutputFile, Storage, StorageConfig, StorageFactory};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::buffered::BufWriter;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, ObjectStoreScheme, RetryConfig};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use url::Url;

use crate::config::{ObjectStoreConfig, StoreKind};
use arrow_cache_protocol::with_causes;

use crate::error::{CacheError, Result};

/// The node's object stores, one per scheme and bucket, built on first use.
#[derive(Default)]
pub struct ObjectStores {
    options: Vec<(String, String)>,
    retry: RetryConfig,
    stores: RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl std::fmt::Debug for ObjectStores {
    // The options hold secrets: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.options.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ObjectStores").field("options", &names).field("retry", &self.retry).finish_non_exhaustive()
    }
}

impl ObjectStores {
    /// Stores configured from the environment, then the node's config on top.
    pub fn new(config: &ObjectStoreConfig) -> Self {
        let mut options: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                options.push((k.to_string(), v));
            }
        };
        // `endpoint` belongs to the store named by `type` (S3 when unset).
        let endpoint_key = match config.kind {
            Some(StoreKind::Gcs) => "google_base_url",
            Some(StoreKind::Azure) => "azure_endpoint",
            _ => "aws_endpoint",
        };
        set(endpoint_key, config.endpoint.clone());
        set("aws_region", config.region.clone());
        set("aws_access_key_id", config.access_key_id.clone());
        set("aws_secret_access_key", config.secret_access_key.clone());
        set("aws_session_token", config.session_token.clone());
        set("aws_virtual_hosted_style_request", config.path_style.map(|p| (!p).to_string()));
        set("allow_http", config.allow_http.map(|b| b.to_string()));
        set("timeout", config.request_timeout_ms.map(|ms| format!("{ms}ms")));
        set("connect_timeout", config.connect_timeout_ms.map(|ms| format!("{ms}ms")));
        options.extend(config.options.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
        Self { options, retry: config.retry.to_object_store(), stores: RwLock::default() }
    }

    /// The store holding `location` and the object's path inside it
    /// (`/tmp/wh/data/f.parquet` is `tmp/wh/data/f.parquet` in the local store).
    pub fn resolve(&self, location: &str) -> Result<(Arc<dyn ObjectStore>, Path)> {
        let url = to_url(location)?;
        let key = format!("{}://{}", url.scheme(), url.authority());
        let path = object_path(location, &url)?;
        if let Some(existing) = self.stores.read().expect("store map poisoned").get(&key) {
            return Ok((existing.clone(), path));
        }
        // Building a client is costly (HTTP pools, credentials): once per bucket.
        let store = build_store(&url, &self.options, &self.retry)
            .map_err(|e| CacheError::unavailable(format!("cannot set up the object store for `{key}`"), e))?;
        let mut stores = self.stores.write().expect("store map poisoned");
        Ok((stores.entry(key).or_insert(store).clone(), path))
    }
}

/// A store for `url`'s scheme and bucket: the environment (`AWS_*`, `GOOGLE_*`, `AZURE_*`,
/// read by object_store itself), then every option its builder knows (the list mixes AWS,
/// Google and Azure keys; each builder skips the others'), and `retry`.
fn build_store(
    url: &Url,
    options: &[(String, String)],
    retry: &RetryConfig,
) -> object_store::Result<Arc<dyn ObjectStore>> {
    fn configure<B, K: FromStr>(builder: B, options: &[(String, String)], set: impl Fn(B, K, &str) -> B) -> B {
        options.iter().fold(builder, |b, (k, v)| match k.parse::<K>() {
            Ok(key) => set(b, key, v),
            Err(_) => b,
        })
    }
    let (scheme, _) = ObjectStoreScheme::parse(url).map_err(object_store::Error::from)?;
    Ok(match scheme {
        ObjectStoreScheme::Local => Arc::new(LocalFileSystem::new()),
        ObjectStoreScheme::AmazonS3 => {
            let b =
                configure(AmazonS3Builder::from_env().with_url(url.as_str()), options, |b, k, v| b.with_config(k, v));
            Arc::new(b.with_retry(retry.clone()).build()?)
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            let b = configure(GoogleCloudStorageBuilder::from_env().with_url(url.as_str()), options, |b, k, v| {
                b.with_config(k, v)
            });
            Arc::new(b.with_retry(retry.clone()).build()?)
        }
        ObjectStoreScheme::MicrosoftAzure => {
            let b = configure(MicrosoftAzureBuilder::from_env().with_url(url.as_str()), options, |b, k, v| {
                b.with_config(k, v)
            });
            Arc::new(b.with_retry(retry.clone()).build()?)
        }
        other => {
            return Err(object_store::Error::NotSupported {
                source: format!(
                    "no object store for {other:?} locations (`{url}`): use s3://, gs://, abfs(s):// or file://"
                )
                .into(),
            });
        }
    })
}

/// The object's path inside its store.
///
/// Iceberg writers put paths into metadata verbatim: a `%` is part of the file
/// name or object key, not the start of an escape (pyiceberg writes partition
/// directories like `region=%C3%A9`), so nothing is percent-decoded.
fn object_path(location: &str, url: &Url) -> Result<Path> {
    let bad = |e: object_store::path::Error| CacheError::invalid(format!("`{location}` is not a valid path: {e}"));
    match url.scheme() {
        "file" => {
            let raw = location.trim_start_matches("file:").trim_start_matches("//");
            let raw = if raw.starts_with('/') { raw.to_string() } else { format!("/{raw}") };
            Path::from_absolute_path(&raw).map_err(bad)
        }
        "s3" | "s3a" | "gs" | "abfs" | "abfss" | "az" | "adl" | "azure" => {
            // `scheme://bucket/key`: object_store paths are keys as written.
            let rest = location.split_once("://").map(|(_, r)| r).unwrap_or_default();
            Path::parse(rest.split_once('/').map(|(_, k)| k).unwrap_or_default()).map_err(bad)
        }
        _ => Path::from_url_path(url.path()).map_err(bad),
    }
}

/// Iceberg locations are URLs or bare absolute paths; `object_store` wants URLs.
fn to_url(location: &str) -> Result<Url> {
    if location.starts_with('/') {
        return Url::from_file_path(location)
            .map_err(|_| CacheError::invalid(format!("`{location}` is not a valid file path")));
    }
    let url =
        Url::parse(location).map_err(|e| CacheError::invalid(format!("`{location}` is not a valid location: {e}")))?;
    // Hadoop's spellings of S3 and local paths, common in Spark-written metadata.
    match url.scheme() {
        "s3n" => Url::parse(&location.replacen("s3n://", "s3://", 1)),
        "file" if url.host_str().is_some_and(|h| !h.is_empty()) => {
            Url::parse(&location.replacen("file://", "file:///", 1))
        }
        _ => Ok(url),
    }
    .map_err(|e| CacheError::invalid(format!("`{location}`: {e}")))
}

fn io_error<E: std::error::Error + Send + Sync + 'static>(path: &str, err: E) -> iceberg::Error {
    // object_store's message says what the server answered; say what to do about it.
    let hint = match (&err as &dyn std::error::Error).downcast_ref::<object_store::Error>() {
        Some(object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }) => {
            "the store refused the credentials (check storage.object_store and the AWS_*, GOOGLE_*, AZURE_* variables): "
        }
        _ => "",
    };
    // The source is kept so CacheError::from_iceberg can tell refused credentials apart.
    iceberg::Error::new(iceberg::ErrorKind::Unexpected, format!("I/O on `{path}` failed: {hint}{}", with_causes(&err)))
        .with_source(err)
}

fn resolve_for_iceberg(stores: &ObjectStores, path: &str) -> iceberg::Result<(Arc<dyn ObjectStore>, Path)> {
    stores.resolve(path).map_err(|e| {
        // A bad location is bad data; a store that cannot be set up (say, a missing key file)
        // is unavailable.
        let kind = match e {
            CacheError::Unavailable { .. } => iceberg::ErrorKind::Unexpected,
            _ => iceberg::ErrorKind::DataInvalid,
        };
        iceberg::Error::new(kind, e.to_string())
    })
}

/// iceberg-rust's `Storage` on top of [`ObjectStores`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ObjectStoreStorage {
    // Built from config at start-up; a deserialized copy (another process) falls back to the environment.
    #[serde(skip)]
    stores: Arc<ObjectStores>,
}

impl ObjectStoreStorage {
    pub(crate) fn new(stores: Arc<ObjectStores>) -> Self {
        Self { stores }
    }
}

#[async_trait]
#[typetag::serde]
impl Storage for ObjectStoreStorage {
    async fn exists(&self, path: &str) -> iceberg::Result<bool> {
        let (store, p) = resolve_for_iceberg(&self.stores, path)?;
        match store.head(&p).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io_error(path, e)),
        }
    }

    async fn metadata(&self, path: &str) -> iceberg::Result<FileMetadata> {
        let (store, p) = resolve_for_iceberg(&self.stores, path)?;
        let meta = store.head(&p).await.map_err(|e| io_error(path, e))?;
        Ok(FileMetadata { size: meta.size })
    }

    async fn read(&self, path: &str) -> iceberg::Result<Bytes> {
        let (store, p) = resolve_for_iceberg(&self.stores, path)?;
        let result = store.get(&p).await.map_err(|e| io_error(path, e))?;
        result.bytes().await.map_err(|e| io_error(path, e))
    }

    async fn reader(&self, path: &str) -> iceberg::Result<Box<dyn FileRead>> {
        let (store, p) = resolve_for_iceberg(&self.stores, path)?;
        Ok(Box::new(ObjectRead { store, path: p }))
    }

    async fn write(&self, path: &str, bs: Bytes) -> iceberg::Result<()> {
        let (store, p) = resolve_for_iceberg(&self.stores, path)?;
        store.put(&p, bs.into()).await.map_err(|e| io_error(path, e))?;
        Ok(())
    }

    async fn writer(&self, path: &str) -> iceberg::Result<Box<dyn FileWrite>> {
        let (store, p) = resolve_for_iceberg(&self.stores, path)?;
        Ok(Box::new(ObjectWrite { writer: BufWriter::new(store, p), path: path.to_string() }))
    }

    async fn delete(&self, path: &str) -> iceberg::Result<()> {
        let (store, p) = resolve_for_iceberg(&self.stores, path)?;
        match store.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(path, e)),
        }
    }

    async fn delete_prefix(&self, path: &str) -> iceberg::Result<()> {
        let (store, p) = resolve_for_iceberg(&self.stores, path)?;
        let mut listing = store.list(Some(&p));
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| io_error(path, e))?;
            store.delete(&meta.location).await.map_err(|e| io_error(path, e))?;
        }
        Ok(())
    }

    async fn delete_stream(&self, mut paths: BoxStream<'static, String>) -> iceberg::Result<()> {
        while let Some(path) = paths.next().await {
            self.delete(&path).await?;
        }
        Ok(())
    }

    fn new_input(&self, path: &str) -> iceberg::Result<InputFile> {
        Ok(InputFile::new(Arc::new(self.clone()), path.to_string()))
    }

    fn new_output(&self, path: &str) -> iceberg::Result<OutputFile> {
        Ok(OutputFile::new(Arc::new(self.clone()), path.to_string()))
    }
}

struct ObjectRead {
    store: Arc<dyn ObjectStore>,
    path: Path,
}

#[async_trait]
impl FileRead for ObjectRead {
    async fn read(&self, range: Range<u64>) -> iceberg::Result<Bytes> {
        self.store.get_range(&self.path, range).await.map_err(|e| io_error(self.path.as_ref(), e))
    }
}

struct ObjectWrite {
    writer: BufWriter,
    path: String,
}

#[async_trait]
impl FileWrite for ObjectWrite {
    async fn write(&mut self, bs: Bytes) -> iceberg::Result<()> {
        self.writer.write_all(&bs).await.map_err(|e| io_error(&self.path, e))
    }

    async fn close(&mut self) -> iceberg::Result<()> {
        self.writer.shutdown().await.map_err(|e| io_error(&self.path, e))
    }
}

/// Hands catalogs an [`ObjectStoreStorage`] over the node's stores.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ObjectStoreStorageFactory {
    #[serde(skip)]
    stores: Arc<ObjectStores>,
}

impl ObjectStoreStorageFactory {
    pub(crate) fn new(stores: Arc<ObjectStores>) -> Self {
        Self { stores }
    }
}

#[typetag::serde]
impl StorageFactory for ObjectStoreStorageFactory {
    fn build(&self, _config: &StorageConfig) -> iceberg::Result<Arc<dyn Storage>> {
        Ok(Arc::new(ObjectStoreStorage::new(self.stores.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_resolve() {
        let stores = ObjectStores::default();
        let (_store, path) = stores.resolve("/tmp/wh/data/f.parquet").unwrap();
        assert_eq!(path.as_ref(), "tmp/wh/data/f.parquet");
    }
}
