//! The bridge's one error type: a gRPC-style code plus a message a user can
//! act on. Every JNI entry point turns it into an
//! `io.arrowcache.bridge.ArrowCacheException(code, message)`; inside a C
//! stream it becomes the stream's `get_last_error`.

use std::fmt;

use arrow_cache_protocol::headers::{code_name, is_retryable};
use arrow_cache_protocol::{InvalidRequest, with_causes};
use tonic::Code;

/// An error with a gRPC code, whose canonical name (`NOT_FOUND`,
/// `INVALID_ARGUMENT`, `UNAVAILABLE`, ...) Java sees as `ArrowCacheException#code()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeError {
    pub code: Code,
    pub message: String,
}

pub type Result<T, E = BridgeError> = std::result::Result<T, E>;

impl BridgeError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Code::Unavailable, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }

    /// The code's canonical name, as Java sees it.
    pub fn code_name(&self) -> &'static str {
        code_name(self.code)
    }

    /// An error a node answered with (or tonic raised for it: an unreachable
    /// node is `UNAVAILABLE`). The node's message is kept as it is, since the
    /// server already words it for users; `context` is only added for
    /// transport failures, which otherwise would not say where.
    pub fn from_status(context: &str, status: &tonic::Status) -> Self {
        let code = status.code();
        // tonic keeps the transport error as the source chain; its last link
        // says what happened ("Connection refused (os error 111)").
        let mut message = match std::error::Error::source(status) {
            Some(source) => {
                let causes = with_causes(source);
                match status.message() {
                    "" => causes,
                    m if m.contains(&causes) => m.to_string(),
                    m => format!("{m}: {causes}"),
                }
            }
            None => status.message().to_string(),
        };
        if message.is_empty() {
            message = format!("{} without a message", code_name(code));
        }
        if matches!(
            status.code(),
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled | tonic::Code::Unknown
        ) {
            message = format!("{context}: {message}");
        }
        Self { code, message }
    }

    /// Would another node (or owner) answer differently?
    pub fn retryable(&self) -> bool {
        is_retryable(self.code)
    }

    pub fn context(self, context: impl fmt::Display) -> Self {
        Self { code: self.code, message: format!("{context}: {}", self.message) }
    }
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BridgeError {}

/// `with_env` needs `E: From<jni::errors::Error>`. A pending Java exception
/// (`JavaException`) is left to propagate: the error policy checks for it
/// before throwing its own.
impl From<jni::errors::Error> for BridgeError {
    fn from(e: jni::errors::Error) -> Self {
        match e {
            jni::errors::Error::NullPtr(what) => Self::invalid(format!("{what} is null")),
            other => Self::internal(format!("JNI: {other}")),
        }
    }
}

impl From<arrow::error::ArrowError> for BridgeError {
    fn from(e: arrow::error::ArrowError) -> Self {
        Self::internal(format!("Arrow: {e}"))
    }
}

impl From<InvalidRequest> for BridgeError {
    fn from(e: InvalidRequest) -> Self {
        Self::invalid(e.0)
    }
}

impl arrow_cache_protocol::client::ReadError for BridgeError {
    fn retryable(&self) -> bool {
        self.retryable()
    }

    fn internal(message: String) -> Self {
        Self::internal(message)
    }

    fn after_failover(self, earlier: &[String]) -> Self {
        Self { code: self.code, message: format!("{} (after failing over from: {})", self.message, earlier.join("; ")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_keep_their_names_and_messages() {
        let e = BridgeError::from_status("planning", &tonic::Status::not_found("table `a.b` not found"));
        assert_eq!(e, BridgeError::new(Code::NotFound, "table `a.b` not found"));
        assert!(!e.retryable());
        let e = BridgeError::from_status("reading from n1", &tonic::Status::unavailable("connection refused"));
        assert_eq!(e.code_name(), "UNAVAILABLE");
        assert_eq!(e.message, "reading from n1: connection refused");
        assert!(e.retryable());
        assert!(BridgeError::from_status("x", &tonic::Status::internal("boom")).retryable());
        assert!(!BridgeError::from_status("x", &tonic::Status::invalid_argument("bad")).retryable());
        assert_eq!(
            BridgeError::from_status("x", &tonic::Status::resource_exhausted("full")).code_name(),
            "RESOURCE_EXHAUSTED"
        );
    }
}
