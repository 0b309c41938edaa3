//! The bridge's one error type: a gRPC-style code plus a message a user can
//! act on. Every JNI entry point turns it into an
//! `io.arrowcache.bridge.ArrowCacheException(code, message)`; inside a C
//! stream it becomes the stream's `get_last_error`.

use std::fmt;

/// An error with the canonical gRPC code name (`NOT_FOUND`, `INVALID_ARGUMENT`,
/// `UNAVAILABLE`, ...) that Java sees as `ArrowCacheException#code()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeError {
    pub code: &'static str,
    pub message: String,
}

pub type Result<T, E = BridgeError> = std::result::Result<T, E>;

/// Codes for which another node would answer the same: the request or the
/// data is wrong, not the node. Everything else is worth trying elsewhere.
const FINAL_CODES: &[&str] = &[
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "UNIMPLEMENTED",
    "DATA_LOSS",
    "FAILED_PRECONDITION",
    "OUT_OF_RANGE",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
];

impl BridgeError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("INVALID_ARGUMENT", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new("UNAVAILABLE", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("INTERNAL", message)
    }

    /// An error a node answered with (or tonic raised for it: an unreachable
    /// node is `UNAVAILABLE`). The node's message is kept as it is, since the
    /// server already words it for users; `context` is only added for
    /// transport failures, which otherwise would not say where.
    pub fn from_status(context: &str, status: &tonic::Status) -> Self {
        let code = code_name(status.code());
        let mut message = status.message().to_string();
        // tonic keeps the transport error as the source chain; its last link
        // says what happened ("Connection refused (os error 111)").
        let mut source = std::error::Error::source(status);
        while let Some(e) = source {
            let text = e.to_string();
            if !message.contains(&text) {
                message = if message.is_empty() { text } else { format!("{message}: {text}") };
            }
            source = e.source();
        }
        if message.is_empty() {
            message = format!("{code} without a message");
        }
        if matches!(status.code(), tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled | tonic::Code::Unknown) {
            message = format!("{context}: {message}");
        }
        Self { code, message }
    }

    /// Would another node (or owner) answer differently?
    pub fn retryable(&self) -> bool {
        !FINAL_CODES.contains(&self.code)
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

/// The canonical name of a gRPC status code, as `ArrowCacheException#code()` reports it.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code as C;
    match code {
        C::Ok => "OK",
        C::Cancelled => "CANCELLED",
        C::Unknown => "UNKNOWN",
        C::InvalidArgument => "INVALID_ARGUMENT",
        C::DeadlineExceeded => "DEADLINE_EXCEEDED",
        C::NotFound => "NOT_FOUND",
        C::AlreadyExists => "ALREADY_EXISTS",
        C::PermissionDenied => "PERMISSION_DENIED",
        C::ResourceExhausted => "RESOURCE_EXHAUSTED",
        C::FailedPrecondition => "FAILED_PRECONDITION",
        C::Aborted => "ABORTED",
        C::OutOfRange => "OUT_OF_RANGE",
        C::Unimplemented => "UNIMPLEMENTED",
        C::Internal => "INTERNAL",
        C::Unavailable => "UNAVAILABLE",
        C::DataLoss => "DATA_LOSS",
        C::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_keep_their_names_and_messages() {
        let e = BridgeError::from_status("planning", &tonic::Status::not_found("table `a.b` not found"));
        assert_eq!(e, BridgeError::new("NOT_FOUND", "table `a.b` not found"));
        assert!(!e.retryable());
        let e = BridgeError::from_status("reading from n1", &tonic::Status::unavailable("connection refused"));
        assert_eq!(e.code, "UNAVAILABLE");
        assert_eq!(e.message, "reading from n1: connection refused");
        assert!(e.retryable());
        assert!(BridgeError::from_status("x", &tonic::Status::internal("boom")).retryable());
        assert!(!BridgeError::from_status("x", &tonic::Status::invalid_argument("bad")).retryable());
        assert_eq!(BridgeError::from_status("x", &tonic::Status::resource_exhausted("full")).code, "RESOURCE_EXHAUSTED");
    }
}
