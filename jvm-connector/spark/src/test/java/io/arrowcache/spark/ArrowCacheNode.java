package io.arrowcache.spark;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.arrowcache.scan.Json;

/**
 * One {@code arrow-cache serve} process for the tests, configured like tests/support/node.py's
 * base_config: a SQL catalog (the SQLite database Spark's Iceberg JDBC catalog writes), free ports,
 * logs in its work directory. The binary comes from ARROW_CACHE_BIN.
 */
public final class ArrowCacheNode implements AutoCloseable {
    private static final long HEALTH_TIMEOUT_MS = 60_000;

    private final Path workDir;
    private final Path config;
    private final Path stdout;
    private final Path stderr;
    private final int flightPort;
    private final int grpcPort;
    private final int httpPort;
    private Process process;

    private final String host;
    private final String catalogUri;
    private final String catalogName;
    private final String warehouse;
    private String cluster = "";
    private String objectStore = "";
    private long ttlSeconds = 600;
    private long pollIntervalMs = 0;

    public ArrowCacheNode(Path workDir, String catalogUri, String catalogName, String warehouse) throws IOException {
        this(workDir, "127.0.0.1", catalogUri, catalogName, warehouse);
    }

    public ArrowCacheNode(Path workDir, String host, String catalogUri, String catalogName, String warehouse) throws IOException {
        this.workDir = Files.createDirectories(workDir);
        this.host = host;
        this.catalogUri = catalogUri;
        this.catalogName = catalogName;
        this.warehouse = warehouse;
        this.flightPort = freePort();
        this.grpcPort = freePort();
        this.httpPort = freePort();
        this.config = workDir.resolve("node.yaml");
        this.stdout = workDir.resolve("node.stdout.log");
        this.stderr = workDir.resolve("node.stderr.log");
        writeConfig();
    }

    /** Makes this node a member of a static cluster (discovery_service and the cluster section). */
    public ArrowCacheNode join(String discovery, String nodeId, int replicationFactor) throws IOException {
        this.cluster = "    discovery_service: \"" + discovery + "\"\n"
                + "  cluster:\n"
                + "    node_id: \"" + nodeId + "\"\n"
                + "    replication_factor: " + replicationFactor + "\n"
                + "    heartbeat_interval_ms: 200\n"
                + "    failure_timeout_ms: 1500\n";
        writeConfig();
        return this;
    }

    /**
     * Reads the warehouse from an object store: the {@code storage.object_store} section, as
     * tests/support/stores.py gives it (written as JSON, which YAML reads).
     */
    public ArrowCacheNode objectStore(Map<String, ?> settings) throws IOException {
        this.objectStore = "    object_store: " + Json.write(Json.MAPPER.valueToTree(settings)) + "\n";
        writeConfig();
        return this;
    }

    /** How fresh reads are: {@code caching.ttl_seconds} and {@code caching.poll_interval_ms} (0: no polling). */
    public ArrowCacheNode freshness(long ttlSeconds, long pollIntervalMs) throws IOException {
        this.ttlSeconds = ttlSeconds;
        this.pollIntervalMs = pollIntervalMs;
        writeConfig();
        return this;
    }

    private void writeConfig() throws IOException {
        String yaml = "cache_node:\n"
                + "  memory:\n"
                + "    total_memory: \"1GB\"\n"
                + "    arrow_pool_percent: 80\n"
                + "    index_pool_percent: 10\n"
                + "    system_overhead_percent: 10\n"
                + "  storage:\n"
                + "    iceberg:\n"
                + "      catalog_type: sql\n"
                + "      catalog_uri: \"" + catalogUri + "\"\n"
                + "      catalog_name: \"" + catalogName + "\"\n"
                + "      warehouse: \"" + warehouse + "\"\n"
                + objectStore
                + "  caching:\n"
                + "    eviction_policy: lru\n"
                + "    ttl_seconds: " + ttlSeconds + "\n"
                + "    poll_interval_ms: " + pollIntervalMs + "\n"
                + "    max_partition_size: \"1GB\"\n"
                + "  networking:\n"
                + "    flight_port: " + flightPort + "\n"
                + "    grpc_port: " + grpcPort + "\n"
                + "    http_port: " + httpPort + "\n"
                + "    bind_address: \"" + host + "\"\n"
                + cluster;
        Files.write(config, yaml.getBytes(StandardCharsets.UTF_8));
    }

    public static String binary() {
        String bin = System.getProperty("ARROW_CACHE_BIN");
        if (bin == null || bin.isEmpty()) {
            bin = System.getenv("ARROW_CACHE_BIN");
        }
        if (bin == null || bin.isEmpty()) {
            throw new IllegalStateException("ARROW_CACHE_BIN is not set: build the node (cargo build --release -p arrow-cache) "
                    + "and point ARROW_CACHE_BIN at target/release/arrow-cache");
        }
        File f = new File(bin);
        if (!f.isFile() || !f.canExecute()) {
            throw new IllegalStateException("ARROW_CACHE_BIN=" + bin + " is not an executable file");
        }
        return f.getAbsolutePath();
    }

    public ArrowCacheNode start() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(binary(), "serve", "--config", config.toString())
                .directory(workDir.toFile())
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("RUST_BACKTRACE", "1");
        process = pb.start();
        long deadline = System.currentTimeMillis() + HEALTH_TIMEOUT_MS;
        String last = "no answer";
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("arrow-cache node exited with code " + process.exitValue() + " before it was healthy" + logs());
            }
            try {
                HttpURLConnection c = (HttpURLConnection) new URL("http://" + host + ":" + httpPort + "/health").openConnection();
                c.setConnectTimeout(2000);
                c.setReadTimeout(2000);
                int status = c.getResponseCode();
                c.disconnect();
                if (status == 200) {
                    return this;
                }
                last = "HTTP " + status;
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        close();
        throw new IllegalStateException("arrow-cache node not healthy after " + HEALTH_TIMEOUT_MS + " ms (" + last + ")" + logs());
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

    public String logs() {
        return "\n--- config " + config + ":\n" + read(config) + "--- stderr:\n" + tail(read(stderr)) + "\n--- stdout:\n" + tail(read(stdout));
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? new String(Files.readAllBytes(p), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(String s) {
        return s.length() <= 6000 ? s : s.substring(s.length() - 6000);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
