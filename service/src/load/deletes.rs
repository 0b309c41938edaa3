//! Iceberg delete files: positional (`file_path`, `pos`) and equality deletes.
//!
//! A delete file is decoded once and cached in the index pool. Which delete
//! files apply to which data file (by partition and sequence number) is decided
//! by Iceberg planning; this module only says which rows they remove.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use arrow::row::{RowConverter, SortField};
use futures::TryStreamExt;
use parquet::arrow::ProjectionMask;
use parquet::arrow::async_reader::{ParquetObjectReader, ParquetRecordBatchStreamBuilder};

use super::footer::Footer;
use crate::error::{CacheError, Result};

/// Reserved Iceberg field ids of a positional delete file's columns.
const FILE_PATH_FIELD_ID: i32 = 2147483546;
const POS_FIELD_ID: i32 = 2147483545;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteKind {
    Position,
    /// The field ids whose values identify deleted rows.
    Equality(Vec<i32>),
}

/// One decoded delete file.
pub enum DeleteSet {
    Positional(PositionalDeletes),
    Equality(EqualityDeletes),
}

/// Deleted row positions per data file, sorted.
pub struct PositionalDeletes {
    by_file: HashMap<String, Vec<u64>>,
}

/// Deleted keys, row-encoded for these data types.
type EncodedKeys = (Vec<DataType>, Arc<HashSet<Box<[u8]>>>);

/// Deleted key tuples, in the types of the delete file.
pub struct EqualityDeletes {
    pub field_ids: Vec<i32>,
    keys: Vec<ArrayRef>,
    /// Row-encoded keys for the data types last asked for; rebuilt if a type
    /// promotion changes them.
    encoded: Mutex<Option<EncodedKeys>>,
    bytes: u64,
}

impl DeleteSet {
    pub async fn load(reader: ParquetObjectReader, footer: Arc<Footer>, kind: DeleteKind) -> Result<Self> {
        let corrupt = |m: String| CacheError::CorruptFile { path: footer.path.to_string(), message: m };
        let ids: Vec<i32> = match &kind {
            DeleteKind::Position => vec![FILE_PATH_FIELD_ID, POS_FIELD_ID],
            DeleteKind::Equality(ids) => ids.clone(),
        };
        let names = ["file_path", "pos"];
        let roots = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                footer
                    .root_of(*id, names.get(i).copied().unwrap_or_default())
                    .ok_or_else(|| corrupt(format!("delete file has no column with field id {id}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let mask = ProjectionMask::roots(footer.metadata.file_metadata().schema_descr(), roots.iter().copied());
        let batches: Vec<RecordBatch> =
            ParquetRecordBatchStreamBuilder::new_with_metadata(reader, footer.reader_metadata())
                .with_projection(mask)
                .build()
                .map_err(|e| corrupt(e.to_string()))?
                .try_collect()
                .await
                .map_err(|e| corrupt(e.to_string()))?;
        // The projected batch keeps file order; put columns in `ids` order.
        let mut sorted_roots = roots.clone();
        sorted_roots.sort_unstable();
        let position = |root: usize| sorted_roots.iter().position(|r| *r == root).expect("projected");
        match kind {
            DeleteKind::Position => {
                let mut by_file: HashMap<String, Vec<u64>> = HashMap::new();
                for b in &batches {
                    let paths = cast(b.column(position(roots[0])), &DataType::Utf8)?;
                    let pos = cast(b.column(position(roots[1])), &DataType::Int64)?;
                    let (paths, pos) = (paths.as_string::<i32>(), pos.as_primitive::<Int64Type>());
                    for i in 0..b.num_rows() {
                        if paths.is_valid(i) && pos.is_valid(i) {
                            by_file.entry(paths.value(i).to_string()).or_default().push(pos.value(i) as u64);
                        }
                    }
                }
                by_file.values_mut().for_each(|v| v.sort_unstable());
                Ok(DeleteSet::Positional(PositionalDeletes { by_file }))
            }
            DeleteKind::Equality(field_ids) => {
                let keys = roots
                    .iter()
                    .map(|r| {
                        let cols: Vec<&dyn Array> = batches.iter().map(|b| b.column(position(*r)).as_ref()).collect();
                        if cols.is_empty() {
                            Ok(arrow::array::new_empty_array(&footer.file_type(*r)))
                        } else {
                            Ok(arrow::compute::concat(&cols)?)
                        }
                    })
                    .collect::<Result<Vec<ArrayRef>>>()?;
                let bytes = keys.iter().map(|k| k.get_array_memory_size() as u64).sum::<u64>() * 3;
                Ok(DeleteSet::Equality(EqualityDeletes { field_ids, keys, encoded: Mutex::new(None), bytes }))
            }
        }
    }

    pub fn weight(&self) -> u64 {
        match self {
            DeleteSet::Positional(p) => p.by_file.values().map(|v| v.len() as u64 * 8 + 64).sum::<u64>() + 64,
            DeleteSet::Equality(e) => e.bytes,
        }
    }
}

impl PositionalDeletes {
    /// Clears `keep[i]` for every deleted row in `[first_row, first_row + keep.len())` of `data_file`.
    pub fn apply(&self, data_file: &str, first_row: u64, keep: &mut [bool]) {
        let Some(positions) = self.by_file.get(data_file) else { return };
        let end = first_row + keep.len() as u64;
        let start = positions.partition_point(|p| *p < first_row);
        for p in positions[start..].iter().take_while(|p| **p < end) {
            keep[(p - first_row) as usize] = false;
        }
    }
}

impl EqualityDeletes {
    /// Clears `keep[i]` for every row whose key columns equal a deleted key.
    /// `columns` are the data's columns for `self.field_ids`, in that order.
    pub fn apply(&self, columns: &[ArrayRef], keep: &mut [bool]) -> Result<()> {
        let types: Vec<DataType> = columns.iter().map(|c| c.data_type().clone()).collect();
        let converter = RowConverter::new(types.iter().map(|t| SortField::new(t.clone())).collect())?;
        let deleted = {
            let mut encoded = self.encoded.lock().unwrap_or_else(|p| p.into_inner());
            match encoded.as_ref() {
                Some((t, set)) if *t == types => set.clone(),
                _ => {
                    let keys =
                        self.keys.iter().zip(&types).map(|(k, t)| Ok(cast(k, t)?)).collect::<Result<Vec<_>>>()?;
                    let rows = converter.convert_columns(&keys)?;
                    let set: Arc<HashSet<Box<[u8]>>> = Arc::new(rows.iter().map(|r| r.as_ref().into()).collect());
                    *encoded = Some((types.clone(), set.clone()));
                    set
                }
            }
        };
        if deleted.is_empty() {
            return Ok(());
        }
        let rows = converter.convert_columns(columns)?;
        for (i, row) in rows.iter().enumerate() {
            if keep[i] && deleted.contains(row.as_ref()) {
                keep[i] = false;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{Int32Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use object_store::ObjectStore;
    use object_store::local::LocalFileSystem;
    use object_store::path::Path;
    use parquet::arrow::ArrowWriter;

    use super::*;
    use crate::load::footer::FIELD_ID_KEY;

    fn field(name: &str, ty: DataType, id: i32) -> Field {
        Field::new(name, ty, true).with_metadata(HashMap::from([(FIELD_ID_KEY.to_string(), id.to_string())]))
    }

    /// Writes `batch` as Parquet and decodes it as a delete file of `kind`.
    async fn delete_set(dir: &std::path::Path, batch: RecordBatch, kind: DeleteKind) -> DeleteSet {
        let file = dir.join("deletes.parquet");
        let mut writer = ArrowWriter::try_new(std::fs::File::create(&file).unwrap(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new());
        let path = Path::from_absolute_path(&file).unwrap();
        let mut reader = ParquetObjectReader::new(store.clone(), path.clone());
        let footer = Arc::new(Footer::load(&mut reader, file.display().to_string().into()).await.unwrap());
        DeleteSet::load(ParquetObjectReader::new(store, path), footer, kind).await.unwrap()
    }

    #[tokio::test]
    async fn positional_deletes_clear_their_rows_only() {
        let dir = tempdir();
        let schema = Arc::new(Schema::new(vec![
            field("file_path", DataType::Utf8, FILE_PATH_FIELD_ID),
            field("pos", DataType::Int64, POS_FIELD_ID),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![
                    "s3://b/a.parquet",
                    "s3://b/a.parquet",
                    "s3://b/other.parquet",
                    "s3://b/a.parquet",
                ])),
                Arc::new(Int64Array::from(vec![1, 12, 2, 10])),
            ],
        )
        .unwrap();
        let DeleteSet::Positional(p) = delete_set(&dir, batch, DeleteKind::Position).await else {
            panic!("positional")
        };
        // Rows 10..15 of a.parquet (a second row group starting at row 10).
        let mut keep = vec![true; 5];
        p.apply("s3://b/a.parquet", 10, &mut keep);
        assert_eq!(keep, [false, true, false, true, true]);
        let mut keep = vec![true; 3];
        p.apply("s3://b/a.parquet", 0, &mut keep);
        assert_eq!(keep, [true, false, true]);
        let mut keep = vec![true; 3];
        p.apply("s3://b/unrelated.parquet", 0, &mut keep);
        assert_eq!(keep, [true; 3]);
    }

    #[tokio::test]
    async fn equality_deletes_match_keys_including_null_and_promoted_types() {
        let dir = tempdir();
        let schema = Arc::new(Schema::new(vec![field("id", DataType::Int32, 1), field("name", DataType::Utf8, 2)]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![Some(1), Some(3), None])),
                Arc::new(StringArray::from(vec![Some("a"), Some("c"), Some("z")])),
            ],
        )
        .unwrap();
        let DeleteSet::Equality(eq) = delete_set(&dir, batch, DeleteKind::Equality(vec![1, 2])).await else {
            panic!("equality")
        };
        // The data's `id` was promoted to long since the delete file was written.
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(1), Some(3), None, None]));
        let names: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("b"), Some("c"), Some("z"), Some("a")]));
        let mut keep = vec![true; 5];
        eq.apply(&[ids, names], &mut keep).unwrap();
        assert_eq!(keep, [false, true, false, false, true]);
    }

    fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("arrow-cache-deletes-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
