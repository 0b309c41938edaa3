package io.arrowcache.spark;

import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/** A table served by an arrow-cache cluster (read-only). */
public class ArrowCacheTable implements SupportsRead {
    private static final Set<TableCapability> CAPABILITIES = Collections.unmodifiableSet(EnumSet.of(TableCapability.BATCH_READ));

    private final ArrowCacheReadConf conf;
    private final StructType schema;

    ArrowCacheTable(ArrowCacheReadConf conf, StructType schema) {
        this.conf = conf;
        this.schema = schema;
    }

    public ArrowCacheReadConf conf() {
        return conf;
    }

    @Override
    public String name() {
        return conf.tableId();
    }

    @Override
    @SuppressWarnings("deprecation")
    public StructType schema() {
        return schema;
    }

    @Override
    public Map<String, String> properties() {
        return conf.toOptions();
    }

    @Override
    public Set<TableCapability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
        ArrowCacheReadConf read = conf.withScanOptions(options);
        if (read != conf) {
            // Another snapshot may have another schema.
            return ArrowCacheTables.load(read).newScanBuilder(CaseInsensitiveStringMap.empty());
        }
        return new ArrowCacheScanBuilder(conf, schema);
    }

    @Override
    public String toString() {
        return "ArrowCacheTable(" + conf + ")";
    }
}
