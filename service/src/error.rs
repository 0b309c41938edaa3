//! One error type for the whole node, with the gRPC status each kind maps to.
//!
//! Every failure a user can cause or meet (bad config, bad SQL, unknown table,
//! unreachable store, corrupt file) is a variant with enough context to act on.
//! Nothing in the request path panics; errors travel up as `CacheError` and
//! become a `tonic::Status` at the Flight boundary. Errors from a store or a
//! catalog keep their cause as their `source` (the message also spells the
//! causes out, since a gRPC status carries text only).

use std::sync::Arc;

use arrow_cache_protocol::{error_chain, with_causes};
use tonic::{Code, Status};

/// The error an error was caused by, shared so that `CacheError` stays `Clone`.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used throughout the crate.
pub type Result<T, E = CacheError> = std::result::Result<T, E>;

/// Everything that can go wrong in a cache node.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    /// The configuration file or a flag is wrong; `key` names the offending setting.
    #[error("config error at `{key}`: {message}")]
    Config { key: String, message: String },

    /// The request itself is malformed: bad SQL, bad filter, unknown column.
    #[error("{0}")]
    InvalidArgument(String),

    /// A table, namespace or snapshot that does not exist.
    #[error("{0}")]
    NotFound(String),

    /// The catalog or object store could not be reached, or returned garbage.
    #[error("{context}: {message}")]
    Unavailable {
        context: String,
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// The object store or catalog refused this node's credentials. Not retried on other
    /// nodes: they share the configuration.
    #[error("{context}: {message}")]
    PermissionDenied {
        context: String,
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// A data or delete file could not be decoded.
    #[error("cannot read `{path}`: {message}")]
    CorruptFile { path: String, message: String },

    /// The request needs more memory than the node may use.
    #[error("{0}")]
    ResourceExhausted(String),

    /// A feature of Iceberg we do not serve yet; never answered with wrong rows.
    #[error("not supported yet: {0}")]
    Unsupported(String),

    /// A bug or an unexpected state; the message says where.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CacheError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::InvalidArgument(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }

    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config { key: key.into(), message: message.into() }
    }

    pub fn unavailable(context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Self::Unavailable { context: context.into(), message: err.to_string(), source: None }
    }

    /// An object store failed under a read of `context`: PERMISSION_DENIED when it refused
    /// the credentials, UNAVAILABLE otherwise. The store's error is kept as the source.
    pub fn from_store(context: impl Into<String>, err: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        let cause = Cause::from(err);
        let (context, message) = (context.into(), with_causes(&*cause));
        let refused = error_chain(&*cause).any(refuses_credentials);
        let source = Some(cause);
        match refused {
            true => Self::PermissionDenied { context, message, source },
            false => Self::Unavailable { context, message, source },
        }
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        Self::Internal(msg.into())
    }

    /// An error another node answered with, by its gRPC status; `context`
    /// says which node and what we asked it.
    pub fn from_status(context: &str, status: tonic::Status) -> Self {
        use tonic::Code as C;
        let message = status.message().to_string();
        match status.code() {
            C::InvalidArgument | C::FailedPrecondition | C::OutOfRange => Self::InvalidArgument(message),
            C::NotFound => Self::NotFound(message),
            C::PermissionDenied | C::Unauthenticated => {
                Self::PermissionDenied { context: context.to_string(), message, source: None }
            }
            C::ResourceExhausted => Self::ResourceExhausted(message),
            C::Unimplemented => Self::Unsupported(message),
            C::DataLoss => {
                // The other node said "cannot read `path`: why"; keep it as that.
                let parsed = message.strip_prefix("cannot read `").and_then(|r| r.split_once("`: "));
                match parsed {
                    Some((path, why)) => Self::CorruptFile { path: path.to_string(), message: why.to_string() },
                    None => Self::CorruptFile { path: context.to_string(), message },
                }
            }
            C::Internal => Self::Internal(format!("{context}: {message}")),
            // Unreachable, cancelled, timed out, reset: worth trying elsewhere.
            _ => Self::Unavailable { context: context.to_string(), message, source: None },
        }
    }

    /// Classifies an error from iceberg-rust, which reports missing tables,
    /// bad input and I/O failures through one type.
    pub fn from_iceberg(context: impl Into<String>, err: iceberg::Error) -> Self {
        use iceberg::ErrorKind as K;
        let context = context.into();
        let message = iceberg_message(&err);
        match err.kind() {
            K::TableNotFound | K::NamespaceNotFound => Self::NotFound(format!("{context}: {message}")),
            K::DataInvalid | K::PreconditionFailed => Self::InvalidArgument(format!("{context}: {message}")),
            K::FeatureUnsupported => Self::Unsupported(format!("{context}: {message}")),
            _ => {
                let refused = error_chain(&err).skip(1).any(refuses_credentials);
                let source = Some(Arc::new(err) as Cause);
                match refused {
                    true => Self::PermissionDenied { context, message, source },
                    false => Self::Unavailable { context, message, source },
                }
            }
        }
    }

    /// The gRPC status code this error is answered with.
    pub fn code(&self) -> Code {
        match self {
            CacheError::Config { .. } | CacheError::InvalidArgument(_) => Code::InvalidArgument,
            CacheError::NotFound(_) => Code::NotFound,
            CacheError::Unavailable { .. } => Code::Unavailable,
            CacheError::PermissionDenied { .. } => Code::PermissionDenied,
            CacheError::CorruptFile { .. } => Code::DataLoss,
            CacheError::ResourceExhausted(_) => Code::ResourceExhausted,
            CacheError::Unsupported(_) => Code::Unimplemented,
            CacheError::Internal(_) => Code::Internal,
        }
    }

    /// Would another node answer differently? Not for errors in the request
    /// or the data, which every node shares (the protocol's retry rule).
    pub fn retryable(&self) -> bool {
        arrow_cache_protocol::headers::is_retryable(self.code())
    }
}

/// Catalog clients report refused credentials as [`AccessDenied`]; object_store as its own variants.
fn refuses_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    err.is::<AccessDenied>()
        || matches!(
            err.downcast_ref::<object_store::Error>(),
            Some(object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. })
        )
}

/// A catalog refused this node's credentials: attached as the source of an
/// `iceberg::Error` so [`CacheError::from_iceberg`] answers PERMISSION_DENIED.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AccessDenied(pub String);

/// iceberg-rust's Display repeats context over several lines; keep it on one,
/// with the causes its message leaves out.
fn iceberg_message(err: &iceberg::Error) -> String {
    let mut msg = err.message().to_string();
    for cause in error_chain(err).skip(1) {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
    }
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl From<CacheError> for Status {
    fn from(err: CacheError) -> Self {
        Status::new(err.code(), err.to_string())
    }
}

impl From<arrow_cache_protocol::InvalidRequest> for CacheError {
    fn from(err: arrow_cache_protocol::InvalidRequest) -> Self {
        CacheError::InvalidArgument(err.0)
    }
}

impl From<datafusion::error::DataFusionError> for CacheError {
    fn from(err: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as D;
        match err {
            // Errors we raised inside DataFusion callbacks come back unchanged.
            D::External(e) => match e.downcast::<CacheError>() {
                Ok(e) => *e,
                Err(e) => CacheError::Internal(e.to_string()),
            },
            D::Context(ctx, inner) => match CacheError::from(*inner) {
                CacheError::InvalidArgument(m) => CacheError::InvalidArgument(format!("{ctx}: {m}")),
                other => other,
            },
            D::Diagnostic(_, inner) => CacheError::from(*inner),
            D::SQL(e, _) => CacheError::InvalidArgument(format!("SQL syntax error: {e}")),
            D::Plan(m) if m.starts_with("table '") && m.contains("' not found") => {
                CacheError::NotFound(plan_message(&m))
            }
            D::Plan(m) => CacheError::InvalidArgument(plan_message(&m)),
            D::SchemaError(e, _) => CacheError::InvalidArgument(plan_message(&e.to_string())),
            D::NotImplemented(m) => CacheError::Unsupported(m),
            D::ResourcesExhausted(m) => CacheError::ResourceExhausted(m),
            D::ArrowError(e, _) => CacheError::InvalidArgument(e.to_string()),
            D::ParquetError(e) => CacheError::Internal(e.to_string()),
            D::Execution(m) => CacheError::InvalidArgument(m),
            D::Shared(e) => CacheError::Internal(e.to_string()),
            other => CacheError::Internal(other.to_string()),
        }
    }
}

/// DataFusion's planner errors are long; keep the first line, which names the problem.
fn plan_message(m: &str) -> String {
    m.lines().next().unwrap_or(m).to_string()
}

impl From<CacheError> for datafusion::error::DataFusionError {
    fn from(err: CacheError) -> Self {
        datafusion::error::DataFusionError::External(Box::new(err))
    }
}

impl From<arrow::error::ArrowError> for CacheError {
    fn from(err: arrow::error::ArrowError) -> Self {
        CacheError::Internal(err.to_string())
    }
}
