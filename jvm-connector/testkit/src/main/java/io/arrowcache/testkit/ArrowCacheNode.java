package io.arrowcache.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code arrow-cache serve} process reading a SQL catalog (e.g. the SQLite database Spark's
 * Iceberg JDBC catalog writes), on free ports, with its config and logs in its work directory.
 * Configured like tests/support/node.py's base_config unless told otherwise: 1GB of memory
 * (80/10/10 pools), LRU eviction, {@code ttl_seconds} 600, no polling, {@code max_partition_size} 1GB.
 *
 * <pre>
 * try (ArrowCacheNode node = new ArrowCacheNode(dir, "jdbc:sqlite:/c.db", "iceberg", "file:///wh").start()) {
 *     ... node.cluster() ...   // host:port of the control plane, what the connectors take
 * }
 * </pre>
 * The binary is {@code ARROW_CACHE_BIN} (system property or environment) unless {@link #binary(String)}
 * names one. The node is stopped by {@link #close()}, and at JVM exit at the latest.
 */
public final class ArrowCacheNode implements AutoCloseable {
    private final Path workDir;
    private final Path config;
    private final Path stdout;
    private final Path stderr;
    private final String host;
    private final int flightPort;
    private final int grpcPort;
    private final int httpPort;

    private final String catalogUri;
    private final String catalogName;
    private final String warehouse;
    private String name = "";
    private String binary;
    private String totalMemory = "1GB";
    private Map<String, ?> objectStore;
    private long ttlSeconds = 600;
    private long pollIntervalMs = 0;
    private String splitSize;
    private String discovery;
    private String nodeId;
    private int replicationFactor;
    private Process process;

    public ArrowCacheNode(Path workDir, String catalogUri, String catalogName, String warehouse) throws IOException {
        this(workDir, "127.0.0.1", catalogUri, catalogName, warehouse);
    }

    /** A node bound to {@code host} (a loopback address such as 127.0.0.2 tells nodes apart). */
    public ArrowCacheNode(Path workDir, String host, String catalogUri, String catalogName, String warehouse) throws IOException {
        this.workDir = Files.createDirectories(workDir).toAbsolutePath();
        this.host = host;
        this.catalogUri = catalogUri;
        this.catalogName = catalogName;
        this.warehouse = warehouse;
        this.flightPort = Processes.freePort();
        this.grpcPort = Processes.freePort();
        this.httpPort = Processes.freePort();
        this.config = this.workDir.resolve("node.yaml");
        this.stdout = this.workDir.resolve("node.stdout.log");
        this.stderr = this.workDir.resolve("node.stderr.log");
    }

    /** A name for messages ("arrow-cache node `s3`"). */
    public ArrowCacheNode name(String name) {
        this.name = name;
        return this;
    }

    /** The arrow-cache binary to run, instead of ARROW_CACHE_BIN. */
    public ArrowCacheNode binary(String binary) {
        this.binary = binary;
        return this;
    }

    /** {@code memory.total_memory}, e.g. "6GB". */
    public ArrowCacheNode memory(String totalMemory) {
        this.totalMemory = totalMemory;
        return this;
    }

    /** Makes this node a member of a static cluster (discovery_service and the cluster section). */
    public ArrowCacheNode join(String discovery, String nodeId, int replicationFactor) {
        this.discovery = discovery;
        this.nodeId = nodeId;
        this.replicationFactor = replicationFactor;
        return this;
    }

    /**
     * Reads the warehouse from an object store: the {@code storage.object_store} section, as
     * tests/support/stores.py gives it (e.g. {@link ObjectStoreServer#nodeObjectStore()}).
     */
    public ArrowCacheNode objectStore(Map<String, ?> settings) {
        this.objectStore = settings;
        return this;
    }

    /** How fresh reads are: {@code caching.ttl_seconds} and {@code caching.poll_interval_ms} (0: no polling). */
    public ArrowCacheNode freshness(long ttlSeconds, long pollIntervalMs) {
        this.ttlSeconds = ttlSeconds;
        this.pollIntervalMs = pollIntervalMs;
        return this;
    }

    /** {@code caching.split_size}, e.g. "32MiB" (the node's default is 64MiB). */
    public ArrowCacheNode splitSize(String splitSize) {
        this.splitSize = splitSize;
        return this;
    }

    /** The configuration this node starts with, as YAML. */
    public String configYaml() {
        Map<String, Object> memory = new LinkedHashMap<>();
        memory.put("total_memory", totalMemory);
        memory.put("arrow_pool_percent", 80);
        memory.put("index_pool_percent", 10);
        memory.put("system_overhead_percent", 10);
        Map<String, Object> iceberg = new LinkedHashMap<>();
        iceberg.put("catalog_type", "sql");
        iceberg.put("catalog_uri", catalogUri);
        iceberg.put("catalog_name", catalogName);
        iceberg.put("warehouse", warehouse);
        Map<String, Object> storage = new LinkedHashMap<>();
        storage.put("iceberg", iceberg);
        if (objectStore != null) {
            storage.put("object_store", objectStore);
        }
        Map<String, Object> caching = new LinkedHashMap<>();
        caching.put("eviction_policy", "lru");
        caching.put("ttl_seconds", ttlSeconds);
        caching.put("poll_interval_ms", pollIntervalMs);
        caching.put("max_partition_size", "1GB");
        if (splitSize != null) {
            caching.put("split_size", splitSize);
        }
        Map<String, Object> networking = new LinkedHashMap<>();
        networking.put("flight_port", flightPort);
        networking.put("grpc_port", grpcPort);
        networking.put("http_port", httpPort);
        networking.put("bind_address", host);
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("memory", memory);
        node.put("storage", storage);
        node.put("caching", caching);
        node.put("networking", networking);
        if (discovery != null) {
            networking.put("discovery_service", discovery);
            Map<String, Object> cluster = new LinkedHashMap<>();
            cluster.put("node_id", nodeId);
            cluster.put("replication_factor", replicationFactor);
            cluster.put("heartbeat_interval_ms", 200);
            cluster.put("failure_timeout_ms", 1500);
            node.put("cluster", cluster);
        }
        return Yaml.write(Collections.singletonMap("cache_node", node));
    }

    /** The binary ARROW_CACHE_BIN names (system property, else environment), checked to be executable. */
    public static String binary() {
        String bin = System.getProperty("ARROW_CACHE_BIN");
        if (bin == null || bin.isEmpty()) {
            bin = System.getenv("ARROW_CACHE_BIN");
        }
        if (bin == null || bin.isEmpty()) {
            throw new IllegalStateException("ARROW_CACHE_BIN is not set: build the node (cargo build --release --locked --workspace) "
                    + "and point ARROW_CACHE_BIN at target/release/arrow-cache");
        }
        return executable(bin);
    }

    private static String executable(String bin) {
        File f = new File(bin);
        if (!f.isFile() || !f.canExecute()) {
            throw new IllegalStateException("ARROW_CACHE_BIN=" + bin + " is not an executable file");
        }
        return f.getAbsolutePath();
    }

    private String what() {
        return "arrow-cache node" + (name.isEmpty() ? "" : " `" + name + "`");
    }

    /** Writes the config, starts the node and waits until it is healthy (at most a minute). */
    public ArrowCacheNode start() throws IOException, InterruptedException {
        if (process != null) {
            throw new IllegalStateException(what() + " was started already");
        }
        Files.write(config, configYaml().getBytes(StandardCharsets.UTF_8));
        String bin = binary == null ? binary() : executable(binary);
        process = Processes.start(Arrays.asList(bin, "serve", "--config", config.toString()), workDir, stdout, stderr,
                Collections.singletonMap("RUST_BACKTRACE", "1"), what());
        Processes.waitHealthy(process, "http://" + host + ":" + httpPort + "/health", what(), this::logs);
        return this;
    }

    /** host:port of the control plane, what {@code cache.cluster} takes. */
    public String cluster() {
        return host + ":" + grpcPort;
    }

    public String host() {
        return host;
    }

    /** Kills the process at once (SIGKILL), as a crashed node. */
    public void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** CPU time the node's process has used (user + system), from /proc; 0 once it is gone. */
    public long cpuNanos() {
        return process == null ? 0 : Processes.cpuNanos(process.pid());
    }

    /** The node's resident memory in MiB (from /proc), or -1 when unknown. */
    public long residentMiB() {
        return process == null ? -1 : Processes.residentMiB(process.pid());
    }

    /** The config and the ends of the node's stderr and stdout, for failure messages. */
    public String logs() {
        return "\n--- config " + config + ":\n" + Processes.tail(config, Integer.MAX_VALUE) + "--- stderr:\n"
                + Processes.tail(stderr, 6000) + "\n--- stdout:\n" + Processes.tail(stdout, 6000);
    }

    /** Stops the node (SIGTERM, then SIGKILL after 10 s). */
    @Override
    public void close() {
        Processes.stop(process);
    }

    @Override
    public String toString() {
        return what() + " at " + cluster();
    }
}
