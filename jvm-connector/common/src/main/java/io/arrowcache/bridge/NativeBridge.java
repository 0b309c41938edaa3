package io.arrowcache.bridge;

/**
 * The JNI bindings of the native bridge ({@code native-bridge/}, library {@code arrow_cache_bridge}).
 * Data crosses from Rust to the JVM as Arrow through the C Data Interface: Java allocates the
 * {@code ArrowSchema} / {@code ArrowArrayStream} structs (arrow-c-data) and passes their addresses;
 * the bridge moves its exports into them.
 *
 * <p>Every method throws {@link ArrowCacheException} (with a gRPC status {@link
 * ArrowCacheException#code() code}) on failure; a Rust panic becomes an {@code ArrowCacheException}
 * with code {@code INTERNAL}, never a JVM crash. All methods are thread-safe. A client handle must
 * be {@link #close closed}; so must every stream (close the {@code ArrowReader} that
 * {@code Data.importArrayStream} returns), which frees the native memory behind it.
 */
public final class NativeBridge {
    static {
        NativeLoader.load();
    }

    private NativeBridge() {}

    /**
     * Connects to a cluster's control plane ({@code "host:8816"}; also a comma-separated list,
     * tried in order; a missing port means 8816). The first node whose control plane answers
     * within {@code timeoutMillis} (each; 0 or less means 10 s) is used, the others are kept for
     * failover. Returns a client handle. Throws ArrowCacheException ({@code UNAVAILABLE} when no
     * node answers, {@code INVALID_ARGUMENT} for a malformed address).
     */
    public static native long connect(String cluster, long timeoutMillis);

    /** Frees the client. Idempotent for 0 (and for a handle already closed). */
    public static native void close(long client);

    /**
     * Plans a scan. requestJson is the contract's scan request {"table":..,"columns":[..],
     * "filter":EXPR,"snapshot_id":..,"as_of_timestamp_ms":..,"limit":..}. Exports the output
     * schema into the Java-allocated ArrowSchema at schemaAddress
     * (org.apache.arrow.c.ArrowSchema#memoryAddress) and returns the plan as JSON:
     * {"snapshot_id": n|null, "total_rows": n (-1 unknown), "total_bytes": n, "splits":
     * [{"ticket": "&lt;base64&gt;", "owners": [{"node_id": "..", "flight": "grpc+tcp://h:p",
     * "host": "h"}], "bytes": n, "rows": n}]}. The schema is written only on success.
     */
    public static native String plan(long client, String requestJson, long schemaAddress);

    /**
     * Opens the Flight stream of one split and exports it into the Java-allocated
     * ArrowArrayStream at streamAddress (org.apache.arrow.c.ArrowArrayStream#memoryAddress).
     * locations = the split's owners' flight URIs, primary first; the stream reads from the first
     * that answers and, if a node fails mid-stream, continues from the next skipping the rows
     * already delivered (splits are read deterministically). Returns once the stream has started
     * (its schema arrived), so errors opening it (an unknown table, no owner reachable) are thrown
     * here. Errors while streaming surface through the stream's get_last_error (Java sees an
     * IOException from ArrowReader.loadNextBatch).
     */
    public static native void openSplit(long client, byte[] ticket, String[] locations, long streamAddress);

    /**
     * Control-plane operations returning JSON: op is "cluster_status", "list_tables",
     * "table_stats", "invalidate", "refresh" or "warm"; json is
     * {"table":..,"partition":..,"columns":[..]} (ignored for cluster_status; {"namespace":..}
     * or {} for list_tables; partition is "k=v[,k=v]" or an object). Returns the merged JSON of
     * all nodes (NodeResults.merged_json), for list_tables {"tables": ["ns.tbl", ...]}, or for
     * cluster_status {"node_id", "discovery", "replication_factor", "nodes": [...]}.
     */
    public static native String call(long client, String op, String json);

    /**
     * Bytes the native side currently holds for open streams and buffers not yet released (for
     * leak tests): batches decoded and waiting, batches exported to Java and not yet released,
     * and the state of open streams.
     */
    public static native long nativeBytesInUse();
}
