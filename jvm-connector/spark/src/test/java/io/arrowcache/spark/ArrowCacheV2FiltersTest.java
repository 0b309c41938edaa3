package io.arrowcache.spark;

import io.arrowcache.scan.Expression;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.LiteralValue;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.filter.AlwaysFalse;
import org.apache.spark.sql.connector.expressions.filter.AlwaysTrue;
import org.apache.spark.sql.connector.expressions.filter.And;
import org.apache.spark.sql.connector.expressions.filter.Not;
import org.apache.spark.sql.connector.expressions.filter.Or;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.Test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

/** Spark V2 predicates to the cache's filter JSON: exact translations, and what stays in Spark. */
public class ArrowCacheV2FiltersTest {
    private static final StructType SCHEMA = StructType.fromDDL(
            "b BOOLEAN, i INT, l BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(10,2), s STRING, bin BINARY, dt DATE, "
                    + "ts TIMESTAMP, ntz TIMESTAMP_NTZ, st STRUCT<a: INT>, arr ARRAY<INT>, m MAP<STRING, INT>");

    private static NamedReference col(String name) {
        return Expressions.column(name);
    }

    private static LiteralValue<Object> lit(Object value, DataType type) {
        return new LiteralValue<>(value, type);
    }

    private static Predicate p(String name, org.apache.spark.sql.connector.expressions.Expression... children) {
        return new Predicate(name, children);
    }

    private static String json(Predicate p) {
        Expression e = ArrowCacheV2Filters.convert(p, SCHEMA);
        return e == null ? null : e.toJson();
    }

    private static String cmp(String type, String term, String value) {
        return "{\"type\":\"" + type + "\",\"term\":\"" + term + "\",\"value\":" + value + "}";
    }

    @Test
    public void comparisons() {
        LiteralValue<Object> five = lit(5, DataTypes.IntegerType);
        assertEquals(cmp("eq", "i", "5"), json(p("=", col("i"), five)));
        assertEquals(cmp("not-eq", "i", "5"), json(p("<>", col("i"), five)));
        assertEquals(cmp("lt", "i", "5"), json(p("<", col("i"), five)));
        assertEquals(cmp("lt-eq", "i", "5"), json(p("<=", col("i"), five)));
        assertEquals(cmp("gt", "i", "5"), json(p(">", col("i"), five)));
        assertEquals(cmp("gt-eq", "i", "5"), json(p(">=", col("i"), five)));
        // A literal on the left flips the comparison.
        assertEquals(cmp("gt", "i", "5"), json(p("<", five, col("i"))));
        assertEquals(cmp("lt-eq", "i", "5"), json(p(">=", five, col("i"))));
        assertEquals(cmp("eq", "i", "5"), json(p("=", five, col("i"))));
        // Null-safe equality never returns NULL.
        assertEquals("{\"type\":\"and\",\"left\":{\"type\":\"not-null\",\"term\":\"i\"},\"right\":" + cmp("eq", "i", "5") + "}",
                json(p("<=>", col("i"), five)));
        assertEquals("{\"type\":\"is-null\",\"term\":\"i\"}", json(p("<=>", col("i"), lit(null, DataTypes.IntegerType))));
        // Comparisons with NULL are NULL: not expressible, left to Spark.
        assertNull(json(p("=", col("i"), lit(null, DataTypes.IntegerType))));
        // Two columns, or an expression, are not pushed.
        assertNull(json(p("=", col("i"), col("l"))));
        assertNull(json(p("=", new org.apache.spark.sql.connector.expressions.GeneralScalarExpression("UPPER",
                new org.apache.spark.sql.connector.expressions.Expression[] {col("s")}), lit(UTF8String.fromString("A"), DataTypes.StringType))));
        // Unknown and nested columns are not pushed.
        assertNull(json(p("=", col("nope"), five)));
        assertNull(json(p("=", Expressions.column("st.a"), five)));
        assertNull(json(p("=", org.apache.spark.sql.connector.expressions.FieldReference.apply(
                scala.collection.JavaConverters.asScalaBuffer(java.util.Arrays.asList("st", "a")).toSeq()), five)));
    }

    @Test
    public void literalsFollowTheColumnType() {
        assertEquals(cmp("eq", "b", "true"), json(p("=", col("b"), lit(true, DataTypes.BooleanType))));
        assertEquals(cmp("eq", "l", "-9223372036854775808"), json(p("=", col("l"), lit(Long.MIN_VALUE, DataTypes.LongType))));
        assertEquals(cmp("eq", "l", "7"), json(p("=", col("l"), lit(7, DataTypes.IntegerType))));
        assertEquals(cmp("eq", "i", "7"), json(p("=", col("i"), lit(7L, DataTypes.LongType))));
        assertNull("a long beyond an int column", json(p("=", col("i"), lit(1L << 40, DataTypes.LongType))));
        assertEquals(cmp("eq", "dec", "\"12.30\""), json(p("=", col("dec"), lit(Decimal.apply("12.3"), DataTypes.createDecimalType(3, 1)))));
        assertEquals(cmp("eq", "dec", "\"12.30\""), json(p("=", col("dec"), lit(Decimal.apply("12.3000"), DataTypes.createDecimalType(6, 4)))));
        assertNull("more scale than the column", json(p("=", col("dec"), lit(Decimal.apply("12.345"), DataTypes.createDecimalType(5, 3)))));
        assertNull("more digits than the column", json(p("<", col("dec"), lit(Decimal.apply("123456789012"), DataTypes.createDecimalType(12, 0)))));
        assertNull("an int against a decimal column", json(p("=", col("dec"), lit(5, DataTypes.IntegerType))));
        assertEquals(cmp("eq", "s", "\"é\""), json(p("=", col("s"), lit(UTF8String.fromString("é"), DataTypes.StringType))));
        assertEquals(cmp("eq", "bin", "\"0aff\""), json(p("=", col("bin"), lit(new byte[] {10, -1}, DataTypes.BinaryType))));
        assertEquals(cmp("gt-eq", "dt", "\"2000-01-01\""), json(p(">=", col("dt"), lit(10957, DataTypes.DateType))));
        assertEquals(cmp("lt", "ts", "\"2024-01-01T00:00:00.000000+00:00\""),
                json(p("<", col("ts"), lit(1704067200000000L, DataTypes.TimestampType))));
        assertEquals(cmp("lt", "ntz", "\"2024-01-01T00:00:00.000000\""),
                json(p("<", col("ntz"), lit(1704067200000000L, DataTypes.TimestampNTZType))));
        assertNull("a timestamp the cache cannot hold", json(p("<", col("ts"), lit(Long.MAX_VALUE, DataTypes.TimestampType))));
        assertNull("a date the cache cannot hold", json(p("<", col("dt"), lit(3_000_000, DataTypes.DateType))));
        assertNull("a string against a date column", json(p("=", col("dt"), lit(UTF8String.fromString("2020-01-01"), DataTypes.StringType))));
        assertNull("struct values", json(p("=", col("st"), lit(null, DataTypes.IntegerType))));
    }

    @Test
    public void floatsFollowSparkNaNSemantics() {
        LiteralValue<Object> one = lit(1.0, DataTypes.DoubleType);
        // NaN is above every number in Spark; the cache says NaN compares false.
        assertEquals("{\"type\":\"or\",\"left\":" + cmp("gt", "d", "1.0") + ",\"right\":{\"type\":\"is-nan\",\"term\":\"d\"}}",
                json(p(">", col("d"), one)));
        assertEquals("{\"type\":\"or\",\"left\":" + cmp("gt-eq", "d", "1.0") + ",\"right\":{\"type\":\"is-nan\",\"term\":\"d\"}}",
                json(p(">=", col("d"), one)));
        assertEquals(cmp("lt", "d", "1.0"), json(p(">", one, col("d"))));
        assertEquals(cmp("lt-eq", "d", "1.0"), json(p("<=", col("d"), one)));
        assertEquals(cmp("eq", "d", "1.0"), json(p("=", col("d"), one)));
        assertEquals(cmp("not-eq", "d", "1.0"), json(p("<>", col("d"), one)));
        assertEquals(cmp("lt", "d", "\"Infinity\""), json(p("<", col("d"), lit(Double.POSITIVE_INFINITY, DataTypes.DoubleType))));
        assertEquals(cmp("lt", "f", "1.5"), json(p("<", col("f"), lit(1.5f, DataTypes.FloatType))));
        assertEquals(cmp("lt", "d", "1.5"), json(p("<", col("d"), lit(1.5f, DataTypes.FloatType))));
        assertNull("a double against a float column rounds", json(p("<", col("f"), lit(1.5, DataTypes.DoubleType))));
        assertNull("NaN literals stay in Spark", json(p("=", col("d"), lit(Double.NaN, DataTypes.DoubleType))));
        assertNull(json(p("IN", col("f"), lit(1f, DataTypes.FloatType), lit(Float.NaN, DataTypes.FloatType))));
    }

    @Test
    public void fixedWidthBinaryOnlyWithLiteralsOfItsWidth() {
        StructType schema = new StructType().add("fx", DataTypes.BinaryType, true,
                new org.apache.spark.sql.types.MetadataBuilder().putLong(ArrowCacheSchemaUtil.FIXED_WIDTH_KEY, 2).build());
        Expression ok = ArrowCacheV2Filters.convert(p("=", col("fx"), lit(new byte[] {1, 2}, DataTypes.BinaryType)), schema);
        assertEquals(cmp("eq", "fx", "\"0102\""), ok.toJson());
        assertNull(ArrowCacheV2Filters.convert(p("=", col("fx"), lit(new byte[] {1}, DataTypes.BinaryType)), schema));
        assertNull(ArrowCacheV2Filters.convert(p("IN", col("fx"), lit(new byte[] {1, 2}, DataTypes.BinaryType),
                lit(new byte[] {1, 2, 3}, DataTypes.BinaryType)), schema));
        assertEquals("{\"type\":\"is-null\",\"term\":\"fx\"}", ArrowCacheV2Filters.convert(p("IS_NULL", col("fx")), schema).toJson());
    }

    @Test
    public void uuidOnlyWithCanonicalUuidStrings() {
        StructType schema = new StructType().add("u", DataTypes.StringType, true,
                new org.apache.spark.sql.types.MetadataBuilder().putBoolean(ArrowCacheSchemaUtil.UUID_KEY, true).build());
        String u = "123e4567-e89b-12d3-a456-426614174000";
        assertEquals(cmp("eq", "u", "\"" + u + "\""),
                ArrowCacheV2Filters.convert(p("=", col("u"), lit(UTF8String.fromString(u), DataTypes.StringType)), schema).toJson());
        assertEquals(cmp("gt", "u", "\"" + u + "\""),
                ArrowCacheV2Filters.convert(p(">", col("u"), lit(UTF8String.fromString(u), DataTypes.StringType)), schema).toJson());
        assertNull("not a uuid", ArrowCacheV2Filters.convert(p(">", col("u"), lit(UTF8String.fromString("7"), DataTypes.StringType)), schema));
        assertNull("upper case never equals Spark's lower-case strings",
                ArrowCacheV2Filters.convert(p("=", col("u"), lit(UTF8String.fromString(u.toUpperCase()), DataTypes.StringType)), schema));
        assertNull(ArrowCacheV2Filters.convert(p("IN", col("u"), lit(UTF8String.fromString(u), DataTypes.StringType),
                lit(UTF8String.fromString("x"), DataTypes.StringType)), schema));
        assertNull("prefixes are not bytes", ArrowCacheV2Filters.convert(p("STARTS_WITH", col("u"),
                lit(UTF8String.fromString("123e"), DataTypes.StringType)), schema));
    }

    @Test
    public void setsNullsAndStrings() {
        assertEquals("{\"type\":\"in\",\"term\":\"l\",\"values\":[1,2]}",
                json(p("IN", col("l"), lit(1L, DataTypes.LongType), lit(2L, DataTypes.LongType))));
        assertNull("NULL in the list", json(p("IN", col("l"), lit(1L, DataTypes.LongType), lit(null, DataTypes.LongType))));
        assertNull("an empty list", json(p("IN", col("l"))));
        assertEquals("{\"type\":\"is-null\",\"term\":\"st\"}", json(p("IS_NULL", col("st"))));
        assertEquals("{\"type\":\"not-null\",\"term\":\"m\"}", json(p("IS_NOT_NULL", col("m"))));
        assertEquals("{\"type\":\"starts-with\",\"term\":\"s\",\"value\":\"ab\"}",
                json(p("STARTS_WITH", col("s"), lit(UTF8String.fromString("ab"), DataTypes.StringType))));
        assertNull(json(p("ENDS_WITH", col("s"), lit(UTF8String.fromString("ab"), DataTypes.StringType))));
        assertNull(json(p("CONTAINS", col("s"), lit(UTF8String.fromString("ab"), DataTypes.StringType))));
    }

    @Test
    public void logicTranslatesOnlyWhenEveryPartDoes() {
        Predicate good = p("IS_NULL", col("i"));
        Predicate bad = p("ENDS_WITH", col("s"), lit(UTF8String.fromString("x"), DataTypes.StringType));
        String g = "{\"type\":\"is-null\",\"term\":\"i\"}";
        assertEquals("{\"type\":\"and\",\"left\":" + g + ",\"right\":" + g + "}", json(new And(good, good)));
        assertEquals("{\"type\":\"or\",\"left\":" + g + ",\"right\":" + g + "}", json(new Or(good, good)));
        assertEquals("{\"type\":\"not\",\"child\":" + g + "}", json(new Not(good)));
        assertNull(json(new And(good, bad)));
        assertNull(json(new Or(bad, good)));
        assertNull(json(new Not(bad)));
        assertEquals("{\"type\":\"true\"}", json(new AlwaysTrue()));
        assertEquals("{\"type\":\"false\"}", json(new AlwaysFalse()));
    }
}
