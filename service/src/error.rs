//! One error type for the whole node, with the gRPC status each kind maps to.
//!
//! Every failure a user can cause or meet (bad config, bad SQL, unknown table,
//! unreachable store, corrupt file) is a variant with enough context to act on.
//! Nothing in the request path panics; errors travel up as `CacheError` and
//! become a `tonic::Status` at the Flight boundary.

use tonic::Status;

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
    Unavailable { context: String, message: String },

    /// The object store or catalog refused this node's credentials. Not retried on other
    /// nodes: they share the configuration.
    #[error("{context}: {message}")]
    PermissionDenied { context: String, message: String },

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
        Self::Unavailable { context: context.into(), message: err.to_string() }
    }

    /// An object store failed under a read of `context`: PERMISSION_DENIED when it refused
    /// the credentials, UNAVAILABLE otherwise.
    pub fn from_store(context: impl Into<String>, err: &(dyn std::error::Error + 'static)) -> Self {
        let (context, message) = (context.into(), with_causes(err));
        match refuses_credentials(err) {
            true => Self::PermissionDenied { context, message },
            false => Self::Unavailable { context, message },
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
            C::PermissionDenied | C::Unauthenticated => Self::PermissionDenied { context: context.to_string(), message },
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
            _ => Self::Unavailable { context: context.to_string(), message },
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
            K::DataInvalid | K::PreconditionFailed => {
                Self::InvalidArgument(format!("{context}: {message}"))
            }
            K::FeatureUnsupported => Self::Unsupported(format!("{context}: {message}")),
            _ if credentials_refused(&err) => Self::PermissionDenied { context, message },
            _ => Self::Unavailable { context, message },
        }
    }
}

/// A store or catalog said no to our credentials, somewhere in `err`'s causes.
fn credentials_refused(err: &iceberg::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if refuses_credentials(cause) {
            return true;
        }
        source = cause.source();
    }
    false
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

/// iceberg-rust's Display repeats context over several lines; keep it on one.
fn iceberg_message(err: &iceberg::Error) -> String {
    let mut msg = err.message().to_string();
    append_causes(&mut msg, std::error::Error::source(err));
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The error and the causes its message leaves out: "error sending request" says little
/// without "tcp connect error: Connection refused".
pub fn with_causes(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    append_causes(&mut message, err.source());
    message
}

fn append_causes(message: &mut String, mut source: Option<&(dyn std::error::Error + 'static)>) {
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
}

impl From<CacheError> for Status {
    fn from(err: CacheError) -> Self {
        let msg = err.to_string();
        match err {
            CacheError::Config { .. } | CacheError::InvalidArgument(_) => Status::invalid_argument(msg),
            CacheError::NotFound(_) => Status::not_found(msg),
            CacheError::Unavailable { .. } => Status::unavailable(msg),
            CacheError::PermissionDenied { .. } => Status::permission_denied(msg),
            CacheError::CorruptFile { .. } => Status::data_loss(msg),
            CacheError::ResourceExhausted(_) => Status::resource_exhausted(msg),
            CacheError::Unsupported(_) => Status::unimplemented(msg),
            CacheError::Internal(_) => Status::internal(msg),
        }
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
