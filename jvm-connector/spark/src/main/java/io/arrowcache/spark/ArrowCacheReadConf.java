package io.arrowcache.spark;

import io.arrowcache.client.ArrowCacheClient;
import io.arrowcache.scan.ScanRequest;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The read options of the {@code arrow-cache} source and of catalog tables:
 * {@code cache.cluster} (host:port of any node's control plane), {@code table.id} (namespace.table;
 * {@code load("ns.tbl")} works too), {@code cache.connect-timeout-ms}, and at most one snapshot
 * selector, named as in Iceberg's Spark reads: {@code snapshot-id}, {@code as-of-timestamp}
 * (milliseconds since the epoch), {@code branch} (the branch's head, read with the table's current
 * schema) or {@code tag} (the tagged snapshot, read with its own schema). A bad value is an
 * {@link IllegalArgumentException} naming the option. The snapshot selectors are parsed and
 * checked by {@link ScanRequest.Builder#withOptions}, as for every connector; this class checks
 * the Spark-only options (cluster, table, timeout, unknown names).
 */
public final class ArrowCacheReadConf implements Serializable {
    private static final long serialVersionUID = 3L;

    public static final String CLUSTER = "cache.cluster";
    public static final String TABLE_ID = "table.id";
    public static final String SNAPSHOT_ID = ScanRequest.SNAPSHOT_ID_OPTION;
    public static final String AS_OF_TIMESTAMP = ScanRequest.AS_OF_TIMESTAMP_OPTION;
    public static final String BRANCH = ScanRequest.BRANCH_OPTION;
    public static final String TAG = ScanRequest.TAG_OPTION;
    public static final String CONNECT_TIMEOUT_MS = "cache.connect-timeout-ms";
    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

    /** Options Spark itself passes ({@code load(path)}). */
    private static final String PATH = "path";
    private static final List<String> DOCUMENTED = Arrays.asList(
            CLUSTER, TABLE_ID, SNAPSHOT_ID, AS_OF_TIMESTAMP, BRANCH, TAG, CONNECT_TIMEOUT_MS);
    private static final Set<String> KNOWN = new HashSet<>(DOCUMENTED);

    static {
        KNOWN.add(PATH);
        KNOWN.add("paths");
    }

    private final String cluster;
    private final long connectTimeoutMs;
    /** The table and the snapshot selector: what every scan of this read starts from. */
    private final ScanRequest selection;

    private ArrowCacheReadConf(String cluster, long connectTimeoutMs, ScanRequest selection) {
        this.cluster = cluster;
        this.connectTimeoutMs = connectTimeoutMs;
        this.selection = selection;
    }

    /** The option that selects this read's snapshot ({@code option=value}), or null for the current one. */
    String selectorOption() {
        return selection.selectorOption();
    }

    /** The options of {@code spark.read.format("arrow-cache")}. */
    public static ArrowCacheReadConf fromOptions(Map<String, String> options) {
        CaseInsensitiveStringMap o = options instanceof CaseInsensitiveStringMap
                ? (CaseInsensitiveStringMap) options : new CaseInsensitiveStringMap(options);
        checkKnown(o.keySet(), "arrow-cache");
        String cluster = o.get(CLUSTER);
        if (cluster == null || cluster.trim().isEmpty()) {
            throw new IllegalArgumentException("option " + CLUSTER + " is not set: give host:port of an arrow-cache node's control plane, "
                    + "e.g. .option(\"" + CLUSTER + "\", \"cache-node:8816\")");
        }
        String table = o.get(TABLE_ID);
        if (table == null || table.trim().isEmpty()) {
            table = o.get(PATH);
        }
        if (table == null || table.trim().isEmpty()) {
            throw new IllegalArgumentException("option " + TABLE_ID + " is not set: name the table as namespace.table, "
                    + "e.g. .option(\"" + TABLE_ID + "\", \"warehouse.sales_data\")");
        }
        String address = address(cluster, CLUSTER);
        long timeout = timeout(o);
        return new ArrowCacheReadConf(address, timeout, ScanRequest.builder(table.trim()).withOptions(o).build());
    }

    /**
     * A catalog table: the catalog's cluster, the identifier's name, and the snapshot selector its
     * identifier or AS OF clause gives, as read options ({@link ScanRequest#SELECTOR_OPTIONS}).
     */
    static ArrowCacheReadConf forCatalog(String cluster, long timeoutMs, String tableId, Map<String, String> selector) {
        return new ArrowCacheReadConf(cluster, timeoutMs, ScanRequest.builder(tableId).withOptions(selector).build());
    }

    /** This read with per-scan options applied: a snapshot selector among them replaces the table's. */
    ArrowCacheReadConf withScanOptions(CaseInsensitiveStringMap options) {
        if (options == null || options.isEmpty()) {
            return this;
        }
        checkKnown(options.keySet(), "arrow-cache");
        ScanRequest read = selection.toBuilder().withOptions(options).build();
        if (read.sameSnapshotSelection(selection)) {
            return this;
        }
        return new ArrowCacheReadConf(cluster, connectTimeoutMs, read);
    }

    static String address(String value, String option) {
        try {
            return ArrowCacheClient.checkAddress(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option " + option + ": " + e.getMessage(), e);
        }
    }

    static long timeout(CaseInsensitiveStringMap o) {
        Long t = longOption(o, CONNECT_TIMEOUT_MS);
        if (t == null) {
            return DEFAULT_CONNECT_TIMEOUT_MS;
        }
        if (t <= 0) {
            throw new IllegalArgumentException("option " + CONNECT_TIMEOUT_MS + " must be a positive number of milliseconds, got " + t);
        }
        return t;
    }

    /** A whole-number connector option (a timeout), or null when unset. */
    static Long longOption(Map<String, String> o, String key) {
        return ScanRequest.Builder.longOption(o, key);
    }

    private static void checkKnown(Set<String> keys, String source) {
        for (String k : keys) {
            if (!KNOWN.contains(k.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("unknown " + source + " option `" + k + "`; options are " + DOCUMENTED);
            }
        }
    }

    public String cluster() {
        return cluster;
    }

    public long connectTimeoutMs() {
        return connectTimeoutMs;
    }

    public String tableId() {
        return selection.table();
    }

    public Long snapshotId() {
        return selection.snapshotId();
    }

    public Long asOfTimestampMs() {
        return selection.asOfTimestampMs();
    }

    public String branch() {
        return selection.branch();
    }

    public String tag() {
        return selection.tag();
    }

    /** A scan request of this read's table and snapshot, to add columns, filter and limit to. */
    ScanRequest.Builder request() {
        return selection.toBuilder();
    }

    /** Whether both read the same table at the same snapshot selection from the same cluster (not the timeout). */
    boolean sameRead(ArrowCacheReadConf other) {
        return cluster.equals(other.cluster) && selection.equals(other.selection);
    }

    int readHashCode() {
        return 31 * cluster.hashCode() + selection.hashCode();
    }

    /** The options that recreate this read (table properties). */
    Map<String, String> toOptions() {
        Map<String, String> m = new HashMap<>();
        m.put(CLUSTER, cluster);
        m.put(TABLE_ID, tableId());
        m.put(CONNECT_TIMEOUT_MS, Long.toString(connectTimeoutMs));
        if (snapshotId() != null) {
            m.put(SNAPSHOT_ID, snapshotId().toString());
        }
        if (asOfTimestampMs() != null) {
            m.put(AS_OF_TIMESTAMP, asOfTimestampMs().toString());
        }
        if (branch() != null) {
            m.put(BRANCH, branch());
        }
        if (tag() != null) {
            m.put(TAG, tag());
        }
        return Collections.unmodifiableMap(m);
    }

    @Override
    public String toString() {
        String selector = selectorOption();
        return tableId() + (selector != null ? " (" + selector + ")" : "") + " on " + cluster;
    }
}
