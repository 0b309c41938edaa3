package io.arrowcache.spark;

import io.arrowcache.client.Allocators;
import io.arrowcache.client.ArrowCacheClient;
import io.arrowcache.client.PlannedScan;
import io.arrowcache.scan.Expressions;
import io.arrowcache.scan.ScanRequest;
import org.apache.arrow.memory.BufferAllocator;

/** Clients and plans for the Spark classes, with the bridge's errors translated. */
final class ArrowCacheTables {
    private ArrowCacheTables() {
    }

    static ArrowCacheClient client(ArrowCacheReadConf conf) {
        try {
            return ArrowCacheClient.shared(conf.cluster(), conf.connectTimeoutMs());
        } catch (RuntimeException e) {
            throw ArrowCacheErrors.translate(e, conf);
        } catch (LinkageError e) {
            throw new IllegalStateException("the arrow-cache native bridge could not be loaded: " + e, e);
        }
    }

    /** Plans {@code request}; the schema is imported and its C structures freed before returning. */
    static PlannedScan plan(ArrowCacheReadConf conf, ScanRequest request) {
        ArrowCacheClient client = client(conf);
        try (BufferAllocator allocator = Allocators.newChild("arrow-cache plan " + conf.tableId())) {
            return client.plan(request, allocator);
        } catch (RuntimeException e) {
            throw ArrowCacheErrors.translate(e, conf);
        }
    }

    /** The table's schema at the read's snapshot: a plan that selects nothing. */
    static ArrowCacheTable load(ArrowCacheReadConf conf) {
        ScanRequest request = base(conf).filter(Expressions.alwaysFalse()).build();
        PlannedScan plan = plan(conf, request);
        return new ArrowCacheTable(conf, ArrowCacheSchemaUtil.convert(plan.schema(), conf.tableId()));
    }

    /** The read's table and snapshot selector, to add columns, a filter and a limit to. */
    static ScanRequest.Builder base(ArrowCacheReadConf conf) {
        return conf.request();
    }
}
