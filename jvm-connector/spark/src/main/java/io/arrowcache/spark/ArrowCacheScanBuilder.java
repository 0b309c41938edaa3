package io.arrowcache.spark;

import io.arrowcache.scan.Expression;
import io.arrowcache.scan.Expressions;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownLimit;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.connector.read.SupportsPushDownV2Filters;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Pushes filters (everything the Iceberg expression language can say exactly; the rest stays in
 * Spark), the required top-level columns and the limit into the cache's scan request.
 */
public class ArrowCacheScanBuilder implements ScanBuilder, SupportsPushDownV2Filters,
        SupportsPushDownRequiredColumns, SupportsPushDownLimit {
    private final ArrowCacheReadConf conf;
    private final StructType tableSchema;
    private StructType readSchema;
    private final List<Predicate> pushed = new ArrayList<>();
    private final List<Expression> filters = new ArrayList<>();
    private Integer limit;

    ArrowCacheScanBuilder(ArrowCacheReadConf conf, StructType tableSchema) {
        this.conf = conf;
        this.tableSchema = tableSchema;
        this.readSchema = tableSchema;
    }

    @Override
    public Predicate[] pushPredicates(Predicate[] predicates) {
        List<Predicate> postScan = new ArrayList<>();
        for (Predicate p : predicates) {
            Expression e = ArrowCacheV2Filters.convert(p, tableSchema);
            if (e == null) {
                postScan.add(p);
            } else {
                pushed.add(p);
                filters.add(e);
            }
        }
        return postScan.toArray(new Predicate[0]);
    }

    @Override
    public Predicate[] pushedPredicates() {
        return pushed.toArray(new Predicate[0]);
    }

    /**
     * Keeps the top-level columns Spark needs, in the table's order; nested fields are not pruned
     * (the cache projects top-level columns), so a struct comes whole.
     */
    @Override
    public void pruneColumns(StructType requiredSchema) {
        Set<String> names = new HashSet<>();
        for (StructField f : requiredSchema.fields()) {
            names.add(f.name());
        }
        List<StructField> kept = new ArrayList<>();
        for (StructField f : tableSchema.fields()) {
            if (names.contains(f.name())) {
                kept.add(f);
            }
        }
        readSchema = new StructType(kept.toArray(new StructField[0]));
    }

    /** Each split stops after {@code limit} rows; Spark still applies the limit to the whole. */
    @Override
    public boolean pushLimit(int limit) {
        this.limit = limit;
        return true;
    }

    @Override
    public boolean isPartiallyPushed() {
        return true;
    }

    @Override
    public Scan build() {
        Expression filter = filters.isEmpty() ? null : Expressions.and(filters);
        return new ArrowCacheScan(conf, readSchema, filter, new ArrayList<>(pushed), limit);
    }
}
