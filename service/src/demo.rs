//! `arrow-cache demo`: a local warehouse with a SQLite catalog and a sample
//! partitioned table `demo.sales_data`, written with iceberg-rust's own writers.
//!
//! The table has 1,000,000 orders from 2023-07-01 to 2024-06-30, partitioned by
//! `month(date)` (twelve partitions, one Parquet file each). The data is
//! deterministic, so every demo shows the same numbers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use chrono::{Datelike, NaiveDate};
use iceberg::spec::{
    DataFileFormat, Literal, NestedField, PartitionKey, PrimitiveType, Schema, Struct, Transform, Type,
    UnboundPartitionSpec,
};
use iceberg::transaction::{ApplyTransactionAction, Transaction};
use iceberg::writer::base_writer::data_file_writer::DataFileWriterBuilder;
use iceberg::writer::file_writer::ParquetWriterBuilder;
use iceberg::writer::file_writer::location_generator::{DefaultFileNameGenerator, DefaultLocationGenerator};
use iceberg::writer::file_writer::rolling_writer::RollingFileWriterBuilder;
use iceberg::writer::{IcebergWriter, IcebergWriterBuilder};
use iceberg::{Catalog, CatalogBuilder, NamespaceIdent, TableCreation, TableIdent};
use iceberg_catalog_sql::SqlCatalogBuilder;
use parquet::file::properties::WriterProperties;

use crate::config::{CatalogType, Config};
use crate::error::{CacheError, Result};
use crate::storage::{ObjectStoreStorageFactory, ObjectStores};

pub const DEMO_ROWS: usize = 1_000_000;
const REGIONS: [&str; 5] = ["EU", "NA", "APAC", "LATAM", "MEA"];
const PRODUCTS: [&str; 8] = ["laptop", "phone", "tablet", "monitor", "keyboard", "mouse", "headset", "camera"];

/// The demo's directory: `$ARROW_CACHE_DEMO_DIR`, or `./arrow-cache-demo`.
pub fn demo_dir() -> PathBuf {
    std::env::var_os("ARROW_CACHE_DEMO_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("arrow-cache-demo"))
}

/// Creates (once) the demo warehouse in `dir` and returns a node config serving it.
pub async fn prepare(dir: &Path) -> Result<Config> {
    std::fs::create_dir_all(dir.join("warehouse"))
        .map_err(|e| CacheError::config("ARROW_CACHE_DEMO_DIR", format!("cannot create {}: {e}", dir.display())))?;
    let dir = dir.canonicalize().map_err(|e| CacheError::internal(e.to_string()))?;
    let db = dir.join("catalog.db");
    if !db.exists() {
        std::fs::File::create(&db).map_err(|e| CacheError::internal(format!("cannot create {}: {e}", db.display())))?;
    }
    let warehouse = format!("file://{}", dir.join("warehouse").display());
    let mut config = Config::default();
    config.storage.iceberg.catalog_type = CatalogType::Sql;
    config.storage.iceberg.catalog_uri = Some(format!("sqlite:///{}", db.display()));
    config.storage.iceberg.warehouse = Some(warehouse.clone());
    config.networking.bind_address = "127.0.0.1".into();
    config.memory.total_memory = crate::config::ByteSize(2 << 30);

    let stores = Arc::new(ObjectStores::new(&config.storage.object_store));
    let props = HashMap::from([
        ("uri".to_string(), format!("sqlite://{}", db.display())),
        ("warehouse".to_string(), warehouse),
    ]);
    let catalog = SqlCatalogBuilder::default()
        .with_storage_factory(Arc::new(ObjectStoreStorageFactory::new(stores)))
        .load("default", props)
        .await
        .map_err(|e| CacheError::from_iceberg("demo catalog", e))?;
    let ident = TableIdent::new(NamespaceIdent::new("demo".into()), "sales_data".into());
    let exists = catalog.table_exists(&ident).await.map_err(|e| CacheError::from_iceberg("demo catalog", e))?;
    if !exists {
        write_sales_data(&catalog, &ident).await.map_err(|e| CacheError::from_iceberg("writing demo.sales_data", e))?;
    }
    Ok(config)
}

fn schema() -> iceberg::Result<Schema> {
    let field = |id, name: &str, ty| Arc::new(NestedField::optional(id, name, Type::Primitive(ty)));
    Schema::builder()
        .with_fields(vec![
            Arc::new(NestedField::required(1, "order_id", Type::Primitive(PrimitiveType::Long))),
            field(2, "date", PrimitiveType::Date),
            field(3, "region", PrimitiveType::String),
            field(4, "product", PrimitiveType::String),
            field(5, "quantity", PrimitiveType::Int),
            field(6, "unit_price", PrimitiveType::Decimal { precision: 10, scale: 2 }),
            field(7, "amount", PrimitiveType::Double),
            field(8, "customer_id", PrimitiveType::Long),
        ])
        .build()
}

async fn write_sales_data(catalog: &dyn Catalog, ident: &TableIdent) -> iceberg::Result<()> {
    let ns = ident.namespace();
    if !catalog.namespace_exists(ns).await? {
        catalog.create_namespace(ns, HashMap::new()).await?;
    }
    let spec = UnboundPartitionSpec::builder().add_partition_field(2, "date_month", Transform::Month)?.build();
    let creation =
        TableCreation::builder().name(ident.name().to_string()).schema(schema()?).partition_spec(spec).build();
    let table = catalog.create_table(ns, creation).await?;
    let metadata = table.metadata();
    let iceberg_schema = metadata.current_schema().clone();
    let arrow_schema = Arc::new(iceberg::arrow::schema_to_arrow_schema(&iceberg_schema)?);

    let mut data_files = Vec::new();
    let start = NaiveDate::from_ymd_opt(2023, 7, 1).expect("valid date");
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let days = 366usize;
    let mut order_id = 0i64;
    let mut rng = Lcg(42);
    for month in 0..12 {
        let first = start.checked_add_months(chrono::Months::new(month)).expect("in range");
        let next = first.checked_add_months(chrono::Months::new(1)).expect("in range");
        let month_days = (next - first).num_days() as usize;
        let rows = if month == 11 { DEMO_ROWS - order_id as usize } else { DEMO_ROWS * month_days / days };
        let mut cols = SalesColumns::default();
        for i in 0..rows {
            let date = first + chrono::Days::new((i * month_days / rows) as u64);
            let quantity = 1 + (rng.next() % 10) as i32;
            let cents = 500 + (rng.next() % 200_000) as i128;
            cols.order_id.push(order_id);
            cols.date.push((date - epoch).num_days() as i32);
            cols.region.push(REGIONS[(rng.next() % REGIONS.len() as u64) as usize]);
            cols.product.push(PRODUCTS[(rng.next() % PRODUCTS.len() as u64) as usize]);
            cols.quantity.push(quantity);
            cols.unit_price.push(cents);
            cols.amount.push(quantity as f64 * cents as f64 / 100.0);
            cols.customer_id.push((rng.next() % 50_000) as i64);
            order_id += 1;
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(cols.order_id)),
            Arc::new(Date32Array::from(cols.date)),
            Arc::new(StringArray::from(cols.region)),
            Arc::new(StringArray::from(cols.product)),
            Arc::new(Int32Array::from(cols.quantity)),
            Arc::new(Decimal128Array::from(cols.unit_price).with_precision_and_scale(10, 2).map_err(arrow_err)?),
            Arc::new(Float64Array::from(cols.amount)),
            Arc::new(Int64Array::from(cols.customer_id)),
        ];
        let batch = RecordBatch::try_new(arrow_schema.clone(), columns).map_err(arrow_err)?;
        let months_since_epoch = (first.year() - 1970) * 12 + first.month0() as i32;
        let key = PartitionKey::new(
            metadata.default_partition_spec().as_ref().clone(),
            iceberg_schema.clone(),
            Struct::from_iter([Some(Literal::int(months_since_epoch))]),
        );
        let parquet = ParquetWriterBuilder::new(
            WriterProperties::builder().set_max_row_group_row_count(Some(64 * 1024)).build(),
            iceberg_schema.clone(),
        );
        let rolling = RollingFileWriterBuilder::new_with_default_file_size(
            parquet,
            table.file_io().clone(),
            DefaultLocationGenerator::new(metadata)?,
            DefaultFileNameGenerator::new(format!("month-{month:02}"), None, DataFileFormat::Parquet),
        );
        let mut writer = DataFileWriterBuilder::new(rolling).build(Some(key)).await?;
        writer.write(batch).await?;
        data_files.extend(writer.close().await?);
    }
    let tx = Transaction::new(&table);
    let tx = tx.fast_append().add_data_files(data_files).apply(tx)?;
    tx.commit(catalog).await?;
    Ok(())
}

fn arrow_err(e: arrow::error::ArrowError) -> iceberg::Error {
    iceberg::Error::new(iceberg::ErrorKind::DataInvalid, e.to_string())
}

/// A tiny deterministic generator, so the demo needs no `rand` and never changes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// One month of `demo.sales_data`, column by column.
#[derive(Default)]
struct SalesColumns {
    order_id: Vec<i64>,
    /// Days since the epoch.
    date: Vec<i32>,
    region: Vec<&'static str>,
    product: Vec<&'static str>,
    quantity: Vec<i32>,
    /// Cents.
    unit_price: Vec<i128>,
    amount: Vec<f64>,
    customer_id: Vec<i64>,
}
