//! arrow-cache: a cache node that keeps Apache Iceberg tables in memory as
//! Arrow and serves them over Arrow Flight, with filters and projections
//! applied at the cache.
//!
//! The modules follow the data path:
//!
//! ```text
//! config ─> catalog ─> plan ─> load ─> cache ─> read ─> serve
//!           (tables,   (snapshot, (Parquet (bytes-   (filter,  (Flight, Flight SQL,
//!            TTL)       splits)    by id)   budget)   project)  DataFusion SQL, HTTP)
//! ```
//! `storage` is the one I/O stack (object_store) under catalog and load.

pub mod cache;
pub mod catalog;
pub mod client;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod error;
pub mod load;
pub mod node;
pub mod plan;
pub mod read;
pub mod serve;
pub mod storage;

pub use error::{CacheError, Result};
