package io.arrowcache.trino;

import io.trino.spi.TrinoException;
import io.trino.spi.block.Block;
import io.trino.spi.connector.ConnectorPageSource;
import io.trino.spi.connector.MemoryContext;
import io.trino.spi.connector.SourcePage;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowReader;

import java.io.IOException;
import java.util.List;
import java.util.OptionalLong;

import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_SPLIT_FAILED;

/**
 * Reads one split: the bridge streams its Arrow batches (already filtered and projected by the
 * cluster, prefetched by the bridge) and each batch becomes pages of at most
 * {@code arrow-cache.max-rows-per-page} rows, copied into Trino blocks column by column (see
 * {@link ArrowBlocks}). The batch's native memory is released when the next one is loaded.
 */
final class ArrowCachePageSource implements ConnectorPageSource {
    private final ArrowCacheSplit split;
    private final List<ArrowCacheColumnHandle> columns;
    private final int maxRowsPerPage;
    private final BufferAllocator allocator;
    private final ArrowReader reader;
    private final MemoryContext memory;

    private FieldVector[] vectors;
    private int batchRows;
    private int position;
    private boolean finished;
    private boolean closed;
    private long completedBytes;
    private long completedPositions;
    private long readNanos;

    ArrowCachePageSource(ArrowCacheCluster cluster, ArrowCacheSplit split, List<ArrowCacheColumnHandle> columns, MemoryContext memory) {
        this.split = split;
        this.memory = memory;
        this.columns = columns;
        this.maxRowsPerPage = cluster.config().maxRowsPerPage();
        this.allocator = cluster.allocator().newChildAllocator("split", 0, Long.MAX_VALUE);
        long start = System.nanoTime();
        try {
            this.reader = cluster.openSplit(split.getTicket(), split.getLocations().toArray(new String[0]), allocator);
        } catch (RuntimeException | Error e) {
            allocator.close();
            throw e;
        }
        readNanos += System.nanoTime() - start;
    }

    // Trino release-specific (getNextSourcePage from 477; getNextPage before; see TrinoRelease).
    @Override
    public SourcePage getNextSourcePage() {
        if (finished) {
            return null;
        }
        if (vectors == null || position >= batchRows) {
            if (!loadBatch()) {
                finished = true;
                close();
                return null;
            }
            if (batchRows == 0) {
                return null;
            }
        }
        int rows = Math.min(maxRowsPerPage, batchRows - position);
        Block[] blocks = new Block[columns.size()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = ArrowBlocks.toBlock(vectors[i], columns.get(i).getType(), position, rows);
        }
        position += rows;
        completedPositions += rows;
        return TrinoRelease.page(rows, blocks);
    }

    private boolean loadBatch() {
        long start = System.nanoTime();
        try {
            if (!reader.loadNextBatch()) {
                return false;
            }
        } catch (IOException | RuntimeException e) {
            throw new TrinoException(ARROW_CACHE_SPLIT_FAILED, "reading an arrow-cache split from " + String.join(", ", split.getLocations())
                    + ": " + e.getMessage(), e);
        } finally {
            readNanos += System.nanoTime() - start;
        }
        VectorSchemaRoot root;
        try {
            root = reader.getVectorSchemaRoot();
        } catch (IOException e) {
            throw new TrinoException(ARROW_CACHE_SPLIT_FAILED, "reading an arrow-cache split: " + e.getMessage(), e);
        }
        if (vectors == null) {
            vectors = new FieldVector[columns.size()];
        }
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = vector(root, columns.get(i).getName());
        }
        batchRows = root.getRowCount();
        position = 0;
        long batchBytes = 0;
        for (FieldVector v : root.getFieldVectors()) {
            batchBytes += v.getBufferSize();
        }
        completedBytes += batchBytes;
        // The batch stays in native memory until the next one is loaded.
        memory.setBytes(batchBytes);
        return true;
    }

    private FieldVector vector(VectorSchemaRoot root, String name) {
        FieldVector v = root.getVector(name);
        if (v == null) {
            for (FieldVector candidate : root.getFieldVectors()) {
                if (candidate.getName().equalsIgnoreCase(name)) {
                    return candidate;
                }
            }
            throw new TrinoException(ArrowCacheErrorCode.ARROW_CACHE_INTERNAL, "the split's stream has no column `" + name
                    + "` (it has " + root.getSchema().getFields() + ")");
        }
        return v;
    }

    @Override
    public long getCompletedBytes() {
        return completedBytes;
    }

    @Override
    public OptionalLong getCompletedPositions() {
        return OptionalLong.of(completedPositions);
    }

    @Override
    public long getReadTimeNanos() {
        return readNanos;
    }

    @Override
    public boolean isFinished() {
        return finished;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        memory.setBytes(0);
        try {
            reader.close();
        } catch (IOException | RuntimeException e) {
            // The stream is released either way; nothing a query can do about it.
        } finally {
            allocator.close();
        }
    }
}
