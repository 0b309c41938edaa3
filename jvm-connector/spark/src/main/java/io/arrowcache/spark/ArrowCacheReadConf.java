package io.arrowcache.spark;

import io.arrowcache.client.ArrowCacheClient;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The read options of the {@code arrow-cache} source and of catalog tables:
 * {@code cache.cluster} (host:port of any node's control plane), {@code table.id} (namespace.table;
 * {@code load("ns.tbl")} works too), {@code cache.connect-timeout-ms}, and at most one snapshot
 * selector, named as in Iceberg's Spark reads: {@code snapshot-id}, {@code as-of-timestamp}
 * (milliseconds since the epoch), {@code branch} (the branch's head, read with the table's current
 * schema) or {@code tag} (the tagged snapshot, read with its own schema). A bad value is an
 * {@link IllegalArgumentException} naming the option.
 */
public final class ArrowCacheReadConf implements Serializable {
    private static final long serialVersionUID = 2L;

    public static final String CLUSTER = "cache.cluster";
    public static final String TABLE_ID = "table.id";
    public static final String SNAPSHOT_ID = "snapshot-id";
    public static final String AS_OF_TIMESTAMP = "as-of-timestamp";
    public static final String BRANCH = "branch";
    public static final String TAG = "tag";
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
    private final String tableId;
    private final Long snapshotId;
    private final Long asOfTimestampMs;
    private final String branch;
    private final String tag;

    private ArrowCacheReadConf(String cluster, long connectTimeoutMs, String tableId, Long snapshotId, Long asOfTimestampMs,
                               String branch, String tag) {
        this.cluster = cluster;
        this.connectTimeoutMs = connectTimeoutMs;
        this.tableId = tableId;
        this.snapshotId = snapshotId;
        this.asOfTimestampMs = asOfTimestampMs;
        this.branch = branch;
        this.tag = tag;
        List<String> given = selectorOptions();
        if (given.size() > 1) {
            throw new IllegalArgumentException("options " + String.join(" and ", given) + (given.size() == 2 ? " both" : " all")
                    + " select a snapshot; give only one of "
                    + SNAPSHOT_ID + ", " + AS_OF_TIMESTAMP + ", " + BRANCH + " and " + TAG);
        }
    }

    /** The snapshot selectors this read sets, as {@code option=value}. */
    private List<String> selectorOptions() {
        List<String> given = new ArrayList<>();
        if (snapshotId != null) {
            given.add(SNAPSHOT_ID + "=" + snapshotId);
        }
        if (asOfTimestampMs != null) {
            given.add(AS_OF_TIMESTAMP + "=" + asOfTimestampMs);
        }
        if (branch != null) {
            given.add(BRANCH + "=" + branch);
        }
        if (tag != null) {
            given.add(TAG + "=" + tag);
        }
        return given;
    }

    /** The option that selects this read's snapshot ({@code option=value}), or null for the current one. */
    String selectorOption() {
        List<String> given = selectorOptions();
        return given.isEmpty() ? null : given.get(0);
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
        return new ArrowCacheReadConf(address(cluster, CLUSTER), timeout(o), table.trim(),
                longOption(o, SNAPSHOT_ID), longOption(o, AS_OF_TIMESTAMP), refOption(o, BRANCH), refOption(o, TAG));
    }

    /** A catalog table: the catalog's cluster, the identifier's name, and at most one snapshot selector. */
    static ArrowCacheReadConf forCatalog(String cluster, long timeoutMs, String tableId, Long snapshotId, Long asOfMs,
                                         String branch, String tag) {
        return new ArrowCacheReadConf(cluster, timeoutMs, tableId, snapshotId, asOfMs, branch, tag);
    }

    /** This read with per-scan options applied: a snapshot selector among them replaces the table's. */
    ArrowCacheReadConf withScanOptions(CaseInsensitiveStringMap options) {
        if (options == null || options.isEmpty()) {
            return this;
        }
        checkKnown(options.keySet(), "arrow-cache");
        Long snap = longOption(options, SNAPSHOT_ID);
        Long asOf = longOption(options, AS_OF_TIMESTAMP);
        String br = refOption(options, BRANCH);
        String tg = refOption(options, TAG);
        if (snap == null && asOf == null && br == null && tg == null) {
            return this;
        }
        if (Objects.equals(snap, snapshotId) && Objects.equals(asOf, asOfTimestampMs) && Objects.equals(br, branch)
                && Objects.equals(tg, tag)) {
            return this;
        }
        return new ArrowCacheReadConf(cluster, connectTimeoutMs, tableId, snap, asOf, br, tg);
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

    static Long longOption(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null || v.trim().isEmpty()) {
            return null;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            String what = key.equals(AS_OF_TIMESTAMP) ? "milliseconds since the epoch" : "a whole number";
            throw new IllegalArgumentException("option " + key + " must be " + what + ", got `" + v + "`");
        }
    }

    /** A branch or tag name: used as given (names may hold any character), but not blank. */
    static String refOption(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            return null;
        }
        if (v.trim().isEmpty()) {
            throw new IllegalArgumentException("option " + key + " must name a " + key + " of the table, got an empty value");
        }
        return v;
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
        return tableId;
    }

    public Long snapshotId() {
        return snapshotId;
    }

    public Long asOfTimestampMs() {
        return asOfTimestampMs;
    }

    public String branch() {
        return branch;
    }

    public String tag() {
        return tag;
    }

    /** The options that recreate this read (table properties). */
    Map<String, String> toOptions() {
        Map<String, String> m = new HashMap<>();
        m.put(CLUSTER, cluster);
        m.put(TABLE_ID, tableId);
        m.put(CONNECT_TIMEOUT_MS, Long.toString(connectTimeoutMs));
        if (snapshotId != null) {
            m.put(SNAPSHOT_ID, snapshotId.toString());
        }
        if (asOfTimestampMs != null) {
            m.put(AS_OF_TIMESTAMP, asOfTimestampMs.toString());
        }
        if (branch != null) {
            m.put(BRANCH, branch);
        }
        if (tag != null) {
            m.put(TAG, tag);
        }
        return Collections.unmodifiableMap(m);
    }

    @Override
    public String toString() {
        String selector = selectorOption();
        return tableId + (selector != null ? " (" + selector + ")" : "") + " on " + cluster;
    }
}
