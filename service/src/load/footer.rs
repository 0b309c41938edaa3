//! A data file's Parquet footer and what the loader derives from it once.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::ParquetObjectReader;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData};

use crate::error::{CacheError, Result};

/// The metadata key under which Parquet (and Iceberg's Arrow schemas) keep field ids.
pub(crate) const FIELD_ID_KEY: &str = "PARQUET:field_id";

/// An Arrow field's Iceberg field id.
pub(crate) fn field_id_of(field: &Field) -> Option<i32> {
    field.metadata().get(FIELD_ID_KEY)?.parse().ok()
}

/// A decoded footer plus the field-id index and row offsets of its row groups.
#[derive(Debug)]
pub struct Footer {
    pub path: Arc<str>,
    pub metadata: Arc<ParquetMetaData>,
    reader_metadata: ArrowReaderMetadata,
    roots_by_field_id: HashMap<i32, usize>,
    /// Only used for files written without field ids (imported files).
    roots_by_name: HashMap<String, usize>,
    /// The file-wide index of each row group's first row, for positional deletes.
    row_offsets: Vec<u64>,
}

impl Footer {
    pub async fn load(reader: &mut ParquetObjectReader, path: Arc<str>) -> Result<Self> {
        // Iceberg types come from the table schema; the writer's Arrow hints
        // (large strings, dictionary types) would only cost casts. The page
        // index, where the writer wrote one, lets reads skip pages.
        let options =
            ArrowReaderOptions::new().with_skip_arrow_metadata(true).with_page_index_policy(PageIndexPolicy::Optional);
        let reader_metadata = ArrowReaderMetadata::load_async(reader, options).await.map_err(|e| match e {
            parquet::errors::ParquetError::External(inner) => {
                CacheError::from_store(format!("reading `{path}`"), inner)
            }
            other => CacheError::CorruptFile { path: path.to_string(), message: other.to_string() },
        })?;
        let schema = reader_metadata.schema();
        let roots_by_field_id =
            schema.fields().iter().enumerate().filter_map(|(i, f)| Some((field_id_of(f)?, i))).collect();
        let roots_by_name = schema.fields().iter().enumerate().map(|(i, f)| (f.name().clone(), i)).collect();
        let metadata = reader_metadata.metadata().clone();
        let row_offsets = metadata
            .row_groups()
            .iter()
            .scan(0u64, |offset, rg| {
                let start = *offset;
                *offset += rg.num_rows() as u64;
                Some(start)
            })
            .collect();
        Ok(Self { path, metadata, reader_metadata, roots_by_field_id, roots_by_name, row_offsets })
    }

    pub fn reader_metadata(&self) -> ArrowReaderMetadata {
        self.reader_metadata.clone()
    }

    pub fn arrow_schema(&self) -> &SchemaRef {
        self.reader_metadata.schema()
    }

    pub fn num_row_groups(&self) -> usize {
        self.metadata.num_row_groups()
    }

    pub fn row_group_rows(&self, row_group: usize) -> usize {
        self.metadata.row_group(row_group).num_rows() as usize
    }

    pub fn row_group_bytes(&self, row_group: usize) -> u64 {
        self.metadata.row_group(row_group).compressed_size() as u64
    }

    pub fn row_group_offset(&self, row_group: usize) -> u64 {
        self.row_offsets[row_group]
    }

    /// The file's top-level column holding Iceberg field `field_id`.
    /// Files without any field ids are matched by name.
    pub fn root_of(&self, field_id: i32, name: &str) -> Option<usize> {
        if self.roots_by_field_id.is_empty() {
            return self.roots_by_name.get(name).copied();
        }
        self.roots_by_field_id.get(&field_id).copied()
    }

    /// The Arrow type the file stores root column `root` as.
    pub fn file_type(&self, root: usize) -> DataType {
        self.arrow_schema().field(root).data_type().clone()
    }

    pub fn weight(&self) -> u64 {
        (self.metadata.memory_size() + self.arrow_schema().fields().len() * 128) as u64
    }
}
