package io.arrowcache.spark;

import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.NamespaceChange;
import org.apache.spark.sql.connector.catalog.SupportsNamespaces;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCatalog;
import org.apache.spark.sql.connector.catalog.TableChange;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.arrowcache.client.ArrowCacheClient;
import io.arrowcache.scan.Json;
import io.arrowcache.scan.ScanRequest;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A read-only Spark catalog over an arrow-cache cluster:
 * <pre>
 * spark.sql.catalog.cache = io.arrowcache.spark.ArrowCacheCatalog
 * spark.sql.catalog.cache.cluster = cache-node:8816
 * SELECT * FROM cache.ns.tbl [VERSION AS OF snapshot-id | VERSION AS OF 'branch-or-tag' | TIMESTAMP AS OF ts]
 * SELECT * FROM cache.ns.tbl.branch_audit      -- also tag_v1, snapshot_id_N, at_timestamp_MS (as Iceberg)
 * </pre>
 * Catalog options: {@code cluster} (required) and {@code connect-timeout-ms}.
 */
public class ArrowCacheCatalog implements TableCatalog, SupportsNamespaces {
    public static final String CLUSTER = "cluster";
    public static final String CONNECT_TIMEOUT_MS = "connect-timeout-ms";
    // The snapshot selectors Iceberg's SparkCatalog reads from an identifier's last part.
    private static final Pattern BRANCH = Pattern.compile("branch_(.+)");
    private static final Pattern TAG = Pattern.compile("tag_(.+)");
    private static final Pattern SNAPSHOT_ID = Pattern.compile("snapshot_id_(\\d+)");
    private static final Pattern AT_TIMESTAMP = Pattern.compile("at_timestamp_(\\d+)");

    private String name;
    private String cluster;
    private long connectTimeoutMs;

    @Override
    public void initialize(String name, CaseInsensitiveStringMap options) {
        this.name = name;
        String c = options.get(CLUSTER);
        if (c == null || c.trim().isEmpty()) {
            throw new IllegalArgumentException("spark.sql.catalog." + name + "." + CLUSTER
                    + " is not set: give host:port of an arrow-cache node's control plane, e.g. cache-node:8816");
        }
        this.cluster = ArrowCacheReadConf.address(c, "spark.sql.catalog." + name + "." + CLUSTER);
        Long t = ArrowCacheReadConf.longOption(options, CONNECT_TIMEOUT_MS);
        if (t != null && t <= 0) {
            throw new IllegalArgumentException("spark.sql.catalog." + name + "." + CONNECT_TIMEOUT_MS + " must be positive, got " + t);
        }
        this.connectTimeoutMs = t == null ? ArrowCacheReadConf.DEFAULT_CONNECT_TIMEOUT_MS : t;
    }

    @Override
    public String name() {
        return name;
    }

    static String tableId(Identifier ident) {
        StringBuilder b = new StringBuilder();
        for (String ns : ident.namespace()) {
            b.append(ns).append('.');
        }
        return b.append(ident.name()).toString();
    }

    /**
     * The table read at the snapshot {@code selector} selects: none (the current state) or one of
     * the read options {@link ScanRequest#SELECTOR_OPTIONS}, which ScanRequest parses and checks
     * as it does the {@code arrow-cache} source's options.
     */
    private Table load(Identifier ident, Map<String, String> selector) throws NoSuchTableException {
        if (ident.namespace().length == 0) {
            throw new NoSuchTableException(ident);
        }
        ArrowCacheReadConf conf = ArrowCacheReadConf.forCatalog(cluster, connectTimeoutMs, tableId(ident), selector);
        return ArrowCacheTables.load(conf);  // NoSuchTableException is thrown through
    }

    private static Map<String, String> select(String option, String value) {
        return Collections.singletonMap(option, value);
    }

    /**
     * A table, or (as in Iceberg's SparkCatalog) a table whose last name part selects a snapshot:
     * {@code ns.tbl.branch_<name>}, {@code ns.tbl.tag_<name>}, {@code ns.tbl.snapshot_id_<id>} or
     * {@code ns.tbl.at_timestamp_<ms>}. A real table of that name wins.
     */
    @Override
    public Table loadTable(Identifier ident) throws NoSuchTableException {
        try {
            return load(ident, Collections.emptyMap());
        } catch (NoSuchTableException e) {
            String[] ns = ident.namespace();
            Matcher m;
            if (ns.length < 2) {
                throw e;
            }
            Identifier table = Identifier.of(Arrays.copyOf(ns, ns.length - 1), ns[ns.length - 1]);
            Map<String, String> selector;
            if ((m = BRANCH.matcher(ident.name())).matches()) {
                selector = select(ScanRequest.BRANCH_OPTION, m.group(1));
            } else if ((m = TAG.matcher(ident.name())).matches()) {
                selector = select(ScanRequest.TAG_OPTION, m.group(1));
            } else if ((m = SNAPSHOT_ID.matcher(ident.name())).matches()) {
                selector = select(ScanRequest.SNAPSHOT_ID_OPTION, m.group(1));
            } else if ((m = AT_TIMESTAMP.matcher(ident.name())).matches()) {
                selector = select(ScanRequest.AS_OF_TIMESTAMP_OPTION, m.group(1));
            } else {
                throw e;
            }
            ArrowCacheReadConf conf;
            try {
                conf = ArrowCacheReadConf.forCatalog(cluster, connectTimeoutMs, tableId(table), selector);
            } catch (IllegalArgumentException bad) {
                // e.g. a snapshot id past 64 bits: name the identifier it came from
                throw new IllegalArgumentException("table " + tableId(ident) + ": " + bad.getMessage(), bad);
            }
            return ArrowCacheTables.load(conf);
        }
    }

    /**
     * {@code VERSION AS OF <snapshot-id>} or {@code VERSION AS OF '<branch or tag>'}. A name is read
     * as a tag, with the schema of the snapshot it names: the cluster resolves branch and tag names
     * alike but does not tell which a name is. (Iceberg reads a branch named here with the table's
     * current schema; the two differ only when the schema changed after the branch's last commit.)
     */
    @Override
    public Table loadTable(Identifier ident, String version) throws NoSuchTableException {
        String v = version.trim();
        if (v.isEmpty()) {
            throw new IllegalArgumentException("VERSION AS OF needs an Iceberg snapshot id or a branch or tag name, got an empty string");
        }
        boolean isSnapshotId;
        try {
            Long.parseLong(v);
            isSnapshotId = true;
        } catch (NumberFormatException e) {
            isSnapshotId = false;  // a branch or tag name
        }
        try {
            return load(ident, isSnapshotId ? select(ScanRequest.SNAPSHOT_ID_OPTION, v) : select(ScanRequest.TAG_OPTION, version));
        } catch (NoSuchTableException e) {
            throw selectedTwice(ident, e);
        }
    }

    /** {@code TIMESTAMP AS OF}: Spark gives microseconds, the cache takes milliseconds. */
    @Override
    public Table loadTable(Identifier ident, long timestampMicros) throws NoSuchTableException {
        try {
            return load(ident, select(ScanRequest.AS_OF_TIMESTAMP_OPTION, Long.toString(Math.floorDiv(timestampMicros, 1000L))));
        } catch (NoSuchTableException e) {
            throw selectedTwice(ident, e);
        }
    }

    /** As Iceberg, {@code tbl.branch_x VERSION AS OF ...} is refused: it selects two snapshots. */
    private static NoSuchTableException selectedTwice(Identifier ident, NoSuchTableException notFound) {
        String n = ident.name();
        if (ident.namespace().length >= 2 && (BRANCH.matcher(n).matches() || TAG.matcher(n).matches()
                || SNAPSHOT_ID.matcher(n).matches() || AT_TIMESTAMP.matcher(n).matches())) {
            throw new IllegalArgumentException("cannot time travel by both the table name (" + n + ") and AS OF; use one of them");
        }
        return notFound;
    }

    @Override
    public Identifier[] listTables(String[] namespace) {
        ObjectNode body = Json.NODES.objectNode().put("namespace", String.join(".", namespace));
        JsonNode tables = ArrowCacheClient.shared(cluster, connectTimeoutMs).call("list_tables", body).path("tables");
        java.util.List<Identifier> out = new java.util.ArrayList<>();
        for (JsonNode t : tables) {
            String[] parts = t.asText().split("\\.");
            out.add(Identifier.of(java.util.Arrays.copyOf(parts, parts.length - 1), parts[parts.length - 1]));
        }
        return out.toArray(new Identifier[0]);
    }

    @Override
    public void invalidateTable(Identifier ident) {
        // Nothing is cached on the Spark side.
    }

    @Override
    @SuppressWarnings("deprecation")
    public Table createTable(Identifier ident, StructType schema, Transform[] partitions, Map<String, String> properties) {
        throw readOnly("create table " + tableId(ident));
    }

    @Override
    public Table alterTable(Identifier ident, TableChange... changes) {
        throw readOnly("alter table " + tableId(ident));
    }

    @Override
    public boolean dropTable(Identifier ident) {
        throw readOnly("drop table " + tableId(ident));
    }

    @Override
    public void renameTable(Identifier oldIdent, Identifier newIdent) {
        throw readOnly("rename table " + tableId(oldIdent));
    }

    @Override
    public String[][] listNamespaces() {
        return new String[0][];
    }

    @Override
    public String[][] listNamespaces(String[] namespace) {
        return new String[0][];
    }

    /** Any namespace may hold tables; whether a table exists is decided when it is loaded. */
    @Override
    public Map<String, String> loadNamespaceMetadata(String[] namespace) throws NoSuchNamespaceException {
        return Collections.emptyMap();
    }

    @Override
    public void createNamespace(String[] namespace, Map<String, String> metadata) {
        throw readOnly("create namespace");
    }

    @Override
    public void alterNamespace(String[] namespace, NamespaceChange... changes) {
        throw readOnly("alter namespace");
    }

    @Override
    public boolean dropNamespace(String[] namespace, boolean cascade) {
        throw readOnly("drop namespace");
    }

    private UnsupportedOperationException readOnly(String what) {
        return new UnsupportedOperationException("arrow-cache catalog " + name + " is read-only: cannot " + what
                + "; write through the table's own catalog");
    }
}
