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
            checkReadable(f);
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

    /**
     * Spark fixes a table's columns when it loads it: {@code spark.read.option("tag", "v1").table(t)}
     * asks for the current columns of a snapshot written with other ones. (Iceberg reads such a
     * snapshot with the current schema; the cache reads a tag, snapshot id or time with the
     * snapshot's own.) A column the snapshot lacks, or holds with another type, is refused here.
     */
    private void checkReadable(StructField required) {
        StructField have = null;
        for (StructField f : tableSchema.fields()) {
            if (f.name().equals(required.name())) {
                have = f;
            }
        }
        boolean nested = required.dataType() instanceof StructType || required.dataType() instanceof org.apache.spark.sql.types.ArrayType
                || required.dataType() instanceof org.apache.spark.sql.types.MapType;
        if (have == null || (!nested && !have.dataType().equals(required.dataType()))) {
            String selector = conf.selectorOption();
            throw new IllegalArgumentException("column `" + required.name() + "` (" + required.dataType().simpleString() + ") of "
                    + conf.tableId() + (have == null ? " is not in" : " has type " + have.dataType().simpleString() + " in")
                    + " the snapshot " + (selector == null ? "read" : "that " + selector + " selects")
                    + ": select only that snapshot's columns, or read it with "
                    + "spark.read.format(\"arrow-cache\").option(...).load(), VERSION AS OF or an identifier such as "
                    + "<catalog>.ns.tbl.tag_<name>, which give the snapshot's own columns");
        }
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
