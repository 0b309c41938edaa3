package io.arrowcache.trino;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.arrowcache.scan.Expression;
import io.arrowcache.scan.Expressions;
import io.arrowcache.scan.ScanRequest;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.predicate.TupleDomain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A table of the cluster and what was pushed into its scan: the snapshot (pinned when the query
 * resolved the table, so that every split reads the same one), the enforced filter (a TupleDomain
 * plus expression conjuncts, both already in the Iceberg expression language), the columns the
 * query reads and a limit. {@link #toString()} is what EXPLAIN shows as the table.
 */
public final class ArrowCacheTableHandle implements ConnectorTableHandle {
    private final String schemaName;
    private final String tableName;
    private final String table;
    private final Long snapshotId;
    private final TupleDomain<ColumnHandle> constraint;
    private final List<String> expressions;
    private final List<ArrowCacheColumnHandle> columns;
    private final Long limit;

    @JsonCreator
    public ArrowCacheTableHandle(
            @JsonProperty("schemaName") String schemaName,
            @JsonProperty("tableName") String tableName,
            @JsonProperty("table") String table,
            @JsonProperty("snapshotId") Long snapshotId,
            @JsonProperty("constraint") TupleDomain<ColumnHandle> constraint,
            @JsonProperty("expressions") List<String> expressions,
            @JsonProperty("columns") List<ArrowCacheColumnHandle> columns,
            @JsonProperty("limit") Long limit) {
        this.schemaName = Objects.requireNonNull(schemaName, "schemaName");
        this.tableName = Objects.requireNonNull(tableName, "tableName");
        this.table = Objects.requireNonNull(table, "table");
        this.snapshotId = snapshotId;
        this.constraint = constraint == null ? TupleDomain.all() : constraint;
        this.expressions = expressions == null ? Collections.emptyList() : Collections.unmodifiableList(new ArrayList<>(expressions));
        this.columns = columns == null ? null : Collections.unmodifiableList(new ArrayList<>(columns));
        this.limit = limit;
    }

    public static ArrowCacheTableHandle of(SchemaTableName name, String table, Long snapshotId) {
        return new ArrowCacheTableHandle(name.getSchemaName(), name.getTableName(), table, snapshotId, TupleDomain.all(), null, null, null);
    }

    @JsonProperty
    public String getSchemaName() {
        return schemaName;
    }

    @JsonProperty
    public String getTableName() {
        return tableName;
    }

    /** The table as the cluster names it ({@code namespace.table}). */
    @JsonProperty
    public String getTable() {
        return table;
    }

    @JsonProperty
    public Long getSnapshotId() {
        return snapshotId;
    }

    /** The part of the query's predicate enforced by the cluster, as domains. */
    @JsonProperty
    public TupleDomain<ColumnHandle> getConstraint() {
        return constraint;
    }

    /** Further enforced conjuncts, each an Iceberg expression (JSON). */
    @JsonProperty
    public List<String> getExpressions() {
        return expressions;
    }

    /** The columns the scan returns, or null for all. */
    @JsonProperty
    public List<ArrowCacheColumnHandle> getColumns() {
        return columns;
    }

    @JsonProperty
    public Long getLimit() {
        return limit;
    }

    @JsonIgnore
    public SchemaTableName schemaTableName() {
        return new SchemaTableName(schemaName, tableName);
    }

    public ArrowCacheTableHandle withFilter(TupleDomain<ColumnHandle> newConstraint, List<String> newExpressions) {
        return new ArrowCacheTableHandle(schemaName, tableName, table, snapshotId, newConstraint, newExpressions, columns, limit);
    }

    public ArrowCacheTableHandle withColumns(List<ArrowCacheColumnHandle> newColumns) {
        return new ArrowCacheTableHandle(schemaName, tableName, table, snapshotId, constraint, expressions, newColumns, limit);
    }

    public ArrowCacheTableHandle withLimit(long newLimit) {
        return new ArrowCacheTableHandle(schemaName, tableName, table, snapshotId, constraint, expressions, columns, newLimit);
    }

    /** The whole enforced filter in the Iceberg expression language, or null when there is none. */
    @JsonIgnore
    public Expression filter() {
        List<Expression> conjuncts = new ArrayList<>();
        Expression domains = FilterTranslator.toExpression(constraint);
        if (domains != null) {
            conjuncts.add(domains);
        }
        for (String json : expressions) {
            conjuncts.add(Expression.fromJson(json));
        }
        return conjuncts.isEmpty() ? null : Expressions.and(conjuncts);
    }

    /** The scan request this handle stands for. */
    public ScanRequest scanRequest() {
        ScanRequest.Builder b = ScanRequest.builder(table).snapshotId(snapshotId).filter(filter()).limit(limit);
        if (columns != null) {
            b.columns(columns.stream().map(ArrowCacheColumnHandle::getName).collect(Collectors.toList()));
        }
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ArrowCacheTableHandle)) {
            return false;
        }
        ArrowCacheTableHandle h = (ArrowCacheTableHandle) o;
        return schemaName.equals(h.schemaName) && tableName.equals(h.tableName) && table.equals(h.table)
                && Objects.equals(snapshotId, h.snapshotId) && constraint.equals(h.constraint)
                && expressions.equals(h.expressions) && Objects.equals(columns, h.columns) && Objects.equals(limit, h.limit);
    }

    @Override
    public int hashCode() {
        return Objects.hash(schemaName, tableName, table, snapshotId, constraint, expressions, columns, limit);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(table);
        if (snapshotId != null) {
            s.append(" snapshot=").append(snapshotId);
        }
        Expression filter = filter();
        if (filter != null) {
            s.append(" filter=[").append(FilterTranslator.describe(filter)).append(']');
        }
        if (columns != null) {
            s.append(" columns=[").append(columns.stream().map(ArrowCacheColumnHandle::getName).collect(Collectors.joining(", "))).append(']');
        }
        if (limit != null) {
            s.append(" limit=").append(limit);
        }
        return s.toString();
    }
}
