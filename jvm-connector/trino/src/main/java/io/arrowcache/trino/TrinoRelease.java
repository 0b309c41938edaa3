package io.arrowcache.trino;

import io.airlift.slice.Slices;
import io.trino.spi.Page;
import io.trino.spi.block.ArrayBlock;
import io.trino.spi.block.Block;
import io.trino.spi.block.ByteArrayBlock;
import io.trino.spi.block.Fixed12Block;
import io.trino.spi.block.Int128ArrayBlock;
import io.trino.spi.block.IntArrayBlock;
import io.trino.spi.block.LongArrayBlock;
import io.trino.spi.block.MapBlock;
import io.trino.spi.block.RowBlock;
import io.trino.spi.block.ShortArrayBlock;
import io.trino.spi.block.VariableWidthBlock;
import io.trino.spi.connector.SourcePage;
import io.trino.spi.type.MapType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.Properties;

/**
 * The code that follows the Trino release (trino.properties names it; the build compiles against
 * that release's SPI). Moving to another release means: change trino.properties, then fix what
 * no longer compiles, which the SPI's churn keeps to these places:
 *
 * <ul>
 *   <li>this class: how blocks are built. Trino 483 takes validity as a bit-packed {@code long[]}
 *       (a set bit is a value, least significant bit first: Arrow's validity bitmap read as
 *       little-endian words), where releases up to about 480 took a {@code boolean[]} of nulls;
 *       and how a page is handed over ({@link SourcePage}, from 477; {@code Page} before);
 *   <li>the SPI entry points whose signatures move between releases:
 *       {@code ArrowCachePageSourceProvider.createPageSource} (483: table credentials and a memory
 *       context), {@code ArrowCacheSplitManager.getSplits} (483: the dynamic-filter columns) and
 *       {@code ArrowCachePageSource.getNextSourcePage} (477+; {@code getNextPage} before).
 * </ul>
 *
 * Everything else (metadata, pushdown, type mapping, the Arrow reading) uses SPI that has been
 * stable for many releases.
 */
public final class TrinoRelease {
    /** The Trino release the plugin was built for (from trino.properties, packed into the jar). */
    public static final String VERSION;
    /** The Java release that Trino release requires. */
    public static final String JAVA_RELEASE;

    static {
        Properties p = new Properties();
        try (InputStream in = TrinoRelease.class.getResourceAsStream("trino.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        VERSION = p.getProperty("trino.version", "unknown");
        JAVA_RELEASE = p.getProperty("trino.java.release", "unknown");
    }

    private TrinoRelease() {
    }

    static Optional<long[]> validity(long[] valid) {
        return Optional.ofNullable(valid);
    }

    // Validity arguments: null means every position holds a value.

    public static Block longs(int positions, long[] valid, long[] values) {
        return new LongArrayBlock(positions, validity(valid), values);
    }

    public static Block ints(int positions, long[] valid, int[] values) {
        return new IntArrayBlock(positions, validity(valid), values);
    }

    public static Block shorts(int positions, long[] valid, short[] values) {
        return new ShortArrayBlock(positions, validity(valid), values);
    }

    public static Block bytes(int positions, long[] valid, byte[] values) {
        return new ByteArrayBlock(positions, validity(valid), values);
    }

    /** Two longs per position: the high then the low 64 bits (decimals), or a UUID's two words. */
    public static Block int128s(int positions, long[] valid, long[] values) {
        return new Int128ArrayBlock(positions, validity(valid), values);
    }

    /** Three ints per position: a little-endian long and an int (see Fixed12Block.encodeFixed12). */
    public static Block fixed12s(int positions, long[] valid, int[] values) {
        return new Fixed12Block(positions, validity(valid), values);
    }

    /** offsets has positions + 1 entries into data. */
    public static Block variableWidth(int positions, long[] valid, byte[] data, int[] offsets) {
        return new VariableWidthBlock(positions, Slices.wrappedBuffer(data), offsets, validity(valid));
    }

    /** Field blocks hold an entry for every row; a null row's fields must be null. */
    public static Block rows(int positions, long[] valid, Block[] fields) {
        return RowBlock.fromNotNullSuppressedFieldBlocks(positions, validity(valid), fields);
    }

    /** A null array must have no elements. */
    public static Block arrays(int positions, long[] valid, int[] offsets, Block elements) {
        return ArrayBlock.fromElementBlock(positions, validity(valid), offsets, elements);
    }

    /** A null map must have no entries. */
    public static Block maps(MapType type, int positions, long[] valid, int[] offsets, Block keys, Block values) {
        return MapBlock.fromKeyValueBlock(validity(valid), offsets, positions, keys, values, type);
    }

    public static SourcePage page(int positions, Block[] blocks) {
        if (blocks.length == 0) {
            return SourcePage.create(positions);
        }
        return SourcePage.create(new Page(positions, blocks));
    }
}
