package io.arrowcache.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * An object-store emulator running as a process on a free loopback port ({@link MotoServer},
 * {@link FakeGcsServer}), and what both sides need to use it: the FileIO properties of an Iceberg
 * catalog writing there, and a node's {@code storage.object_store} section reading it.
 */
public abstract class ObjectStoreServer implements AutoCloseable {
    private final String endpoint;
    private final Process process;
    private final Path log;

    ObjectStoreServer(String endpoint, Process process, Path log) {
        this.endpoint = endpoint;
        this.process = process;
        this.log = log;
    }

    /** The emulator's base URL, {@code http://127.0.0.1:port}. */
    public String endpoint() {
        return endpoint;
    }

    /** Creates a bucket. */
    public abstract void createBucket(String bucket) throws IOException;

    /** The URI scheme of its buckets ({@code s3}, {@code gs}). */
    public abstract String scheme();

    /** The properties of an Iceberg catalog whose FileIO writes here (io-impl and its settings). */
    public abstract Map<String, String> icebergFileIo();

    /** A node's {@code storage.object_store} section reading from here (see {@link ArrowCacheNode#objectStore}). */
    public abstract Map<String, Object> nodeObjectStore();

    /** CPU time the emulator has used (user + system), from /proc. */
    public long cpuNanos() {
        return Processes.cpuNanos(process.pid());
    }

    /** The end of the emulator's log, for failure messages. */
    public String logs() {
        return "\n--- " + log + ":\n" + Processes.tail(log, 4000);
    }

    @Override
    public void close() {
        Processes.stop(process);
    }

    /** Runs {@code action}; if it fails, stops the emulator before passing the failure on. */
    static <T extends ObjectStoreServer> T stopIfFailing(T server, IoAction action) throws IOException {
        try {
            action.run();
            return server;
        } catch (IOException | RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    interface IoAction {
        void run() throws IOException;
    }
}
