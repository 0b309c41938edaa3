//! Process-wide state: one lazily started Tokio runtime and one pooled gRPC
//! channel per address, shared by every client handle (tonic channels
//! multiplex HTTP/2 streams, so all splits read from one node share one
//! connection), plus the native-memory gauge behind `nativeBytesInUse`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use arrow_cache_protocol::client::Channels;
use tokio::runtime::Runtime;

/// Worker threads of the bridge's runtime: the JVM threads do the blocking
/// (they wait on `block_on` / the stream's channel); the workers only drive
/// sockets and decode Flight messages.
const WORKER_THREADS: usize = 2;

/// How long opening a TCP connection to a node may take before the attempt
/// counts as failed (and a read moves on to the next owner).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static CHANNELS: LazyLock<Channels> = LazyLock::new(|| Channels::new(CONNECT_TIMEOUT));

/// Bytes the native side holds for the JVM: batches decoded and buffered, or
/// exported and not yet released by Java, plus the state of open streams.
static BYTES_IN_USE: AtomicI64 = AtomicI64::new(0);

/// The bridge's runtime, started on first use.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("arrow-cache-bridge")
            .enable_all()
            .build()
            .expect("cannot start the arrow-cache bridge's Tokio runtime")
    })
}

/// The pooled channels to nodes. Use them inside the runtime (`block_on`, a
/// spawned task, or `runtime().enter()`): a new channel spawns its worker there.
pub fn channels() -> &'static Channels {
    &CHANNELS
}

pub fn bytes_in_use() -> i64 {
    BYTES_IN_USE.load(Ordering::Relaxed)
}

/// A share of [`bytes_in_use`]: added when created, given back when dropped.
#[derive(Debug)]
pub struct Reservation(i64);

impl Reservation {
    pub fn new(bytes: i64) -> Self {
        BYTES_IN_USE.fetch_add(bytes, Ordering::Relaxed);
        Self(bytes)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        BYTES_IN_USE.fetch_sub(self.0, Ordering::Relaxed);
    }
}
