//! Request headers of the Flight data plane, and which status codes a reader
//! retries on another owner.

use tonic::Code;

use crate::InvalidRequest;

/// The request header in which a reader asks for compressed Arrow IPC buffers
/// (`lz4`, `zstd` or `none`); a node that sees none sends them uncompressed.
pub const IPC_COMPRESSION: &str = "x-arrow-cache-ipc-compression";

/// A codec a reader may ask for in [`IPC_COMPRESSION`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpcCodec {
    /// LZ4 frames.
    Lz4,
    /// Zstandard.
    Zstd,
}

impl IpcCodec {
    /// The header value.
    pub fn name(self) -> &'static str {
        match self {
            IpcCodec::Lz4 => "lz4",
            IpcCodec::Zstd => "zstd",
        }
    }

    /// The codec a header value asks for; `None` for no compression.
    ///
    /// ```
    /// # use arrow_cache_protocol::headers::IpcCodec;
    /// assert_eq!(IpcCodec::parse(Some("zstd")).unwrap(), Some(IpcCodec::Zstd));
    /// assert_eq!(IpcCodec::parse(None).unwrap(), None);
    /// assert!(IpcCodec::parse(Some("gzip")).is_err());
    /// ```
    pub fn parse(value: Option<&str>) -> Result<Option<Self>, InvalidRequest> {
        match value {
            None | Some("none") => Ok(None),
            Some("lz4") => Ok(Some(IpcCodec::Lz4)),
            Some("zstd") => Ok(Some(IpcCodec::Zstd)),
            Some(other) => Err(InvalidRequest(format!("{IPC_COMPRESSION}: `{other}` is not lz4, zstd or none"))),
        }
    }
}

/// Would another owner answer differently? Not when the request or the data
/// is at fault (bad request, missing table, unsupported feature, corrupt
/// file, refused credentials, which every node shares); yes when the node is
/// (unreachable, overloaded, failed).
///
/// ```
/// # use arrow_cache_protocol::headers::is_retryable;
/// assert!(is_retryable(tonic::Code::Unavailable));
/// assert!(!is_retryable(tonic::Code::NotFound));
/// ```
pub fn is_retryable(code: Code) -> bool {
    !matches!(
        code,
        Code::InvalidArgument
            | Code::NotFound
            | Code::Unimplemented
            | Code::DataLoss
            | Code::FailedPrecondition
            | Code::OutOfRange
            | Code::PermissionDenied
            | Code::Unauthenticated
    )
}

/// The canonical name of a gRPC code (`NOT_FOUND`), as the JVM connectors see it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
