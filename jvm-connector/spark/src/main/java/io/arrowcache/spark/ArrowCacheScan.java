package io.arrowcache.spark;

import io.arrowcache.client.PlannedScan;
import io.arrowcache.scan.Expression;
import io.arrowcache.scan.ScanRequest;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.Statistics;
import org.apache.spark.sql.connector.read.SupportsReportStatistics;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * One planned read of a table: columns, pushed filter and limit; plans once, on first need.
 *
 * <p>Two scans are equal when they read the same: the same table at the same snapshot selection
 * from the same cluster, with the same columns (and Spark types), pushed filter and limit (as
 * Iceberg's SparkScan), so that Spark can reuse one for the other (scan and exchange reuse).
 */
public class ArrowCacheScan implements SupportsReportStatistics {
    private final ArrowCacheReadConf conf;
    private final StructType readSchema;
    private final Expression filter;
    private final List<Predicate> pushed;
    private final Integer limit;
    /** What the scan asks the cluster: table, snapshot selector, columns, filter and limit. */
    private final ScanRequest request;
    private PlannedScan planned;

    ArrowCacheScan(ArrowCacheReadConf conf, StructType readSchema, Expression filter, List<Predicate> pushed, Integer limit) {
        this.conf = conf;
        this.readSchema = readSchema;
        this.filter = filter;
        this.pushed = pushed;
        this.limit = limit;
        List<String> columns = new ArrayList<>();
        for (StructField f : readSchema.fields()) {
            columns.add(f.name());
        }
        this.request = ArrowCacheTables.base(conf).columns(columns).filter(filter)
                .limit(limit == null ? null : limit.longValue()).build();
    }

    ScanRequest request() {
        return request;
    }

    synchronized PlannedScan planned() {
        if (planned == null) {
            PlannedScan p = ArrowCacheTables.plan(conf, request);
            checkSchema(p);
            planned = p;
        }
        return planned;
    }

    /** The cluster must serve the columns Spark resolved (the table may have changed since). */
    private void checkSchema(PlannedScan p) {
        Map<String, Field> served = new HashMap<>();
        for (Field f : p.schema().getFields()) {
            served.put(f.getName(), f);
        }
        for (StructField f : readSchema.fields()) {
            Field s = served.get(f.name());
            if (s == null) {
                throw new IllegalStateException("arrow-cache table " + conf.tableId() + " no longer has column `" + f.name()
                        + "` (it has " + served.keySet() + "); re-run the query to read the current schema");
            }
            StructType one = ArrowCacheSchemaUtil.convert(new org.apache.arrow.vector.types.pojo.Schema(java.util.Collections.singletonList(s)), conf.tableId());
            if (!one.fields()[0].dataType().sameType(f.dataType())) {
                throw new IllegalStateException("column `" + f.name() + "` of arrow-cache table " + conf.tableId() + " is now "
                        + one.fields()[0].dataType().simpleString() + ", not " + f.dataType().simpleString() + "; re-run the query");
            }
        }
    }

    @Override
    public StructType readSchema() {
        return readSchema;
    }

    @Override
    public Batch toBatch() {
        return new ArrowCacheBatch(conf, readSchema, request, planned());
    }

    @Override
    public ColumnarSupportMode columnarSupportMode() {
        return ColumnarSupportMode.SUPPORTED;
    }

    @Override
    public Statistics estimateStatistics() {
        PlannedScan p = planned();
        long rows = p.plan().totalRows();
        long bytes = p.plan().totalBytes();
        return new Statistics() {
            @Override
            public OptionalLong sizeInBytes() {
                return OptionalLong.of(Math.max(bytes, 0));
            }

            @Override
            public OptionalLong numRows() {
                return rows >= 0 ? OptionalLong.of(rows) : OptionalLong.empty();
            }
        };
    }

    /** What explain() prints: the table, snapshot, pushed filters (Spark's and the cache's form), columns and limit. */
    @Override
    public String description() {
        StringBuilder b = new StringBuilder("ArrowCacheScan(table=").append(conf.tableId());
        if (conf.selectorOption() != null) {
            b.append(", ").append(conf.selectorOption());
        }
        b.append(", PushedFilters: [").append(pushed.stream().map(Predicate::toString).collect(Collectors.joining(", "))).append("]");
        if (filter != null) {
            b.append(", filter=").append(filter.toJson());
        }
        b.append(", columns=[").append(String.join(", ", readSchema.fieldNames())).append("]");
        if (limit != null) {
            b.append(", limit=").append(limit);
        }
        return b.append(", cluster=").append(conf.cluster()).append(")").toString();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || o.getClass() != getClass()) {
            return false;
        }
        ArrowCacheScan that = (ArrowCacheScan) o;
        // The request holds the table, snapshot selector, column names, filter and limit.
        return conf.sameRead(that.conf) && request.equals(that.request) && readSchema.equals(that.readSchema);
    }

    @Override
    public int hashCode() {
        return Objects.hash(conf.readHashCode(), request, readSchema);
    }

    @Override
    public String toString() {
        return description();
    }
}
