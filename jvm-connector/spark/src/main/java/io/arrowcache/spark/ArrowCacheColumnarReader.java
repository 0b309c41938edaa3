package io.arrowcache.spark;

import io.arrowcache.client.Allocators;
import io.arrowcache.client.ArrowCacheClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads one split: the bridge streams its batches into the JVM through the C Data Interface and
 * each batch's vectors are wrapped, not copied, as Spark {@link ArrowColumnVector}s. The batch is
 * valid until the next call to {@link #next()}; closing the reader frees the Arrow memory on both
 * sides.
 */
public class ArrowCacheColumnarReader implements PartitionReader<ColumnarBatch> {
    private static final AtomicLong BATCHES = new AtomicLong();

    private final StructType readSchema;
    private final ArrowCacheInputPartition partition;
    private final BufferAllocator allocator;
    private final ArrowReader reader;
    private ColumnarBatch batch;
    private long batches;
    private boolean closed;

    ArrowCacheColumnarReader(String cluster, long connectTimeoutMs, StructType readSchema, ArrowCacheInputPartition partition) {
        this.readSchema = readSchema;
        this.partition = partition;
        TaskContext task = TaskContext.get();
        int attempt = task == null ? 0 : task.attemptNumber();
        this.allocator = Allocators.newChild("arrow-cache split " + partition.index()
                + (task == null ? "" : " (stage " + task.stageId() + ", task " + task.taskAttemptId() + ")"));
        try {
            ArrowCacheClient client = ArrowCacheClient.shared(cluster, connectTimeoutMs);
            this.reader = client.openSplit(partition.ticket(), partition.locationsForAttempt(attempt), allocator);
        } catch (RuntimeException | Error e) {
            allocator.close();
            throw e;
        }
    }

    @Override
    public boolean next() throws IOException {
        boolean more;
        try {
            more = reader.loadNextBatch();
        } catch (IOException | RuntimeException e) {
            throw new IOException("reading batch " + (batches + 1) + " of arrow-cache split " + partition.index() + " ("
                    + String.join(", ", partition.locations()) + ") failed: " + e.getMessage()
                    + "; stream schema " + safeSchema(), e);
        }
        if (!more) {
            batch = null;
            return false;
        }
        batches++;
        VectorSchemaRoot root = reader.getVectorSchemaRoot();
        StructField[] fields = readSchema.fields();
        ColumnVector[] columns = new ColumnVector[fields.length];
        for (int i = 0; i < fields.length; i++) {
            FieldVector v = root.getVector(fields[i].name());
            if (v == null) {
                throw new IOException("arrow-cache sent no column `" + fields[i].name() + "`; the batch has " + root.getSchema());
            }
            if (v instanceof ExtensionTypeVector) {
                v = ((ExtensionTypeVector<?>) v).getUnderlyingVector();  // a registered arrow.uuid type
            }
            if (!(v instanceof FixedSizeBinaryVector)) {
                columns[i] = new ReaderOwnedVector(v);
            } else if (fields[i].metadata().contains(ArrowCacheSchemaUtil.UUID_KEY)) {
                columns[i] = new UuidColumnVector((FixedSizeBinaryVector) v);
            } else {
                columns[i] = new FixedSizeBinaryColumnVector((FixedSizeBinaryVector) v);
            }
        }
        batch = new ColumnarBatch(columns, root.getRowCount());
        BATCHES.incrementAndGet();
        return true;
    }

    private String safeSchema() {
        try {
            return String.valueOf(reader.getVectorSchemaRoot().getSchema());
        } catch (IOException | RuntimeException e) {
            return "unknown (" + e + ")";
        }
    }

    /**
     * Spark's ArrowColumnVector over a vector of the reader's root. Spark closes a batch's columns
     * once it has consumed them (ColumnarToRow calls closeIfNotWritable), which for an
     * ArrowColumnVector would close, and take apart, the root's vectors that the next batch is
     * loaded into; here the reader owns them and frees them on the next load and on close.
     */
    static final class ReaderOwnedVector extends ArrowColumnVector {
        ReaderOwnedVector(FieldVector vector) {
            super(vector);
        }

        @Override
        public void close() {
            // The reader's root owns the vector.
        }
    }

    /** Batches read by this JVM's readers so far. */
    public static long batchesRead() {
        return BATCHES.get();
    }

    @Override
    public ColumnarBatch get() {
        return batch;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        batch = null;
        try {
            reader.close();
        } finally {
            allocator.close();
        }
    }
}
