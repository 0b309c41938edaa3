package io.arrowcache.spark;

import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.sql.types.StructType;
import org.junit.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** Arrow types as the cache serves Iceberg tables, to the Spark types Iceberg's Spark read uses. */
public class ArrowCacheSchemaUtilTest {
    private static Field f(String name, ArrowType type, Field... children) {
        return new Field(name, FieldType.nullable(type), Arrays.asList(children));
    }

    private static Field required(String name, ArrowType type, Field... children) {
        return new Field(name, FieldType.notNullable(type), Arrays.asList(children));
    }

    @Test
    public void mapsEveryIcebergType() {
        List<Field> fields = Arrays.asList(
                required("id", new ArrowType.Int(64, true)),
                f("b", ArrowType.Bool.INSTANCE),
                f("i", new ArrowType.Int(32, true)),
                f("f", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
                f("d", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
                f("dec", new ArrowType.Decimal(38, 10, 128)),
                f("s", ArrowType.Utf8.INSTANCE),
                f("ls", ArrowType.LargeUtf8.INSTANCE),
                f("bin", ArrowType.LargeBinary.INSTANCE),
                f("fixed", new ArrowType.FixedSizeBinary(16)),
                f("dt", new ArrowType.Date(DateUnit.DAY)),
                f("ts", new ArrowType.Timestamp(TimeUnit.MICROSECOND, "+00:00")),
                f("ntz", new ArrowType.Timestamp(TimeUnit.MICROSECOND, null)),
                f("st", ArrowType.Struct.INSTANCE, f("a", new ArrowType.Int(32, true)), required("b", ArrowType.Utf8.INSTANCE)),
                f("arr", ArrowType.List.INSTANCE, f("element", new ArrowType.Int(32, true))),
                f("m", new ArrowType.Map(false), required("entries", ArrowType.Struct.INSTANCE,
                        required("key", ArrowType.Utf8.INSTANCE), f("value", ArrowType.Binary.INSTANCE))));
        StructType spark = ArrowCacheSchemaUtil.convert(new Schema(fields), "ns.t");
        assertEquals(StructType.fromDDL("id BIGINT NOT NULL, b BOOLEAN, i INT, f FLOAT, d DOUBLE, dec DECIMAL(38,10), s STRING, "
                + "ls STRING, bin BINARY, fixed BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, st STRUCT<a: INT, b: STRING NOT NULL>, "
                + "arr ARRAY<INT>, m MAP<STRING, BINARY>").json(),
                new StructType(java.util.Arrays.stream(spark.fields()).map(f -> f.copy(f.name(), f.dataType(), f.nullable(),
                        org.apache.spark.sql.types.Metadata.empty())).toArray(org.apache.spark.sql.types.StructField[]::new)).json());
        assertEquals(16, spark.apply("fixed").metadata().getLong(ArrowCacheSchemaUtil.FIXED_WIDTH_KEY));
        StructType req = ArrowCacheSchemaUtil.convert(new Schema(Collections.singletonList(
                f("arr", ArrowType.List.INSTANCE, required("element", new ArrowType.Int(32, true))))), "ns.t");
        assertEquals(false, ((org.apache.spark.sql.types.ArrayType) req.apply("arr").dataType()).containsNull());
    }

    @Test
    public void refusesTypesSparkCannotHoldNamingTheColumn() {
        expectRefused(f("t", new ArrowType.Time(TimeUnit.MICROSECOND, 64)), "`t`");
        expectRefused(f("ns", new ArrowType.Timestamp(TimeUnit.NANOSECOND, "UTC")), "`ns`");
        expectRefused(f("u", new ArrowType.Int(32, false)), "`u`");
        expectRefused(f("st", ArrowType.Struct.INSTANCE, f("fixed", new ArrowType.FixedSizeBinary(4))), "`st.fixed`");
        expectRefused(f("wide", new ArrowType.Decimal(76, 0, 256)), "`wide`");
    }

    private static void expectRefused(Field field, String fragment) {
        try {
            ArrowCacheSchemaUtil.convert(new Schema(Collections.singletonList(field)), "ns.t");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(fragment) && e.getMessage().contains("ns.t"));
            return;
        }
        fail("expected " + field + " to be refused");
    }
}
