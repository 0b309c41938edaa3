package io.arrowcache.spark;

import io.arrowcache.client.ArrowCacheClient;
import io.arrowcache.client.TableAction;
import io.arrowcache.testkit.ArrowCacheNode;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * What every integration test shares, started once per test JVM: a local SparkSession with
 * Iceberg's Spark runtime writing into a JDBC catalog on SQLite ({@value #ICEBERG}), an arrow-cache
 * node reading that catalog, and the {@value #CACHE} catalog plugin over the node.
 */
public final class TestEnv {
    /** The Iceberg catalog Spark writes through (also the catalog_name the node reads). */
    public static final String ICEBERG = "iceberg";
    /** The arrow-cache catalog plugin. */
    public static final String CACHE = "cache";
    public static final String NAMESPACE = "db";

    private static TestEnv instance;

    public final Path workDir;
    public final SparkSession spark;
    public final ArrowCacheNode node;
    /** What a node needs to read the tables: the catalog Spark writes and its warehouse. */
    public final String catalogUri;
    public final String warehouseUri;

    private TestEnv() throws IOException, InterruptedException {
        String base = System.getProperty("java.io.tmpdir");
        workDir = Files.createTempDirectory(Paths.get(base), "arrow-cache-spark-").toAbsolutePath();
        Path warehouse = Files.createDirectories(workDir.resolve("warehouse"));
        catalogUri = "jdbc:sqlite:" + workDir.resolve("catalog.db");
        warehouseUri = "file://" + warehouse;

        spark = SparkSession.builder()
                .master("local[2]")
                .appName("arrow-cache connector tests")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.default.parallelism", "2")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.session.timeZone", "America/Los_Angeles")
                .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
                .config("spark.sql.catalog." + ICEBERG, "org.apache.iceberg.spark.SparkCatalog")
                .config("spark.sql.catalog." + ICEBERG + ".type", "jdbc")
                .config("spark.sql.catalog." + ICEBERG + ".uri", catalogUri)
                // The schema with iceberg_type, which iceberg-rust's SQL catalog (the node's) reads.
                .config("spark.sql.catalog." + ICEBERG + ".jdbc.schema-version", "V1")
                .config("spark.sql.catalog." + ICEBERG + ".warehouse", warehouseUri)
                .config("spark.sql.catalog." + ICEBERG + ".cache-enabled", "false")
                .getOrCreate();
        spark.sql("CREATE NAMESPACE IF NOT EXISTS " + ICEBERG + "." + NAMESPACE);

        // (stopped at JVM exit: the testkit's processes do not outlive the JVM)
        node = new ArrowCacheNode(workDir.resolve("node"), catalogUri, ICEBERG, warehouseUri).start();
        spark.conf().set("spark.sql.catalog." + CACHE, ArrowCacheCatalog.class.getName());
        spark.conf().set("spark.sql.catalog." + CACHE + ".cluster", node.cluster());
    }

    public static synchronized TestEnv get() throws IOException, InterruptedException {
        if (instance == null) {
            instance = new TestEnv();
        }
        return instance;
    }

    /** {@code iceberg.db.<name>}. */
    public static String iceberg(String table) {
        return ICEBERG + "." + NAMESPACE + "." + table;
    }

    /** {@code db.<name>}, the table id the cache knows. */
    public static String tableId(String table) {
        return NAMESPACE + "." + table;
    }

    public Dataset<Row> sql(String sql) {
        return spark.sql(sql);
    }

    /** Spark's own Iceberg read. */
    public Dataset<Row> icebergRead(String table) {
        return spark.table(iceberg(table));
    }

    /** The connector's read. */
    public Dataset<Row> cacheRead(String table) {
        return spark.read().format("arrow-cache")
                .option("cache.cluster", node.cluster())
                .option("table.id", tableId(table))
                .load();
    }

    /** The Iceberg catalog behind {@value #ICEBERG}, for tables Spark SQL cannot create (fixed, time). */
    public org.apache.iceberg.catalog.Catalog icebergCatalog() {
        try {
            return ((org.apache.iceberg.spark.SparkCatalog) spark.sessionState().catalogManager().catalog(ICEBERG)).icebergCatalog();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Makes the node see the table's newest snapshot now (it trusts one for caching.ttl_seconds). */
    public void refresh(String table) {
        ArrowCacheClient.shared(node.cluster(), 10_000).tableAction("refresh", TableAction.of(tableId(table)));
    }
}
