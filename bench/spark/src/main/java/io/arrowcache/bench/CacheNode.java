package io.arrowcache.bench;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One {@code arrow-cache serve} process reading a SQL catalog (the SQLite database Spark's Iceberg
 * JDBC catalog writes), on free loopback ports, optionally with its files on S3. Configured like
 * the connector's JUnit tests start nodes (jvm-connector's ArrowCacheNode), with room for SF 1.
 */
final class CacheNode implements AutoCloseable {
    private static final long HEALTH_TIMEOUT_MS = 60_000;

    final String name;
    private final Path workDir;
    private final int grpcPort;
    private final int httpPort;
    private final Process process;

    /**
     * @param objectStore the {@code storage.object_store} section's lines (indented by six spaces),
     *                    or "" for local files
     * @param splitSize   {@code caching.split_size}, or null for the node's default (64MiB)
     */
    CacheNode(String name, Path workDir, String binary, String catalogUri, String catalogName, String warehouse,
              String objectStore, String memory, String splitSize) throws IOException, InterruptedException {
        this.name = name;
        this.workDir = Files.createDirectories(workDir);
        int flightPort = freePort();
        this.grpcPort = freePort();
        this.httpPort = freePort();
        String yaml = "cache_node:\n"
                + "  memory:\n"
                + "    total_memory: \"" + memory + "\"\n"
                + "  storage:\n"
                + (objectStore.isEmpty() ? "" : "    object_store:\n" + objectStore)
                + "    iceberg:\n"
                + "      catalog_type: sql\n"
                + "      catalog_uri: \"" + catalogUri + "\"\n"
                + "      catalog_name: \"" + catalogName + "\"\n"
                + "      warehouse: \"" + warehouse + "\"\n"
                + "  caching:\n"
                + "    eviction_policy: lru\n"
                // Longer than the run: warm reads never re-read table metadata (cold ones do, after invalidate).
                + "    ttl_seconds: 7200\n"
                + (splitSize == null ? "" : "    split_size: \"" + splitSize + "\"\n")
                + "  networking:\n"
                + "    flight_port: " + flightPort + "\n"
                + "    grpc_port: " + grpcPort + "\n"
                + "    http_port: " + httpPort + "\n"
                + "    bind_address: \"127.0.0.1\"\n";
        Path config = workDir.resolve("node.yaml");
        Files.write(config, yaml.getBytes(StandardCharsets.UTF_8));
        ProcessBuilder pb = new ProcessBuilder(binary, "serve", "--config", config.toString())
                .directory(workDir.toFile())
                .redirectOutput(workDir.resolve("node.stdout.log").toFile())
                .redirectError(workDir.resolve("node.stderr.log").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        process = pb.start();
        // Also on Ctrl-C or a kill of the benchmark: never leave a node running.
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "stop arrow-cache node " + name));
        waitHealthy();
    }

    private void waitHealthy() throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + HEALTH_TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("arrow-cache node `" + name + "` exited with code " + process.exitValue()
                        + "; see " + workDir.resolve("node.stderr.log"));
            }
            if (MotoServer.httpStatus("http://127.0.0.1:" + httpPort + "/health") == 200) {
                return;
            }
            Thread.sleep(200);
        }
        close();
        throw new IllegalStateException("arrow-cache node `" + name + "` not healthy after " + HEALTH_TIMEOUT_MS + " ms; see "
                + workDir.resolve("node.stderr.log"));
    }

    /** host:port of the control plane, what {@code cache.cluster} takes. */
    String cluster() {
        return "127.0.0.1:" + grpcPort;
    }

    /** The node's resident memory in MiB (from /proc), for the report. */
    long residentMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // reported as unknown
        }
        return -1;
    }

    /** CPU time the node's process has used (user + system), from /proc; 0 once it is gone. */
    long cpuNanos() {
        return procCpuNanos(process.pid());
    }

    /** USER_HZ: the unit of /proc's CPU times. */
    static final long CLOCK_TICKS = clockTicks();

    static long procCpuNanos(long pid) {
        try {
            String stat = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/stat")), StandardCharsets.UTF_8);
            // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1_000_000_000L / CLOCK_TICKS;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
            return Long.parseLong(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
        } catch (IOException | RuntimeException e) {
            return 100;  // USER_HZ on Linux
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (!process.isAlive()) {
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
