package io.arrowcache.client;

import io.arrowcache.scan.ScanPlan;
import org.apache.arrow.vector.types.pojo.Schema;

/** A planned scan: the Arrow schema of its output and its splits. */
public final class PlannedScan {
    private final Schema schema;
    private final ScanPlan plan;

    public PlannedScan(Schema schema, ScanPlan plan) {
        this.schema = schema;
        this.plan = plan;
    }

    public Schema schema() {
        return schema;
    }

    public ScanPlan plan() {
        return plan;
    }
}
