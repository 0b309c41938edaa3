package io.arrowcache.trino;

import io.trino.spi.block.Block;
import io.trino.spi.block.SqlMap;
import io.trino.spi.block.SqlRow;
import io.trino.spi.type.ArrayType;
import io.trino.spi.type.DecimalType;
import io.trino.spi.type.Int128;
import io.trino.spi.type.LongTimestampWithTimeZone;
import io.trino.spi.type.MapType;
import io.trino.spi.type.RowType;
import io.trino.spi.type.Type;
import io.trino.spi.type.TypeOperators;
import io.trino.spi.type.UuidType;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.TimeMicroVector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.complex.impl.UnionMapWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;

import static io.trino.spi.type.BigintType.BIGINT;
import static io.trino.spi.type.BooleanType.BOOLEAN;
import static io.trino.spi.type.IntegerType.INTEGER;
import static io.trino.spi.type.RealType.REAL;
import static io.trino.spi.type.TimeType.TIME_MICROS;
import static io.trino.spi.type.TimestampWithTimeZoneType.TIMESTAMP_TZ_MICROS;
import static io.trino.spi.type.VarbinaryType.VARBINARY;
import static io.trino.spi.type.VarcharType.VARCHAR;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

/** Arrow vectors (built by Arrow Java here; from the bridge in production) to Trino blocks. */
public class ArrowBlocksTest {
    private BufferAllocator allocator;

    @Before
    public void setUp() {
        allocator = new RootAllocator();
    }

    @After
    public void tearDown() {
        allocator.close();
    }

    private static Object value(Type type, Block block, int position) {
        return block.isNull(position) ? null : type.getObjectValue(block, position);
    }

    @Test
    public void longsWithNullsInEveryWindow() {
        try (BigIntVector v = new BigIntVector("x", allocator)) {
            int n = 300;
            v.allocateNew(n);
            for (int i = 0; i < n; i++) {
                if (i % 7 == 3) {
                    v.setNull(i);
                } else {
                    v.set(i, i * 1_000_000_007L);
                }
            }
            v.setValueCount(n);
            for (int offset : new int[] {0, 64, 128, 5, 77}) {
                int length = Math.min(100, n - offset);
                Block b = ArrowBlocks.toBlock(v, BIGINT, offset, length);
                assertEquals(length, b.getPositionCount());
                for (int i = 0; i < length; i++) {
                    int row = offset + i;
                    assertEquals("row " + row, row % 7 == 3 ? null : row * 1_000_000_007L, value(BIGINT, b, i));
                }
            }
        }
    }

    @Test
    public void noNullsMeansNoValidity() {
        try (IntVector v = new IntVector("x", allocator)) {
            v.allocateNew(10);
            for (int i = 0; i < 10; i++) {
                v.set(i, -i);
            }
            v.setValueCount(10);
            Block b = ArrowBlocks.toBlock(v, INTEGER, 2, 5);
            assertFalse(b.mayHaveNull());
            assertEquals(-6, value(INTEGER, b, 4));
        }
    }

    @Test
    public void booleansAndFloats() {
        try (BitVector bits = new BitVector("b", allocator); Float4Vector f = new Float4Vector("f", allocator)) {
            bits.allocateNew(20);
            f.allocateNew(20);
            for (int i = 0; i < 20; i++) {
                bits.set(i, i % 3 == 0 ? 1 : 0);
                f.set(i, i == 5 ? Float.NaN : i / 4f);
            }
            bits.setNull(7);
            bits.setValueCount(20);
            f.setValueCount(20);
            Block b = ArrowBlocks.toBlock(bits, BOOLEAN, 3, 10);
            assertEquals(true, value(BOOLEAN, b, 0));
            assertEquals(false, value(BOOLEAN, b, 1));
            assertNull(value(BOOLEAN, b, 4));
            Block fb = ArrowBlocks.toBlock(f, REAL, 0, 20);
            assertTrue(Float.isNaN((Float) REAL.getObjectValue(fb, 5)));
            assertEquals(0.25f, (Float) REAL.getObjectValue(fb, 1), 0);
        }
    }

    @Test
    public void stringsKeepNoBytesForNulls() {
        try (VarCharVector v = new VarCharVector("s", allocator)) {
            v.allocateNew();
            String[] values = {"a", "", "日本", null, "xyz", "é"};
            for (int i = 0; i < values.length; i++) {
                if (values[i] == null) {
                    v.setNull(i);
                } else {
                    v.setSafe(i, values[i].getBytes(StandardCharsets.UTF_8));
                }
            }
            v.setValueCount(values.length);
            Block b = ArrowBlocks.toBlock(v, VARCHAR, 1, 5);
            for (int i = 0; i < 5; i++) {
                assertEquals(values[i + 1], value(VARCHAR, b, i));
            }
        }
    }

    @Test
    public void fixedBinaryAndUuid() {
        try (FixedSizeBinaryVector v = new FixedSizeBinaryVector("u", allocator, 16)) {
            v.allocateNew(4);
            UUID a = UUID.fromString("12345678-1234-5678-1234-567812345678");
            UUID c = new UUID(-1, 0);
            v.set(0, bytes(a));
            v.setNull(1);
            v.set(2, bytes(c));
            v.set(3, bytes(a));
            v.setValueCount(4);
            Block uuids = ArrowBlocks.toBlock(v, UuidType.UUID, 0, 4);
            assertEquals(a, UuidType.trinoUuidToJavaUuid(UuidType.UUID.getSlice(uuids, 0)));
            assertTrue(uuids.isNull(1));
            assertEquals(c, UuidType.trinoUuidToJavaUuid(UuidType.UUID.getSlice(uuids, 2)));
            Block bin = ArrowBlocks.toBlock(v, VARBINARY, 1, 3);
            assertTrue(bin.isNull(0));
            assertArrayEquals(bytes(c), VARBINARY.getSlice(bin, 1).getBytes());
            assertArrayEquals(bytes(a), VARBINARY.getSlice(bin, 2).getBytes());
        }
    }

    private static byte[] bytes(UUID u) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
        b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return b.array();
    }

    @Test
    public void decimals() {
        DecimalType shortType = DecimalType.createDecimalType(9, 2);
        DecimalType longType = DecimalType.createDecimalType(38, 10);
        try (DecimalVector s = new DecimalVector("s", allocator, 9, 2); DecimalVector l = new DecimalVector("l", allocator, 38, 10)) {
            s.allocateNew(3);
            l.allocateNew(3);
            s.set(0, new BigDecimal("-9999999.99"));
            s.setNull(1);
            s.set(2, new BigDecimal("12.34"));
            l.set(0, new BigDecimal("-1234567890123456789.0123456789"));
            l.set(1, new BigDecimal("9999999999999999999999999999.9999999999"));
            l.setNull(2);
            s.setValueCount(3);
            l.setValueCount(3);
            Block sb = ArrowBlocks.toBlock(s, shortType, 0, 3);
            assertEquals(-999999999L, shortType.getLong(sb, 0));
            assertTrue(sb.isNull(1));
            assertEquals(1234L, shortType.getLong(sb, 2));
            Block lb = ArrowBlocks.toBlock(l, longType, 0, 3);
            assertEquals(new java.math.BigInteger("-12345678901234567890123456789"), ((Int128) longType.getObject(lb, 0)).toBigInteger());
            assertEquals(new java.math.BigInteger("99999999999999999999999999999999999999"), ((Int128) longType.getObject(lb, 1)).toBigInteger());
            assertTrue(lb.isNull(2));
        }
    }

    @Test
    public void timesAndTimestampsWithZone() {
        try (TimeMicroVector t = new TimeMicroVector("t", allocator);
             TimeStampMicroTZVector ts = new TimeStampMicroTZVector("ts", allocator, "+00:00")) {
            t.allocateNew(2);
            ts.allocateNew(2);
            t.set(0, 36_000_000_001L);
            t.setNull(1);
            ts.set(0, -1L);  // 1969-12-31T23:59:59.999999Z
            ts.set(1, 1_704_103_200_123_456L);
            t.setValueCount(2);
            ts.setValueCount(2);
            Block tb = ArrowBlocks.toBlock(t, TIME_MICROS, 0, 2);
            assertEquals(36_000_000_001_000_000L, TIME_MICROS.getLong(tb, 0));
            assertTrue(tb.isNull(1));
            Block tsb = ArrowBlocks.toBlock(ts, TIMESTAMP_TZ_MICROS, 0, 2);
            LongTimestampWithTimeZone first = (LongTimestampWithTimeZone) TIMESTAMP_TZ_MICROS.getObject(tsb, 0);
            assertEquals(-1L, first.getEpochMillis());
            assertEquals(999_000_000, first.getPicosOfMilli());
            LongTimestampWithTimeZone second = (LongTimestampWithTimeZone) TIMESTAMP_TZ_MICROS.getObject(tsb, 1);
            assertEquals(1_704_103_200_123L, second.getEpochMillis());
            assertEquals(456_000_000, second.getPicosOfMilli());
        }
    }

    @Test
    public void structFieldsOfNullRowsAreNull() {
        try (StructVector v = StructVector.empty("st", allocator)) {
            IntVector a = v.addOrGet("a", FieldType.nullable(new ArrowType.Int(32, true)), IntVector.class);
            VarCharVector b = v.addOrGet("b", FieldType.nullable(new ArrowType.Utf8()), VarCharVector.class);
            v.allocateNew();
            for (int i = 0; i < 4; i++) {
                a.setSafe(i, i);
                b.setSafe(i, ("b" + i).getBytes(StandardCharsets.UTF_8));
                if (i == 1) {
                    v.setNull(i);  // the children keep values: Trino must see nulls
                } else {
                    v.setIndexDefined(i);
                }
            }
            a.setValueCount(4);
            b.setValueCount(4);
            v.setValueCount(4);
            RowType type = RowType.from(java.util.List.of(RowType.field("a", INTEGER), RowType.field("b", VARCHAR)));
            Block block = ArrowBlocks.toBlock(v, type, 0, 4);
            assertTrue(block.isNull(1));
            SqlRow row = (SqlRow) type.getObject(block, 2);
            assertEquals(2L, INTEGER.getLong(row.getRawFieldBlock(0), row.getRawIndex()));
        }
    }

    @Test
    public void listsAndMaps() {
        try (ListVector list = ListVector.empty("arr", allocator); MapVector map = MapVector.empty("m", allocator, false)) {
            UnionListWriter w = list.getWriter();
            w.setPosition(0);
            w.startList();
            w.writeInt(1);
            w.writeInt(2);
            w.endList();
            w.setPosition(2);  // row 1 stays null
            w.startList();
            w.endList();
            w.setPosition(3);
            w.startList();
            w.writeInt(3);
            w.endList();
            list.setValueCount(4);
            ArrayType arrayType = new ArrayType(INTEGER);
            Block lb = ArrowBlocks.toBlock(list, arrayType, 1, 3);
            assertTrue(lb.isNull(0));
            assertEquals(0, arrayType.getObject(lb, 1).getPositionCount());
            assertEquals(3L, INTEGER.getLong(arrayType.getObject(lb, 2), 0));

            UnionMapWriter mw = map.getWriter();
            mw.setPosition(0);
            mw.startMap();
            mw.startEntry();
            mw.key().bigInt().writeBigInt(7);
            mw.value().bigInt().writeBigInt(70);
            mw.endEntry();
            mw.endMap();
            map.setValueCount(1);
            MapType mapType = new MapType(BIGINT, BIGINT, new TypeOperators());
            Block mb = ArrowBlocks.toBlock(map, mapType, 0, 1);
            SqlMap m = mapType.getObject(mb, 0);
            assertEquals(1, m.getSize());
            assertEquals(7L, BIGINT.getLong(m.getRawKeyBlock(), m.getRawOffset()));
            assertEquals(70L, BIGINT.getLong(m.getRawValueBlock(), m.getRawOffset()));
        }
    }

    @Test
    public void emptyWindow() {
        try (VarCharVector v = new VarCharVector("s", allocator)) {
            v.setValueCount(0);
            assertEquals(0, ArrowBlocks.toBlock(v, VARCHAR, 0, 0).getPositionCount());
            assertEquals(Optional.empty(), Optional.ofNullable(ArrowBlocks.validity(v, 0, 0)));
        }
    }
}
