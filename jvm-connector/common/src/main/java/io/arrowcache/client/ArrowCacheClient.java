package io.arrowcache.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.arrowcache.bridge.NativeBridge;
import io.arrowcache.scan.Json;
import io.arrowcache.scan.ScanPlan;
import io.arrowcache.scan.ScanRequest;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.c.CDataDictionaryProvider;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A connection to an arrow-cache cluster (any node's control plane, {@code host:8816}) through the
 * native bridge. Thread-safe. Plans scans (schema and splits) and opens splits as Arrow readers
 * whose batches arrive through the C Data Interface.
 *
 * <p>{@link #shared} keeps one client per cluster address for the life of the JVM, which is what
 * Spark executors want; {@link #connect} gives a private one to close.
 */
public final class ArrowCacheClient implements AutoCloseable {
    private static final Map<String, ArrowCacheClient> SHARED = new ConcurrentHashMap<>();

    private final String cluster;
    private final long handle;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    private ArrowCacheClient(String cluster, long handle) {
        this.cluster = cluster;
        this.handle = handle;
    }

    /**
     * Connects to a cluster. A malformed address is an {@link IllegalArgumentException}; a cluster
     * that does not answer within {@code timeoutMillis} is the bridge's {@code ArrowCacheException}
     * (code UNAVAILABLE).
     */
    public static ArrowCacheClient connect(String cluster, long timeoutMillis) {
        String address = checkAddress(cluster);
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("the connect timeout must be positive, got " + timeoutMillis + " ms");
        }
        return new ArrowCacheClient(address, NativeBridge.connect(address, timeoutMillis));
    }

    /** The JVM's client for this cluster, connected on first use and never closed. */
    public static ArrowCacheClient shared(String cluster, long timeoutMillis) {
        String address = checkAddress(cluster);
        ArrowCacheClient client = SHARED.get(address);
        if (client != null && !client.isClosed()) {
            return client;
        }
        synchronized (SHARED) {
            client = SHARED.get(address);
            if (client == null || client.isClosed()) {
                client = connect(address, timeoutMillis);
                SHARED.put(address, client);
            }
            return client;
        }
    }

    /** Closes the shared clients (tests; nothing may use them afterwards). */
    public static void closeShared() {
        synchronized (SHARED) {
            SHARED.values().forEach(ArrowCacheClient::close);
            SHARED.clear();
        }
    }

    /**
     * A cluster address as the bridge takes it: {@code host:port} of a node's control plane, or a
     * comma-separated list of them tried in order (a missing port means 8816). Anything else is
     * refused with a message naming it.
     */
    public static String checkAddress(String cluster) {
        if (cluster == null || cluster.trim().isEmpty()) {
            throw new IllegalArgumentException("no arrow-cache cluster address given (host:port of a node's control plane, e.g. cache-node:8816)");
        }
        StringBuilder out = new StringBuilder();
        for (String part : cluster.split(",")) {
            String address = part.trim();
            for (String scheme : new String[] {"grpc://", "grpc+tcp://", "http://"}) {
                if (address.startsWith(scheme)) {
                    address = address.substring(scheme.length());
                }
            }
            if (!validHostPort(address)) {
                throw new IllegalArgumentException("arrow-cache cluster address `" + cluster + "` is not host:port (e.g. cache-node:8816)"
                        + (part.trim().equals(cluster.trim()) ? "" : ": `" + part.trim() + "`"));
            }
            out.append(out.length() == 0 ? "" : ",").append(address);
        }
        return out.toString();
    }

    private static boolean validHostPort(String address) {
        if (address.isEmpty() || address.indexOf('/') >= 0 || address.chars().anyMatch(Character::isWhitespace)) {
            return false;
        }
        int colon = address.lastIndexOf(':');
        if (colon < 0 || address.endsWith("]")) {
            return true;  // default port
        }
        if (colon == 0) {
            return false;
        }
        try {
            int port = Integer.parseInt(address.substring(colon + 1));
            return port > 0 && port < 65536;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    public String cluster() {
        return cluster;
    }

    /** Plans a scan: the output schema (imported into {@code allocator}) and the splits. */
    public PlannedScan plan(ScanRequest request, BufferAllocator allocator) {
        Objects.requireNonNull(request, "request");
        lock.readLock().lock();
        try {
            long h = open();
            String json;
            Schema schema;
            try (ArrowSchema c = ArrowSchema.allocateNew(allocator);
                 CDataDictionaryProvider dictionaries = new CDataDictionaryProvider()) {
                json = NativeBridge.plan(h, request.toJson(), c.memoryAddress());
                schema = Data.importSchema(allocator, c, dictionaries);
            }
            return new PlannedScan(schema, ScanPlan.fromJson(json));
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Opens one split: a reader of its batches, allocated from {@code allocator}. The bridge tries
     * {@code locations} in order (the split's owners) and fails over to the next. Close the reader.
     */
    public ArrowReader openSplit(byte[] ticket, String[] locations, BufferAllocator allocator) {
        lock.readLock().lock();
        try {
            long h = open();
            ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator);
            try {
                NativeBridge.openSplit(h, ticket, locations, stream.memoryAddress());
                return Data.importArrayStream(allocator, stream);  // takes the stream over and closes it
            } catch (RuntimeException | Error e) {
                stream.close();
                throw e;
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** A cluster operation ({@code cluster_status}, {@code table_stats}, {@code invalidate}, {@code refresh}, {@code warm}). */
    public JsonNode call(String op, JsonNode body) {
        lock.readLock().lock();
        try {
            String out = NativeBridge.call(open(), op, body == null ? "{}" : Json.write(body));
            return out == null || out.isEmpty() ? Json.NODES.objectNode() : Json.read(out);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * A table operation ({@code table_stats}, {@code invalidate}, {@code refresh}, {@code warm}) with
     * its body; the answer as the cluster gives it.
     */
    public JsonNode tableAction(String op, TableAction action) {
        Objects.requireNonNull(action, "action");
        if (!TableAction.OPERATIONS.contains(op)) {
            throw new IllegalArgumentException("`" + op + "` is not a table operation; those are " + TableAction.OPERATIONS);
        }
        return call(op, action.toJsonNode());
    }

    /** {@code cluster_status}: the members the node answering knows and how they are. */
    public ClusterStatus clusterStatus() {
        return ClusterStatus.fromJsonNode(call("cluster_status", null));
    }

    /** Bytes the native side holds for the JVM's readers and clients. */
    public static long nativeBytesInUse() {
        return NativeBridge.nativeBytesInUse();
    }

    public boolean isClosed() {
        lock.readLock().lock();
        try {
            return closed;
        } finally {
            lock.readLock().unlock();
        }
    }

    private long open() {
        if (closed) {
            throw new IllegalStateException("the arrow-cache client for " + cluster + " is closed");
        }
        return handle;
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                NativeBridge.close(handle);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "ArrowCacheClient(" + cluster + ")";
    }
}
