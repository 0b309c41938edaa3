package io.arrowcache.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * fake-gcs-server (which tests/support/emulators.sh installs), in memory, started as
 * tests/support/stores.py starts it; requests go unauthenticated on both sides.
 */
public final class FakeGcsServer extends ObjectStoreServer {
    /** The release tests/support/emulators.sh installs (keep in step with it). */
    public static final String VERSION = "v1.47.6";

    private FakeGcsServer(String endpoint, Process process, Path log) {
        super(endpoint, process, log);
    }

    /** Starts {@code binary} (fake-gcs-server), logging into {@code dir}/fake-gcs.log. */
    public static FakeGcsServer start(String binary, Path dir) throws IOException, InterruptedException {
        int port = Processes.freePort();
        String endpoint = "http://127.0.0.1:" + port;
        Path log = Files.createDirectories(dir).resolve("fake-gcs.log");
        String what = "fake-gcs-server";
        // -public-host / -external-url: the host the XML API and resumable uploads are served on.
        Process p = Processes.start(Arrays.asList(binary, "-scheme", "http", "-host", "127.0.0.1",
                "-port", String.valueOf(port), "-backend", "memory", "-public-host", "127.0.0.1:" + port,
                "-external-url", endpoint, "-log-level", "warn"), null, log, null, Collections.emptyMap(), what);
        FakeGcsServer server = new FakeGcsServer(endpoint, p, log);
        Processes.waitHealthy(p, endpoint + "/storage/v1/b", what, server::logs);
        return server;
    }

    /** Starts fake-gcs-server and creates {@code bucket}. */
    public static FakeGcsServer start(String binary, Path dir, String bucket) throws IOException, InterruptedException {
        FakeGcsServer server = start(binary, dir);
        return stopIfFailing(server, () -> server.createBucket(bucket));
    }

    @Override
    public void createBucket(String bucket) throws IOException {
        Processes.request("POST", endpoint() + "/storage/v1/b", "{\"name\": " + Yaml.json(bucket) + "}");
    }

    @Override
    public String scheme() {
        return "gs";
    }

    /** Iceberg's GCSFileIO on this server. */
    @Override
    public Map<String, String> icebergFileIo() {
        Map<String, String> io = new LinkedHashMap<>();
        io.put("io-impl", "org.apache.iceberg.gcp.gcs.GCSFileIO");
        io.put("gcs.service.host", endpoint());
        io.put("gcs.project-id", "arrow-cache-test");
        io.put("gcs.no-auth", "true");
        return io;
    }

    @Override
    public Map<String, Object> nodeObjectStore() {
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("type", "gcs");
        node.put("endpoint", endpoint());
        node.put("allow_http", true);
        node.put("options", Collections.singletonMap("google_skip_signature", "true"));
        return node;
    }
}
