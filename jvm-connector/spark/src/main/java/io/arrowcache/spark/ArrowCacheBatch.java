package io.arrowcache.spark;

import io.arrowcache.client.PlannedScan;
import io.arrowcache.scan.ScanPlan;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.types.StructType;

import java.util.List;

/** The splits of a planned scan, one input partition each. */
public class ArrowCacheBatch implements Batch {
    private final ArrowCacheReadConf conf;
    private final StructType readSchema;
    private final PlannedScan planned;

    ArrowCacheBatch(ArrowCacheReadConf conf, StructType readSchema, PlannedScan planned) {
        this.conf = conf;
        this.readSchema = readSchema;
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
}
