package io.arrowcache.bridge;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.arrow.c.ArrowArrayStream;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.c.CDataDictionaryProvider;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The bridge against real nodes: {@code arrow-cache demo} (the binary at ARROW_CACHE_BIN, default
 * $HOME/.cache/arrow-cache/target/release/arrow-cache) serving demo.sales_data, 1,000,000 rows in
 * twelve monthly partitions. A second node serves the same warehouse for the failover test.
 */
public class NativeBridgeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FILTERED =
            "{\"table\":\"demo.sales_data\",\"columns\":[\"order_id\",\"amount\"],"
                    + "\"filter\":{\"type\":\"gt\",\"term\":\"amount\",\"value\":100}}";
    private static final String UNFILTERED = "{\"table\":\"demo.sales_data\",\"columns\":[\"order_id\",\"amount\"]}";
    private static final long DEMO_ROWS = 1_000_000L;

    private static Path workDir;
    private static DemoNode node;
    private static DemoNode second;

    private BufferAllocator allocator;
    private long client;

    @BeforeClass
    public static void startNodes() throws Exception {
        workDir = Files.createTempDirectory("arrow-cache-bridge-test");
        node = new DemoNode(workDir.resolve("demo"), workDir.resolve("node1.log")).start();
        // Same warehouse and catalog (already written by the first), its own ports.
        second = new DemoNode(workDir.resolve("demo"), workDir.resolve("node2.log")).start();
    }

    @AfterClass
    public static void stopNodes() throws IOException {
        if (node != null) {
            node.close();
        }
        if (second != null) {
            second.close();
        }
        if (workDir != null) {
            try (Stream<Path> files = Files.walk(workDir)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    @Before
    public void connect() {
        allocator = new RootAllocator();
        client = NativeBridge.connect(node.cluster(), 5_000);
        assertNotEquals(0, client);
    }

    @After
    public void close() {
        NativeBridge.close(client);
        allocator.close(); // fails the test if Java memory leaked
    }

    // ------------------------------------------------------------------ planning and reading

    @Test
    public void plansAndReadsAFilteredScan() throws Exception {
        Plan plan = plan(FILTERED);
        assertEquals("order_id", plan.schema.getFields().get(0).getName());
        assertEquals("amount", plan.schema.getFields().get(1).getName());
        assertEquals(2, plan.schema.getFields().size());
        assertTrue("a filter makes the row count unknown before reading", plan.json.get("total_rows").asLong() == -1
                || plan.json.get("total_rows").asLong() <= DEMO_ROWS);
        JsonNode splits = plan.json.get("splits");
        assertTrue(splits.size() > 0);
        for (JsonNode split : splits) {
            JsonNode owner = split.get("owners").get(0);
            assertTrue(owner.get("flight").asText().startsWith("grpc+tcp://"));
            assertEquals("127.0.0.1", owner.get("host").asText());
            assertFalse(split.get("ticket").asText().isEmpty());
        }

        long filtered = 0;
        for (JsonNode split : splits) {
            filtered += read(split, locations(split), root -> {
                Float8Vector amount = (Float8Vector) root.getVector("amount");
                for (int i = 0; i < root.getRowCount(); i++) {
                    assertTrue("amount > 100 for every row read", !amount.isNull(i) && amount.get(i) > 100);
                }
            });
        }

        // The same rows, filtered here: every row of the table, counted where amount > 100.
        Plan all = plan(UNFILTERED);
        assertEquals(DEMO_ROWS, all.json.get("total_rows").asLong());
        AtomicLong expected = new AtomicLong();
        long total = 0;
        for (JsonNode split : all.json.get("splits")) {
            long rows = read(split, locations(split), root -> {
                Float8Vector amount = (Float8Vector) root.getVector("amount");
                for (int i = 0; i < root.getRowCount(); i++) {
                    if (!amount.isNull(i) && amount.get(i) > 100) {
                        expected.incrementAndGet();
                    }
                }
            });
            if (split.get("rows").asLong() >= 0) {
                assertEquals("a split's planned row count", split.get("rows").asLong(), rows);
            }
            total += rows;
        }
        assertEquals(DEMO_ROWS, total);
        assertTrue(filtered > 0 && filtered < DEMO_ROWS);
        assertEquals(expected.get(), filtered);
    }

    /** What Spark asks for a count(*): no columns, only row counts. */
    @Test
    public void readsAScanWithoutColumns() throws Exception {
        Plan plan = plan("{\"table\":\"demo.sales_data\",\"columns\":[]}");
        assertEquals(0, plan.schema.getFields().size());
        long rows = 0;
        for (JsonNode split : plan.json.get("splits")) {
            rows += read(split, locations(split), root -> assertEquals(0, root.getFieldVectors().size()));
        }
        assertEquals(DEMO_ROWS, rows);
    }

    @Test
    public void unknownTableIsNotFound() {
        try (ArrowSchema schema = ArrowSchema.allocateNew(allocator)) {
            NativeBridge.plan(client, "{\"table\":\"demo.no_such_table\"}", schema.memoryAddress());
            fail("planning an unknown table must fail");
        } catch (ArrowCacheException e) {
            assertEquals(e.toString(), ArrowCacheException.NOT_FOUND, e.code());
            assertTrue(e.getMessage(), e.getMessage().contains("no_such_table"));
        }
    }

    @Test
    public void badRequestsAreInvalidArguments() {
        expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> plan("{not json"));
        expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> plan("{\"table\":\"demo.sales_data\",\"columns\":[\"no_such_column\"]}"));
        expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> NativeBridge.call(client, "drop_everything", "{}"));
        expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> NativeBridge.call(client, "table_stats", "{}"));
        expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> NativeBridge.plan(client, UNFILTERED, 0));
        expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> NativeBridge.connect("host:notaport", 1000));
        expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> NativeBridge.connect(null, 1000));
        expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> NativeBridge.plan(0, UNFILTERED, 8));
        try (ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator)) {
            expectCode(ArrowCacheException.INVALID_ARGUMENT,
                    () -> NativeBridge.openSplit(client, new byte[] {1}, new String[0], stream.memoryAddress()));
            expectCode(ArrowCacheException.INVALID_ARGUMENT,
                    () -> NativeBridge.openSplit(client, null, new String[] {node.flight()}, stream.memoryAddress()));
            // A ticket the node cannot parse: the node's own error, thrown by openSplit.
            ArrowCacheException e = expectCode(null,
                    () -> NativeBridge.openSplit(client, "garbage".getBytes(StandardCharsets.UTF_8), new String[] {node.flight()},
                            stream.memoryAddress()));
            assertNotEquals(ArrowCacheException.UNAVAILABLE, e.code());
        }
    }

    @Test
    public void handlesAreValidatedAndCloseIsIdempotent() {
        long other = NativeBridge.connect(node.cluster(), 5_000);
        NativeBridge.close(other);
        NativeBridge.close(other);
        NativeBridge.close(0);
        ArrowCacheException e = expectCode(ArrowCacheException.INVALID_ARGUMENT, () -> NativeBridge.call(other, "cluster_status", null));
        assertTrue(e.getMessage(), e.getMessage().contains("closed"));
    }

    @Test
    public void unreachableClusterIsUnavailableQuickly() throws IOException {
        int dead = freePort();
        long start = System.nanoTime();
        ArrowCacheException e = expectCode(ArrowCacheException.UNAVAILABLE, () -> NativeBridge.connect("127.0.0.1:" + dead, 2_000));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue("took " + millis + " ms", millis < 3_000);
        assertTrue(e.getMessage(), e.getMessage().contains("127.0.0.1:" + dead));

        // A list is tried in order: the dead address first, then the node.
        long c = NativeBridge.connect("127.0.0.1:" + dead + "," + node.cluster(), 2_000);
        try {
            assertTrue(NativeBridge.call(c, "cluster_status", null).contains("\"up\""));
        } finally {
            NativeBridge.close(c);
        }
    }

    @Test
    public void controlPlaneOperations() throws Exception {
        JsonNode status = JSON.readTree(NativeBridge.call(client, "cluster_status", null));
        assertEquals(1, status.get("nodes").size());
        assertEquals("up", status.get("nodes").get(0).get("status").asText());
        assertEquals(node.flight(), status.get("nodes").get(0).get("flight").asText());

        JsonNode warm = JSON.readTree(NativeBridge.call(client, "warm",
                "{\"table\":\"demo.sales_data\",\"partition\":\"date_month=2024-01\",\"columns\":[\"amount\"]}"));
        assertNotNull(warm.toString(), warm.get("nodes"));
        JsonNode stats = JSON.readTree(NativeBridge.call(client, "table_stats", "{\"table\":\"demo.sales_data\"}"));
        assertTrue(stats.toString(), stats.has("hits") && stats.has("bytes_cached"));
        JsonNode invalidated = JSON.readTree(NativeBridge.call(client, "invalidate", "{\"table\":\"demo.sales_data\"}"));
        assertTrue(invalidated.toString(), invalidated.has("bytes_freed"));
        assertNotNull(JSON.readTree(NativeBridge.call(client, "refresh", "{\"table\":\"demo.sales_data\"}")));
        expectCode(ArrowCacheException.NOT_FOUND, () -> NativeBridge.call(client, "table_stats", "{\"table\":\"demo.nope\"}"));
    }

    // ------------------------------------------------------------------ failover

    @Test
    public void readsFromTheNextOwnerWhenTheFirstIsDown() throws Exception {
        Plan plan = plan(UNFILTERED);
        JsonNode split = plan.json.get("splits").get(0);
        long expected = read(split, new String[] {node.flight()}, root -> {});
        String dead = "grpc+tcp://127.0.0.1:" + freePort();
        assertEquals(expected, read(split, new String[] {dead, second.flight()}, root -> {}));
        // Every owner down: the error names them, and openSplit throws it.
        try (ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator)) {
            ArrowCacheException e = expectCode(ArrowCacheException.UNAVAILABLE, () -> NativeBridge.openSplit(client,
                    ticket(split), new String[] {dead, dead}, stream.memoryAddress()));
            assertTrue(e.getMessage(), e.getMessage().contains(dead));
        }
    }

    /** Kills the node a split is being read from; the read continues on the next owner, exactly. */
    @Test
    public void failsOverMidStreamWithoutLosingOrRepeatingRows() throws Exception {
        DemoNode doomed = new DemoNode(workDir.resolve("demo"), workDir.resolve("node3.log")).start();
        try {
            String all = "{\"table\":\"demo.sales_data\"}"; // every column: large splits
            Plan plan = plan(all);
            JsonNode split = plan.json.get("splits").get(0);
            long[] expected = orderIds(split, new String[] {second.flight()}, null);
            long[] actual = orderIds(split, new String[] {doomed.flight(), second.flight()}, doomed);
            assertEquals(expected[0], actual[0]);
            assertEquals("sum of order_id", expected[1], actual[1]);
            assertEquals("sum of order_id * position", expected[2], actual[2]);
        } finally {
            doomed.close();
        }
    }

    /** {rows, sum of order_id, sum of order_id * position}; kills {@code kill} after the first batch. */
    private long[] orderIds(JsonNode split, String[] locations, DemoNode kill) throws Exception {
        long[] out = new long[3];
        try (ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator)) {
            NativeBridge.openSplit(client, ticket(split), locations, stream.memoryAddress());
            try (ArrowReader reader = Data.importArrayStream(allocator, stream)) {
                boolean first = true;
                while (reader.loadNextBatch()) {
                    VectorSchemaRoot root = reader.getVectorSchemaRoot();
                    BigIntVector ids = (BigIntVector) root.getVector("order_id");
                    for (int i = 0; i < root.getRowCount(); i++) {
                        out[1] += ids.get(i);
                        out[2] += ids.get(i) * (out[0] + 1);
                        out[0]++;
                    }
                    if (first && kill != null) {
                        kill.kill();
                    }
                    first = false;
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ memory

    /**
     * Thousands of batches, read fully, read partly (closed after the first batch with more
     * buffered) and from four threads at once: Java's allocator and the native side's bytes both
     * return to where they started.
     */
    @Test
    public void memoryReturnsToStartAfterThousandsOfBatches() throws Exception {
        long nativeStart = NativeBridge.nativeBytesInUse();
        Plan plan = plan("{\"table\":\"demo.sales_data\",\"columns\":[\"order_id\",\"region\",\"amount\"]}");
        JsonNode splits = plan.json.get("splits");
        AtomicLong batches = new AtomicLong();
        AtomicLong maxNative = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                work.add(pool.submit(() -> {
                    for (int pass = 0; pass < 3 || batches.get() < 3_000; pass++) {
                        for (int s = 0; s < splits.size(); s++) {
                            JsonNode split = splits.get(s);
                            boolean partly = (pass + s + thread) % 5 == 0;
                            try (ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator)) {
                                NativeBridge.openSplit(client, ticket(split), locations(split), stream.memoryAddress());
                                try (ArrowReader reader = Data.importArrayStream(allocator, stream)) {
                                    while (reader.loadNextBatch()) {
                                        batches.incrementAndGet();
                                        maxNative.accumulateAndGet(NativeBridge.nativeBytesInUse(), Math::max);
                                        if (partly) {
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue("read " + batches.get() + " batches", batches.get() >= 3_000);
        assertTrue("the native side held batches while reading", maxNative.get() > nativeStart);
        assertEquals("Java memory after closing every reader", 0, allocator.getAllocatedMemory());
        // A closed stream's reading task notices within moments and drops what it had decoded.
        long deadline = System.currentTimeMillis() + 10_000;
        while (NativeBridge.nativeBytesInUse() != nativeStart && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals("native bytes after closing every reader", nativeStart, NativeBridge.nativeBytesInUse());
    }

    // ------------------------------------------------------------------ loading

    /** Two class loaders (two Trino catalogs) each load their own copy of the library. */
    @Test
    public void loadsIntoASecondClassLoader() throws Exception {
        List<URL> path = new ArrayList<>();
        path.add(NativeBridge.class.getProtectionDomain().getCodeSource().getLocation());
        // Gradle keeps resources (the library) apart from classes: give the loader both.
        URL library = NativeBridge.class.getResource(NativeLoader.resourcePath());
        if (library != null && "file".equals(library.getProtocol())) {
            String url = library.toString();
            path.add(new URL(url.substring(0, url.length() - NativeLoader.resourcePath().length() + 1)));
        }
        try (URLClassLoader isolated = new URLClassLoader(path.toArray(new URL[0]), null)) {
            Class<?> bridge = Class.forName("io.arrowcache.bridge.NativeBridge", true, isolated);
            assertNotEquals(NativeBridge.class, bridge);
            Method connect = bridge.getMethod("connect", String.class, long.class);
            Method close = bridge.getMethod("close", long.class);
            long handle = (Long) connect.invoke(null, node.cluster(), 5_000L);
            close.invoke(null, handle);
            try {
                connect.invoke(null, "127.0.0.1:" + freePort(), 1_000L);
                fail("connecting to nothing must fail");
            } catch (InvocationTargetException e) {
                // Thrown as that class loader's ArrowCacheException.
                assertEquals(isolated, e.getCause().getClass().getClassLoader());
                assertEquals("io.arrowcache.bridge.ArrowCacheException", e.getCause().getClass().getName());
                assertEquals("UNAVAILABLE", e.getCause().getClass().getMethod("code").invoke(e.getCause()));
            }
        }
        assertNotNull(NativeLoader.loadedFrom());
    }

    // ------------------------------------------------------------------ helpers

    private static final class Plan {
        final Schema schema;
        final JsonNode json;

        Plan(Schema schema, JsonNode json) {
            this.schema = schema;
            this.json = json;
        }
    }

    private Plan plan(String request) {
        try (ArrowSchema c = ArrowSchema.allocateNew(allocator);
             CDataDictionaryProvider dictionaries = new CDataDictionaryProvider()) {
            String json = NativeBridge.plan(client, request, c.memoryAddress());
            return new Plan(Data.importSchema(allocator, c, dictionaries), JSON.readTree(json));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private interface BatchCheck {
        void check(VectorSchemaRoot root);
    }

    private long read(JsonNode split, String[] locations, BatchCheck check) throws IOException {
        long rows = 0;
        try (ArrowArrayStream stream = ArrowArrayStream.allocateNew(allocator)) {
            NativeBridge.openSplit(client, ticket(split), locations, stream.memoryAddress());
            try (ArrowReader reader = Data.importArrayStream(allocator, stream)) {
                while (reader.loadNextBatch()) {
                    VectorSchemaRoot root = reader.getVectorSchemaRoot();
                    check.check(root);
                    rows += root.getRowCount();
                }
            }
        }
        return rows;
    }

    private static byte[] ticket(JsonNode split) {
        return Base64.getDecoder().decode(split.get("ticket").asText());
    }

    private static String[] locations(JsonNode split) {
        List<String> out = new ArrayList<>();
        split.get("owners").forEach(o -> out.add(o.get("flight").asText()));
        return out.toArray(new String[0]);
    }

    private static ArrowCacheException expectCode(String code, Runnable call) {
        try {
            call.run();
        } catch (ArrowCacheException e) {
            if (code != null) {
                assertEquals(e.toString(), code, e.code());
            }
            return e;
        }
        throw new AssertionError("expected an ArrowCacheException" + (code == null ? "" : " with code " + code));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** One {@code arrow-cache demo} process on free ports. */
    static final class DemoNode implements AutoCloseable {
        private final Path demoDir;
        private final Path log;
        private final int flightPort;
        private final int grpcPort;
        private final int httpPort;
        private Process process;

        DemoNode(Path demoDir, Path log) throws IOException {
            this.demoDir = demoDir;
            this.log = log;
            this.flightPort = freePort();
            this.grpcPort = freePort();
            this.httpPort = freePort();
        }

        static String binary() {
            String bin = System.getenv("ARROW_CACHE_BIN");
            if (bin == null || bin.isEmpty()) {
                bin = System.getProperty("ARROW_CACHE_BIN");
            }
            if (bin == null || bin.isEmpty()) {
                bin = System.getProperty("user.home") + "/.cache/arrow-cache/target/release/arrow-cache";
            }
            File f = new File(bin);
            if (!f.canExecute()) {
                throw new IllegalStateException("no arrow-cache binary at " + bin
                        + ": build it (cargo build --release -p arrow-cache) or set ARROW_CACHE_BIN");
            }
            return f.getAbsolutePath();
        }

        DemoNode start() throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder(binary(), "demo")
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().put("ARROW_CACHE_DEMO_DIR", demoDir.toString());
            pb.environment().put("ARROW_CACHE_FLIGHT_PORT", Integer.toString(flightPort));
            pb.environment().put("ARROW_CACHE_GRPC_PORT", Integer.toString(grpcPort));
            pb.environment().put("ARROW_CACHE_HTTP_PORT", Integer.toString(httpPort));
            process = pb.start();
            long deadline = System.currentTimeMillis() + 120_000;
            while (System.currentTimeMillis() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("arrow-cache demo exited with " + process.exitValue() + ": " + logText());
                }
                try {
                    HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + httpPort + "/health").openConnection();
                    c.setConnectTimeout(1000);
                    c.setReadTimeout(1000);
                    int code = c.getResponseCode();
                    c.disconnect();
                    if (code == 200) {
                        return this;
                    }
                } catch (IOException e) {
                    // not up yet
                }
                Thread.sleep(100);
            }
            close();
            throw new IllegalStateException("arrow-cache demo not healthy after 120 s: " + logText());
        }

        String cluster() {
            return "127.0.0.1:" + grpcPort;
        }

        String flight() {
            return "grpc+tcp://127.0.0.1:" + flightPort;
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        private String logText() {
            try {
                return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }

        @Override
        public void close() {
            if (process != null && process.isAlive()) {
                process.destroy();
                try {
                    if (!process.waitFor(10, TimeUnit.SECONDS)) {
                        process.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    process.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
