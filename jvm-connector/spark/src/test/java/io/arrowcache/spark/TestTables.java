package io.arrowcache.spark;

import java.util.HashSet;
import java.util.Set;

/** The tables the integration tests read, written once per JVM by Spark's Iceberg runtime. */
public final class TestTables {
    /** Every Spark type Iceberg stores, with NULLs, NaN, infinities, -0.0 and extremes. */
    public static final String ALL_TYPES = "all_types";
    /**
     * The same rows, partitioned by {@code b} and a bucket of {@code id}. (Not by truncate of an int
     * column: Iceberg 1.10 computes truncate(W, Integer.MIN_VALUE) with overflow into a positive
     * partition value, so Spark's Iceberg read prunes that row for {@code i < 0}.)
     */
    public static final String PARTITIONED = "all_types_partitioned";
    public static final int ALL_TYPES_ROWS = 3000;

    private static final Set<String> written = new HashSet<>();

    private TestTables() {
    }

    /**
     * A SELECT over {@code range(n)} producing every type. Every column but id is NULL on some
     * rows; floats hit NaN, ±Infinity and -0.0; strings include empty and non-ASCII values;
     * dates and timestamps span 1900..2200 on both sides of the epoch.
     */
    static String allTypesSelect(int n) {
        return "SELECT\n"
                + "  id,\n"
                + "  CASE WHEN id % 11 = 0 THEN NULL ELSE id % 3 = 0 END AS b,\n"
                + "  CASE WHEN id % 13 = 0 THEN NULL WHEN id % 97 = 1 THEN 2147483647 WHEN id % 97 = 2 THEN -2147483648"
                + "       ELSE CAST(id % 200 - 100 AS INT) END AS i,\n"
                + "  CASE WHEN id % 17 = 0 THEN NULL WHEN id % 89 = 1 THEN 9223372036854775807 WHEN id % 89 = 2 THEN -9223372036854775808"
                + "       ELSE id * 1000003 - 1500000000 END AS l,\n"
                + "  CASE WHEN id % 19 = 0 THEN NULL WHEN id % 23 = 0 THEN CAST('NaN' AS FLOAT) WHEN id % 29 = 0 THEN CAST('Infinity' AS FLOAT)"
                + "       WHEN id % 31 = 0 THEN CAST('-Infinity' AS FLOAT) WHEN id % 37 = 0 THEN CAST(-0.0 AS FLOAT)"
                + "       ELSE CAST((id % 50) / 4.0 - 5 AS FLOAT) END AS f,\n"
                + "  CASE WHEN id % 19 = 1 THEN NULL WHEN id % 23 = 1 THEN CAST('NaN' AS DOUBLE) WHEN id % 29 = 1 THEN CAST('Infinity' AS DOUBLE)"
                + "       WHEN id % 31 = 1 THEN CAST('-Infinity' AS DOUBLE) WHEN id % 37 = 1 THEN -0.0D WHEN id % 41 = 1 THEN 0.0D"
                + "       ELSE (id % 100) / 8.0D - 6 END AS d,\n"
                + "  CASE WHEN id % 7 = 0 THEN NULL ELSE CAST((id % 1000) / 100.0 - 5 AS DECIMAL(10,2)) END AS dec,\n"
                + "  CASE WHEN id % 7 = 1 THEN NULL ELSE CAST(id * 123456789.0123456789 AS DECIMAL(38,10)) END AS dec38,\n"
                + "  CASE WHEN id % 5 = 0 THEN NULL WHEN id % 43 = 0 THEN '' WHEN id % 47 = 0 THEN concat('é€', CAST(id AS STRING), '😀')"
                + "       ELSE concat(substr('abcdefghij', CAST(id % 10 AS INT) + 1, 2), CAST(id % 100 AS STRING)) END AS s,\n"
                + "  CASE WHEN id % 6 = 0 THEN NULL WHEN id % 53 = 0 THEN X'' ELSE unhex(lpad(hex(id % 300), 4, '0')) END AS bin,\n"
                + "  CASE WHEN id % 8 = 0 THEN NULL ELSE date_add(DATE '1900-01-01', CAST(id * 37 % 109500 AS INT)) END AS dt,\n"
                + "  CASE WHEN id % 9 = 0 THEN NULL"
                + "       ELSE timestamp_micros(-2208988800000000L + id * 3155760000017L % 9467280000000000L) END AS ts,\n"
                + "  CASE WHEN id % 10 = 0 THEN NULL"
                + "       ELSE CAST(timestamp_micros(-631152000000000L + id * 86400000123L % 4102444800000000L) AS TIMESTAMP_NTZ) END AS ts_ntz,\n"
                + "  CASE WHEN id % 12 = 0 THEN NULL ELSE named_struct('a', CAST(id % 10 AS INT), 'b', CASE WHEN id % 4 = 0 THEN NULL ELSE"
                + "       CAST(id AS STRING) END, 'inner', named_struct('x', id / 3.0D)) END AS st,\n"
                + "  CASE WHEN id % 14 = 0 THEN NULL WHEN id % 15 = 0 THEN array() ELSE"
                + "       array(CAST(id % 5 AS INT), NULL, CAST(id % 7 AS INT)) END AS arr,\n"
                + "  CASE WHEN id % 16 = 0 THEN NULL ELSE array(named_struct('k', CAST(id AS STRING), 'v', id), named_struct('k', NULL, 'v', NULL)) END AS arr_st,\n"
                + "  CASE WHEN id % 18 = 0 THEN NULL WHEN id % 20 = 0 THEN map() ELSE"
                + "       map(concat('k', CAST(id % 3 AS STRING)), CAST(id AS INT), 'z', NULL) END AS m,\n"
                + "  CASE WHEN id % 21 = 0 THEN NULL ELSE map(CAST(id % 4 AS INT), array(CAST(id AS STRING), 'x')) END AS m_arr,\n"
                + "  CAST(id % 100 AS TINYINT) AS tiny,\n"
                + "  CAST(id % 1000 AS SMALLINT) AS small\n"
                + "FROM range(" + n + ")";
    }

    static final String ALL_TYPES_COLUMNS = "id BIGINT NOT NULL, b BOOLEAN, i INT, l BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(10,2), "
            + "dec38 DECIMAL(38,10), s STRING, bin BINARY, dt DATE, ts TIMESTAMP, ts_ntz TIMESTAMP_NTZ, "
            + "st STRUCT<a: INT, b: STRING, inner: STRUCT<x: DOUBLE>>, arr ARRAY<INT>, arr_st ARRAY<STRUCT<k: STRING, v: BIGINT>>, "
            + "m MAP<STRING, INT>, m_arr MAP<INT, ARRAY<STRING>>, tiny TINYINT, small SMALLINT";

    /** Creates (once per JVM) and fills the all-types tables: several inserts, so several files. */
    public static synchronized void allTypes(TestEnv env) {
        if (written.contains(ALL_TYPES)) {
            return;
        }
        for (String t : new String[] {ALL_TYPES, PARTITIONED}) {
            env.sql("DROP TABLE IF EXISTS " + TestEnv.iceberg(t));
        }
        env.sql("CREATE TABLE " + TestEnv.iceberg(ALL_TYPES) + " (" + ALL_TYPES_COLUMNS + ") USING iceberg "
                + "TBLPROPERTIES ('format-version'='2')");
        env.sql("CREATE TABLE " + TestEnv.iceberg(PARTITIONED) + " (" + ALL_TYPES_COLUMNS + ") USING iceberg "
                + "PARTITIONED BY (b, bucket(2, id)) TBLPROPERTIES ('format-version'='2')");
        int per = ALL_TYPES_ROWS / 3;
        for (int k = 0; k < 3; k++) {
            String select = allTypesSelect(ALL_TYPES_ROWS).replace("FROM range(" + ALL_TYPES_ROWS + ")",
                    "FROM range(" + (k * per) + ", " + ((k + 1) * per) + ")");
            env.sql("INSERT INTO " + TestEnv.iceberg(ALL_TYPES) + " " + select);
            env.sql("INSERT INTO " + TestEnv.iceberg(PARTITIONED) + " " + select);
        }
        written.add(ALL_TYPES);
    }
}
