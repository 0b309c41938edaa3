//! Loading: Parquet data files into cached Arrow columns.
//!
//! The unit of caching is one column of one row group of one data file, keyed
//! by `(file path, row group, Iceberg field id)`. Data files are immutable, so
//! such an entry is right for every snapshot that references the file: a new
//! snapshot only changes which files a query reads. Columns are found by field
//! id (renamed columns keep their id), cast to the table's current type (type
//! promotion) and filled with nulls when a file predates the column.
//!
//! Footers (Parquet metadata) and delete files are cached in the index pool.

mod deletes;
mod footer;

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, new_null_array};
use arrow::compute::{cast, concat};
use arrow::datatypes::FieldRef;
use futures::TryStreamExt;
use parquet::arrow::ProjectionMask;
use parquet::arrow::async_reader::{ParquetObjectReader, ParquetRecordBatchStreamBuilder};

pub(crate) use deletes::DeleteSet;
#[cfg(test)]
pub(crate) use footer::FIELD_ID_KEY;
pub(crate) use footer::{Footer, field_id_of};

use crate::cache::{Cache, Owner, Weigh};
use crate::config::{Config, EvictionPolicy};
use crate::error::{CacheError, Result};
use crate::storage::ObjectStores;

/// What a cached column entry is: `(file, row group, field id)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnKey {
    pub file: Arc<str>,
    pub row_group: usize,
    pub field_id: i32,
}

/// One decoded column chunk.
#[derive(Debug, Clone)]
pub struct Column(pub ArrayRef);

impl Weigh for Column {
    fn weight(&self) -> u64 {
        // Buffers only once each, even when an array shares them (e.g. slices).
        self.0.get_array_memory_size() as u64
    }
}

/// Entries of the index pool.
#[derive(Clone)]
pub enum IndexEntry {
    Footer(Arc<Footer>),
    Deletes(Arc<DeleteSet>),
}

impl Weigh for IndexEntry {
    fn weight(&self) -> u64 {
        match self {
            IndexEntry::Footer(f) => f.weight(),
            IndexEntry::Deletes(d) => d.weight(),
        }
    }
}

/// A data or delete file as a planner names it.
#[derive(Debug, Clone)]
pub struct FileRef<'a> {
    pub path: &'a str,
    pub size: u64,
}

impl<'a> From<&'a arrow_cache_protocol::scan::FilePart> for FileRef<'a> {
    fn from(part: &'a arrow_cache_protocol::scan::FilePart) -> Self {
        FileRef { path: &part.path, size: part.file_size }
    }
}

/// Reads Parquet through the node's object stores and caches what it decodes.
pub struct Loader {
    stores: Arc<ObjectStores>,
    pub columns: Cache<ColumnKey, Column>,
    pub index: Cache<Arc<str>, IndexEntry>,
}

impl Loader {
    pub fn new(config: &Config, stores: Arc<ObjectStores>) -> Self {
        let policy = config.caching.eviction_policy;
        Self {
            stores,
            columns: Cache::new("column", config.memory.arrow_pool_bytes(), policy),
            index: Cache::new("index", config.memory.index_pool_bytes(), EvictionPolicy::Lru),
        }
    }

    fn reader(&self, file: &FileRef<'_>) -> Result<ParquetObjectReader> {
        reader(&self.stores, file.path, file.size)
    }

    /// Drops what is cached of `table`'s data and delete files that are not in `referenced`
    /// (the files of its current snapshot); returns the bytes freed. Files a rewrite, an
    /// overwrite or a delete left behind then stop holding memory at once, rather than when
    /// eviction reaches them; a time-travel read that still needs them loads them again.
    pub fn drop_unreferenced(&self, table: &str, referenced: &HashSet<&str>) -> u64 {
        let unreferenced = |path: &str, owner: &Owner| *owner.table == *table && !referenced.contains(path);
        self.columns.remove_where(|k, o| unreferenced(&k.file, o))
            + self.index.remove_where(|k, o| unreferenced(indexed_file(k), o))
    }

    /// The file's Parquet footer, decoded once and cached in the index pool.
    pub async fn footer(&self, file: &FileRef<'_>, owner: &Owner) -> Result<Arc<Footer>> {
        let path: Arc<str> = file.path.into();
        let key: Arc<str> = format!("footer:{path}").into();
        let (stores, size) = (self.stores.clone(), file.size);
        let entry = self
            .index
            .get_or_load(key, owner, move || async move {
                let mut reader = reader(&stores, &path, size)?;
                Ok(IndexEntry::Footer(Arc::new(Footer::load(&mut reader, path).await?)))
            })
            .await?;
        match entry {
            IndexEntry::Footer(f) => Ok(f),
            IndexEntry::Deletes(_) => Err(CacheError::internal("index entry kind mismatch (footer)")),
        }
    }

    /// One column of one row group, in the table's type for `field`.
    pub async fn column(
        &self,
        file: &FileRef<'_>,
        footer: &Arc<Footer>,
        row_group: usize,
        field: &FieldRef,
        owner: &Owner,
    ) -> Result<ArrayRef> {
        let field_id = field_id_of(field)
            .ok_or_else(|| CacheError::internal(format!("table column `{}` has no field id", field.name())))?;
        let rows = footer.row_group_rows(row_group);
        let Some(root) = footer.root_of(field_id, field.name()) else {
            // The file was written before the column existed.
            return Ok(new_null_array(field.data_type(), rows));
        };
        let key = ColumnKey { file: file.path.into(), row_group, field_id };
        // Only a miss opens a reader.
        let (stores, path, size) = (self.stores.clone(), key.file.clone(), file.size);
        let footer = footer.clone();
        let target = field.clone();
        let column = self
            .columns
            .get_or_load(key, owner, move || async move {
                let reader = reader(&stores, &path, size)?;
                let array = read_column(reader, &footer, row_group, root).await?;
                Ok(Column(conform(array, &target, &footer.path)?))
            })
            .await?;
        // A cached column may predate a type promotion (int -> long, float -> double).
        conform(column.0, field, file.path)
    }

    /// The delete file's rows, decoded once and cached in the index pool.
    pub async fn deletes(
        &self,
        file: &FileRef<'_>,
        kind: deletes::DeleteKind,
        owner: &Owner,
    ) -> Result<Arc<DeleteSet>> {
        let key: Arc<str> = format!("deletes:{}", file.path).into();
        let footer = self.footer(file, owner).await?;
        let reader = self.reader(file)?;
        let entry = self
            .index
            .get_or_load(key, owner, move || async move {
                Ok(IndexEntry::Deletes(Arc::new(DeleteSet::load(reader, footer, kind).await?)))
            })
            .await?;
        match entry {
            IndexEntry::Deletes(d) => Ok(d),
            IndexEntry::Footer(_) => Err(CacheError::internal("index entry kind mismatch (deletes)")),
        }
    }
}

fn reader(stores: &ObjectStores, path: &str, size: u64) -> Result<ParquetObjectReader> {
    let (store, path) = stores.resolve(path)?;
    let reader = ParquetObjectReader::new(store, path);
    Ok(if size > 0 { reader.with_file_size(size) } else { reader })
}

/// Decodes one root column of one row group into a single array.
async fn read_column(reader: ParquetObjectReader, footer: &Footer, row_group: usize, root: usize) -> Result<ArrayRef> {
    let corrupt = |e: parquet::errors::ParquetError| CacheError::CorruptFile {
        path: footer.path.to_string(),
        message: e.to_string(),
    };
    let mask = ProjectionMask::roots(footer.metadata.file_metadata().schema_descr(), [root]);
    let rows = footer.row_group_rows(row_group);
    let stream = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, footer.reader_metadata())
        .with_projection(mask)
        .with_row_groups(vec![row_group])
        .with_batch_size(rows.clamp(1, 1 << 20))
        .build()
        .map_err(corrupt)?;
    let batches: Vec<_> = stream.try_collect().await.map_err(|e| match e {
        parquet::errors::ParquetError::External(inner) => {
            CacheError::from_store(format!("reading `{}`", footer.path), inner)
        }
        other => corrupt(other),
    })?;
    let array = match batches.as_slice() {
        [] => new_null_array(&footer.file_type(root), 0),
        [one] => one.column(0).clone(),
        many => concat(&many.iter().map(|b| b.column(0).as_ref()).collect::<Vec<&dyn Array>>())?,
    };
    if array.len() != rows {
        return Err(CacheError::CorruptFile {
            path: footer.path.to_string(),
            message: format!("row group {row_group} has {} rows, the footer says {rows}", array.len()),
        });
    }
    Ok(array)
}

/// Casts a file's column to the table's type, if they differ.
fn conform(array: ArrayRef, field: &FieldRef, path: &str) -> Result<ArrayRef> {
    if array.data_type() == field.data_type() {
        return Ok(array);
    }
    cast(&array, field.data_type()).map_err(|e| CacheError::CorruptFile {
        path: path.to_string(),
        message: format!(
            "column `{}` is {} in the file, cannot read it as {}: {e}",
            field.name(),
            array.data_type(),
            field.data_type()
        ),
    })
}

/// The kind of a delete file: equality when it names equality field ids.
pub(crate) fn deletes_kind(equality_ids: Option<Vec<i32>>) -> deletes::DeleteKind {
    match equality_ids {
        Some(ids) => deletes::DeleteKind::Equality(ids),
        None => deletes::DeleteKind::Position,
    }
}

/// The file an index-pool key is about: keys are `footer:<path>` and `deletes:<path>`.
fn indexed_file(key: &str) -> &str {
    key.split_once(':').map_or(key, |(_, path)| path)
}
