package io.arrowcache.spark;

import io.arrowcache.testkit.FakeGcsServer;
import io.arrowcache.testkit.MotoServer;
import io.arrowcache.testkit.ObjectStoreServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

/**
 * The object stores ObjectStoreWriteTest writes warehouses on: the testkit's emulators (moto for
 * S3, from the repository's venv, which tests/setup_env.sh makes; fake-gcs-server for GCS, which
 * tests/support/emulators.sh installs), each with a bucket holding the warehouse.
 */
final class ObjectStores {
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
        private final ObjectStoreServer server;

        Store(String name, ObjectStoreServer server) {
            this.name = name;
            this.server = server;
            this.warehouse = server.scheme() + "://" + BUCKET + "/wh";
            this.fileIo = server.icebergFileIo();
            this.nodeObjectStore = server.nodeObjectStore();
        }

        String logs() {
            return server.logs();
        }

        @Override
        public void close() {
            server.close();
        }
    }

    /** moto's S3 server; it takes any keys and path-style addressing. */
    static Store s3(Path dir) throws IOException, InterruptedException {
        Path python = installed(venv().resolve("bin/python"));
        return new Store("s3", MotoServer.start(python.toString(), dir, BUCKET));
    }

    /** fake-gcs-server, in memory; requests go unauthenticated on both sides. */
    static Store gcs(Path dir) throws IOException, InterruptedException {
        Path binary = installed(emulators().resolve("fake-gcs-server-" + FakeGcsServer.VERSION).resolve("bin/fake-gcs-server"));
        return new Store("gcs", FakeGcsServer.start(binary.toString(), dir, BUCKET));
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
}
