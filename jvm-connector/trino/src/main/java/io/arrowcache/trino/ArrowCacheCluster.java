package io.arrowcache.trino;

import com.fasterxml.jackson.databind.JsonNode;
import io.arrowcache.bridge.ArrowCacheException;
import io.arrowcache.client.ArrowCacheClient;
import io.arrowcache.client.ClusterStatus;
import io.arrowcache.client.PlannedScan;
import io.arrowcache.scan.Json;
import io.arrowcache.scan.ScanRequest;
import io.trino.spi.TrinoException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.unsafe.UnsafeAllocationManager;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_BAD_REQUEST;
import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_ERROR;
import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_INTERNAL;
import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_NATIVE_LIBRARY;
import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_UNAVAILABLE;

/**
 * One catalog's connection to its cluster, through the native bridge. Connects on first use, not
 * at catalog creation, so that a cluster that is down fails queries (with the cause) rather than
 * the Trino server; a failed connection is retried by the next query.
 */
public final class ArrowCacheCluster implements AutoCloseable {
    /**
     * The plugin's Arrow memory: Java only allocates the small C Data Interface structs (the data
     * stays in the bridge's memory until a page has been copied out), through sun.misc.Unsafe
     * rather than Netty's pooled allocator.
     */
    static final RootAllocator ROOT = new RootAllocator(RootAllocator.configBuilder()
            .allocationManagerFactory(UnsafeAllocationManager.FACTORY).build());

    private final String catalog;
    private final ArrowCacheConfig config;
    private final BufferAllocator allocator;
    private ArrowCacheClient client;  // guarded by this
    private boolean closed;           // guarded by this

    public ArrowCacheCluster(String catalog, ArrowCacheConfig config) {
        this.catalog = catalog;
        this.config = config;
        this.allocator = ROOT.newChildAllocator("arrow-cache catalog " + catalog, 0, Long.MAX_VALUE);
    }

    public ArrowCacheConfig config() {
        return config;
    }

    public BufferAllocator allocator() {
        return allocator;
    }

    /** The bridge client, connected now if need be. */
    public synchronized ArrowCacheClient client() {
        if (closed) {
            throw new TrinoException(ARROW_CACHE_INTERNAL, "the arrow-cache catalog " + catalog + " is shut down");
        }
        if (client == null || client.isClosed()) {
            try {
                client = ArrowCacheClient.connect(config.cluster(), config.connectTimeoutMillis());
            } catch (ArrowCacheException e) {
                throw error(e, "cannot connect to the arrow-cache cluster at " + config.cluster() + " (" + ArrowCacheConfig.CLUSTER
                        + " of catalog " + catalog + ")");
            } catch (LinkageError e) {
                throw nativeLibrary(e);
            }
        }
        return client;
    }

    public PlannedScan plan(ScanRequest request) {
        try {
            return client().plan(request, allocator);
        } catch (ArrowCacheException e) {
            throw error(e, "planning the scan of " + request.table() + " on the arrow-cache cluster " + config.cluster());
        } catch (LinkageError e) {
            throw nativeLibrary(e);
        }
    }

    /** Opens a split; close the reader. */
    public ArrowReader openSplit(byte[] ticket, String[] locations, BufferAllocator into) {
        try {
            return client().openSplit(ticket, locations, into);
        } catch (ArrowCacheException e) {
            throw error(e, "opening a split from " + String.join(", ", locations));
        } catch (LinkageError e) {
            throw nativeLibrary(e);
        }
    }

    public JsonNode call(String op, JsonNode body) {
        try {
            return client().call(op, body);
        } catch (ArrowCacheException e) {
            throw error(e, op + " on the arrow-cache cluster " + config.cluster());
        } catch (LinkageError e) {
            throw nativeLibrary(e);
        }
    }

    /**
     * Every table of the cluster, as {@code namespace.table}.
     *
     * <p>The bridge's {@code list_tables} operation (the control plane's ListTables). With a bridge
     * or node from before it, this asks a node's Flight SQL front for its tables instead
     * (CommandGetTables, the metadata command ADBC and JDBC drivers use), sent as a Flight ticket
     * through the bridge's split reader to the nodes {@code cluster_status} names.
     */
    public List<String> listTables() {
        try {
            JsonNode listed = client().call("list_tables", Json.NODES.objectNode());
            List<String> out = new ArrayList<>();
            for (JsonNode t : listed.path("tables")) {
                out.add(t.asText());
            }
            return out;
        } catch (ArrowCacheException e) {
            // An older bridge (no such operation) or node (no ListTables RPC): ask Flight SQL.
            boolean oldBridge = e.isInvalidArgument() && e.getMessage() != null && e.getMessage().contains("unknown operation");
            if (!oldBridge && !ArrowCacheException.UNIMPLEMENTED.equals(e.code())) {
                throw error(e, "listing the tables of the arrow-cache cluster " + config.cluster());
            }
        } catch (LinkageError e) {
            throw nativeLibrary(e);
        }
        return listTablesWithFlightSql();
    }

    private List<String> listTablesWithFlightSql() {
        ClusterStatus status = ClusterStatus.fromJsonNode(call("cluster_status", Json.NODES.objectNode()));
        Set<String> locations = new LinkedHashSet<>();
        List<ClusterStatus.Node> nodes = new ArrayList<>(status.nodes());
        // Live nodes first; the bridge fails over along the list.
        nodes.sort(Comparator.comparing(n -> n.isDown() ? 1 : 0));
        for (ClusterStatus.Node n : nodes) {
            if (!n.flight().isEmpty()) {
                locations.add(n.flight());
            }
        }
        if (locations.isEmpty()) {
            throw new TrinoException(ARROW_CACHE_ERROR, "the arrow-cache cluster " + config.cluster()
                    + " named no Flight address in its status: " + status);
        }
        List<String> tables = new ArrayList<>();
        try (BufferAllocator a = allocator.newChildAllocator("list tables", 0, Long.MAX_VALUE);
             ArrowReader reader = openSplit(getTablesTicket(), locations.toArray(new String[0]), a)) {
            while (reader.loadNextBatch()) {
                VectorSchemaRoot root = reader.getVectorSchemaRoot();
                FieldVector schemas = root.getVector("db_schema_name");
                FieldVector names = root.getVector("table_name");
                if (!(schemas instanceof VarCharVector) || !(names instanceof VarCharVector)) {
                    throw new TrinoException(ARROW_CACHE_ERROR, "the Flight SQL table list has an unexpected schema: " + root.getSchema());
                }
                for (int i = 0; i < root.getRowCount(); i++) {
                    String ns = schemas.isNull(i) ? "" : new String(((VarCharVector) schemas).get(i), StandardCharsets.UTF_8);
                    String name = new String(((VarCharVector) names).get(i), StandardCharsets.UTF_8);
                    tables.add(ns.isEmpty() ? name : ns + "." + name);
                }
            }
        } catch (IOException e) {
            throw new TrinoException(ARROW_CACHE_ERROR, "listing the tables of the arrow-cache cluster " + config.cluster() + ": " + e.getMessage(), e);
        }
        return tables;
    }

    /**
     * A Flight SQL {@code CommandGetTables} (no filters, no schemas) packed in a protobuf
     * {@code google.protobuf.Any}, as Flight SQL tickets are: field 1 (type_url) only, since the
     * command's own fields are all defaults.
     */
    static byte[] getTablesTicket() {
        byte[] url = "type.googleapis.com/arrow.flight.protocol.sql.CommandGetTables".getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[2 + url.length];
        out[0] = 0x0a;  // field 1, length-delimited
        out[1] = (byte) url.length;
        System.arraycopy(url, 0, out, 2, url.length);
        return out;
    }

    /** An error of the bridge as a Trino error that says what was being done and why it failed. */
    static TrinoException error(ArrowCacheException e, String what) {
        ArrowCacheErrorCode code;
        switch (e.code()) {
            case ArrowCacheException.UNAVAILABLE:
            case ArrowCacheException.DEADLINE_EXCEEDED:
                code = ARROW_CACHE_UNAVAILABLE;
                break;
            case ArrowCacheException.INVALID_ARGUMENT:
            case ArrowCacheException.NOT_FOUND:
                code = ARROW_CACHE_BAD_REQUEST;
                break;
            default:
                code = ARROW_CACHE_ERROR;
                break;
        }
        return new TrinoException(code, what + ": " + e.getMessage() + " [" + e.code() + "]", e);
    }

    static TrinoException nativeLibrary(LinkageError e) {
        return new TrinoException(ARROW_CACHE_NATIVE_LIBRARY, "the arrow-cache native bridge (libarrow_cache_bridge) cannot be used: "
                + e, e);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (client != null) {
            client.close();
            client = null;
        }
        allocator.close();
    }
}
