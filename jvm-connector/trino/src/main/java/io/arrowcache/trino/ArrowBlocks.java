package io.arrowcache.trino;

import io.trino.spi.TrinoException;
import io.trino.spi.block.Block;
import io.trino.spi.type.ArrayType;
import io.trino.spi.type.DecimalType;
import io.trino.spi.type.MapType;
import io.trino.spi.type.RowType;
import io.trino.spi.type.TimeType;
import io.trino.spi.type.TimestampType;
import io.trino.spi.type.TimestampWithTimeZoneType;
import io.trino.spi.type.Type;
import io.trino.spi.type.UuidType;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_UNSUPPORTED_TYPE;
import static io.trino.spi.type.DateTimeEncoding.packDateTimeWithZone;
import static io.trino.spi.type.TimeZoneKey.UTC_KEY;

/**
 * Arrow vectors (imported through the C Data Interface, their buffers in native memory) to Trino
 * blocks, for a window of rows. Fixed-width values, validity bitmaps, string and binary data and
 * UUIDs are bulk copies: Trino's array layouts are Arrow's buffers read as little-endian arrays
 * (Trino 483's validity is a bit-packed {@code long[]} with Arrow's bit order). Per-row work is
 * left to what needs a conversion: booleans (Arrow packs them into bits), decimals (Trino wants
 * the high word first), times and timestamps of other units or with a zone, and offsets of a
 * window that does not start at zero.
 */
final class ArrowBlocks {
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    private ArrowBlocks() {
    }

    /** Rows [offset, offset + length) of a top-level vector as a block of {@code type}. */
    static Block toBlock(FieldVector vector, Type type, int offset, int length) {
        return toBlock(vector, type, offset, length, null);
    }

    /**
     * @param parentValid validity of the enclosing struct's rows in this window (bit i = row
     *     offset + i), or null: a field of a null row must be null in Trino
     */
    static Block toBlock(FieldVector vector, Type type, int offset, int length, long[] parentValid) {
        if (vector instanceof ExtensionTypeVector) {
            vector = ((ExtensionTypeVector<?>) vector).getUnderlyingVector();
        }
        long[] valid = and(validity(vector, offset, length), parentValid, length);
        ArrowType arrow = vector.getField().getType();
        switch (arrow.getTypeID()) {
            case Bool:
                return TrinoRelease.bytes(length, valid, booleans(vector.getDataBuffer(), offset, length));
            case Int:
                switch (((ArrowType.Int) arrow).getBitWidth()) {
                    case 8: {
                        byte[] values = new byte[length];
                        MemorySegment.copy(segment(vector.getDataBuffer()), BYTE, offset, values, 0, length);
                        return TrinoRelease.bytes(length, valid, values);
                    }
                    case 16: {
                        short[] values = new short[length];
                        MemorySegment.copy(segment(vector.getDataBuffer()), SHORT_LE, 2L * offset, values, 0, length);
                        return TrinoRelease.shorts(length, valid, values);
                    }
                    case 32:
                        return TrinoRelease.ints(length, valid, ints(vector.getDataBuffer(), offset, length));
                    default:
                        return TrinoRelease.longs(length, valid, longs(vector.getDataBuffer(), offset, length));
                }
            case FloatingPoint:
                // REAL is an int block of float bits, DOUBLE a long block of double bits: the same bytes.
                if (((ArrowType.FloatingPoint) arrow).getPrecision() == org.apache.arrow.vector.types.FloatingPointPrecision.DOUBLE) {
                    return TrinoRelease.longs(length, valid, longs(vector.getDataBuffer(), offset, length));
                }
                return TrinoRelease.ints(length, valid, ints(vector.getDataBuffer(), offset, length));
            case Decimal:
                return decimals(vector.getDataBuffer(), (DecimalType) type, offset, length, valid);
            case Utf8:
            case Binary:
                return variableWidth(vector, offset, length, valid, false);
            case LargeUtf8:
            case LargeBinary:
                return variableWidth(vector, offset, length, valid, true);
            case FixedSizeBinary:
                return fixedBinary(vector, type, offset, length, valid);
            case Date:
                return dates(vector, (ArrowType.Date) arrow, offset, length, valid);
            case Time:
                return times(vector, (ArrowType.Time) arrow, (TimeType) type, offset, length, valid);
            case Timestamp:
                return timestamps(vector, (ArrowType.Timestamp) arrow, type, offset, length, valid);
            case Struct:
                return rows((StructVector) vector, (RowType) type, offset, length, valid);
            case List:
            case LargeList:
            case FixedSizeList:
                return lists(vector, (ArrayType) type, offset, length, valid);
            case Map:
                return maps((MapVector) vector, (MapType) type, offset, length, valid);
            default:
                throw new TrinoException(ARROW_CACHE_UNSUPPORTED_TYPE, "cannot read Arrow type " + arrow + " of column `"
                        + vector.getField().getName() + "` as " + type);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Memory

    /** The buffer's memory; a zero-length segment for an absent buffer. */
    static MemorySegment segment(ArrowBuf buf) {
        if (buf == null || buf.capacity() == 0) {
            return MemorySegment.NULL;
        }
        return MemorySegment.ofAddress(buf.memoryAddress()).reinterpret(buf.capacity());
    }

    static long[] longs(ArrowBuf data, int offset, int length) {
        long[] values = new long[length];
        MemorySegment.copy(segment(data), LONG_LE, 8L * offset, values, 0, length);
        return values;
    }

    static int[] ints(ArrowBuf data, int offset, int length) {
        int[] values = new int[length];
        MemorySegment.copy(segment(data), INT_LE, 4L * offset, values, 0, length);
        return values;
    }

    static int words(int bits) {
        return (bits + 63) >>> 6;
    }

    /**
     * The validity of rows [offset, offset + length) as Trino's bit-packed words, or null when
     * every row has a value.
     */
    static long[] validity(FieldVector vector, int offset, int length) {
        if (length == 0 || vector.getNullCount() == 0) {
            return null;
        }
        long[] out = bits(vector.getValidityBuffer(), offset, length);
        return allSet(out, length) ? null : out;
    }

    /** Bits [offset, offset + length) of an LSB-first bitmap, as words starting at bit 0. */
    static long[] bits(ArrowBuf buffer, int offset, int length) {
        long[] out = new long[words(length)];
        MemorySegment s = segment(buffer);
        if ((offset & 7) == 0) {
            // Byte-aligned (every window the page source cuts is): a bulk copy of whole words.
            long start = offset >>> 3;
            int bytes = (length + 7) >>> 3;
            int whole = bytes >>> 3;
            MemorySegment.copy(s, LONG_LE, start, out, 0, whole);
            for (int b = whole * 8; b < bytes; b++) {
                out[whole] |= (s.get(BYTE, start + b) & 0xFFL) << (8 * (b - whole * 8));
            }
        } else {
            for (int i = 0; i < length; i++) {
                int bit = offset + i;
                if ((s.get(BYTE, bit >>> 3) & (1 << (bit & 7))) != 0) {
                    out[i >>> 6] |= 1L << (i & 63);
                }
            }
        }
        return out;
    }

    static boolean allSet(long[] words, int length) {
        int whole = length >>> 6;
        for (int w = 0; w < whole; w++) {
            if (words[w] != -1L) {
                return false;
            }
        }
        int rest = length & 63;
        return rest == 0 || (words[whole] | (-1L << rest)) == -1L;
    }

    static boolean isSet(long[] words, int position) {
        return (words[position >>> 6] & (1L << (position & 63))) != 0;
    }

    /** a AND b (either null = all set). */
    static long[] and(long[] a, long[] b, int length) {
        if (a == null) {
            return b == null ? null : b.clone();
        }
        if (b == null) {
            return a;
        }
        for (int w = 0; w < a.length; w++) {
            a[w] &= b[w];
        }
        return allSet(a, length) ? null : a;
    }

    // ---------------------------------------------------------------------------------------
    // Primitives that need a conversion per row

    static byte[] booleans(ArrowBuf data, int offset, int length) {
        byte[] values = new byte[length];
        MemorySegment s = segment(data);
        for (int i = 0; i < length; i++) {
            int bit = offset + i;
            values[i] = (byte) ((s.get(BYTE, bit >>> 3) >>> (bit & 7)) & 1);
        }
        return values;
    }

    /** Decimal128 is 16 little-endian bytes: a short decimal is its low word, a long one high-then-low. */
    static Block decimals(ArrowBuf data, DecimalType type, int offset, int length, long[] valid) {
        MemorySegment s = segment(data);
        if (type.isShort()) {
            long[] values = new long[length];
            for (int i = 0; i < length; i++) {
                values[i] = s.get(LONG_LE, 16L * (offset + i));
            }
            return TrinoRelease.longs(length, valid, values);
        }
        long[] values = new long[2 * length];
        for (int i = 0; i < length; i++) {
            long at = 16L * (offset + i);
            values[2 * i] = s.get(LONG_LE, at + 8);
            values[2 * i + 1] = s.get(LONG_LE, at);
        }
        return TrinoRelease.int128s(length, valid, values);
    }

    static Block dates(FieldVector vector, ArrowType.Date arrow, int offset, int length, long[] valid) {
        if (arrow.getUnit() == org.apache.arrow.vector.types.DateUnit.DAY) {
            return TrinoRelease.ints(length, valid, ints(vector.getDataBuffer(), offset, length));
        }
        long[] millis = longs(vector.getDataBuffer(), offset, length);
        int[] days = new int[length];
        for (int i = 0; i < length; i++) {
            days[i] = (int) Math.floorDiv(millis[i], 86_400_000L);
        }
        return TrinoRelease.ints(length, valid, days);
    }

    /** Trino's TIME(p) is picoseconds of the day. */
    static Block times(FieldVector vector, ArrowType.Time arrow, TimeType type, int offset, int length, long[] valid) {
        long[] values;
        if (arrow.getBitWidth() == 32) {
            int[] raw = ints(vector.getDataBuffer(), offset, length);
            values = new long[length];
            for (int i = 0; i < length; i++) {
                values[i] = raw[i];
            }
        } else {
            values = longs(vector.getDataBuffer(), offset, length);
        }
        long factor = picosPer(arrow.getUnit());
        for (int i = 0; i < length; i++) {
            values[i] *= factor;
        }
        return TrinoRelease.longs(length, valid, values);
    }

    static long picosPer(TimeUnit unit) {
        switch (unit) {
            case SECOND: return 1_000_000_000_000L;
            case MILLISECOND: return 1_000_000_000L;
            case MICROSECOND: return 1_000_000L;
            default: return 1_000L;
        }
    }

    static long perSecond(TimeUnit unit) {
        switch (unit) {
            case SECOND: return 1;
            case MILLISECOND: return 1_000;
            case MICROSECOND: return 1_000_000;
            default: return 1_000_000_000;
        }
    }

    static Block timestamps(FieldVector vector, ArrowType.Timestamp arrow, Type type, int offset, int length, long[] valid) {
        long[] raw = longs(vector.getDataBuffer(), offset, length);
        long perSecond = perSecond(arrow.getUnit());
        if (type instanceof TimestampType) {
            TimestampType t = (TimestampType) type;
            if (t.isShort()) {
                // Epoch microseconds: the data itself for microsecond timestamps.
                if (perSecond != 1_000_000) {
                    long factor = 1_000_000 / perSecond;
                    for (int i = 0; i < length; i++) {
                        raw[i] *= factor;
                    }
                }
                return TrinoRelease.longs(length, valid, raw);
            }
            // LongTimestamp: epoch microseconds and picoseconds of the microsecond (nanosecond data).
            int[] values = new int[3 * length];
            for (int i = 0; i < length; i++) {
                long nanos = raw[i];
                io.trino.spi.block.Fixed12Block.encodeFixed12(Math.floorDiv(nanos, 1000), (int) Math.floorMod(nanos, 1000) * 1000, values, i);
            }
            return TrinoRelease.fixed12s(length, valid, values);
        }
        TimestampWithTimeZoneType t = (TimestampWithTimeZoneType) type;
        long perMilli = Math.max(1, perSecond / 1000);
        long picosPerUnit = 1_000_000_000_000L / perSecond;
        if (t.isShort()) {
            for (int i = 0; i < length; i++) {
                long millis = perSecond >= 1000 ? Math.floorDiv(raw[i], perMilli) : raw[i] * 1000;
                raw[i] = packDateTimeWithZone(millis, UTC_KEY);
            }
            return TrinoRelease.longs(length, valid, raw);
        }
        // LongTimestampWithTimeZone: UTC-packed epoch milliseconds and picoseconds of the millisecond.
        int[] values = new int[3 * length];
        for (int i = 0; i < length; i++) {
            long v = raw[i];
            long millis = Math.floorDiv(v, perMilli);
            int picos = (int) (Math.floorMod(v, perMilli) * picosPerUnit);
            io.trino.spi.block.Fixed12Block.encodeFixed12(packDateTimeWithZone(millis, UTC_KEY), picos, values, i);
        }
        return TrinoRelease.fixed12s(length, valid, values);
    }

    // ---------------------------------------------------------------------------------------
    // Strings and binaries

    static Block variableWidth(FieldVector vector, int offset, int length, long[] valid, boolean large) {
        MemorySegment offsetsBuffer = segment(vector.getOffsetBuffer());
        int[] offsets = new int[length + 1];
        long base;
        long end;
        if (large) {
            long[] wide = new long[length + 1];
            MemorySegment.copy(offsetsBuffer, LONG_LE, 8L * offset, wide, 0, length + 1);
            base = wide[0];
            end = wide[length];
            if (end - base > Integer.MAX_VALUE - 16) {
                throw new TrinoException(ARROW_CACHE_UNSUPPORTED_TYPE, "a batch of column `" + vector.getField().getName()
                        + "` holds more than 2 GB of data in " + length + " rows");
            }
            for (int i = 0; i <= length; i++) {
                offsets[i] = (int) (wide[i] - base);
            }
        } else {
            if (length > 0 || vector.getOffsetBuffer().capacity() >= 4) {
                MemorySegment.copy(offsetsBuffer, INT_LE, 4L * offset, offsets, 0, length + 1);
            }
            base = offsets[0];
            end = offsets[length];
            if (base != 0) {
                int b = (int) base;
                for (int i = 0; i <= length; i++) {
                    offsets[i] -= b;
                }
            }
        }
        byte[] data = new byte[(int) (end - base)];
        if (data.length > 0) {
            MemorySegment.copy(segment(vector.getDataBuffer()), BYTE, base, data, 0, data.length);
        }
        if (valid != null && nullHasData(offsets, valid, length)) {
            return compacted(length, valid, data, offsets);
        }
        return TrinoRelease.variableWidth(length, valid, data, offsets);
    }

    /** Trino's variable-width blocks keep no bytes for a null (its serialization relies on it). */
    static boolean nullHasData(int[] offsets, long[] valid, int length) {
        for (int i = 0; i < length; i++) {
            if (offsets[i + 1] != offsets[i] && !isSet(valid, i)) {
                return true;
            }
        }
        return false;
    }

    static Block compacted(int length, long[] valid, byte[] data, int[] offsets) {
        int[] out = new int[length + 1];
        int size = 0;
        for (int i = 0; i < length; i++) {
            if (isSet(valid, i)) {
                size += offsets[i + 1] - offsets[i];
            }
            out[i + 1] = size;
        }
        byte[] bytes = new byte[size];
        for (int i = 0; i < length; i++) {
            int n = out[i + 1] - out[i];
            if (n > 0) {
                System.arraycopy(data, offsets[i], bytes, out[i], n);
            }
        }
        return TrinoRelease.variableWidth(length, valid, bytes, out);
    }

    static Block fixedBinary(FieldVector vector, Type type, int offset, int length, long[] valid) {
        int width = ((ArrowType.FixedSizeBinary) vector.getField().getType()).getByteWidth();
        MemorySegment data = segment(vector.getDataBuffer());
        if (type instanceof UuidType) {
            // Trino keeps a UUID as its 16 bytes read as two little-endian longs: the data itself.
            long[] values = new long[2 * length];
            MemorySegment.copy(data, LONG_LE, 16L * offset, values, 0, 2 * length);
            return TrinoRelease.int128s(length, valid, values);
        }
        byte[] bytes = new byte[width * length];
        MemorySegment.copy(data, BYTE, (long) width * offset, bytes, 0, bytes.length);
        int[] offsets = new int[length + 1];
        for (int i = 0; i <= length; i++) {
            offsets[i] = i * width;
        }
        if (valid != null) {
            return compacted(length, valid, bytes, offsets);  // a null holds `width` bytes in Arrow
        }
        return TrinoRelease.variableWidth(length, valid, bytes, offsets);
    }

    // ---------------------------------------------------------------------------------------
    // Nested types

    static Block rows(StructVector vector, RowType type, int offset, int length, long[] valid) {
        List<FieldVector> children = vector.getChildrenFromFields();
        List<RowType.Field> fields = type.getFields();
        Block[] blocks = new Block[fields.size()];
        for (int f = 0; f < blocks.length; f++) {
            blocks[f] = toBlock(children.get(f), fields.get(f).getType(), offset, length, valid);
        }
        return TrinoRelease.rows(length, valid, blocks);
    }

    static Block lists(FieldVector vector, ArrayType type, int offset, int length, long[] valid) {
        FieldVector elements;
        int[] offsets;
        if (vector instanceof FixedSizeListVector) {
            FixedSizeListVector fixed = (FixedSizeListVector) vector;
            int size = fixed.getListSize();
            offsets = new int[length + 1];
            for (int i = 0; i <= length; i++) {
                offsets[i] = (offset + i) * size;
            }
            elements = fixed.getDataVector();
        } else if (vector instanceof LargeListVector) {
            offsets = length == 0 ? new int[1] : largeOffsets(vector, offset, length);
            elements = ((LargeListVector) vector).getDataVector();
        } else {
            offsets = length == 0 ? new int[1] : ints(vector.getOffsetBuffer(), offset, length + 1);
            elements = ((ListVector) vector).getDataVector();
        }
        Nested nested = nested(offsets, length, valid);
        Block values = toBlock(elements, type.getElementType(), nested.start, nested.count, null);
        if (nested.positions != null) {
            values = values.copyPositions(nested.positions, 0, nested.positions.length);
        }
        return TrinoRelease.arrays(length, valid, nested.offsets, values);
    }

    static Block maps(MapVector vector, MapType type, int offset, int length, long[] valid) {
        int[] offsets = length == 0 ? new int[1] : ints(vector.getOffsetBuffer(), offset, length + 1);
        StructVector entries = (StructVector) vector.getDataVector();
        List<FieldVector> kv = entries.getChildrenFromFields();
        Nested nested = nested(offsets, length, valid);
        Block keys = toBlock(kv.get(0), type.getKeyType(), nested.start, nested.count, null);
        Block values = toBlock(kv.get(1), type.getValueType(), nested.start, nested.count, null);
        if (nested.positions != null) {
            keys = keys.copyPositions(nested.positions, 0, nested.positions.length);
            values = values.copyPositions(nested.positions, 0, nested.positions.length);
        }
        return TrinoRelease.maps(type, length, valid, nested.offsets, keys, values);
    }

    static int[] largeOffsets(FieldVector vector, int offset, int length) {
        long[] wide = longs(vector.getOffsetBuffer(), offset, length + 1);
        if (wide[length] > Integer.MAX_VALUE) {
            throw new TrinoException(ARROW_CACHE_UNSUPPORTED_TYPE, "a batch of column `" + vector.getField().getName()
                    + "` holds more than 2^31 list elements");
        }
        int[] out = new int[length + 1];
        for (int i = 0; i <= length; i++) {
            out[i] = (int) wide[i];
        }
        return out;
    }

    /** The children window of a list/map window, and its rebased offsets. */
    static final class Nested {
        int start;
        int count;
        int[] offsets;
        /** When a null entry has children (Arrow allows it, Trino does not): the children to keep. */
        int[] positions;
    }

    static Nested nested(int[] offsets, int length, long[] valid) {
        Nested n = new Nested();
        n.start = offsets[0];
        n.count = offsets[length] - offsets[0];
        boolean nullWithChildren = false;
        if (valid != null) {
            for (int i = 0; i < length; i++) {
                if (!isSet(valid, i) && offsets[i + 1] != offsets[i]) {
                    nullWithChildren = true;
                    break;
                }
            }
        }
        if (!nullWithChildren) {
            int base = offsets[0];
            if (base != 0) {
                for (int i = 0; i <= length; i++) {
                    offsets[i] -= base;
                }
            }
            n.offsets = offsets;
            return n;
        }
        int[] rebased = new int[length + 1];
        int[] keep = new int[n.count];
        int kept = 0;
        for (int i = 0; i < length; i++) {
            if (isSet(valid, i)) {
                for (int p = offsets[i]; p < offsets[i + 1]; p++) {
                    keep[kept++] = p - n.start;
                }
            }
            rebased[i + 1] = kept;
        }
        n.offsets = rebased;
        n.positions = java.util.Arrays.copyOf(keep, kept);
        return n;
    }
}
