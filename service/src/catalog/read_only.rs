//! iceberg-rust's [`Catalog`] over a catalog the node only reads.
//!
//! The Hive and Glue clients each answer four questions ([`MetastoreReader`]):
//! which databases there are, a database's properties, a database's Iceberg
//! tables, and where a table's current metadata file is. [`ReadOnlyCatalog`]
//! makes a full `Catalog` of that: it loads the metadata file through the
//! node's FileIO, and refuses writes with a message saying where to write.

use std::collections::HashMap;

use async_trait::async_trait;
use iceberg::io::FileIO;
use iceberg::table::Table;
use iceberg::{Catalog, ErrorKind, Namespace, NamespaceIdent, TableCommit, TableCreation, TableIdent};

/// The reads a metastore that keeps Iceberg tables as pointers to their
/// metadata files (Hive, Glue) must answer. Databases are one level deep.
#[async_trait]
pub(crate) trait MetastoreReader: std::fmt::Debug + Send + Sync {
    /// The metastore's name in messages ("Hive", "Glue").
    const NAME: &'static str;

    async fn databases(&self) -> iceberg::Result<Vec<String>>;

    /// The database's properties; `NamespaceNotFound` when it does not exist.
    async fn database_properties(&self, database: &str) -> iceberg::Result<HashMap<String, String>>;

    /// The database's Iceberg tables (other tables left out).
    async fn iceberg_tables(&self, database: &str) -> iceberg::Result<Vec<String>>;

    /// The table's current `metadata_location`; `TableNotFound` when the table
    /// does not exist or is not an Iceberg table.
    async fn metadata_location(&self, database: &str, table: &str) -> iceberg::Result<String>;
}

/// The parameters by which Iceberg's writers mark a Hive or Glue table as
/// theirs: `table_type=ICEBERG`, and the current `metadata_location`.
pub(crate) fn iceberg_metadata_location(params: &HashMap<String, String>) -> Option<&str> {
    let iceberg = params.get("table_type").is_some_and(|t| t.eq_ignore_ascii_case("iceberg"));
    params.get("metadata_location").map(String::as_str).filter(|_| iceberg)
}

/// A `TableNotFound` for a table that exists but is not an Iceberg table.
pub(crate) fn not_iceberg(metastore: &str, database: &str, table: &str) -> iceberg::Error {
    iceberg::Error::new(
        ErrorKind::TableNotFound,
        format!(
            "{metastore} table `{database}.{table}` is not an Iceberg table (no table_type=ICEBERG and metadata_location)"
        ),
    )
}

/// A [`Catalog`] that reads through a [`MetastoreReader`] and refuses writes.
#[derive(Debug)]
pub(crate) struct ReadOnlyCatalog<R> {
    reader: R,
    file_io: FileIO,
}

impl<R: MetastoreReader> ReadOnlyCatalog<R> {
    pub(crate) fn new(reader: R, file_io: FileIO) -> Self {
        Self { reader, file_io }
    }

    fn read_only(&self) -> iceberg::Error {
        iceberg::Error::new(
            ErrorKind::FeatureUnsupported,
            format!("arrow-cache reads the {} catalog only; write through Spark, Trino or pyiceberg", R::NAME),
        )
    }
}

/// The database a namespace names: metastores have no nested databases.
fn database<'a>(metastore: &str, namespace: &'a NamespaceIdent) -> iceberg::Result<&'a str> {
    match namespace.as_ref().as_slice() {
        [name] => Ok(name),
        _ => Err(iceberg::Error::new(
            ErrorKind::NamespaceNotFound,
            format!("{metastore} has no nested databases: `{}`", namespace.join(".")),
        )),
    }
}

#[async_trait]
impl<R: MetastoreReader> Catalog for ReadOnlyCatalog<R> {
    async fn list_namespaces(&self, parent: Option<&NamespaceIdent>) -> iceberg::Result<Vec<NamespaceIdent>> {
        match parent {
            Some(_) => Ok(vec![]),
            None => Ok(self.reader.databases().await?.into_iter().map(NamespaceIdent::new).collect()),
        }
    }

    async fn get_namespace(&self, namespace: &NamespaceIdent) -> iceberg::Result<Namespace> {
        let props = self.reader.database_properties(database(R::NAME, namespace)?).await?;
        Ok(Namespace::with_properties(namespace.clone(), props))
    }

    async fn namespace_exists(&self, namespace: &NamespaceIdent) -> iceberg::Result<bool> {
        match self.get_namespace(namespace).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NamespaceNotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn list_tables(&self, namespace: &NamespaceIdent) -> iceberg::Result<Vec<TableIdent>> {
        let tables = self.reader.iceberg_tables(database(R::NAME, namespace)?).await?;
        Ok(tables.into_iter().map(|t| TableIdent::new(namespace.clone(), t)).collect())
    }

    async fn load_table(&self, ident: &TableIdent) -> iceberg::Result<Table> {
        let location = self.reader.metadata_location(database(R::NAME, ident.namespace())?, ident.name()).await?;
        super::table_at(ident, &location, &self.file_io).await
    }

    async fn table_exists(&self, ident: &TableIdent) -> iceberg::Result<bool> {
        match self.reader.metadata_location(database(R::NAME, ident.namespace())?, ident.name()).await {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.kind(), ErrorKind::TableNotFound | ErrorKind::NamespaceNotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn create_namespace(&self, _: &NamespaceIdent, _: HashMap<String, String>) -> iceberg::Result<Namespace> {
        Err(self.read_only())
    }
    async fn update_namespace(&self, _: &NamespaceIdent, _: HashMap<String, String>) -> iceberg::Result<()> {
        Err(self.read_only())
    }
    async fn drop_namespace(&self, _: &NamespaceIdent) -> iceberg::Result<()> {
        Err(self.read_only())
    }
    async fn create_table(&self, _: &NamespaceIdent, _: TableCreation) -> iceberg::Result<Table> {
        Err(self.read_only())
    }
    async fn drop_table(&self, _: &TableIdent) -> iceberg::Result<()> {
        Err(self.read_only())
    }
    async fn purge_table(&self, _: &TableIdent) -> iceberg::Result<()> {
        Err(self.read_only())
    }
    async fn rename_table(&self, _: &TableIdent, _: &TableIdent) -> iceberg::Result<()> {
        Err(self.read_only())
    }
    async fn register_table(&self, _: &TableIdent, _: String) -> iceberg::Result<Table> {
        Err(self.read_only())
    }
    async fn update_table(&self, _: TableCommit) -> iceberg::Result<Table> {
        Err(self.read_only())
    }
}
