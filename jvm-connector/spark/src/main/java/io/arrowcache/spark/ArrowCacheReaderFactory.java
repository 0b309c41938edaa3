package io.arrowcache.spark;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/** Columnar readers of splits, on the executors. */
public class ArrowCacheReaderFactory implements PartitionReaderFactory {
    private static final long serialVersionUID = 1L;

    private final String cluster;
    private final long connectTimeoutMs;
    private final StructType readSchema;

    ArrowCacheReaderFactory(String cluster, long connectTimeoutMs, StructType readSchema) {
        this.cluster = cluster;
        this.connectTimeoutMs = connectTimeoutMs;
        this.readSchema = readSchema;
    }

    @Override
    public boolean supportColumnarReads(InputPartition partition) {
        return true;
    }

    @Override
    public PartitionReader<ColumnarBatch> createColumnarReader(InputPartition partition) {
        return new ArrowCacheColumnarReader(cluster, connectTimeoutMs, readSchema, (ArrowCacheInputPartition) partition);
    }

    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
        throw new UnsupportedOperationException("arrow-cache reads are columnar only");
    }
}
