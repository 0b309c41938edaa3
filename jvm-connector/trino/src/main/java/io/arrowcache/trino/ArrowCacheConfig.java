package io.arrowcache.trino;

import io.arrowcache.client.ArrowCacheClient;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The catalog properties of {@code connector.name=arrow-cache}. Parsing is strict, like Trino's own
 * connectors: a missing required property, a malformed value or an unknown {@code arrow-cache.*}
 * name fails catalog creation with a message naming the property.
 *
 * <pre>
 * arrow-cache.cluster=cache-node:8816          # required: control plane(s), host:port[,host:port]
 * arrow-cache.connect-timeout=10s              # per address tried when connecting
 * arrow-cache.max-rows-per-page=8192           # Arrow batches are cut into pages of at most this
 * # Not yet supported by arrow-cache clusters (they serve plain gRPC without authentication);
 * # setting any of them fails catalog creation, so that nobody believes they are in effect:
 * arrow-cache.tls.enabled=false
 * arrow-cache.tls.truststore-path=...
 * arrow-cache.tls.truststore-password=...
 * arrow-cache.auth.user=... / arrow-cache.auth.password=... / arrow-cache.auth.token=...
 * </pre>
 */
public final class ArrowCacheConfig {
    public static final String CLUSTER = "arrow-cache.cluster";
    public static final String CONNECT_TIMEOUT = "arrow-cache.connect-timeout";
    public static final String MAX_ROWS_PER_PAGE = "arrow-cache.max-rows-per-page";
    public static final String TLS_ENABLED = "arrow-cache.tls.enabled";
    public static final String TLS_TRUSTSTORE_PATH = "arrow-cache.tls.truststore-path";
    public static final String TLS_TRUSTSTORE_PASSWORD = "arrow-cache.tls.truststore-password";
    public static final String AUTH_USER = "arrow-cache.auth.user";
    public static final String AUTH_PASSWORD = "arrow-cache.auth.password";
    public static final String AUTH_TOKEN = "arrow-cache.auth.token";

    private static final String[] KNOWN = {CLUSTER, CONNECT_TIMEOUT, MAX_ROWS_PER_PAGE, TLS_ENABLED,
            TLS_TRUSTSTORE_PATH, TLS_TRUSTSTORE_PASSWORD, AUTH_USER, AUTH_PASSWORD, AUTH_TOKEN};
    private static final String[] NOT_YET = {TLS_TRUSTSTORE_PATH, TLS_TRUSTSTORE_PASSWORD, AUTH_USER, AUTH_PASSWORD, AUTH_TOKEN};

    static final long DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
    static final int DEFAULT_MAX_ROWS_PER_PAGE = 8192;

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d)");

    private final String cluster;
    private final long connectTimeoutMillis;
    private final int maxRowsPerPage;

    private ArrowCacheConfig(String cluster, long connectTimeoutMillis, int maxRowsPerPage) {
        this.cluster = cluster;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.maxRowsPerPage = maxRowsPerPage;
    }

    /** Parses the catalog's properties; IllegalArgumentException names the property at fault. */
    public static ArrowCacheConfig parse(Map<String, String> properties) {
        Map<String, String> config = new LinkedHashMap<>(properties == null ? Collections.emptyMap() : properties);
        TreeSet<String> unknown = new TreeSet<>(config.keySet());
        for (String known : KNOWN) {
            unknown.remove(known);
        }
        if (!unknown.isEmpty()) {
            String first = unknown.first();
            throw new IllegalArgumentException("Configuration property '" + first + "' was not used: the arrow-cache connector knows "
                    + String.join(", ", KNOWN) + (unknown.size() > 1 ? " (also unknown: " + String.join(", ", unknown.tailSet(first, false)) + ")" : ""));
        }

        String cluster = config.get(CLUSTER);
        if (cluster == null || cluster.trim().isEmpty()) {
            throw new IllegalArgumentException("Configuration property '" + CLUSTER + "' is required: the control-plane address of an "
                    + "arrow-cache node (host:port, default port 8816), e.g. " + CLUSTER + "=cache-node:8816");
        }
        try {
            cluster = ArrowCacheClient.checkAddress(cluster);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Invalid value for configuration property '" + CLUSTER + "': " + e.getMessage(), e);
        }

        long timeout = DEFAULT_CONNECT_TIMEOUT_MS;
        if (config.containsKey(CONNECT_TIMEOUT)) {
            timeout = parseDurationMillis(CONNECT_TIMEOUT, config.get(CONNECT_TIMEOUT));
        }

        int maxRows = DEFAULT_MAX_ROWS_PER_PAGE;
        if (config.containsKey(MAX_ROWS_PER_PAGE)) {
            String value = config.get(MAX_ROWS_PER_PAGE).trim();
            try {
                maxRows = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                maxRows = -1;
            }
            if (maxRows < 1 || maxRows > 1 << 20) {
                throw new IllegalArgumentException("Invalid value '" + value + "' for configuration property '" + MAX_ROWS_PER_PAGE
                        + "': expected a number of rows from 1 to 1048576");
            }
        }

        if (config.containsKey(TLS_ENABLED)) {
            String value = config.get(TLS_ENABLED).trim().toLowerCase(Locale.ROOT);
            if (!value.equals("true") && !value.equals("false")) {
                throw new IllegalArgumentException("Invalid value '" + config.get(TLS_ENABLED) + "' for configuration property '"
                        + TLS_ENABLED + "': expected true or false");
            }
            if (value.equals("true")) {
                throw notYet(TLS_ENABLED);
            }
        }
        for (String name : NOT_YET) {
            if (config.containsKey(name)) {
                throw notYet(name);
            }
        }
        return new ArrowCacheConfig(cluster, timeout, maxRows);
    }

    private static IllegalArgumentException notYet(String property) {
        return new IllegalArgumentException("Configuration property '" + property + "' is not supported yet: arrow-cache clusters "
                + "serve plain gRPC without TLS or authentication; remove it (and keep the cluster on a trusted network)");
    }

    static long parseDurationMillis(String property, String value) {
        Matcher m = DURATION.matcher(value == null ? "" : value.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("Invalid value '" + value + "' for configuration property '" + property
                    + "': expected a duration such as 500ms, 10s or 2m");
        }
        double amount = Double.parseDouble(m.group(1));
        double millis;
        switch (m.group(2)) {
            case "ns": millis = amount / 1e6; break;
            case "us": millis = amount / 1e3; break;
            case "ms": millis = amount; break;
            case "s": millis = amount * 1e3; break;
            case "m": millis = amount * 60e3; break;
            case "h": millis = amount * 3600e3; break;
            default: millis = amount * 86400e3; break;
        }
        if (millis < 1 || millis > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Invalid value '" + value + "' for configuration property '" + property
                    + "': expected a duration from 1ms to 24d");
        }
        return (long) millis;
    }

    /** host:port[,host:port...] of control planes. */
    public String cluster() {
        return cluster;
    }

    public long connectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    public int maxRowsPerPage() {
        return maxRowsPerPage;
    }

    @Override
    public String toString() {
        return "ArrowCacheConfig{cluster=" + cluster + ", connectTimeoutMillis=" + connectTimeoutMillis + ", maxRowsPerPage=" + maxRowsPerPage + "}";
    }
}
