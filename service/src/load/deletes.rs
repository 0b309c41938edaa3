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

/// Deleted key tuples, in the types of the delete file.
pub struct EqualityDeletes {
    pub field_ids: Vec<i32>,
    keys: Vec<ArrayRef>,
    /// Row-encoded keys for the data types last asked for; rebuilt if a type
    /// promotion changes them.
    encoded: Mutex<Option<(Vec<DataType>, Arc<HashSet<Box<[u8]>>>)>>,
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
        let batches: Vec<RecordBatch> = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, footer.reader_metadata())
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
                    let keys = self.keys.iter().zip(&types).map(|(k, t)| Ok(cast(k, t)?)).collect::<Result<Vec<_>>>()?;
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
