//! Serving: the Flight data plane (with Flight SQL and SQL over DataFusion),
//! cache management actions, and the HTTP health and metrics endpoints.

pub mod actions;
pub mod flight;
pub mod http;
pub mod scan;
pub mod split_scan;
pub mod sql;
