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

    private Table load(Identifier ident, Long snapshotId, Long asOfMs, String branch, String tag) throws NoSuchTableException {
        if (ident.namespace().length == 0) {
            throw new NoSuchTableException(ident);
        }
        ArrowCacheReadConf conf = ArrowCacheReadConf.forCatalog(cluster, connectTimeoutMs, tableId(ident), snapshotId, asOfMs, branch, tag);
        return ArrowCacheTables.load(conf);  // NoSuchTableException is thrown through
    }

    /**
     * A table, or (as in Iceberg's SparkCatalog) a table whose last name part selects a snapshot:
     * {@code ns.tbl.branch_<name>}, {@code ns.tbl.tag_<name>}, {@code ns.tbl.snapshot_id_<id>} or
     * {@code ns.tbl.at_timestamp_<ms>}. A real table of that name wins.
     */
    @Override
    public Table loadTable(Identifier ident) throws NoSuchTableException {
        try {
            return load(ident, null, null, null, null);
        } catch (NoSuchTableException e) {
            String[] ns = ident.namespace();
            Matcher m;
            if (ns.length < 2) {
                throw e;
            }
            Identifier table = Identifier.of(Arrays.copyOf(ns, ns.length - 1), ns[ns.length - 1]);
            if ((m = BRANCH.matcher(ident.name())).matches()) {
                return load(table, null, null, m.group(1), null);
            } else if ((m = TAG.matcher(ident.name())).matches()) {
                return load(table, null, null, null, m.group(1));
            } else if ((m = SNAPSHOT_ID.matcher(ident.name())).matches()) {
                return load(table, Long.parseLong(m.group(1)), null, null, null);
            } else if ((m = AT_TIMESTAMP.matcher(ident.name())).matches()) {
                return load(table, null, Long.parseLong(m.group(1)), null, null);
            }
            throw e;
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
        Long snapshotId = null;
        try {
            snapshotId = Long.parseLong(v);
        } catch (NumberFormatException e) {
            // A branch or tag name.
        }
        try {
            return snapshotId != null ? load(ident, snapshotId, null, null, null) : load(ident, null, null, null, version);
        } catch (NoSuchTableException e) {
            throw selectedTwice(ident, e);
        }
    }

    /** {@code TIMESTAMP AS OF}: Spark gives microseconds, the cache takes milliseconds. */
    @Override
    public Table loadTable(Identifier ident, long timestampMicros) throws NoSuchTableException {
        try {
            return load(ident, null, Math.floorDiv(timestampMicros, 1000L), null, null);
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
