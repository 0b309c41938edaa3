//! Serving: thin adapters that translate between the wire and the executor
//! (`exec`): the Flight data plane (with Flight SQL), the gRPC control plane,
//! and the HTTP health and metrics endpoints.

pub(crate) mod control;
pub mod flight;
pub(crate) mod flight_sql;
pub(crate) mod http;
