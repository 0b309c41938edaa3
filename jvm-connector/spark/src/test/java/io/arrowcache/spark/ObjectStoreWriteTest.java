package io.arrowcache.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import io.arrowcache.testkit.ArrowCacheNode;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.spark.SparkCatalog;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec;
import org.apache.spark.sql.execution.datasources.v2.BatchScanExec;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.BeforeClass;
import org.junit.Test;

import static io.arrowcache.spark.Compare.assertSameRows;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/**
 * Fresh and exact under change (issue 6) on real object stores: Spark's Iceberg runtime writes a
 * table whose warehouse is on an S3 (moto) or GCS (fake-gcs-server) emulator, through a JDBC
 * catalog the node reads, committing appends, a partition overwrite, merge-on-read deletes and
 * updates (position deletes), added, renamed and dropped columns, int to bigint and a partition
 * spec change, while a reader thread queries it through arrow-cache. Every read through the cache
 * equals Spark's Iceberg read of the snapshot the cache says it read (the plan's snapshot id, from
 * the node's FlightInfo). After each commit the cache's current read reaches the newest snapshot
 * and schema through the node's catalog polling alone, and equals Spark's Iceberg read in full
 * and, through the catalog plugin, filtered and projected. At the end every snapshot is read again
 * by id, with the schema it was written with.
 */
public class ObjectStoreWriteTest {
    private static final String TABLE = "events";
    /** The node polls the catalog this often; its TTL alone would keep a snapshot 10 minutes. */
    private static final long POLL_MS = 200;
    private static final long FRESH_TIMEOUT_MS = 30_000;
    /** Between the reader's reads: it shares 2 cores and the emulator with the writer and the checks. */
    private static final long READER_PAUSE_MS = 500;
    /** Columns every schema of the table has, with the same type: what the concurrent reader reads. */
    private static final String[] STABLE = {"id", "cat", "day"};
    /** Pushed to the cache (both columns are in every schema). */
    private static final String FILTER = "id >= 300 AND cat <> 'c2'";

    private static TestEnv env;

    @BeforeClass
    public static void setUp() throws Exception {
        env = TestEnv.get();
    }

    @Test
    public void s3() throws Exception {
        try (ObjectStores.Store store = ObjectStores.s3(env.workDir.resolve("s3"));
             Run run = new Run(store)) {
            run.writeWhileReading();
        }
    }

    @Test
    public void gcs() throws Exception {
        try (ObjectStores.Store store = ObjectStores.gcs(env.workDir.resolve("gcs"));
             Run run = new Run(store)) {
            run.writeWhileReading();
        }
    }

    /** {@code SELECT ... FROM range(from, to)} in the table's first schema. */
    private static String rows(long from, long to) {
        return "SELECT id, concat('c', CAST(id % 4 AS STRING)) AS cat, CAST(id % 97 - 40 AS INT) AS qty, "
                + "CASE WHEN id % 11 = 0 THEN NULL ELSE id / 8.0D END AS price, "
                + "CASE WHEN id % 13 = 0 THEN NULL ELSE concat('n', CAST(id AS STRING)) END AS note, "
                + "date_add(DATE '2024-01-01', CAST(id % 60 AS INT)) AS day FROM range(" + from + ", " + to + ")";
    }

    /** Column names and types, nullability aside. */
    private static String columns(StructType schema) {
        List<String> out = new ArrayList<>();
        for (StructField f : schema.fields()) {
            out.add(f.name() + " " + f.dataType().simpleString());
        }
        return String.join(", ", out);
    }

    /** The snapshot the cache read for {@code read} (planning it if it is not yet): what its node reported. */
    static Long snapshotRead(Dataset<Row> read) {
        List<ArrowCacheScan> scans = new ArrayList<>();
        cacheScans(read.queryExecution().executedPlan(), scans);
        assertEquals("arrow-cache scans in the plan", 1, scans.size());
        return scans.get(0).planned().plan().snapshotId();
    }

    private static void cacheScans(SparkPlan plan, List<ArrowCacheScan> out) {
        scala.collection.Iterator<SparkPlan> leaves = plan.collectLeaves().iterator();
        while (leaves.hasNext()) {
            SparkPlan leaf = leaves.next();
            if (leaf instanceof AdaptiveSparkPlanExec) {
                cacheScans(((AdaptiveSparkPlanExec) leaf).executedPlan(), out);
            } else if (leaf instanceof BatchScanExec && ((BatchScanExec) leaf).scan() instanceof ArrowCacheScan) {
                out.add((ArrowCacheScan) ((BatchScanExec) leaf).scan());
            }
        }
    }

    /** One store: a Spark Iceberg catalog writing its warehouse, a node reading it, the cache catalog over the node. */
    private static final class Run implements AutoCloseable {
        final ObjectStores.Store store;
        /** The Spark Iceberg catalog (also the catalog_name in the JDBC catalog the node reads). */
        final String catalog;
        /** {@code <catalog>.db.events}. */
        final String table;
        /** The same table through the arrow-cache catalog plugin. */
        final String cacheTable;
        final ArrowCacheNode node;

        Run(ObjectStores.Store store) throws Exception {
            this.store = store;
            catalog = "wh_" + store.name;
            table = catalog + "." + TestEnv.tableId(TABLE);
            Path dir = env.workDir.resolve(store.name);
            String catalogUri = "jdbc:sqlite:" + dir.resolve("catalog.db");
            // Catalogs are created on first use, so a running session takes new ones.
            RuntimeConfig conf = env.spark.conf();
            String prefix = "spark.sql.catalog." + catalog;
            conf.set(prefix, SparkCatalog.class.getName());
            conf.set(prefix + ".type", "jdbc");
            conf.set(prefix + ".uri", catalogUri);
            conf.set(prefix + ".jdbc.schema-version", "V1");  // the schema iceberg-rust's SQL catalog reads
            conf.set(prefix + ".warehouse", store.warehouse);
            conf.set(prefix + ".cache-enabled", "false");
            store.fileIo.forEach((k, v) -> conf.set(prefix + "." + k, v));
            env.sql("CREATE NAMESPACE IF NOT EXISTS " + catalog + "." + TestEnv.NAMESPACE);

            node = new ArrowCacheNode(dir.resolve("node"), catalogUri, catalog, store.warehouse)
                    .objectStore(store.nodeObjectStore).freshness(600, POLL_MS).start();
            String cache = "cache_" + store.name;
            conf.set("spark.sql.catalog." + cache, ArrowCacheCatalog.class.getName());
            conf.set("spark.sql.catalog." + cache + ".cluster", node.cluster());
            cacheTable = cache + "." + TestEnv.tableId(TABLE);
        }

        void writeWhileReading() throws Exception {
            String t = table;
            try {
                step("CREATE TABLE", "CREATE TABLE " + t + " (id BIGINT, cat STRING, qty INT, price DOUBLE, note STRING, day DATE) "
                        + "USING iceberg PARTITIONED BY (cat) TBLPROPERTIES ('format-version'='2', "
                        + "'write.delete.mode'='merge-on-read', 'write.update.mode'='merge-on-read')");
                step("first append", "INSERT INTO " + t + " " + rows(0, 600));
                Reader reader = new Reader();
                reader.start();
                try {
                    step("second append", "INSERT INTO " + t + " " + rows(600, 1200));
                    step("INSERT OVERWRITE of partition c1", "INSERT OVERWRITE " + t + " PARTITION (cat = 'c1') "
                            + "SELECT id, qty, price, note, day FROM (" + rows(5000, 5200) + ")");
                    step("merge-on-read DELETE", "DELETE FROM " + t + " WHERE id % 7 = 0");
                    assertTrue("the DELETE wrote no position delete files",
                            env.sql("SELECT * FROM " + t + ".delete_files WHERE content = 1").count() > 0);
                    step("merge-on-read UPDATE", "UPDATE " + t + " SET note = 'updated', qty = qty + 1000 WHERE id % 5 = 1");
                    step("ADD COLUMN extra", "ALTER TABLE " + t + " ADD COLUMN extra STRING");
                    step("append with extra", "INSERT INTO " + t + " SELECT *, concat('x', CAST(id AS STRING)) FROM ("
                            + rows(1200, 1400) + ")");
                    step("RENAME COLUMN note TO comment", "ALTER TABLE " + t + " RENAME COLUMN note TO comment");
                    step("DROP COLUMN price", "ALTER TABLE " + t + " DROP COLUMN price");
                    step("qty INT to BIGINT", "ALTER TABLE " + t + " ALTER COLUMN qty TYPE BIGINT");
                    step("append after the schema changes", "INSERT INTO " + t + " SELECT id, cat, id * 10000000000 AS qty, "
                            + "note AS comment, day, 'y' AS extra FROM (" + rows(1400, 1600) + ")");
                    step("ADD PARTITION FIELD bucket(4, id)", "ALTER TABLE " + t + " ADD PARTITION FIELD bucket(4, id)");
                    step("append under the new spec", "INSERT INTO " + t + " SELECT id, cat, qty, note AS comment, day, "
                            + "'z' AS extra FROM (" + rows(1600, 1900) + ")");
                    step("DELETE across both specs", "DELETE FROM " + t + " WHERE id % 3 = 0 AND qty > 0");
                } finally {
                    reader.finish();
                }
                reader.check();
                everySnapshotById();
                System.out.printf("%s: the reader compared %d reads of %d snapshots while the writer committed%n",
                        store.name, reader.reads, reader.snapshots.size());
            } catch (Throwable e) {
                throw new AssertionError(store.name + ": " + e + node.logs() + store.logs(), e);
            }
        }

        /** Commits {@code statements}, then checks the cache's current read reaches the result. */
        private void step(String what, String... statements) throws InterruptedException {
            for (String s : statements) {
                env.sql(s);
            }
            Snapshot current = icebergTable().currentSnapshot();
            Long newest = current == null ? null : current.snapshotId();
            Dataset<Row> expected = env.spark.table(table);
            Dataset<Row> read = freshRead(what, newest, expected.schema());
            assertSameRows(what + ": current read of snapshot " + newest, expected, read);

            String[] names = expected.schema().fieldNames();
            String query = "SELECT id, " + names[names.length - 1] + " FROM %s WHERE " + FILTER;
            Dataset<Row> viaCatalog = env.sql(String.format(query, cacheTable));
            assertEquals(what + ": snapshot read through the catalog", newest, snapshotRead(viaCatalog));
            assertSameRows(what + ": " + String.format(query, cacheTable), env.sql(String.format(query, table)), viaCatalog);
        }

        /**
         * A current read through the cache once it reports {@code newest} and reads the table's
         * current schema: the node sees commits by polling the catalog, so this must come within
         * a few poll intervals.
         */
        private Dataset<Row> freshRead(String what, Long newest, StructType schema) throws InterruptedException {
            long deadline = System.currentTimeMillis() + FRESH_TIMEOUT_MS;
            String seen;
            while (true) {
                try {
                    Dataset<Row> read = cacheReader().load();
                    Long snapshot = snapshotRead(read);
                    if (Objects.equals(snapshot, newest) && columns(schema).equals(columns(read.schema()))) {
                        return read;
                    }
                    seen = "snapshot " + snapshot + " with columns " + columns(read.schema());
                } catch (IllegalArgumentException | IllegalStateException e) {
                    // A poll changed the schema between loading the table and planning the read:
                    // the connector asks to re-run the query.
                    seen = e.getMessage();
                }
                if (System.currentTimeMillis() > deadline) {
                    fail(what + ": " + FRESH_TIMEOUT_MS + " ms after the commit the cache still reads " + seen
                            + "; the table is at snapshot " + newest + " with columns " + columns(schema));
                }
                Thread.sleep(50);
            }
        }

        /** Every snapshot of the table by id, with the schema it was written with (the reader covered filters). */
        private void everySnapshotById() {
            int snapshots = 0;
            for (Snapshot s : icebergTable().snapshots()) {
                long id = s.snapshotId();
                Dataset<Row> expected = env.spark.read().format("iceberg").option("snapshot-id", id).load(table);
                Dataset<Row> read = cacheReader().option("snapshot-id", id).load();
                String what = "snapshot-id " + id + " (" + s.operation() + ")";
                assertEquals(what + ": columns", columns(expected.schema()), columns(read.schema()));
                assertEquals(what + ": snapshot read", (Long) id, snapshotRead(read));
                assertSameRows(what, expected, read);
                snapshots++;
            }
            assertTrue("only " + snapshots + " snapshots", snapshots >= 9);
        }

        private DataFrameReader cacheReader() {
            return env.spark.read().format("arrow-cache").option("cache.cluster", node.cluster())
                    .option("table.id", TestEnv.tableId(TABLE));
        }

        private Dataset<Row> stable(Dataset<Row> d, boolean filtered) {
            return (filtered ? d.where(FILTER) : d).select(STABLE[0], STABLE[1], STABLE[2]);
        }

        /** The table as the catalog has it now (the Spark catalog caches nothing). */
        private Table icebergTable() {
            try {
                SparkCatalog c = (SparkCatalog) env.spark.sessionState().catalogManager().catalog(catalog);
                return c.icebergCatalog().loadTable(TableIdentifier.of(TestEnv.NAMESPACE, TABLE));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * Reads the current state through the cache while the writer commits, and compares each
         * result with Spark's Iceberg read of the snapshot the cache reports; odd reads filter.
         */
        private final class Reader extends Thread {
            private volatile boolean done;
            private volatile Throwable failure;
            private final Set<Long> snapshots = new HashSet<>();
            private int reads;

            Reader() {
                super("arrow-cache reader (" + store.name + ")");
                setDaemon(true);
            }

            @Override
            public void run() {
                try {
                    while (!done) {
                        boolean filtered = reads % 2 == 1;
                        Dataset<Row> read = stable(cacheReader().load(), filtered);
                        Long snapshot = snapshotRead(read);
                        assertNotNull("a current read reported no snapshot", snapshot);
                        Dataset<Row> expected = stable(env.spark.read().format("iceberg").option("snapshot-id", snapshot).load(table), filtered);
                        assertSameRows("concurrent read " + reads + " of snapshot " + snapshot + (filtered ? ", filtered" : ""), expected, read);
                        snapshots.add(snapshot);
                        reads++;
                        Thread.sleep(READER_PAUSE_MS);
                    }
                } catch (Throwable t) {
                    failure = t;
                }
            }

            void finish() throws InterruptedException {
                done = true;
                join(120_000);
            }

            void check() {
                if (failure != null) {
                    throw new AssertionError("the concurrent reader failed: " + failure, failure);
                }
                assertTrue("the reader saw " + snapshots.size() + " snapshots in " + reads + " reads: it did not read across commits",
                        snapshots.size() >= 2);
            }
        }

        @Override
        public void close() {
            node.close();
        }
    }
}
