package io.arrowcache.spark;

import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

import java.util.Map;

/**
 * {@code spark.read.format("arrow-cache").option("cache.cluster", "host:8816")
 * .option("table.id", "ns.tbl").load()}: the schema comes from the cluster.
 */
public class ArrowCacheSource implements TableProvider, DataSourceRegister {
    public static final String SHORT_NAME = "arrow-cache";

    @Override
    public String shortName() {
        return SHORT_NAME;
    }

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        return ArrowCacheTables.load(ArrowCacheReadConf.fromOptions(options)).schema();
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        ArrowCacheReadConf conf = ArrowCacheReadConf.fromOptions(properties);
        if (schema == null) {
            return ArrowCacheTables.load(conf);
        }
        return new ArrowCacheTable(conf, schema);
    }

    @Override
    public boolean supportsExternalMetadata() {
        return false;
    }
}
