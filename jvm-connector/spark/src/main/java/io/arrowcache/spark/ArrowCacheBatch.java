package io.arrowcache.spark;

import io.arrowcache.client.PlannedScan;
import io.arrowcache.scan.ScanPlan;
import io.arrowcache.scan.ScanRequest;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.types.StructType;

import java.util.List;
import java.util.Objects;

/**
 * The splits of a planned scan, one input partition each.
 *
 * <p>Two batches are equal when they come from equal scans (table, snapshot selection, columns,
 * filter, limit, cluster) that planned the same snapshot and schema, as Iceberg's SparkBatch: Spark
 * compares batches to reuse one scan's output for another (ReusedExchange).
 */
public class ArrowCacheBatch implements Batch {
    private final ArrowCacheReadConf conf;
    private final StructType readSchema;
    private final ScanRequest request;
    private final PlannedScan planned;

    ArrowCacheBatch(ArrowCacheReadConf conf, StructType readSchema, ScanRequest request, PlannedScan planned) {
        this.conf = conf;
        this.readSchema = readSchema;
        this.request = request;
        this.planned = planned;
    }

    @Override
    public InputPartition[] planInputPartitions() {
        List<ScanPlan.Split> splits = planned.plan().splits();
        InputPartition[] out = new InputPartition[splits.size()];
        for (int i = 0; i < out.length; i++) {
            ScanPlan.Split s = splits.get(i);
            out[i] = new ArrowCacheInputPartition(i, s.ticket(), s.locations(), s.hosts());
        }
        return out;
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
        return new ArrowCacheReaderFactory(conf.cluster(), conf.connectTimeoutMs(), readSchema);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || o.getClass() != getClass()) {
            return false;
        }
        ArrowCacheBatch that = (ArrowCacheBatch) o;
        return conf.sameRead(that.conf) && request.equals(that.request) && readSchema.equals(that.readSchema)
                && planned.plan().metadata().equals(that.planned.plan().metadata());
    }

    @Override
    public int hashCode() {
        return Objects.hash(conf.readHashCode(), request, readSchema, planned.plan().metadata());
    }
}
