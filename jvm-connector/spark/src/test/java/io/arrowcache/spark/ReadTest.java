package io.arrowcache.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.BeforeClass;
import org.junit.Test;

import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.arrowcache.spark.Compare.assertSameRows;
import static io.arrowcache.spark.TestTables.ALL_TYPES;
import static io.arrowcache.spark.TestTables.PARTITIONED;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

/**
 * spark.read.format("arrow-cache") returns exactly what Spark's own Iceberg read returns: every
 * type, filter shapes (pushed and not), projections, limits, aggregates; explain() shows what was
 * pushed. Every line runs with its Spark's default SQL mode (ANSI from 4.0 on), so the queries
 * are valid in both modes: no overflowing arithmetic, no out-of-range array index, no string that
 * fails to cast.
 */
public class ReadTest {
    private static TestEnv env;

    @BeforeClass
    public static void setUp() throws Exception {
        env = TestEnv.get();
        TestTables.allTypes(env);
        // Spark's Iceberg read of the table, materialized once: the filter comparisons below filter it
        // in Spark (a checkpoint, not cache(): the in-memory cache prunes `d = NaN` wrongly by its
        // min/max statistics and answers time travel with the current snapshot).
        icebergAllTypes = env.icebergRead(ALL_TYPES).localCheckpoint(true);
    }

    private static Dataset<Row> icebergAllTypes;

    /** Filters the cache evaluates whole: Spark keeps no Filter of its own. */
    static final List<String> PUSHED = Arrays.asList(
            "i = 5", "i <> 5", "i < -50", "i <= 0", "i > 50", "i >= 99", "5 < i", "i BETWEEN -10 AND 10",
            "i IN (1, 2, 3, 2147483647)", "i IS NULL", "i IS NOT NULL", "i <=> 5", "l <=> NULL",
            "l > 0", "l = 9223372036854775807", "l IN (-9223372036854775808, 1000003)",
            "f > CAST(1.5 AS FLOAT)", "f <= CAST(-1.25 AS FLOAT)", "f = CAST(0 AS FLOAT)", "f <> CAST(2 AS FLOAT)",
            "d > 1.5D", "d >= 0.0D", "d = 0.0D", "d <> 1.0D", "d < CAST('Infinity' AS DOUBLE)", "d >= CAST('Infinity' AS DOUBLE)",
            "d > CAST('-Infinity' AS DOUBLE)", "NOT (d > 1.0D)", "NOT (d < 1.0D)", "NOT (d <> 0.0D)", "d IN (0.0D, 1.5D)",
            "dec = 1.23", "dec > -2.5", "dec IN (1.00, 2.50, -4.99)", "dec38 > 1000000", "dec38 <= 123456789012.3456789",
            "s = 'bc1'", "s LIKE 'bc%'", "s LIKE 'é€%'", "s > 'm'", "s IN ('bc1', 'cd2', '')", "s = ''", "s <> 'bc1'",
            "NOT (s LIKE 'cd%')",
            "bin = X'0064'", "bin > X'0100'", "bin = X''",
            "b", "NOT b", "b = false", "b IS NULL",
            "dt >= DATE '2000-01-01'", "dt < DATE '1950-06-30'", "dt = DATE '2001-05-28'",
            "ts > TIMESTAMP '2100-01-01 00:00:00'", "ts <= TIMESTAMP '1969-12-31 23:59:59.999999'",
            "ts = TIMESTAMP '2000-02-07 04:36:00.017017'",
            "ts_ntz >= TIMESTAMP_NTZ '1990-01-01 00:00:00'", "ts_ntz < TIMESTAMP_NTZ '1952-09-29 16:00:00.123369'",
            "st IS NULL", "arr IS NOT NULL", "m IS NULL", "m_arr IS NOT NULL AND arr_st IS NULL",
            "i > 10 OR s = 'bc1'", "NOT (i = 3 AND s IS NULL)", "(l < 0 OR l > 1000000000) AND NOT (d >= 0.0D)",
            "NOT (i IN (1, 2) OR b)", "tiny = 5", "small > 500", "id < 100 OR id > 2900");

    /** Filters (or parts of them) that stay in Spark: the answer must still be exact. */
    static final List<String> KEPT = Arrays.asList(
            "s LIKE '%1'", "s LIKE '%b%'", "upper(s) = 'BC1'", "st.a = 3", "size(arr) > 2", "m['k1'] = 4",
            "isnan(d)", "d = CAST('NaN' AS DOUBLE)", "f > CAST('NaN' AS FLOAT)", "i = l",
            "id % 2 = 0", "i > 0 AND s LIKE '%1'", "i > 0 OR s LIKE '%1'", "NOT (s LIKE '%1')", "i IN (1, NULL)");

    /** Filters Spark may rewrite (to false, or with casts unwrapped): only the answer is checked. */
    static final List<String> REWRITTEN = Arrays.asList(
            "dec = 1.234", "i = 1.5", "i > 2.5", "l < 3000000000.5", "f > 1.5", "dt > '2000-01-01'", "small = '500'",
            "i IN (1, 2.5)", "tiny = 300", "1 = 0", "i = 5 OR 1 = 1", "ts > DATE '2020-01-01'");

    private static final Pattern FILTER_NODE = Pattern.compile("(^|\\n)[ :+\\-|]*Filter ");

    static boolean sparkKeepsAFilter(Dataset<Row> df) {
        return FILTER_NODE.matcher(df.queryExecution().optimizedPlan().toString()).find();
    }

    static String pushedFilters(Dataset<Row> df) {
        String plan = df.queryExecution().executedPlan().toString();
        Matcher m = Pattern.compile("PushedFilters: \\[([^\\]]*)\\]").matcher(plan);
        assertTrue("no ArrowCacheScan in the plan:\n" + plan, m.find());
        return m.group(1);
    }

    @Test
    public void everyTypeReadsExactly() {
        for (String t : new String[] {ALL_TYPES, PARTITIONED}) {
            Dataset<Row> cache = env.cacheRead(t);
            assertEquals(env.icebergRead(t).schema().json().replace("\"nullable\":false", "\"nullable\":true"),
                    cache.schema().json().replace("\"nullable\":false", "\"nullable\":true"));
            assertEquals(TestTables.ALL_TYPES_ROWS, cache.count());
            assertSameRows(t, env.icebergRead(t), cache);
        }
    }

    @Test
    public void pushedFiltersAreExact() {
        List<String> empty = new java.util.ArrayList<>();
        for (String where : PUSHED) {
            Dataset<Row> cache = env.cacheRead(ALL_TYPES).where(where);
            if (assertSameRows("WHERE " + where, icebergAllTypes.where(where), cache) == 0) {
                empty.add(where);
            }
            assertFalse("WHERE " + where + " should be pushed whole:\n" + cache.queryExecution().optimizedPlan(),
                    sparkKeepsAFilter(cache));
            assertFalse("WHERE " + where + " pushed nothing", pushedFilters(cache).isEmpty());
        }
        // The data must make the filters select something, or the comparisons prove little.
        assertTrue("filters selecting no row: " + empty, empty.size() <= 3);
    }

    @Test
    public void filtersLeftToSparkAreStillExact() {
        for (String where : KEPT) {
            Dataset<Row> cache = env.cacheRead(ALL_TYPES).where(where);
            assertSameRows("WHERE " + where, icebergAllTypes.where(where), cache);
            assertTrue("WHERE " + where + " cannot be pushed whole", sparkKeepsAFilter(cache));
        }
    }

    @Test
    public void rewrittenFiltersAreExact() {
        for (String where : REWRITTEN) {
            assertSameRows("WHERE " + where, icebergAllTypes.where(where), env.cacheRead(ALL_TYPES).where(where));
        }
    }

    @Test
    public void partitionedTableFilters() {
        for (String where : Arrays.asList("b", "NOT b", "b IS NULL", "id = 17", "b AND id < 100",
                "id IN (1, 2, 3) OR ts < TIMESTAMP '1950-01-01 00:00:00'", "s LIKE 'bc%' AND b IS NOT NULL",
                "NOT (i > 0) AND NOT b", "i < 0 OR id < 10")) {
            assertSameRows("partitioned WHERE " + where, env.icebergRead(PARTITIONED).where(where),
                    env.cacheRead(PARTITIONED).where(where));
        }
    }

    @Test
    public void projections() {
        String[][] selections = {
                {"id", "s"}, {"m", "id"}, {"st"}, {"ts_ntz", "ts", "dt"}, {"arr_st", "m_arr"}, {"bin", "dec38", "f"},
                {"st.a", "st.inner.x", "get(arr, 0)", "m['k1']", "m_arr[1]"}, {"id + i", "concat(s, 'x')"},
        };
        for (String[] cols : selections) {
            assertSameRows("SELECT " + String.join(", ", cols), env.icebergRead(ALL_TYPES).selectExpr(cols),
                    env.cacheRead(ALL_TYPES).selectExpr(cols));
        }
        Dataset<Row> two = env.cacheRead(ALL_TYPES).select("s", "id");
        assertTrue(two.queryExecution().executedPlan().toString().contains("columns=[id, s]"));
        // No column at all: count(*) reads row counts only.
        assertEquals(TestTables.ALL_TYPES_ROWS, env.cacheRead(ALL_TYPES).count());
        assertEquals(env.icebergRead(ALL_TYPES).where("i > 0").count(), env.cacheRead(ALL_TYPES).where("i > 0").count());
        assertTrue(env.cacheRead(ALL_TYPES).where("i > 0").groupBy().count().queryExecution().executedPlan().toString()
                .contains("columns=[]"));
        assertSameRows("filter on a column not selected", env.icebergRead(ALL_TYPES).where("l > 0").select("id"),
                env.cacheRead(ALL_TYPES).where("l > 0").select("id"));
    }

    @Test
    public void aggregatesAndJoins() {
        String[] queries = {
                "SELECT b, count(*), sum(CAST(l AS DECIMAL(38,0))), min(d), max(f), avg(dec), count(DISTINCT s) FROM %s GROUP BY b",
                "SELECT dt, count(*) FROM %s WHERE dt IS NOT NULL GROUP BY dt",
                "SELECT a.id, b.s FROM %1$s a JOIN %1$s b ON a.id = b.id + 1 WHERE a.i > 90",
        };
        env.cacheRead(ALL_TYPES).createOrReplaceTempView("cache_all_types");
        for (String q : queries) {
            assertSameRows(q, env.sql(String.format(q, TestEnv.iceberg(ALL_TYPES))), env.sql(String.format(q, "cache_all_types")));
        }
    }

    /**
     * The same read twice in one query (a self-join) is read once: equal scans give equal batches,
     * so Spark reuses the first side's exchange for the second (ReusedExchange).
     */
    @Test
    public void identicalScansAreReused() {
        org.apache.spark.sql.SparkSession session = env.spark.newSession();
        session.conf().set("spark.sql.autoBroadcastJoinThreshold", "-1");  // a shuffle on both sides
        session.read().format("arrow-cache").option("cache.cluster", env.node.cluster())
                .option("table.id", TestEnv.tableId(ALL_TYPES)).load().createOrReplaceTempView("reused_all_types");
        String q = "SELECT a.id, a.s, b.s AS s2 FROM %1$s a JOIN %1$s b ON a.id = b.id WHERE a.i > 0 AND b.i > 0";
        Dataset<Row> joined = session.sql(String.format(q, "reused_all_types"));
        assertSameRows(q, env.sql(String.format(q, TestEnv.iceberg(ALL_TYPES))), joined);
        joined.collectAsList();  // the adaptive plan is final once it has run
        String plan = joined.queryExecution().executedPlan().toString();
        assertTrue(plan, plan.contains("ReusedExchange"));
    }

    @Test
    public void limits() {
        Dataset<Row> limited = env.cacheRead(ALL_TYPES).where("i > 0").limit(7);
        assertEquals(7, limited.collectAsList().size());
        assertTrue(limited.queryExecution().executedPlan().toString().contains("limit=7"));
        assertEquals(0, env.cacheRead(ALL_TYPES).limit(0).count());
        assertEquals(TestTables.ALL_TYPES_ROWS, env.cacheRead(ALL_TYPES).limit(100000).count());
    }

    @Test
    public void explainShowsPushedFilters() {
        Dataset<Row> df = env.cacheRead(ALL_TYPES).where("i > 5 AND s LIKE 'bc%' AND s LIKE '%1'");
        String pushed = pushedFilters(df);
        assertTrue(pushed, pushed.contains("i > 5"));
        assertTrue(pushed, pushed.contains("s LIKE 'bc%'"));
        assertFalse(pushed, pushed.contains("'%1'"));
        String explained = df.queryExecution().explainString(org.apache.spark.sql.execution.SimpleMode$.MODULE$);
        assertTrue(explained, explained.contains("ArrowCacheScan(table=db.all_types, PushedFilters: ["));
        assertTrue(explained, explained.contains("\"type\":\"gt\",\"term\":\"i\",\"value\":5"));
        assertTrue(explained, explained.contains("\"type\":\"starts-with\",\"term\":\"s\",\"value\":\"bc\""));
        // What stays in Spark shows as Spark's own Filter.
        assertTrue(explained, explained.contains("Filter") && explained.contains("EndsWith(s"));
    }

    @Test
    public void statisticsReachTheOptimizer() {
        Dataset<Row> all = env.cacheRead(ALL_TYPES);
        scala.Option<scala.math.BigInt> rows = all.queryExecution().optimizedPlan().stats().rowCount();
        assertTrue(rows.isDefined());
        assertEquals(TestTables.ALL_TYPES_ROWS, rows.get().longValue());
        assertTrue(all.queryExecution().optimizedPlan().stats().sizeInBytes().longValue() > 0);
    }

    @Test
    public void catalogSql() {
        String q = "SELECT id, s, m, st FROM %s WHERE i > 20 AND s LIKE 'c%%'";
        assertSameRows("catalog", env.sql(String.format(q, TestEnv.iceberg(ALL_TYPES))),
                env.sql(String.format(q, TestEnv.CACHE + "." + TestEnv.tableId(ALL_TYPES))));
        assertSameRows("catalog all", env.icebergRead(ALL_TYPES), env.spark.table(TestEnv.CACHE + "." + TestEnv.tableId(ALL_TYPES)));
        assertEquals(env.icebergRead(PARTITIONED).schema().fieldNames().length,
                env.sql("DESCRIBE TABLE " + TestEnv.CACHE + "." + TestEnv.tableId(PARTITIONED)).count());
        // SHOW TABLES lists what the cluster serves in the namespace (the control plane's ListTables).
        java.util.Set<String> shown = new java.util.HashSet<>();
        for (Row r : env.sql("SHOW TABLES IN " + TestEnv.CACHE + "." + TestEnv.NAMESPACE).collectAsList()) {
            shown.add(r.getString(1));
        }
        assertTrue(shown.toString(), shown.contains(ALL_TYPES) && shown.contains(PARTITIONED));
    }

    @Test
    public void tableIdAsLoadPath() {
        Dataset<Row> byPath = env.spark.read().format("arrow-cache").option("cache.cluster", env.node.cluster())
                .load(TestEnv.tableId(ALL_TYPES));
        assertEquals(TestTables.ALL_TYPES_ROWS, byPath.count());
    }

    /** Iceberg fixed[n] (which Spark SQL cannot create) reads as binary, like Iceberg's own read. */
    @Test
    public void fixedColumns() {
        org.apache.iceberg.catalog.TableIdentifier id = org.apache.iceberg.catalog.TableIdentifier.of(TestEnv.NAMESPACE, "fixed_cols");
        env.icebergCatalog().dropTable(id);
        env.icebergCatalog().createTable(id, new org.apache.iceberg.Schema(
                org.apache.iceberg.types.Types.NestedField.required(1, "id", org.apache.iceberg.types.Types.LongType.get()),
                org.apache.iceberg.types.Types.NestedField.optional(2, "fx", org.apache.iceberg.types.Types.FixedType.ofLength(4))));
        env.sql("INSERT INTO " + TestEnv.iceberg("fixed_cols") + " VALUES (1, X'01020304'), (2, NULL), (3, X'0A0B0C0D'), (4, X'00000000')");
        assertSameRows("fixed", env.icebergRead("fixed_cols"), env.cacheRead("fixed_cols"));
        for (String where : Arrays.asList("fx = X'01020304'", "fx > X'01000000'", "fx IS NULL", "fx = X'01'", "fx IN (X'00000000', X'0A0B0C0D')")) {
            assertSameRows("fixed WHERE " + where, env.icebergRead("fixed_cols").where(where), env.cacheRead("fixed_cols").where(where));
        }
        assertTrue(sparkKeepsAFilter(env.cacheRead("fixed_cols").where("fx = X'01'")));
        assertFalse(sparkKeepsAFilter(env.cacheRead("fixed_cols").where("fx = X'01020304'")));
    }

    /**
     * Iceberg uuid reads as Spark's string (as Iceberg's own Spark read has it), filters included.
     * The node tags uuid fields arrow.uuid (FixedSizeBinary(16) storage): untagged, 16 bytes are
     * Iceberg fixed[16], which Spark reads as binary.
     */
    @Test
    public void uuidColumns() {
        org.apache.iceberg.catalog.TableIdentifier id = org.apache.iceberg.catalog.TableIdentifier.of(TestEnv.NAMESPACE, "uuid_cols");
        env.icebergCatalog().dropTable(id);
        env.icebergCatalog().createTable(id, new org.apache.iceberg.Schema(
                org.apache.iceberg.types.Types.NestedField.required(1, "id", org.apache.iceberg.types.Types.LongType.get()),
                org.apache.iceberg.types.Types.NestedField.optional(2, "u", org.apache.iceberg.types.Types.UUIDType.get()),
                org.apache.iceberg.types.Types.NestedField.optional(3, "fx", org.apache.iceberg.types.Types.FixedType.ofLength(16))));
        env.sql("INSERT INTO " + TestEnv.iceberg("uuid_cols") + " VALUES (1, '123e4567-e89b-12d3-a456-426614174000', X'00112233445566778899AABBCCDDEEFF'), "
                + "(2, NULL, NULL), (3, '00000000-0000-0000-0000-000000000000', X'00000000000000000000000000000000'), "
                + "(4, 'ffffffff-ffff-ffff-ffff-ffffffffffff', X'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF'), (5, '8f0c2d4e-1b3a-4c5d-9e6f-7a8b9c0d1e2f', NULL)");
        Dataset<Row> cache = env.cacheRead("uuid_cols");
        assertTrue("the node does not tag uuid fields " + ArrowCacheSchemaUtil.ARROW_UUID + " (column u arrives as "
                + cache.schema().apply("u").dataType().simpleString() + ")", cache.schema().apply("u").metadata().contains(ArrowCacheSchemaUtil.UUID_KEY));
        assertEquals(env.icebergRead("uuid_cols").schema().json().replace("\"nullable\":false", "\"nullable\":true"),
                new StructType(Arrays.stream(cache.schema().fields()).map(f -> f.copy(f.name(), f.dataType(), true,
                        org.apache.spark.sql.types.Metadata.empty())).toArray(StructField[]::new)).json());
        assertSameRows("uuid", env.icebergRead("uuid_cols"), cache);
        // Iceberg 1.10's own Parquet row-group filter fails on uuid literals (ClassCastException:
        // UUID cannot be cast to ByteBuffer), so the baseline filters its materialized read in Spark.
        Dataset<Row> baseline = env.icebergRead("uuid_cols").localCheckpoint();
        for (String where : Arrays.asList("u = '123e4567-e89b-12d3-a456-426614174000'", "u IS NULL", "u > '7'",
                "u >= '8f0c2d4e-1b3a-4c5d-9e6f-7a8b9c0d1e2f'", "u = '123E4567-E89B-12D3-A456-426614174000'",
                "u IN ('00000000-0000-0000-0000-000000000000', '8f0c2d4e-1b3a-4c5d-9e6f-7a8b9c0d1e2f')", "u LIKE '8f0c%'",
                "u = 'not a uuid'")) {
            assertSameRows("uuid WHERE " + where, baseline.where(where), env.cacheRead("uuid_cols").where(where));
        }
        assertFalse(sparkKeepsAFilter(env.cacheRead("uuid_cols").where("u = '123e4567-e89b-12d3-a456-426614174000'")));
        assertTrue(sparkKeepsAFilter(env.cacheRead("uuid_cols").where("u LIKE '8f0c%'")));
    }

    @Test
    public void emptyTable() {
        String t = "empty_table";
        env.sql("DROP TABLE IF EXISTS " + TestEnv.iceberg(t));
        env.sql("CREATE TABLE " + TestEnv.iceberg(t) + " (id BIGINT, s STRING, m MAP<STRING, INT>) USING iceberg");
        Dataset<Row> cache = env.cacheRead(t);
        assertEquals(env.icebergRead(t).schema(), cache.schema());
        assertEquals(0, cache.count());
        assertEquals(0, cache.where("id > 5").collectAsList().size());
    }

    @Test
    public void timeTravel() {
        List<Row> snapshots = env.sql("SELECT snapshot_id, committed_at FROM " + TestEnv.iceberg(ALL_TYPES)
                + ".snapshots ORDER BY committed_at").collectAsList();
        assertTrue(snapshots.size() >= 2);
        long first = snapshots.get(0).getLong(0);
        long firstAt = snapshots.get(0).getTimestamp(1).getTime();
        Dataset<Row> expected = env.sql("SELECT * FROM " + TestEnv.iceberg(ALL_TYPES) + " VERSION AS OF " + first);
        assertEquals(TestTables.ALL_TYPES_ROWS / 3, expected.count());
        assertSameRows("snapshot-id", expected, env.spark.read().format("arrow-cache")
                .option("cache.cluster", env.node.cluster()).option("table.id", TestEnv.tableId(ALL_TYPES))
                .option("snapshot-id", Long.toString(first)).load());
        assertSameRows("as-of-timestamp", expected, env.spark.read().format("arrow-cache")
                .option("cache.cluster", env.node.cluster()).option("table.id", TestEnv.tableId(ALL_TYPES))
                .option("as-of-timestamp", Long.toString(firstAt)).load());
        assertSameRows("VERSION AS OF", expected,
                env.sql("SELECT * FROM " + TestEnv.CACHE + "." + TestEnv.tableId(ALL_TYPES) + " VERSION AS OF " + first));
        assertSameRows("TIMESTAMP AS OF", expected, env.sql("SELECT * FROM " + TestEnv.CACHE + "." + TestEnv.tableId(ALL_TYPES)
                + " TIMESTAMP AS OF timestamp_millis(" + firstAt + ")"));
        assertSameRows("catalog with snapshot-id option", expected, env.spark.read().option("snapshot-id", Long.toString(first))
                .table(TestEnv.CACHE + "." + TestEnv.tableId(ALL_TYPES)));
    }
}
