package io.arrowcache.trino;

import io.airlift.slice.Slices;
import io.arrowcache.scan.Expression;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.expression.Call;
import io.trino.spi.expression.ConnectorExpression;
import io.trino.spi.expression.Constant;
import io.trino.spi.expression.FunctionName;
import io.trino.spi.expression.Variable;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.Range;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.predicate.ValueSet;
import io.trino.spi.type.DecimalType;
import io.trino.spi.type.Int128;
import io.trino.spi.type.LongTimestampWithTimeZone;
import io.trino.spi.type.TimeZoneKey;
import io.trino.spi.type.TimestampWithTimeZoneType;
import io.trino.spi.type.UuidType;
import org.junit.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static io.trino.spi.expression.StandardFunctions.ARRAY_CONSTRUCTOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.EQUAL_OPERATOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.IN_PREDICATE_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.LESS_THAN_OPERATOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.LIKE_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.NOT_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.OR_FUNCTION_NAME;
import static io.trino.spi.type.BigintType.BIGINT;
import static io.trino.spi.type.BooleanType.BOOLEAN;
import static io.trino.spi.type.DateType.DATE;
import static io.trino.spi.type.DoubleType.DOUBLE;
import static io.trino.spi.type.IntegerType.INTEGER;
import static io.trino.spi.type.RealType.REAL;
import static io.trino.spi.type.TimeType.TIME_MICROS;
import static io.trino.spi.type.TimestampType.TIMESTAMP_MICROS;
import static io.trino.spi.type.VarbinaryType.VARBINARY;
import static io.trino.spi.type.VarcharType.VARCHAR;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

public class FilterTranslatorTest {
    private static final ArrowCacheColumnHandle I = new ArrowCacheColumnHandle("i", INTEGER);
    private static final ArrowCacheColumnHandle L = new ArrowCacheColumnHandle("L", BIGINT);
    private static final ArrowCacheColumnHandle D = new ArrowCacheColumnHandle("d", DOUBLE);
    private static final ArrowCacheColumnHandle F = new ArrowCacheColumnHandle("f", REAL);
    private static final ArrowCacheColumnHandle S = new ArrowCacheColumnHandle("s", VARCHAR);
    private static final ArrowCacheColumnHandle BIN = new ArrowCacheColumnHandle("bin", VARBINARY);
    private static final ArrowCacheColumnHandle FX = new ArrowCacheColumnHandle("fx", VARBINARY, 4);
    private static final ArrowCacheColumnHandle U = new ArrowCacheColumnHandle("u", UuidType.UUID);
    private static final ArrowCacheColumnHandle DEC9 = new ArrowCacheColumnHandle("dec9", DecimalType.createDecimalType(9, 2));
    private static final ArrowCacheColumnHandle DEC38 = new ArrowCacheColumnHandle("dec38", DecimalType.createDecimalType(38, 10));
    private static final ArrowCacheColumnHandle DT = new ArrowCacheColumnHandle("dt", DATE);
    private static final ArrowCacheColumnHandle T = new ArrowCacheColumnHandle("t", TIME_MICROS);
    private static final ArrowCacheColumnHandle TS = new ArrowCacheColumnHandle("ts", TIMESTAMP_MICROS);
    private static final ArrowCacheColumnHandle TSTZ = new ArrowCacheColumnHandle("tstz", TimestampWithTimeZoneType.TIMESTAMP_TZ_MICROS);
    private static final ArrowCacheColumnHandle B = new ArrowCacheColumnHandle("b", BOOLEAN);
    private static final Map<String, ColumnHandle> ASSIGNMENTS = Map.of("i", I, "d", D, "s", S, "b", B, "f", F);

    private static String json(ArrowCacheColumnHandle column, Domain domain) {
        return FilterTranslator.toExpression(column, domain).map(Expression::toJson).orElse("(not pushed)");
    }

    private static String json(ConnectorExpression e) {
        return FilterTranslator.toExpression(e, ASSIGNMENTS).map(Expression::toJson).orElse("(not pushed)");
    }

    @Test
    public void singleValuesAndLists() {
        assertEquals("{\"type\":\"eq\",\"term\":\"i\",\"value\":7}", json(I, Domain.singleValue(INTEGER, 7L)));
        assertEquals("{\"type\":\"eq\",\"term\":\"L\",\"value\":-5}", json(L, Domain.singleValue(BIGINT, -5L)));
        assertEquals("{\"type\":\"in\",\"term\":\"s\",\"values\":[\"a\",\"é\"]}",
                json(S, Domain.multipleValues(VARCHAR, List.of(Slices.utf8Slice("a"), Slices.utf8Slice("é")))));
        assertEquals("{\"type\":\"eq\",\"term\":\"b\",\"value\":true}", json(B, Domain.singleValue(BOOLEAN, true)));
        assertEquals("{\"type\":\"eq\",\"term\":\"dec9\",\"value\":\"12.34\"}", json(DEC9, Domain.singleValue(DEC9.getType(), 1234L)));
        assertEquals("{\"type\":\"eq\",\"term\":\"dec38\",\"value\":\"-1234567890123456789.0123456789\"}",
                json(DEC38, Domain.singleValue(DEC38.getType(), Int128.valueOf(new java.math.BigInteger("-12345678901234567890123456789")))));
        assertEquals("{\"type\":\"eq\",\"term\":\"dt\",\"value\":\"2024-01-01\"}", json(DT, Domain.singleValue(DATE, 19723L)));
        assertEquals("{\"type\":\"eq\",\"term\":\"t\",\"value\":36000000000}", json(T, Domain.singleValue(TIME_MICROS, 36_000_000_000_000_000L)));
        assertEquals("{\"type\":\"eq\",\"term\":\"ts\",\"value\":\"2024-01-01T10:00:00.000001\"}",
                json(TS, Domain.singleValue(TIMESTAMP_MICROS, 1_704_103_200_000_001L)));
        assertEquals("{\"type\":\"eq\",\"term\":\"tstz\",\"value\":\"2024-01-01T10:00:00.000001+00:00\"}",
                json(TSTZ, Domain.singleValue(TSTZ.getType(), LongTimestampWithTimeZone.fromEpochMillisAndFraction(1_704_103_200_000L, 1_000_000, TimeZoneKey.UTC_KEY))));
        assertEquals("{\"type\":\"eq\",\"term\":\"bin\",\"value\":\"00ff\"}", json(BIN, Domain.singleValue(VARBINARY, Slices.wrappedBuffer(new byte[] {0, -1}))));
        UUID uuid = UUID.fromString("12345678-1234-5678-1234-567812345678");
        assertEquals("{\"type\":\"eq\",\"term\":\"u\",\"value\":\"12345678-1234-5678-1234-567812345678\"}",
                json(U, Domain.singleValue(UuidType.UUID, UuidType.javaUuidToTrinoUuid(uuid))));
    }

    @Test
    public void fixedWidthOnlyWithValuesOfItsWidth() {
        assertEquals("{\"type\":\"eq\",\"term\":\"fx\",\"value\":\"01020304\"}", json(FX, Domain.singleValue(VARBINARY, Slices.wrappedBuffer(new byte[] {1, 2, 3, 4}))));
        assertEquals("(not pushed)", json(FX, Domain.singleValue(VARBINARY, Slices.wrappedBuffer(new byte[] {1}))));
        assertEquals("(not pushed)", json(FX, Domain.create(ValueSet.ofRanges(Range.greaterThan(VARBINARY, Slices.wrappedBuffer(new byte[] {1, 2, 3, 4}))), false)));
        assertEquals("(not pushed)", json(U, Domain.create(ValueSet.ofRanges(Range.greaterThan(UuidType.UUID, UuidType.javaUuidToTrinoUuid(UUID.randomUUID()))), false)));
    }

    @Test
    public void rangesComplementsAndNulls() {
        assertEquals("{\"type\":\"and\",\"left\":{\"type\":\"gt-eq\",\"term\":\"i\",\"value\":10},\"right\":{\"type\":\"lt\",\"term\":\"i\",\"value\":20}}",
                json(I, Domain.create(ValueSet.ofRanges(Range.range(INTEGER, 10L, true, 20L, false)), false)));
        assertEquals("{\"type\":\"or\",\"left\":{\"type\":\"lt\",\"term\":\"i\",\"value\":0},\"right\":{\"type\":\"gt\",\"term\":\"i\",\"value\":5}}",
                json(I, Domain.create(ValueSet.ofRanges(Range.lessThan(INTEGER, 0L), Range.greaterThan(INTEGER, 5L)), false)));
        // x <> 7 and x NOT IN (1, 2): not-eq / not-in, which never pass NULL, like the domain.
        assertEquals("{\"type\":\"not-eq\",\"term\":\"i\",\"value\":7}",
                json(I, Domain.create(ValueSet.of(INTEGER, 7L).complement(), false)));
        assertEquals("{\"type\":\"not-in\",\"term\":\"s\",\"values\":[\"\",\"a\"]}",
                json(S, Domain.create(ValueSet.of(VARCHAR, Slices.utf8Slice(""), Slices.utf8Slice("a")).complement(), false)));
        // For doubles the complement would pass NaN, which the domain excludes: ranges instead.
        assertEquals("{\"type\":\"or\",\"left\":{\"type\":\"lt\",\"term\":\"d\",\"value\":2.5},\"right\":{\"type\":\"gt\",\"term\":\"d\",\"value\":2.5}}",
                json(D, Domain.create(ValueSet.of(DOUBLE, 2.5).complement(), false)));
        assertEquals("{\"type\":\"is-null\",\"term\":\"i\"}", json(I, Domain.onlyNull(INTEGER)));
        assertEquals("{\"type\":\"not-null\",\"term\":\"i\"}", json(I, Domain.notNull(INTEGER)));
        assertEquals("{\"type\":\"or\",\"left\":{\"type\":\"gt\",\"term\":\"i\",\"value\":40},\"right\":{\"type\":\"is-null\",\"term\":\"i\"}}",
                json(I, Domain.create(ValueSet.ofRanges(Range.greaterThan(INTEGER, 40L)), true)));
        assertEquals("{\"type\":\"false\"}", json(I, Domain.none(INTEGER)));
    }

    @Test
    public void tupleDomains() {
        assertEquals(null, FilterTranslator.toExpression(TupleDomain.all()));
        assertEquals("{\"type\":\"false\"}", FilterTranslator.toExpression(TupleDomain.none()).toJson());
        TupleDomain<ColumnHandle> two = TupleDomain.withColumnDomains(Map.of(
                I, Domain.singleValue(INTEGER, 1L), S, Domain.singleValue(VARCHAR, Slices.utf8Slice("x"))));
        assertEquals("{\"type\":\"and\",\"left\":{\"type\":\"eq\",\"term\":\"i\",\"value\":1},\"right\":{\"type\":\"eq\",\"term\":\"s\",\"value\":\"x\"}}",
                FilterTranslator.toExpression(two).toJson());
    }

    private static Call call(FunctionName name, ConnectorExpression... args) {
        return new Call(BOOLEAN, name, Arrays.asList(args));
    }

    private static Constant varchar(String s) {
        return new Constant(Slices.utf8Slice(s), VARCHAR);
    }

    @Test
    public void expressions() {
        Variable i = new Variable("i", INTEGER);
        Variable s = new Variable("s", VARCHAR);
        Variable d = new Variable("d", DOUBLE);
        // 5 < i is i > 5
        assertEquals("{\"type\":\"gt\",\"term\":\"i\",\"value\":5}", json(call(LESS_THAN_OPERATOR_FUNCTION_NAME, new Constant(5L, INTEGER), i)));
        assertEquals("{\"type\":\"or\",\"left\":{\"type\":\"eq\",\"term\":\"i\",\"value\":7},\"right\":{\"type\":\"eq\",\"term\":\"s\",\"value\":\"abc\"}}",
                json(call(OR_FUNCTION_NAME, call(EQUAL_OPERATOR_FUNCTION_NAME, i, new Constant(7L, INTEGER)),
                        call(EQUAL_OPERATOR_FUNCTION_NAME, s, varchar("abc")))));
        assertEquals("{\"type\":\"starts-with\",\"term\":\"s\",\"value\":\"ab\"}", json(call(LIKE_FUNCTION_NAME, s, varchar("ab%"))));
        assertEquals("{\"type\":\"not\",\"child\":{\"type\":\"starts-with\",\"term\":\"s\",\"value\":\"ab\"}}",
                json(call(NOT_FUNCTION_NAME, call(LIKE_FUNCTION_NAME, s, varchar("ab%")))));
        assertEquals("(not pushed)", json(call(LIKE_FUNCTION_NAME, s, varchar("a%c"))));
        assertEquals("(not pushed)", json(call(LIKE_FUNCTION_NAME, s, varchar("a_%"))));
        assertEquals("(not pushed)", json(call(LIKE_FUNCTION_NAME, s, varchar("a\\_%"), varchar("\\"))));
        assertEquals("{\"type\":\"starts-with\",\"term\":\"s\",\"value\":\"a\"}", json(call(new FunctionName("starts_with"), s, varchar("a"))));
        assertEquals("{\"type\":\"is-nan\",\"term\":\"d\"}", json(call(new FunctionName("is_nan"), d)));
        assertEquals("(not pushed)", json(call(EQUAL_OPERATOR_FUNCTION_NAME, d, new Constant(Double.NaN, DOUBLE))));
        assertEquals("(not pushed)", json(call(EQUAL_OPERATOR_FUNCTION_NAME, i, new Constant(null, INTEGER))));
        Call list = new Call(VARCHAR, ARRAY_CONSTRUCTOR_FUNCTION_NAME, List.of(varchar("a"), varchar("b")));
        assertEquals("{\"type\":\"in\",\"term\":\"s\",\"values\":[\"a\",\"b\"]}", json(call(IN_PREDICATE_FUNCTION_NAME, s, list)));
        Call withNull = new Call(VARCHAR, ARRAY_CONSTRUCTOR_FUNCTION_NAME, List.of(varchar("a"), new Constant(null, VARCHAR)));
        assertEquals("(not pushed)", json(call(IN_PREDICATE_FUNCTION_NAME, s, withNull)));
        assertEquals("(not pushed)", json(call(new FunctionName("lower"), s)));
        assertEquals("{\"type\":\"eq\",\"term\":\"b\",\"value\":true}", json(new Variable("b", BOOLEAN)));
    }

    @Test
    public void describeForExplain() {
        TupleDomain<ColumnHandle> d = TupleDomain.withColumnDomains(Map.of(
                I, Domain.create(ValueSet.ofRanges(Range.greaterThan(INTEGER, 40L)), true),
                S, Domain.singleValue(VARCHAR, Slices.utf8Slice("it's"))));
        assertEquals("\"s\" = 'it''s' AND (\"i\" > 40 OR \"i\" IS NULL)", FilterTranslator.describe(FilterTranslator.toExpression(d)));
    }

    @Test
    public void nestedTypesAreNotPushed() {
        io.trino.spi.type.ArrayType array = new io.trino.spi.type.ArrayType(INTEGER);
        assertFalse(FilterTranslator.toExpression(new ArrowCacheColumnHandle("a", array), Domain.notNull(array)).isPresent());
        assertEquals(Optional.empty(), FilterTranslator.toExpression(new Constant(true, BOOLEAN), Collections.emptyMap()));
    }
}
