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

    /** Iceberg uuid, tagged arrow.uuid by the node: Spark string, as in Iceberg's Spark read; untagged it is fixed[16]. */
    @Test
    public void uuidIsATaggedFixedSizeBinary() {
        java.util.Map<String, String> tag = Collections.singletonMap(ArrowCacheSchemaUtil.EXTENSION_NAME_KEY, ArrowCacheSchemaUtil.ARROW_UUID);
        Field uuid = new Field("u", new FieldType(true, new ArrowType.FixedSizeBinary(16), null, tag), Collections.emptyList());
        StructType spark = ArrowCacheSchemaUtil.convert(new Schema(Arrays.asList(uuid, f("fx", new ArrowType.FixedSizeBinary(16)))), "ns.t");
        assertEquals(org.apache.spark.sql.types.DataTypes.StringType, spark.apply("u").dataType());
        assertTrue(spark.apply("u").metadata().getBoolean(ArrowCacheSchemaUtil.UUID_KEY));
        assertEquals(org.apache.spark.sql.types.DataTypes.BinaryType, spark.apply("fx").dataType());
        assertEquals("123e4567-e89b-12d3-a456-426614174000", new String(UuidColumnVector.format(new byte[] {
                0x12, 0x3e, 0x45, 0x67, (byte) 0xe8, (byte) 0x9b, 0x12, (byte) 0xd3, (byte) 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}),
                java.nio.charset.StandardCharsets.US_ASCII));
        expectRefused(f("st", ArrowType.Struct.INSTANCE, uuid), "`st.u`");
        // The tag survives the C Data Interface, which is how the bridge hands schemas over.
        try (org.apache.arrow.memory.BufferAllocator a = new org.apache.arrow.memory.RootAllocator();
             org.apache.arrow.c.ArrowSchema c = org.apache.arrow.c.ArrowSchema.allocateNew(a)) {
            org.apache.arrow.c.Data.exportField(a, uuid, null, c);
            Field imported = org.apache.arrow.c.Data.importField(a, c, null);
            assertTrue(imported.toString(), ArrowCacheSchemaUtil.isUuid(imported));
        }
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
