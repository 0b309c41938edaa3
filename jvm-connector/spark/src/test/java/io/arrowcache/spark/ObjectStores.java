package io.arrowcache.spark;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Object-store emulators as real processes on free loopback ports, started as tests/support/s3.py
 * and stores.py start them: moto (S3, from the repository's venv, which tests/setup_env.sh makes)
 * and fake-gcs-server (GCS, which tests/support/emulators.sh installs). Each comes with a bucket
 * and what both sides need: the FileIO properties of a Spark Iceberg catalog writing a warehouse
 * there, and the node's {@code storage.object_store} section reading it.
 */
final class ObjectStores {
    private static final String FAKE_GCS_VERSION = "v1.47.6";  // keep in step with tests/support/emulators.sh
    private static final long START_TIMEOUT_MS = 60_000;
    static final String BUCKET = "warehouse";

    private ObjectStores() {
    }

    /** A running emulator with a bucket, and how Iceberg's Java FileIO and the node reach it. */
    static final class Store implements AutoCloseable {
        /** s3 or gcs: names the Spark catalogs and work directories. */
        final String name;
        /** Where the catalog puts its tables, e.g. s3://warehouse/wh. */
        final String warehouse;
        /** Properties of the Spark Iceberg catalog (io-impl and its settings). */
        final Map<String, String> fileIo;
        /** The node's storage.object_store section. */
        final Map<String, Object> nodeObjectStore;
        private final Process process;
        private final Path log;

        Store(String name, String warehouse, Map<String, String> fileIo, Map<String, Object> nodeObjectStore,
              Process process, Path log) {
            this.name = name;
            this.warehouse = warehouse;
            this.fileIo = fileIo;
            this.nodeObjectStore = nodeObjectStore;
            this.process = process;
            this.log = log;
        }

        String logs() {
            try {
                String s = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
                return "\n--- " + log + ":\n" + (s.length() <= 4000 ? s : s.substring(s.length() - 4000));
            } catch (IOException e) {
                return "\n--- " + log + ": " + e;
            }
        }

        @Override
        public void close() {
            stop(process);
        }
    }

    /** moto's S3 server; it takes any keys and path-style addressing. */
    static Store s3(Path dir) throws IOException, InterruptedException {
        Path python = venv().resolve("bin/python");
        String endpoint = "http://127.0.0.1:" + ArrowCacheNode.freePort();
        Path log = Files.createDirectories(dir).resolve("moto.log");
        Process p = start(Arrays.asList(installed(python).toString(), "-m", "moto.server", "-H", "127.0.0.1",
                "-p", endpoint.substring(endpoint.lastIndexOf(':') + 1)), log, endpoint + "/moto-api/", "moto S3 server");
        try {
            request("PUT", endpoint + "/" + BUCKET, "");  // moto accepts unsigned requests
        } catch (IOException e) {
            stop(p);
            throw e;
        }
        Map<String, String> io = new LinkedHashMap<>();
        io.put("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
        io.put("s3.endpoint", endpoint);
        io.put("s3.path-style-access", "true");
        io.put("s3.access-key-id", "testing");
        io.put("s3.secret-access-key", "testing");
        io.put("client.region", "us-east-1");
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("type", "s3");
        node.put("endpoint", endpoint);
        node.put("region", "us-east-1");
        node.put("access_key_id", "testing");
        node.put("secret_access_key", "testing");
        node.put("path_style", true);
        node.put("allow_http", true);
        return new Store("s3", "s3://" + BUCKET + "/wh", io, node, p, log);
    }

    /** fake-gcs-server, in memory; requests go unauthenticated on both sides. */
    static Store gcs(Path dir) throws IOException, InterruptedException {
        Path binary = emulators().resolve("fake-gcs-server-" + FAKE_GCS_VERSION).resolve("bin/fake-gcs-server");
        int port = ArrowCacheNode.freePort();
        String endpoint = "http://127.0.0.1:" + port;
        Path log = Files.createDirectories(dir).resolve("fake-gcs.log");
        // -public-host / -external-url: the host the XML API and resumable uploads are served on.
        Process p = start(Arrays.asList(installed(binary).toString(), "-scheme", "http", "-host", "127.0.0.1",
                "-port", String.valueOf(port), "-backend", "memory", "-public-host", "127.0.0.1:" + port,
                "-external-url", endpoint, "-log-level", "warn"), log, endpoint + "/storage/v1/b", "fake-gcs-server");
        try {
            request("POST", endpoint + "/storage/v1/b", "{\"name\": \"" + BUCKET + "\"}");
        } catch (IOException e) {
            stop(p);
            throw e;
        }
        Map<String, String> io = new LinkedHashMap<>();
        io.put("io-impl", "org.apache.iceberg.gcp.gcs.GCSFileIO");
        io.put("gcs.service.host", endpoint);
        io.put("gcs.project-id", "arrow-cache-test");
        io.put("gcs.no-auth", "true");
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("type", "gcs");
        node.put("endpoint", endpoint);
        node.put("allow_http", true);
        node.put("options", Collections.singletonMap("google_skip_signature", "true"));
        return new Store("gcs", "gs://" + BUCKET + "/wh", io, node, p, log);
    }

    /** The repository's Python venv: $ARROW_CACHE_VENV, else .venv in the repository (Gradle passes its path). */
    private static Path venv() {
        String v = System.getenv("ARROW_CACHE_VENV");
        if (v != null && !v.isEmpty()) {
            return Paths.get(v);
        }
        String repo = System.getProperty("arrowcache.repo");
        if (repo == null) {
            throw new IllegalStateException("system property arrowcache.repo is not set (spark-line.gradle sets it)");
        }
        return Paths.get(repo, ".venv");
    }

    /** Where tests/support/emulators.sh installs the emulators. */
    private static Path emulators() {
        String d = System.getenv("ARROW_CACHE_EMULATORS_DIR");
        return d != null && !d.isEmpty() ? Paths.get(d) : Paths.get(System.getProperty("user.home"), ".cache", "arrow-cache", "emulators");
    }

    /** A missing emulator fails the test that needs it, never skips it. */
    private static Path installed(Path binary) {
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing: run tests/setup_env.sh (the venv with moto) "
                    + "and tests/support/emulators.sh (fake-gcs-server)");
        }
        return binary;
    }

    private static Process start(List<String> command, Path log, String healthUrl, String what)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        String last = "no answer";
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(what + " exited with code " + p.exitValue() + "; see " + log);
            }
            try {
                int status = request("GET", healthUrl, null);
                if (status == 200) {
                    return p;
                }
                last = "HTTP " + status;
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        stop(p);
        throw new IllegalStateException(what + " not healthy at " + healthUrl + " (" + last + "); see " + log);
    }

    /** An HTTP request; with a body, a status other than 200 is an IOException. */
    private static int request(String method, String url, String body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(10_000);
        c.setRequestMethod(method);
        try {
            if (body != null) {
                c.setDoOutput(true);
                c.setRequestProperty("Content-Type", "application/json");
                try (OutputStream out = c.getOutputStream()) {
                    out.write(body.getBytes(StandardCharsets.UTF_8));
                }
            }
            int status = c.getResponseCode();
            if (body != null && status != 200) {
                throw new IOException(method + " " + url + " answered HTTP " + status);
            }
            return status;
        } finally {
            c.disconnect();
        }
    }

    private static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
