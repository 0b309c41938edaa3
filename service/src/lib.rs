//! arrow-cache: a cache node that keeps Apache Iceberg tables in memory as
//! Arrow and serves them over Arrow Flight, with filters and projections
//! applied at the cache.
//!
//! The modules follow the data path, and import only downwards (a test,
//! `module_order`, checks the `use crate::` lines against this order):
//!
//! ```text
//! main ─> cli, demo ─> node ─> serve ─> exec ─> cluster, read ─> plan ─> catalog, load ─> cache, storage ─> config ─> error
//!                      (servers) (Flight,  (scans, (members,  (filter,  (snapshot, (tables, (Parquet  (bytes   (object
//!                                control,  routing, placement) project)  splits)   TTL)     by id)    budget)   stores)
//!                                HTTP)     SQL, actions)
//! ```
//! What crosses the wire (requests, tickets, actions, the control plane's
//! .proto) and the client that nodes use to reach each other live in the
//! `arrow-cache-protocol` crate.

pub(crate) mod cache;
pub(crate) mod catalog;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod error;
pub mod exec;
pub(crate) mod load;
pub mod node;
pub mod plan;
pub(crate) mod read;
pub mod serve;
pub(crate) mod storage;

pub use error::{CacheError, Result};
