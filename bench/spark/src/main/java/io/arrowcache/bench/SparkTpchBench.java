package io.arrowcache.bench;

import io.arrowcache.client.Allocators;
import io.arrowcache.client.ArrowCacheClient;
import io.arrowcache.client.PlannedScan;
import io.arrowcache.client.TableAction;
import io.arrowcache.scan.Expression;
import io.arrowcache.scan.Json;
import io.arrowcache.scan.ScanPlan;
import io.arrowcache.scan.ScanRequest;
import io.arrowcache.testkit.ArrowCacheNode;
import io.arrowcache.testkit.MotoServer;
import io.arrowcache.testkit.Processes;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * TPC-H Q1 and Q6 in one local Spark 3.5 session, reading {@code tpch.lineitem} (prepared by
 * bench/prepare_tpch.sh) three ways on each storage, all in one run:
 *
 * <ul>
 *   <li><b>Iceberg direct</b>: Spark's own Iceberg connector (iceberg-spark-runtime), the baseline;
 *   <li><b>arrow-cache cold</b>: {@code spark.read.format("arrow-cache")} right after the
 *       {@code invalidate} action (the node drops the table's columns, footers and metadata);
 *   <li><b>arrow-cache warm</b>: the same read again, the node already holding the columns.
 * </ul>
 *
 * on local files (the prepared warehouse, registered in a JDBC catalog) and on S3 served by moto
 * (the same six Parquet files copied into a bucket and committed as a new table with the same
 * metrics). Each query's result through the cache must equal Spark's Iceberg read. The variants
 * of a query take turns round by round, so background load falls on all of them alike. The same
 * run also measures diagnostics: each query's scan alone (Spark's no-op sink), the CPU time of
 * every run, and what-ifs on local files (the connector with {@link WhatIfSource}'s column vectors,
 * the same from a node with 32MiB splits, and Spark's own in-memory cache).
 *
 * <p>It also measures the JNI bridge alone: rows/s of one split read into the JVM (openSplit, then
 * every batch imported through the C Data Interface) against a Rust arrow-flight client reading
 * the same ticket from the same node (bench/spark/flight-reader).
 *
 * <p>Environment (run.sh sets it): ARROW_CACHE_BIN, ARROW_CACHE_BENCH_DIR, BENCH_WORKDIR,
 * BENCH_MOTO_PYTHON, BENCH_FLIGHT_READER, BENCH_REPS (default 5), BENCH_BRIDGE_REPS (default 10),
 * BENCH_NODE_MEMORY (default 6GB), BENCH_DOCS (the BENCHMARKS.md to update; unset: none),
 * BENCH_ONLY (comma list of local, s3, bridge; never updates the docs), BENCH_PROFILE
 * ("Q1|local|warm", ...: repeat one variant for BENCH_PROFILE_SECS, for a profiler).
 */
public final class SparkTpchBench {
    static final String TABLE = "tpch.lineitem";
    static final TableIdentifier TABLE_ID = TableIdentifier.of("tpch", "lineitem");
    static final String BUCKET = "bench";

    /** TPC-H Q1 and Q6 with their validation parameters; {t} is the table. */
    static final Map<String, String> QUERIES = new LinkedHashMap<>();
    /** What each query reads (its projection and filter), written to Spark's no-op sink: the scan alone. */
    static final Map<String, String> SCANS = new LinkedHashMap<>();

    static {
        QUERIES.put("Q1", "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price, "
                + "sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, "
                + "sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, avg(l_quantity) AS avg_qty, "
                + "avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order "
                + "FROM {t} WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL '90' DAY "
                + "GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus");
        QUERIES.put("Q6", "SELECT sum(l_extendedprice * l_discount) AS revenue FROM {t} "
                + "WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' "
                + "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24");
        SCANS.put("Q1 scan", "SELECT l_returnflag, l_linestatus, l_quantity, l_extendedprice, l_discount, l_tax FROM {t} "
                + "WHERE l_shipdate <= DATE '1998-09-02'");
        SCANS.put("Q6 scan", "SELECT l_extendedprice, l_discount FROM {t} "
                + "WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' "
                + "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24");
    }

    /** The same reads as scan requests, for the bridge measurement. */
    static final String Q1_SCAN_FILTER = "{\"type\":\"lt-eq\",\"term\":\"l_shipdate\",\"value\":\"1998-09-02\"}";

    enum Storage {
        LOCAL("local", "local files"),
        S3("s3", "S3 (moto)");

        final String key;
        final String label;

        Storage(String key, String label) {
            this.key = key;
            this.label = label;
        }
    }

    enum Mode {
        ICEBERG("Spark Iceberg"),
        COLD("arrow-cache cold"),
        WARM("arrow-cache warm"),
        /** Warm, read through WhatIfSource: the connector with the proposed column vectors. */
        WHATIF("arrow-cache warm, proposed column vectors (what-if)"),
        /** The same, from a node whose split_size gives one split per data file (6, for 2 cores). */
        WHATIF_SPLITS("arrow-cache warm, proposed column vectors, 6 splits (what-if)"),
        /** Spark's own in-memory cache of the columns the queries read: Spark's plan over rows already in the JVM. */
        MEMORY("Spark in-memory cache");

        final String label;

        Mode(String label) {
            this.label = label;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Settings

    final Path benchDir = Paths.get(env("ARROW_CACHE_BENCH_DIR", System.getProperty("user.home") + "/.cache/arrow-cache/bench/sf1"))
            .toAbsolutePath();
    final Path workDir = Paths.get(env("BENCH_WORKDIR", "/tmp/arrow-cache-spark-bench")).toAbsolutePath();
    final String nodeBinary = required("ARROW_CACHE_BIN");
    final String motoPython = env("BENCH_MOTO_PYTHON", "python3");
    final String flightReader = env("BENCH_FLIGHT_READER", "");
    final int reps = Integer.parseInt(env("BENCH_REPS", "5"));
    final int bridgeReps = Integer.parseInt(env("BENCH_BRIDGE_REPS", "10"));
    final String nodeMemory = env("BENCH_NODE_MEMORY", "6GB");
    final String only = env("BENCH_ONLY", "");
    final String profile = env("BENCH_PROFILE", "");
    final int profileSecs = Integer.parseInt(env("BENCH_PROFILE_SECS", "60"));
    final String docs = only.isEmpty() && profile.isEmpty() ? env("BENCH_DOCS", "") : "";
    final int cores = Runtime.getRuntime().availableProcessors();

    SparkSession spark;
    final Map<Storage, ArrowCacheNode> nodes = new LinkedHashMap<>();
    ArrowCacheNode splitsNode;
    final Map<Storage, Map<String, String>> catalogs = new LinkedHashMap<>();
    /** "Q1|local|warm" -> ms of each timed run. */
    final Map<String, List<Double>> times = new TreeMap<>();
    /** The same runs' CPU time (this JVM + the nodes), ms. */
    final Map<String, List<Double>> cpuTimes = new TreeMap<>();
    /** "Q1 scan|local|warm" -> Spark input partitions of the scan. */
    final Map<String, Integer> partitions = new TreeMap<>();
    final List<String> notes = new ArrayList<>();
    final List<BridgeResult> bridge = new ArrayList<>();
    String tableFacts = "";

    public static void main(String[] args) throws Exception {
        new SparkTpchBench().run();
        System.exit(0);  // Spark's and the bridge's non-daemon threads
    }

    boolean wanted(String part) {
        return only.isEmpty() || Arrays.asList(only.split(",")).contains(part);
    }

    void run() throws Exception {
        if (!Files.isRegularFile(benchDir.resolve(".prepared"))) {
            throw new IllegalStateException(benchDir + " holds no prepared TPC-H table: run bench/prepare_tpch.sh 1 first");
        }
        deleteRecursively(workDir);
        Files.createDirectories(workDir);
        String loadBefore = loadAverage();
        long started = System.nanoTime();
        long[] machineBefore = machineJiffies();
        long cpuBefore = clientCpuNanos();
        MotoServer moto = null;
        try {
            moto = MotoServer.start(motoPython, workDir, BUCKET);
            startSpark(moto);
            try (JdbcCatalog localCatalog = catalog(Storage.LOCAL); JdbcCatalog s3Catalog = catalog(Storage.S3)) {
                Table local = registerLocalTable(localCatalog);
                tableFacts = describe(local);
                copyToS3(local, s3Catalog);
            }
            String localCatalogUri = "jdbc:sqlite:" + workDir.resolve("local.db");
            String localWarehouse = "file://" + benchDir.resolve("warehouse");
            nodes.put(Storage.LOCAL, node("local", "node-local", localCatalogUri, "ice_local", localWarehouse).start());
            nodes.put(Storage.S3, node("s3", "node-s3", "jdbc:sqlite:" + workDir.resolve("s3.db"), "ice_s3", "s3://" + BUCKET + "/wh")
                    .objectStore(moto.nodeObjectStore()).start());
            // What-if node: 32MiB splits, one per data file at SF 1 (the files are 31 MB).
            splitsNode = node("local-32MiB-splits", "node-local-splits", localCatalogUri, "ice_local", localWarehouse)
                    .splitSize("32MiB").start();
            for (Storage s : Storage.values()) {
                spark.read().format("arrow-cache")
                        .option("cache.cluster", nodes.get(s).cluster())
                        .option("table.id", TABLE)
                        .load()
                        .createOrReplaceTempView("cache_" + s.key);
                spark.read().format(WhatIfSource.class.getName())
                        .option("cache.cluster", nodes.get(s).cluster())
                        .option("table.id", TABLE)
                        .load()
                        .createOrReplaceTempView("whatif_" + s.key);
            }
            spark.read().format(WhatIfSource.class.getName())
                    .option("cache.cluster", splitsNode.cluster())
                    .option("table.id", TABLE)
                    .load()
                    .createOrReplaceTempView("whatif_splits_local");
            // Eager: Spark's in-memory columnar cache of the columns Q1 and Q6 read.
            spark.sql("CACHE TABLE memory_lineitem AS SELECT l_returnflag, l_linestatus, l_quantity, l_extendedprice, "
                    + "l_discount, l_tax, l_shipdate FROM " + icebergCatalogName(Storage.LOCAL) + "." + TABLE);
            if (!profile.isEmpty()) {
                profileOne();
                return;
            }
            measureQueries();
            if (wanted("bridge")) {
                measureBridge();
            }
            String report = report(loadBefore, loadAverage(), (System.nanoTime() - started) / 1e9,
                    otherLoad(machineBefore, machineJiffies(), clientCpuNanos() + moto.cpuNanos() - cpuBefore));
            System.out.println(report);
            Files.write(workDir.resolve("results.md"), report.getBytes(StandardCharsets.UTF_8));
            if (!docs.isEmpty()) {
                writeDocs(Paths.get(docs), report);
                System.out.println("bench: wrote the results into " + docs);
            }
        } finally {
            for (ArrowCacheNode n : nodes.values()) {
                n.close();
            }
            if (splitsNode != null) {
                splitsNode.close();
            }
            if (spark != null) {
                spark.stop();
            }
            if (moto != null) {
                moto.close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Setup: Spark, the two Iceberg catalogs and their tables

    /**
     * One {@code arrow-cache serve} (the testkit's, as the connector's suites start them) reading a
     * SQL catalog (the SQLite database Spark's Iceberg JDBC catalog writes), on free loopback ports,
     * with room for SF 1: {@code nodeMemory} of memory.
     */
    ArrowCacheNode node(String name, String dir, String catalogUri, String catalogName, String warehouse) throws IOException {
        return new ArrowCacheNode(workDir.resolve(dir), catalogUri, catalogName, warehouse).name(name).binary(nodeBinary)
                .memory(nodeMemory)
                // Longer than the run: warm reads never re-read table metadata (cold ones do, after invalidate).
                .freshness(7200, 0);
    }

    void startSpark(MotoServer moto) {
        Map<String, String> local = new LinkedHashMap<>();
        local.put("type", "jdbc");
        local.put("uri", "jdbc:sqlite:" + workDir.resolve("local.db"));
        // The schema with iceberg_type, which iceberg-rust's SQL catalog (the node's) reads.
        local.put("jdbc.schema-version", "V1");
        local.put("warehouse", "file://" + workDir.resolve("warehouse"));
        Map<String, String> s3 = new LinkedHashMap<>(local);
        s3.put("uri", "jdbc:sqlite:" + workDir.resolve("s3.db"));
        s3.put("warehouse", "s3://" + BUCKET + "/wh");
        s3.putAll(moto.icebergFileIo());
        catalogs.put(Storage.LOCAL, local);
        catalogs.put(Storage.S3, s3);

        SparkSession.Builder b = SparkSession.builder()
                .master("local[" + cores + "]")
                .appName("arrow-cache TPC-H bench")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", String.valueOf(cores))
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.session.timeZone", "UTC");
        for (Storage s : Storage.values()) {
            String prefix = "spark.sql.catalog." + icebergCatalogName(s);
            b.config(prefix, "org.apache.iceberg.spark.SparkCatalog");
            catalogs.get(s).forEach((k, v) -> b.config(prefix + "." + k, v));
        }
        spark = b.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
    }

    static String icebergCatalogName(Storage s) {
        return "ice_" + s.key;
    }

    /** An Iceberg catalog over the same SQLite database as Spark's (for table setup); close it. */
    JdbcCatalog catalog(Storage s) {
        JdbcCatalog c = (JdbcCatalog) CatalogUtil.buildIcebergCatalog(icebergCatalogName(s), catalogs.get(s), spark.sparkContext().hadoopConfiguration());
        if (!c.namespaceExists(Namespace.of("tpch"))) {
            c.createNamespace(Namespace.of("tpch"));
        }
        return c;
    }

    /** Registers the prepared table's current metadata file in the bench's local catalog. */
    Table registerLocalTable(Catalog catalog) throws Exception {
        String metadata;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + benchDir.resolve("catalog.db"));
             PreparedStatement st = c.prepareStatement(
                     "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = 'tpch' AND table_name = 'lineitem'")) {
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException(benchDir.resolve("catalog.db") + " has no tpch.lineitem: run bench/prepare_tpch.sh 1");
                }
                metadata = rs.getString(1);
            }
        }
        return catalog.registerTable(TABLE_ID, metadata);
    }

    /**
     * The same table on S3: every data file copied byte for byte into the bucket and committed,
     * with the source's metrics (so pruning is the same), in one append.
     */
    void copyToS3(Table src, Catalog s3) throws IOException {
        long start = System.nanoTime();
        Table dst = s3.buildTable(TABLE_ID, src.schema()).withPartitionSpec(src.spec()).withProperties(src.properties()).create();
        AppendFiles append = dst.newAppend();
        long bytes = 0;
        try (CloseableIterable<FileScanTask> tasks = src.newScan().planFiles()) {
            for (FileScanTask t : tasks) {
                if (!t.deletes().isEmpty()) {
                    throw new IllegalStateException("the prepared table has delete files; the bench copies data files only");
                }
                DataFile f = t.file();
                String path = f.location();
                String target = dst.locationProvider().newDataLocation(path.substring(path.lastIndexOf('/') + 1));
                try (InputStream in = src.io().newInputFile(path).newStream();
                     PositionOutputStream out = dst.io().newOutputFile(target).createOrOverwrite()) {
                    bytes += in.transferTo(out);
                }
                append.appendFile(DataFiles.builder(dst.spec()).copy(f).withPath(target).build());
            }
        }
        append.commit();
        System.out.printf(Locale.ROOT, "bench: copied %.0f MB of Parquet to s3://%s in %.1f s%n", bytes / 1e6, BUCKET,
                (System.nanoTime() - start) / 1e9);
    }

    static String describe(Table t) throws IOException {
        long files = 0, rows = 0, bytes = 0;
        try (CloseableIterable<FileScanTask> tasks = t.newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                files++;
                rows += task.file().recordCount();
                bytes += task.file().fileSizeInBytes();
            }
        }
        return String.format(Locale.ROOT, "%d rows in %d Parquet data files (%.0f MB)", rows, files, bytes / 1e6);
    }

    // ------------------------------------------------------------------------------------------
    // Q1 and Q6

    String tableName(Storage s, Mode m) {
        switch (m) {
            case ICEBERG:
                return icebergCatalogName(s) + "." + TABLE;
            case WHATIF:
                return "whatif_" + s.key;
            case WHATIF_SPLITS:
                return "whatif_splits_" + s.key;
            case MEMORY:
                return "memory_lineitem";
            default:
                return "cache_" + s.key;
        }
    }

    /** What each storage measures, in the order of a round. */
    static Mode[] queryModes(Storage s) {
        return s == Storage.LOCAL ? new Mode[] {Mode.COLD, Mode.WARM, Mode.WHATIF, Mode.WHATIF_SPLITS, Mode.ICEBERG, Mode.MEMORY}
                : new Mode[] {Mode.COLD, Mode.WARM, Mode.ICEBERG};
    }

    static Mode[] scanModes(Storage s) {
        return s == Storage.LOCAL ? new Mode[] {Mode.WARM, Mode.WHATIF, Mode.WHATIF_SPLITS, Mode.ICEBERG}
                : new Mode[] {Mode.WARM, Mode.ICEBERG};
    }

    static String key(String query, Storage s, Mode m) {
        return query + "|" + s.key + "|" + m.name().toLowerCase(Locale.ROOT);
    }

    void invalidate(Storage s) {
        ArrowCacheClient.shared(nodes.get(s).cluster(), 10_000).tableAction("invalidate", TableAction.of(TABLE));
    }

    List<Row> runQuery(String query, Storage s, Mode m) {
        if (m == Mode.COLD) {
            invalidate(s);
        }
        return spark.sql(QUERIES.get(query).replace("{t}", tableName(s, m))).collectAsList();
    }

    void runScan(String scan, Storage s, Mode m) {
        spark.sql(SCANS.get(scan).replace("{t}", tableName(s, m))).write().format("noop").mode("overwrite").save();
    }

    static double timed(Runnable r) {
        long t = System.nanoTime();
        r.run();
        return (System.nanoTime() - t) / 1e6;
    }

    /** CPU time of this JVM (Spark, the bridge) and of every cache node, in ns. */
    long clientCpuNanos() {
        long cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        for (ArrowCacheNode n : nodes.values()) {
            cpu += n.cpuNanos();
        }
        return splitsNode == null ? cpu : cpu + splitsNode.cpuNanos();
    }

    /** Runs r; records its wall time and the CPU time it cost this JVM and the nodes (moto's is not counted). */
    void measure(String key, int round, Runnable r) {
        long cpu = clientCpuNanos();
        double ms = timed(r);
        record(key, round, ms, (clientCpuNanos() - cpu) / 1e6);
    }

    void measureQueries() {
        List<Storage> storages = new ArrayList<>();
        for (Storage s : Storage.values()) {
            if (wanted(s.key)) {
                storages.add(s);
            }
        }
        if (storages.isEmpty()) {
            return;
        }
        Map<String, List<Row>> expected = new LinkedHashMap<>();
        // Round 0 warms the JVM (JIT, Spark's codegen caches) and is not timed.
        for (int round = 0; round <= reps; round++) {
            for (Storage s : storages) {
                for (String q : QUERIES.keySet()) {
                    for (Mode m : queryModes(s)) {
                        AtomicReference<List<Row>> result = new AtomicReference<>();
                        measure(key(q, s, m), round, () -> result.set(runQuery(q, s, m)));
                        List<Row> want = expected.computeIfAbsent(q, k -> result.get());
                        if (!result.get().equals(want)) {
                            throw new IllegalStateException(q + " on " + s.label + " through " + m.label + " returned\n" + result.get()
                                    + "\nbut the first read returned\n" + want);
                        }
                    }
                }
                for (String scan : SCANS.keySet()) {
                    for (Mode m : scanModes(s)) {
                        measure(key(scan, s, m), round, () -> runScan(scan, s, m));
                        partitions.computeIfAbsent(key(scan, s, m), k ->
                                spark.sql(SCANS.get(scan).replace("{t}", tableName(s, m))).rdd().getNumPartitions());
                    }
                }
            }
            System.out.println("bench: round " + round + (round == 0 ? " (warm-up, results checked)" : "") + " done");
        }
        for (Map.Entry<String, List<Row>> e : expected.entrySet()) {
            notes.add(e.getKey() + " result (identical through every read): " + e.getValue().size() + " row(s), first "
                    + e.getValue().get(0));
        }
    }

    void record(String key, int round, double ms, double cpuMs) {
        System.out.printf(Locale.ROOT, "bench:   %-28s %9.1f ms  CPU %9.1f ms%s%n", key, ms, cpuMs, round == 0 ? " (warm-up)" : "");
        if (round > 0) {
            times.computeIfAbsent(key, k -> new ArrayList<>()).add(ms);
            cpuTimes.computeIfAbsent(key, k -> new ArrayList<>()).add(cpuMs);
        }
    }

    /** Repeats one variant ("Q1|local|warm", "Q1 scan|s3|iceberg") for a profiler, then stops. */
    void profileOne() {
        String[] p = profile.split("\\|");
        Storage s = Storage.valueOf(p[1].toUpperCase(Locale.ROOT));
        Mode m = Mode.valueOf(p[2].toUpperCase(Locale.ROOT));
        Runnable r = QUERIES.containsKey(p[0]) ? () -> runQuery(p[0], s, m) : () -> runScan(p[0], s, m);
        r.run();
        long end = System.nanoTime() + profileSecs * 1_000_000_000L;
        List<Double> ms = new ArrayList<>();
        System.out.println("bench: profiling " + profile + " for " + profileSecs + " s");
        long cpu = clientCpuNanos(), node = nodes.values().stream().mapToLong(ArrowCacheNode::cpuNanos).sum() + splitsNode.cpuNanos();
        while (System.nanoTime() < end) {
            ms.add(timed(r));
        }
        long nodeCpu = nodes.values().stream().mapToLong(ArrowCacheNode::cpuNanos).sum() + splitsNode.cpuNanos() - node;
        long allCpu = clientCpuNanos() - cpu;
        System.out.printf(Locale.ROOT, "bench: %s ran %d times, median %.1f ms; CPU per run: JVM %.0f ms, nodes %.0f ms%n", profile,
                ms.size(), median(ms), (allCpu - nodeCpu) / 1e6 / ms.size(), nodeCpu / 1e6 / ms.size());
    }

    // ------------------------------------------------------------------------------------------
    // The bridge alone: one split into the JVM vs the Rust Flight client

    static final class BridgeResult {
        String what;
        long rows;
        long batches;
        long ipcBytes;
        int splits;
        final List<Double> jni = new ArrayList<>();
        final List<Double> rust = new ArrayList<>();
    }

    void measureBridge() throws Exception {
        if (flightReader.isEmpty()) {
            throw new IllegalStateException("BENCH_FLIGHT_READER is not set (bench/spark/run.sh builds bench/spark/flight-reader)");
        }
        ArrowCacheClient client = ArrowCacheClient.shared(nodes.get(Storage.LOCAL).cluster(), 10_000);
        List<String> q1Columns = List.of("l_returnflag", "l_linestatus", "l_quantity", "l_extendedprice", "l_discount", "l_tax");
        Map<String, ScanRequest> requests = new LinkedHashMap<>();
        requests.put("Q1 scan (6 columns, 98.6% of rows)",
                ScanRequest.builder(TABLE).columns(q1Columns).filter(Expression.fromJson(Q1_SCAN_FILTER)).build());
        requests.put("full scan (16 columns)", ScanRequest.builder(TABLE).build());
        for (Map.Entry<String, ScanRequest> e : requests.entrySet()) {
            BridgeResult r = new BridgeResult();
            r.what = e.getKey();
            ScanPlan.Split split;
            try (BufferAllocator a = Allocators.newChild("bench plan")) {
                PlannedScan planned = client.plan(e.getValue(), a);
                r.splits = planned.plan().splits().size();
                split = Collections.max(planned.plan().splits(), Comparator.comparingLong(ScanPlan.Split::bytes));
            }
            String ticket = Base64.getEncoder().encodeToString(split.ticket());
            String location = split.locations()[0];
            long[] counts = readSplitJni(client, split);  // untimed: loads the columns into the cache, warms the JIT
            readSplitJni(client, split);
            r.rows = counts[0];
            r.batches = counts[1];
            for (int round = 0; round < bridgeReps; round++) {
                for (int i = 0; i < 3; i++) {
                    long t = System.nanoTime();
                    long[] c = readSplitJni(client, split);
                    r.jni.add((System.nanoTime() - t) / 1e6);
                    check(c[0] == r.rows, "the bridge read " + c[0] + " rows, before " + r.rows);
                }
                for (Map<String, Object> line : rustRead(location, ticket, 3)) {
                    r.rust.add(((Number) line.get("ms")).doubleValue());
                    long rows = ((Number) line.get("rows")).longValue();
                    check(rows == r.rows, "the Rust client read " + rows + " rows, the bridge " + r.rows);
                    r.ipcBytes = ((Number) line.get("ipc_bytes")).longValue();
                }
            }
            System.out.printf(Locale.ROOT, "bench: bridge %s: JNI %.1f ms, Rust %.1f ms (medians) for %d rows%n", r.what,
                    median(r.jni), median(r.rust), r.rows);
            bridge.add(r);
        }
    }

    /** Reads a split through the bridge into the JVM: every batch imported; returns rows and batches. */
    static long[] readSplitJni(ArrowCacheClient client, ScanPlan.Split split) throws IOException {
        long rows = 0, batches = 0;
        try (BufferAllocator a = Allocators.newChild("bench split");
             ArrowReader reader = client.openSplit(split.ticket(), split.locations(), a)) {
            while (reader.loadNextBatch()) {
                rows += reader.getVectorSchemaRoot().getRowCount();
                batches++;
            }
        }
        return new long[] {rows, batches};
    }

    List<Map<String, Object>> rustRead(String location, String ticket, int n) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(flightReader, "--location", location, "--ticket-base64", ticket,
                "--reps", String.valueOf(n), "--warmup", "1")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<Map<String, Object>> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = Json.MAPPER.readValue(line, Map.class);
                out.add(m);
            }
        }
        check(p.waitFor() == 0 && out.size() == n, flightReader + " failed (exit " + p.exitValue() + ")");
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // The report

    String report(String loadBefore, String loadAfter, double seconds, String otherLoad) throws IOException {
        StringBuilder b = new StringBuilder();
        String when = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        b.append("Run ").append(when).append(" · TPC-H SF ").append(sf()).append(" · ").append(cores).append(" CPUs (`nproc`; ")
                .append(cpuModel()).append("), ").append(memTotal()).append(" memory · load average before / after the run ")
                .append(loadBefore).append(" / ").append(loadAfter).append(" · ").append(otherLoad)
                .append(" · ").append(String.format(Locale.ROOT, "%.0f", seconds))
                .append(" s · arrow-cache ").append(env("BENCH_GIT", "?")).append(" · Spark ").append(spark.version())
                .append(" (`local[").append(cores).append("]`, `spark.sql.shuffle.partitions` ").append(cores)
                .append("), iceberg-spark-runtime 1.10.0, Java ").append(System.getProperty("java.version"))
                .append(" · ").append(reps).append(" timed runs each after one untimed round, median\n\n");
        b.append("```sh\n").append(env("BENCH_COMMAND", "bench/spark/run.sh")).append("\n```\n\n");
        b.append("- `tpch.lineitem`: ").append(tableFacts).append("; the S3 table holds byte-identical copies of the same files. ")
                .append("Connector jar: `").append(env("BENCH_CONNECTOR_JAR", "?")).append("`.\n");
        for (String n : notes) {
            b.append("- ").append(n).append("\n");
        }
        for (Map.Entry<Storage, ArrowCacheNode> e : nodes.entrySet()) {
            b.append("- Node `").append(e.getKey().key).append("`: resident memory after the run ")
                    .append(e.getValue().residentMiB()).append(" MiB (`total_memory` ").append(nodeMemory).append(")\n");
        }
        b.append("\n");
        if (!times.isEmpty()) {
            b.append("| query | storage | Spark Iceberg ms | arrow-cache cold ms | arrow-cache warm ms | Iceberg ÷ warm | Iceberg ÷ cold |\n");
            b.append("|---|---|---:|---:|---:|---:|---:|\n");
            for (Storage s : Storage.values()) {
                for (String q : QUERIES.keySet()) {
                    if (!times.containsKey(key(q, s, Mode.WARM))) {
                        continue;
                    }
                    double ice = med(q, s, Mode.ICEBERG), cold = med(q, s, Mode.COLD), warm = med(q, s, Mode.WARM);
                    b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %.2f | %.2f |%n", q, s.label,
                            cell(q, s, Mode.ICEBERG), cell(q, s, Mode.COLD), cell(q, s, Mode.WARM), ice / warm, ice / cold));
                }
            }
            b.append("\nCells: median (min–max) of the timed runs. What-ifs of the same run, local files, warm: the connector ")
                    .append("with the column vectors proposed below (`WhatIfSource`), the same from a node with `split_size: 32MiB` ")
                    .append("(6 splits instead of 3), and for comparison Spark's own in-memory columnar cache of the 7 columns ")
                    .append("(`CACHE TABLE`), a reader without any I/O:\n\n");
            b.append("| query | arrow-cache warm ms | what-if: column vectors ms | what-if: column vectors + 6 splits ms ")
                    .append("| Spark in-memory cache ms | Iceberg ÷ what-if (vectors + splits) | Iceberg ÷ in-memory cache |\n");
            b.append("|---|---:|---:|---:|---:|---:|---:|\n");
            for (String q : QUERIES.keySet()) {
                Storage s = Storage.LOCAL;
                if (times.containsKey(key(q, s, Mode.WHATIF))) {
                    double ice = med(q, s, Mode.ICEBERG);
                    b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %.2f | %.2f |%n", q, cell(q, s, Mode.WARM),
                            cell(q, s, Mode.WHATIF), cell(q, s, Mode.WHATIF_SPLITS), cell(q, s, Mode.MEMORY),
                            ice / med(q, s, Mode.WHATIF_SPLITS), ice / med(q, s, Mode.MEMORY)));
                }
            }
            b.append("\n");
            // What is left of a query when its read costs nothing: Spark's plan over the rows (aggregation, shuffle, scheduling).
            for (Storage s : Storage.values()) {
                for (String q : QUERIES.keySet()) {
                    String scan = q + " scan";
                    if (!times.containsKey(key(q, s, Mode.ICEBERG)) || !times.containsKey(key(scan, s, Mode.ICEBERG))) {
                        continue;
                    }
                    double ice = med(q, s, Mode.ICEBERG), rest = ice - med(scan, s, Mode.ICEBERG);
                    if (rest > 0) {
                        b.append(String.format(Locale.ROOT, "- %s on %s: Spark Iceberg %.0f ms, of which its scan alone (no-op sink) "
                                + "%.0f ms; the other ~%.0f ms are Spark's own work (aggregation, exchange, scheduling), so even a reader "
                                + "that cost nothing would make %s only about %.2fx faster (an estimate: reads and aggregation overlap).%n",
                                q, s.label, ice, med(scan, s, Mode.ICEBERG), rest, q, ice / rest));
                    }
                }
            }
            b.append("\nCPU time of the same runs, median ms: this JVM (Spark, the bridge) plus the cache nodes, moto not counted. ")
                    .append("On a machine shared with other work this is steadier than wall time:\n\n");
            b.append("| query | storage | Spark Iceberg | arrow-cache cold | arrow-cache warm | what-if: vectors | what-if: vectors + 6 splits ")
                    .append("| Spark in-memory cache | Iceberg ÷ warm (CPU) |\n");
            b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Storage s : Storage.values()) {
                for (String q : QUERIES.keySet()) {
                    if (!cpuTimes.containsKey(key(q, s, Mode.WARM))) {
                        continue;
                    }
                    b.append("| ").append(q).append(" | ").append(s.label);
                    for (Mode m : new Mode[] {Mode.ICEBERG, Mode.COLD, Mode.WARM, Mode.WHATIF, Mode.WHATIF_SPLITS, Mode.MEMORY}) {
                        List<Double> v = cpuTimes.get(key(q, s, m));
                        b.append(" | ").append(v == null ? "–" : String.format(Locale.ROOT, "%.0f", median(v)));
                    }
                    b.append(String.format(Locale.ROOT, " | %.2f |%n",
                            median(cpuTimes.get(key(q, s, Mode.ICEBERG))) / median(cpuTimes.get(key(q, s, Mode.WARM)))));
                }
            }
            b.append("\nThe scans alone: each query's projection and filter written to Spark's no-op sink ")
                    .append("(every row still becomes an `UnsafeRow`; no aggregation):\n\n");
            b.append("| scan | storage | Spark Iceberg ms | arrow-cache warm ms | what-if: vectors ms | what-if: vectors + 6 splits ms ")
                    .append("| Iceberg ÷ warm | Spark partitions (Iceberg / arrow-cache) |\n");
            b.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
            for (Storage s : Storage.values()) {
                for (String q : SCANS.keySet()) {
                    if (!times.containsKey(key(q, s, Mode.WARM))) {
                        continue;
                    }
                    b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %.2f | %d / %d |%n", q, s.label,
                            cell(q, s, Mode.ICEBERG), cell(q, s, Mode.WARM),
                            times.containsKey(key(q, s, Mode.WHATIF)) ? cell(q, s, Mode.WHATIF) : "–",
                            times.containsKey(key(q, s, Mode.WHATIF_SPLITS)) ? cell(q, s, Mode.WHATIF_SPLITS) : "–",
                            med(q, s, Mode.ICEBERG) / med(q, s, Mode.WARM),
                            partitions.get(key(q, s, Mode.ICEBERG)), partitions.get(key(q, s, Mode.WARM))));
                }
            }
            b.append("\n");
        }
        if (!bridge.isEmpty()) {
            b.append("The bridge alone, local node, warm: the largest split of a scan request read ").append(3 * bridgeReps)
                    .append(" times each way, taking turns (Rust: one process per 3 reads, after one untimed read):\n\n");
            b.append("| split | rows | batches | Arrow IPC MB | JNI bridge into the JVM ms | rows/s | Rust Flight client ms | rows/s | bridge ÷ Rust (rows/s) |\n");
            b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (BridgeResult r : bridge) {
                double jni = median(r.jni), rust = median(r.rust);
                b.append(String.format(Locale.ROOT, "| %s, 1 of %d | %d | %d | %.0f | %.1f | %.1f M | %.1f | %.1f M | %.1f%% |%n",
                        r.what, r.splits, r.rows, r.batches, r.ipcBytes / 1e6, jni, r.rows / jni / 1e3, rust,
                        r.rows / rust / 1e3, 100 * rust / jni));
            }
            b.append("\n");
        }
        b.append("| goal | target | reached | |\n|---|---|---|---|\n");
        for (Storage s : Storage.values()) {
            double target = s == Storage.LOCAL ? 3 : 10;
            for (String q : QUERIES.keySet()) {
                if (times.containsKey(key(q, s, Mode.WARM))) {
                    double ratio = med(q, s, Mode.ICEBERG) / med(q, s, Mode.WARM);
                    b.append(String.format(Locale.ROOT, "| %s on %s: warm vs Spark's Iceberg read | >= %.0fx faster | %.2fx | %s |%n",
                            q, s.label, target, ratio, ratio >= target ? "met" : "**missed**"));
                }
            }
        }
        for (BridgeResult r : bridge) {
            double share = median(r.rust) / median(r.jni);
            b.append(String.format(Locale.ROOT, "| bridge rows/s vs Rust Flight client, %s | >= 80%% | %.1f%% | %s |%n",
                    r.what, 100 * share, share >= 0.8 ? "met" : "**missed**"));
        }
        return b.toString();
    }

    double med(String q, Storage s, Mode m) {
        return median(times.get(key(q, s, m)));
    }

    String cell(String q, Storage s, Mode m) {
        List<Double> v = times.get(key(q, s, m));
        return String.format(Locale.ROOT, "%.0f (%.0f–%.0f)", median(v), Collections.min(v), Collections.max(v));
    }

    static final String BEGIN = "<!-- BEGIN SPARK RUN -->";
    static final String END = "<!-- END SPARK RUN -->";

    /** Replaces the run block inside the Spark section of BENCHMARKS.md (between the SPARK RUN markers). */
    static void writeDocs(Path file, String report) throws IOException {
        String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        int from = text.indexOf(BEGIN), to = text.indexOf(END);
        if (from < 0 || to < from) {
            throw new IllegalStateException(file + " has no " + BEGIN + " / " + END + " block (inside the Spark section)");
        }
        String out = text.substring(0, from + BEGIN.length()) + "\n" + report + text.substring(to);
        Files.write(file, out.getBytes(StandardCharsets.UTF_8));
    }

    // ------------------------------------------------------------------------------------------
    // Small helpers

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException(message);
        }
    }

    static String env(String name, String otherwise) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? otherwise : v;
    }

    static String required(String name) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException(name + " is not set (bench/spark/run.sh sets it)");
        }
        return v;
    }

    String sf() throws IOException {
        String prepared = new String(Files.readAllBytes(benchDir.resolve(".prepared")), StandardCharsets.UTF_8);
        return prepared.replaceAll("^sf=(\\S+).*\\s*$", "$1");
    }

    /** Busy and total jiffies of the whole machine (/proc/stat). */
    static long[] machineJiffies() {
        String[] f = readOr("/proc/stat", "cpu 0 0 0 0").split("\n")[0].trim().split("\\s+");
        long busy = 0, total = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
            long v = Long.parseLong(f[i]);
            total += v;
            if (i != 4 && i != 5) {  // idle, iowait
                busy += v;
            }
        }
        return new long[] {busy, total};
    }

    /** How busy the machine was with other work during the run: all CPU use minus this JVM's, the nodes' and moto's. */
    static String otherLoad(long[] before, long[] after, long oursNanos) {
        double total = after[1] - before[1];  // jiffies over all cores
        if (total <= 0) {
            return "CPU use during the run unknown";
        }
        double machine = (after[0] - before[0]) / total;
        double ours = oursNanos / 1e9 * Processes.CLOCK_TICKS / total;
        return String.format(Locale.ROOT, "CPU use during the run: other processes %.0f%% of the machine, this benchmark %.0f%%",
                100 * Math.max(0, machine - ours), 100 * ours);
    }

    static String loadAverage() {
        return readOr("/proc/loadavg", "?").replaceAll("^(\\S+ \\S+ \\S+).*\\s*$", "$1");
    }

    static String cpuModel() {
        for (String line : readOr("/proc/cpuinfo", "").split("\n")) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "?";
    }

    static String memTotal() {
        for (String line : readOr("/proc/meminfo", "").split("\n")) {
            if (line.startsWith("MemTotal:")) {
                return String.format(Locale.ROOT, "%.1f GiB", Long.parseLong(line.replaceAll("[^0-9]", "")) / 1048576.0);
            }
        }
        return "?";
    }

    static String readOr(String path, String otherwise) {
        try {
            return new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return otherwise;
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
