package io.arrowcache.spark;

import io.arrowcache.testkit.Processes;

import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.SparkSession;
import org.junit.BeforeClass;
import org.junit.Test;

import java.util.concurrent.Callable;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** Bad input is an AnalysisException or an IllegalArgumentException naming what is wrong, never a crash. */
public class BadInputTest {
    private static TestEnv env;

    @BeforeClass
    public static void setUp() throws Exception {
        env = TestEnv.get();
        TestTables.allTypes(env);
    }

    private static <T extends Throwable> T expect(Class<T> type, Callable<?> action, String... fragments) {
        try {
            action.call();
        } catch (Throwable t) {
            Throwable e = t;
            while (!type.isInstance(e) && e.getCause() != null && e.getCause() != e) {
                e = e.getCause();
            }
            if (!type.isInstance(e)) {
                throw new AssertionError("expected " + type.getSimpleName() + ", got " + t, t);
            }
            for (String f : fragments) {
                assertTrue("`" + e.getMessage() + "` should mention " + f, e.getMessage().contains(f));
            }
            return type.cast(e);
        }
        fail("expected " + type.getSimpleName() + " mentioning " + String.join(", ", fragments));
        return null;
    }

    @Test
    public void unknownTable() {
        expect(AnalysisException.class, () -> env.spark.read().format("arrow-cache").option("cache.cluster", env.node.cluster())
                .option("table.id", "db.no_such_table").load(), "no_such_table");
        expect(AnalysisException.class, () -> env.sql("SELECT * FROM " + TestEnv.CACHE + ".db.no_such_table"), "no_such_table");
        expect(AnalysisException.class, () -> env.sql("SELECT * FROM " + TestEnv.CACHE + ".no_such_ns.t"), "no_such_ns");
    }

    @Test
    public void unreachableCluster() throws Exception {
        int port = Processes.freePort();
        expect(IllegalArgumentException.class, () -> env.spark.read().format("arrow-cache")
                .option("cache.cluster", "127.0.0.1:" + port).option("cache.connect-timeout-ms", "2000")
                .option("table.id", TestEnv.tableId(TestTables.ALL_TYPES)).load(), "127.0.0.1:" + port, "cache.cluster");
    }

    @Test
    public void badOptions() {
        expect(IllegalArgumentException.class, () -> env.spark.read().format("arrow-cache")
                .option("table.id", "db.all_types").load(), "cache.cluster");
        expect(IllegalArgumentException.class, () -> env.spark.read().format("arrow-cache")
                .option("cache.cluster", env.node.cluster()).load(), "table.id");
        expect(IllegalArgumentException.class, () -> env.spark.read().format("arrow-cache")
                .option("cache.cluster", "not an address").option("table.id", "db.all_types").load(), "cache.cluster", "not an address");
        expect(IllegalArgumentException.class, () -> env.spark.read().format("arrow-cache").option("cache.cluster", env.node.cluster())
                .option("table.id", "db.all_types").option("snapshot-id", "latest").load(), "snapshot-id", "latest");
        expect(IllegalArgumentException.class, () -> env.spark.read().format("arrow-cache").option("cache.cluster", env.node.cluster())
                .option("table.id", "db.all_types").option("snapshot-id", "12345").load(), "snapshot-id=12345");
        expect(IllegalArgumentException.class, () -> env.spark.read().format("arrow-cache").option("cache.cluster", env.node.cluster())
                .option("table.id", "db.all_types").option("as-of-timestamp", "1000").load(), "as-of-timestamp=1000");
        expect(IllegalArgumentException.class, () -> env.spark.read().format("arrow-cache").option("cache.cluster", env.node.cluster())
                .option("table.id", "db.all_types").option("snapshotid", "1").load(), "snapshotid");
        expect(UnsupportedOperationException.class, () -> env.sql("CREATE TABLE " + TestEnv.CACHE + ".db.new_table (x INT)"), "read-only");
    }

    @Test
    public void unsupportedType() {
        org.apache.iceberg.catalog.TableIdentifier id = org.apache.iceberg.catalog.TableIdentifier.of(TestEnv.NAMESPACE, "with_time");
        env.icebergCatalog().dropTable(id);
        env.icebergCatalog().createTable(id, new org.apache.iceberg.Schema(
                org.apache.iceberg.types.Types.NestedField.required(1, "id", org.apache.iceberg.types.Types.LongType.get()),
                org.apache.iceberg.types.Types.NestedField.optional(2, "t", org.apache.iceberg.types.Types.TimeType.get())));
        expect(IllegalArgumentException.class, () -> env.cacheRead("with_time"), "`t`", "db.with_time");
        expect(IllegalArgumentException.class, () -> env.sql("SELECT id FROM " + TestEnv.CACHE + ".db.with_time"), "`t`");
    }

    @Test
    public void catalogWithoutCluster() {
        SparkSession s = env.spark.newSession();
        s.conf().set("spark.sql.catalog.broken", ArrowCacheCatalog.class.getName());
        expect(IllegalArgumentException.class, () -> s.sql("SELECT * FROM broken.db.all_types"), "spark.sql.catalog.broken.cluster");
        s.conf().set("spark.sql.catalog.broken2", ArrowCacheCatalog.class.getName());
        s.conf().set("spark.sql.catalog.broken2.cluster", "127.0.0.1:1");
        s.conf().set("spark.sql.catalog.broken2.connect-timeout-ms", "1000");
        expect(IllegalArgumentException.class, () -> s.sql("SELECT * FROM broken2.db.all_types"), "127.0.0.1:1");
    }
}
