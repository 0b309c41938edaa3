package io.arrowcache.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * moto's S3 server ({@code python -m moto.server}, from the repository's test venv, which
 * tests/setup_env.sh makes), started as tests/support/s3.py starts it. It takes any keys and
 * path-style addressing.
 */
public final class MotoServer extends ObjectStoreServer {
    public static final String ACCESS_KEY = "testing";
    public static final String SECRET_KEY = "testing";
    public static final String REGION = "us-east-1";

    private MotoServer(String endpoint, Process process, Path log) {
        super(endpoint, process, log);
    }

    /** Starts moto with {@code python} (which must have moto installed), logging into {@code dir}/moto.log. */
    public static MotoServer start(String python, Path dir) throws IOException, InterruptedException {
        int port = Processes.freePort();
        String endpoint = "http://127.0.0.1:" + port;
        Path log = Files.createDirectories(dir).resolve("moto.log");
        String what = "moto S3 server (" + python + " -m moto.server)";
        Process p = Processes.start(Arrays.asList(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", String.valueOf(port)),
                null, log, null, Collections.emptyMap(), what);
        MotoServer server = new MotoServer(endpoint, p, log);
        Processes.waitHealthy(p, endpoint + "/moto-api/", what, server::logs);
        return server;
    }

    /** Starts moto and creates {@code bucket}. */
    public static MotoServer start(String python, Path dir, String bucket) throws IOException, InterruptedException {
        MotoServer server = start(python, dir);
        return stopIfFailing(server, () -> server.createBucket(bucket));
    }

    /** Creates a bucket (moto accepts unsigned requests). */
    @Override
    public void createBucket(String bucket) throws IOException {
        Processes.request("PUT", endpoint() + "/" + bucket, "");
    }

    @Override
    public String scheme() {
        return "s3";
    }

    /** Iceberg's S3FileIO on this server. */
    @Override
    public Map<String, String> icebergFileIo() {
        Map<String, String> io = new LinkedHashMap<>();
        io.put("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
        io.put("s3.endpoint", endpoint());
        io.put("s3.path-style-access", "true");
        io.put("s3.access-key-id", ACCESS_KEY);
        io.put("s3.secret-access-key", SECRET_KEY);
        io.put("client.region", REGION);
        return io;
    }

    @Override
    public Map<String, Object> nodeObjectStore() {
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("type", "s3");
        node.put("endpoint", endpoint());
        node.put("region", REGION);
        node.put("access_key_id", ACCESS_KEY);
        node.put("secret_access_key", SECRET_KEY);
        node.put("path_style", true);
        node.put("allow_http", true);
        return node;
    }
}
