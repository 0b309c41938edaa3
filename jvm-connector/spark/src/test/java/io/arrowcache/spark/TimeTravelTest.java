package io.arrowcache.spark;

import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.BeforeClass;
import org.junit.Test;

import java.util.concurrent.Callable;

import static io.arrowcache.spark.Compare.assertSameRows;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/**
 * Branch and tag reads equal Spark's own Iceberg reads of the same ref, schema included. The table
 * has a tag on its first snapshot, a branch with a commit of its own, then a column added and a
 * commit on main: a tag reads the schema of its snapshot, a branch the table's current schema (as
 * Iceberg's Spark reads do).
 */
public class TimeTravelTest {
    private static final String TABLE = "refs";
    private static TestEnv env;

    @BeforeClass
    public static void setUp() throws Exception {
        env = TestEnv.get();
        String t = TestEnv.iceberg(TABLE);
        env.sql("DROP TABLE IF EXISTS " + t);
        env.sql("CREATE TABLE " + t + " (id BIGINT, s STRING) USING iceberg PARTITIONED BY (bucket(4, id)) "
                + "TBLPROPERTIES ('format-version'='2')");
        env.sql("INSERT INTO " + t + " SELECT id, concat('first-', CAST(id AS STRING)) FROM range(0, 100)");
        env.sql("ALTER TABLE " + t + " CREATE TAG v1");
        env.sql("ALTER TABLE " + t + " CREATE BRANCH audit");
        env.sql("INSERT INTO " + t + " SELECT id, concat('main-', CAST(id AS STRING)) FROM range(100, 150)");
        env.sql("INSERT INTO " + t + ".branch_audit SELECT id, concat('audit-', CAST(id AS STRING)) FROM range(1000, 1030)");
        env.sql("DELETE FROM " + t + ".branch_audit WHERE id < 10");
        env.sql("ALTER TABLE " + t + " ADD COLUMN extra INT");
        env.sql("INSERT INTO " + t + " SELECT id, 'late', CAST(id AS INT) FROM range(150, 160)");
        env.sql("ALTER TABLE " + t + " CREATE TAG v2");
        env.refresh(TABLE);
    }

    private static Dataset<Row> iceberg(String option, String value) {
        return env.spark.read().format("iceberg").option(option, value).load(TestEnv.iceberg(TABLE));
    }

    private static Dataset<Row> cache(String option, String value) {
        return cacheReader(option, value).load();
    }

    private static DataFrameReader cacheReader(String option, String value) {
        return env.spark.read().format("arrow-cache").option("cache.cluster", env.node.cluster())
                .option("table.id", TestEnv.tableId(TABLE)).option(option, value);
    }

    private static String cacheTable() {
        return TestEnv.CACHE + "." + TestEnv.tableId(TABLE);
    }

    /** Same columns, names and types (nullability aside), and the same rows. */
    private static void assertSameRead(String what, Dataset<Row> expected, Dataset<Row> actual) {
        assertEquals(what + ": columns", names(expected.schema()), names(actual.schema()));
        for (StructField f : expected.schema().fields()) {
            assertEquals(what + ": type of " + f.name(), f.dataType(), actual.schema().apply(f.name()).dataType());
        }
        assertSameRows(what, expected, actual);
    }

    private static String names(StructType schema) {
        return String.join(",", schema.fieldNames());
    }

    @Test
    public void tagReadsItsSnapshotWithItsSchema() {
        Dataset<Row> expected = iceberg("tag", "v1");
        assertEquals("id,s", names(expected.schema()));
        assertEquals(100, expected.count());
        assertSameRead("option tag=v1", expected, cache("tag", "v1"));
        assertSameRead("option tag=v2", iceberg("tag", "v2"), cache("tag", "v2"));
        assertSameRead("tag with a filter", expected.where("id > 90"), cache("tag", "v1").where("id > 90"));
        assertSameRead("catalog tag_v1", env.sql("SELECT * FROM " + TestEnv.iceberg(TABLE) + ".tag_v1"),
                env.sql("SELECT * FROM " + cacheTable() + ".tag_v1"));
        assertSameRead("VERSION AS OF 'v1'", env.sql("SELECT * FROM " + TestEnv.iceberg(TABLE) + " VERSION AS OF 'v1'"),
                env.sql("SELECT * FROM " + cacheTable() + " VERSION AS OF 'v1'"));
        // Through table(), Spark fixes the columns when it loads the table (the current schema).
        assertSameRows("catalog with tag option", env.spark.read().option("tag", "v1").table(TestEnv.iceberg(TABLE)).select("id", "s"),
                env.spark.read().option("tag", "v1").table(cacheTable()).select("id", "s"));
        // Iceberg fills columns added since the tag with nulls; the cache refuses them with a clear error.
        expect(() -> env.spark.read().option("tag", "v1").table(cacheTable()).collectAsList(), "column `extra`", "tag=v1");
        String plan = cache("tag", "v1").where("id > 90").queryExecution().executedPlan().toString();
        assertTrue(plan, plan.contains("tag=v1"));
    }

    @Test
    public void branchReadsItsHeadWithTheCurrentSchema() {
        Dataset<Row> expected = iceberg("branch", "audit");
        assertEquals("id,s,extra", names(expected.schema()));
        assertEquals(120, expected.count());
        assertSameRead("option branch=audit", expected, cache("branch", "audit"));
        assertSameRead("branch with a filter", expected.where("s LIKE 'audit%'"), cache("branch", "audit").where("s LIKE 'audit%'"));
        assertSameRead("option branch=main", iceberg("branch", "main"), cache("branch", "main"));
        assertSameRead("branch main is the current state", env.icebergRead(TABLE), cache("branch", "main"));
        assertSameRead("catalog branch_audit", env.sql("SELECT * FROM " + TestEnv.iceberg(TABLE) + ".branch_audit"),
                env.sql("SELECT * FROM " + cacheTable() + ".branch_audit"));
        // VERSION AS OF a name reads the ref's snapshot with that snapshot's schema (see
        // ArrowCacheCatalog); Iceberg reads a branch there with the current schema.
        assertSameRows("VERSION AS OF 'audit'", env.sql("SELECT id, s FROM " + TestEnv.iceberg(TABLE) + " VERSION AS OF 'audit'"),
                env.sql("SELECT id, s FROM " + cacheTable() + " VERSION AS OF 'audit'"));
    }

    @Test
    public void badRefsAreNamed() {
        expect(() -> cache("tag", "nope").collectAsList(), "tag=nope", "no branch or tag `nope`");
        expect(() -> cache("branch", "nope").collectAsList(), "branch=nope", "no branch or tag `nope`");
        expect(() -> cacheReader("branch", "audit").option("tag", "v1").load().collectAsList(), "branch=audit", "tag=v1", "only one of");
        expect(() -> cacheReader("tag", "v1").option("snapshot-id", "1").load().collectAsList(), "snapshot-id=1", "tag=v1");
        expect(() -> cache("tag", " ").collectAsList(), "option tag");
        expect(() -> env.sql("SELECT * FROM " + cacheTable() + " VERSION AS OF 'nope'").collectAsList(), "nope");
        expect(() -> env.sql("SELECT * FROM " + cacheTable() + ".tag_nope").collectAsList(), "nope");
        expect(() -> env.sql("SELECT * FROM " + cacheTable() + ".branch_audit VERSION AS OF 'v1'").collectAsList(), "both");
    }

    private static void expect(Callable<?> action, String... fragments) {
        try {
            action.call();
        } catch (Throwable t) {
            Throwable e = t;
            while (!(e instanceof IllegalArgumentException) && e.getCause() != null && e.getCause() != e) {
                e = e.getCause();
            }
            if (!(e instanceof IllegalArgumentException)) {
                throw new AssertionError("expected IllegalArgumentException, got " + t, t);
            }
            for (String f : fragments) {
                assertTrue("`" + e.getMessage() + "` should mention " + f, e.getMessage().contains(f));
            }
            return;
        }
        fail("expected an IllegalArgumentException mentioning " + String.join(", ", fragments));
    }
}
