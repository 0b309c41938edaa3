package io.arrowcache.bench;

import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A moto S3 server ({@code python -m moto.server}, from the repository's test venv) on a free
 * loopback port, as tests/support/s3.py starts it. Path-style, any credentials.
 */
final class MotoServer implements AutoCloseable {
    static final String ACCESS_KEY = "testing";
    static final String SECRET_KEY = "testing";
    static final String REGION = "us-east-1";

    final String endpoint;
    private final Process process;

    MotoServer(String python, Path workDir) throws IOException, InterruptedException {
        int port = CacheNode.freePort();
        endpoint = "http://127.0.0.1:" + port;
        File log = workDir.resolve("moto.log").toFile();
        process = new ProcessBuilder(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", String.valueOf(port))
                .redirectErrorStream(true)
                .redirectOutput(log)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "stop moto"));
        long deadline = System.currentTimeMillis() + 60_000;
        while (httpStatus(endpoint + "/moto-api/") != 200) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                close();
                throw new IllegalStateException("moto S3 server did not start (" + python + " -m moto.server); see " + log);
            }
            Thread.sleep(200);
        }
    }

    long cpuNanos() {
        return CacheNode.procCpuNanos(process.pid());
    }

    /** Creates a bucket (moto accepts unsigned requests). */
    void createBucket(String bucket) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(endpoint + "/" + bucket).openConnection();
        c.setRequestMethod("PUT");
        c.setDoOutput(true);
        c.getOutputStream().close();
        int status = c.getResponseCode();
        c.disconnect();
        if (status != 200) {
            throw new IOException("creating bucket " + bucket + " on moto answered HTTP " + status);
        }
    }

    /** The node's {@code storage.object_store} section (six-space indent). */
    String nodeObjectStore() {
        return "      type: s3\n"
                + "      endpoint: \"" + endpoint + "\"\n"
                + "      region: " + REGION + "\n"
                + "      access_key_id: " + ACCESS_KEY + "\n"
                + "      secret_access_key: " + SECRET_KEY + "\n"
                + "      path_style: true\n"
                + "      allow_http: true\n";
    }

    /** The HTTP status of a GET, or -1 when nothing answers. */
    static int httpStatus(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(2000);
            int status = c.getResponseCode();
            c.disconnect();
            return status;
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() {
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
