package io.arrowcache.trino;

import io.airlift.slice.Slice;
import io.arrowcache.bridge.ArrowCacheException;
import io.arrowcache.client.PlannedScan;
import io.arrowcache.scan.ScanPlan;
import io.arrowcache.scan.ScanRequest;
import io.trino.spi.TrinoException;
import io.trino.spi.connector.Assignment;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ColumnMetadata;
import io.trino.spi.connector.ConnectorMetadata;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.ConnectorTableMetadata;
import io.trino.spi.connector.ConnectorTableVersion;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.ConstraintApplicationResult;
import io.trino.spi.connector.LimitApplicationResult;
import io.trino.spi.connector.PointerType;
import io.trino.spi.connector.ProjectionApplicationResult;
import io.trino.spi.connector.RelationColumnsMetadata;
import io.trino.spi.connector.SchemaTableName;
import io.trino.spi.expression.Call;
import io.trino.spi.expression.ConnectorExpression;
import io.trino.spi.expression.Constant;
import io.trino.spi.expression.Variable;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.statistics.Estimate;
import io.trino.spi.statistics.TableStatistics;
import io.trino.spi.type.BigintType;
import io.trino.spi.type.DateType;
import io.trino.spi.type.LongTimestampWithTimeZone;
import io.trino.spi.type.TimestampType;
import io.trino.spi.type.TimestampWithTimeZoneType;
import io.trino.spi.type.Type;
import io.trino.spi.type.TypeManager;
import io.trino.spi.type.VarcharType;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;

import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_BAD_REQUEST;
import static io.trino.spi.StandardErrorCode.NOT_SUPPORTED;
import static io.trino.spi.expression.StandardFunctions.AND_FUNCTION_NAME;
import static io.trino.spi.type.BooleanType.BOOLEAN;
import static io.trino.spi.type.DateTimeEncoding.unpackMillisUtc;

/**
 * Schemas, tables and columns from the cluster, and the pushdown of filters, projections and
 * limits into the table handle. One instance per transaction: table descriptions (schema, row
 * count, pinned snapshot) are remembered for the transaction's life.
 */
public final class ArrowCacheMetadata implements ConnectorMetadata {
    private final ArrowCacheCluster cluster;
    private final TypeManager types;
    private final Map<String, TableInfo> tables = new ConcurrentHashMap<>();
    private final Map<String, Double> prunedRows = new ConcurrentHashMap<>();
    private List<String> listing;

    public ArrowCacheMetadata(ArrowCacheCluster cluster, TypeManager types) {
        this.cluster = cluster;
        this.types = types;
    }

    /** A table as one plan described it. */
    static final class TableInfo {
        final String table;
        final Long snapshotId;
        final List<ArrowCacheColumnHandle> columns;
        final long totalRows;
        final long totalBytes;

        TableInfo(String table, Long snapshotId, List<ArrowCacheColumnHandle> columns, long totalRows, long totalBytes) {
            this.table = table;
            this.snapshotId = snapshotId;
            this.columns = columns;
            this.totalRows = totalRows;
            this.totalBytes = totalBytes;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Names

    private synchronized List<String> listing() {
        if (listing == null) {
            listing = cluster.listTables();
        }
        return listing;
    }

    static String namespace(String table) {
        int dot = table.lastIndexOf('.');
        return dot < 0 ? "" : table.substring(0, dot);
    }

    static String name(String table) {
        return table.substring(table.lastIndexOf('.') + 1);
    }

    @Override
    public List<String> listSchemaNames(ConnectorSession session) {
        return listing().stream().map(ArrowCacheMetadata::namespace).filter(ns -> !ns.isEmpty())
                .map(ns -> ns.toLowerCase(Locale.ENGLISH)).distinct().sorted().collect(Collectors.toList());
    }

    @Override
    public List<SchemaTableName> listTables(ConnectorSession session, Optional<String> schemaName) {
        List<SchemaTableName> out = new ArrayList<>();
        for (String table : listing()) {
            String ns = namespace(table);
            if (ns.isEmpty() || (schemaName.isPresent() && !ns.equalsIgnoreCase(schemaName.get()))) {
                continue;
            }
            out.add(new SchemaTableName(ns, name(table)));
        }
        return out;
    }

    /** The cluster's name of a Trino table name (which is lower case), or null if it has none. */
    private String clusterName(SchemaTableName name) {
        String exact = name.getSchemaName() + "." + name.getTableName();
        for (String table : listing()) {
            if (table.equals(exact)) {
                return table;
            }
        }
        for (String table : listing()) {
            if (table.equalsIgnoreCase(exact)) {
                return table;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------
    // Tables

    @Override
    public ConnectorTableHandle getTableHandle(ConnectorSession session, SchemaTableName name,
                                               Optional<ConnectorTableVersion> startVersion, Optional<ConnectorTableVersion> endVersion) {
        if (startVersion.isPresent()) {
            throw new TrinoException(NOT_SUPPORTED, "the arrow-cache connector reads one snapshot: a start version is not supported");
        }
        Long snapshotId = null;
        Long asOfMillis = null;
        String ref = null;
        if (endVersion.isPresent()) {
            ConnectorTableVersion v = endVersion.get();
            if (v.getPointerType() == PointerType.TARGET_ID) {
                Type type = v.getVersionType();
                if (type instanceof VarcharType) {
                    ref = ((Slice) v.getVersion()).toStringUtf8();
                } else if (type instanceof BigintType || type instanceof io.trino.spi.type.IntegerType
                        || type instanceof io.trino.spi.type.SmallintType || type instanceof io.trino.spi.type.TinyintType) {
                    snapshotId = (Long) v.getVersion();
                } else {
                    throw new TrinoException(NOT_SUPPORTED, "FOR VERSION AS OF needs a snapshot id (a bigint) or a branch or tag name "
                            + "(a varchar), not " + type.getDisplayName());
                }
            } else {
                asOfMillis = epochMillis(session, v.getVersionType(), v.getVersion());
            }
        }
        String table = name.getSchemaName() + "." + name.getTableName();
        TableInfo info = describeOrNull(selection(table, snapshotId, asOfMillis, ref));
        if (info == null) {
            String original = clusterName(name);
            if (original == null || original.equals(table)) {
                return null;
            }
            info = describeOrNull(selection(original, snapshotId, asOfMillis, ref));
            if (info == null) {
                return null;
            }
        }
        // The handle pins the snapshot the description read: later plans of this query (splits,
        // statistics) ask by snapshot id, which reads that snapshot's schema.
        return ArrowCacheTableHandle.of(name, info.table, info.snapshotId);
    }

    private static long epochMillis(ConnectorSession session, Type type, Object value) {
        if (type instanceof TimestampWithTimeZoneType) {
            if (value instanceof LongTimestampWithTimeZone) {
                return ((LongTimestampWithTimeZone) value).getEpochMillis();
            }
            return unpackMillisUtc((Long) value);
        }
        ZoneId zone = session.getTimeZoneKey().getZoneId();
        if (type instanceof TimestampType && ((TimestampType) type).isShort()) {
            long micros = (Long) value;
            LocalDateTime local = LocalDateTime.ofEpochSecond(Math.floorDiv(micros, 1_000_000), (int) Math.floorMod(micros, 1_000_000) * 1000,
                    java.time.ZoneOffset.UTC);
            return local.atZone(zone).toInstant().toEpochMilli();
        }
        if (type instanceof DateType) {
            return java.time.LocalDate.ofEpochDay((Long) value).atStartOfDay(zone).toInstant().toEpochMilli();
        }
        throw new TrinoException(NOT_SUPPORTED, "FOR TIMESTAMP AS OF needs a timestamp, not " + type.getDisplayName());
    }

    /**
     * The table and the snapshot a query selects, checked by ScanRequest as for every connector. A
     * ref name (FOR VERSION AS OF 'name', a branch or a tag) is sent as a tag: the cluster resolves
     * either kind by name, and a tag reads the schema of its snapshot, as Trino's Iceberg connector
     * reads every FOR VERSION AS OF (a branch sent as a branch would read the table's current
     * schema instead). A selection the user can fix (an empty name) is a user error.
     */
    private static ScanRequest selection(String table, Long snapshotId, Long asOfMillis, String ref) {
        try {
            return ScanRequest.builder(table).snapshotId(snapshotId).asOfTimestampMs(asOfMillis).tag(ref).build();
        } catch (IllegalArgumentException e) {
            throw new TrinoException(ARROW_CACHE_BAD_REQUEST, "reading " + table + ": " + e.getMessage(), e);
        }
    }

    /** The table as of a snapshot (or time, or ref, or now), or null when the cluster does not have it. */
    private TableInfo describeOrNull(ScanRequest selection) {
        try {
            return describe(selection);
        } catch (TrinoException e) {
            if (e.getCause() instanceof ArrowCacheException && ((ArrowCacheException) e.getCause()).isNotFound()) {
                if (selection.selectorOption() != null) {
                    throw new TrinoException(ARROW_CACHE_BAD_REQUEST, e.getMessage(), e);
                }
                return null;
            }
            throw e;
        }
    }

    /** The table as one plan of {@code selection} (a table and its snapshot selector) describes it. */
    private TableInfo describe(ScanRequest selection) {
        String key = selection.toJson();
        TableInfo info = tables.get(key);
        if (info != null) {
            return info;
        }
        String table = selection.table();
        PlannedScan scan = cluster.plan(selection);
        List<ArrowCacheColumnHandle> columns = new ArrayList<>();
        for (Field f : scan.schema().getFields()) {
            int fixed = f.getType() instanceof ArrowType.FixedSizeBinary && !ArrowTypes.isUuid(f)
                    ? ((ArrowType.FixedSizeBinary) f.getType()).getByteWidth() : 0;
            columns.add(new ArrowCacheColumnHandle(f.getName(), ArrowTypes.toTrino(f, types, table), fixed));
        }
        info = new TableInfo(table, scan.plan().snapshotId(), columns, scan.plan().totalRows(), scan.plan().totalBytes());
        tables.put(key, info);
        // The same table by its pinned snapshot (what later calls ask with).
        tables.putIfAbsent(pinned(table, info.snapshotId).toJson(), info);
        return info;
    }

    private static ScanRequest pinned(String table, Long snapshotId) {
        return ScanRequest.builder(table).snapshotId(snapshotId).build();
    }

    private TableInfo describe(ArrowCacheTableHandle handle) {
        return describe(pinned(handle.getTable(), handle.getSnapshotId()));
    }

    @Override
    public SchemaTableName getTableName(ConnectorSession session, ConnectorTableHandle table) {
        return ((ArrowCacheTableHandle) table).schemaTableName();
    }

    @Override
    public ConnectorTableMetadata getTableMetadata(ConnectorSession session, ConnectorTableHandle table) {
        ArrowCacheTableHandle handle = (ArrowCacheTableHandle) table;
        List<ColumnMetadata> columns = describe(handle).columns.stream().map(ArrowCacheColumnHandle::toColumnMetadata).collect(Collectors.toList());
        return new ConnectorTableMetadata(handle.schemaTableName(), columns);
    }

    @Override
    public Map<String, ColumnHandle> getColumnHandles(ConnectorSession session, ConnectorTableHandle table) {
        Map<String, ColumnHandle> out = new LinkedHashMap<>();
        for (ArrowCacheColumnHandle c : describe((ArrowCacheTableHandle) table).columns) {
            out.put(c.getName().toLowerCase(Locale.ENGLISH), c);
        }
        return out;
    }

    @Override
    public ColumnMetadata getColumnMetadata(ConnectorSession session, ConnectorTableHandle table, ColumnHandle column) {
        return ((ArrowCacheColumnHandle) column).toColumnMetadata();
    }

    @Override
    public Iterator<RelationColumnsMetadata> streamRelationColumns(ConnectorSession session, Optional<String> schemaName,
                                                                   UnaryOperator<Set<SchemaTableName>> relationFilter) {
        Map<SchemaTableName, String> names = new LinkedHashMap<>();
        for (String table : listing()) {
            String ns = namespace(table);
            if (!ns.isEmpty() && (schemaName.isEmpty() || ns.equalsIgnoreCase(schemaName.get()))) {
                names.put(new SchemaTableName(ns, name(table)), table);
            }
        }
        List<RelationColumnsMetadata> out = new ArrayList<>();
        for (SchemaTableName name : relationFilter.apply(new LinkedHashSet<>(names.keySet()))) {
            TableInfo info;
            try {
                info = describeOrNull(ScanRequest.builder(names.get(name)).build());
            } catch (TrinoException e) {
                continue;  // a table that cannot be described (e.g. a type Trino cannot hold) is left out of the listing
            }
            if (info != null) {
                out.add(RelationColumnsMetadata.forTable(name,
                        info.columns.stream().map(ArrowCacheColumnHandle::toColumnMetadata).collect(Collectors.toList())));
            }
        }
        return out.iterator();
    }

    /**
     * The row count for the cost-based optimizer: the table's, or for a filtered scan the rows of
     * the files and row groups the cluster's pruning keeps (an upper bound, exact for filters on
     * identity partitions), at most the pushed limit. The cluster exposes no column statistics
     * (ranges, null fractions, distinct counts) yet, so there are none here; output sizes of
     * fixed-width columns follow from the row count.
     */
    @Override
    public TableStatistics getTableStatistics(ConnectorSession session, ConnectorTableHandle table) {
        ArrowCacheTableHandle handle = (ArrowCacheTableHandle) table;
        if (handle.getConstraint().isNone()) {
            return TableStatistics.builder().setRowCount(Estimate.zero()).build();
        }
        TableInfo info = describe(handle);
        if (info.totalRows < 0) {
            return TableStatistics.empty();
        }
        double rows = handle.filter() == null ? info.totalRows : rowsAfterPruning(handle, info);
        if (handle.getLimit() != null) {
            rows = Math.min(rows, handle.getLimit());
        }
        return TableStatistics.builder().setRowCount(Estimate.of(rows)).build();
    }

    private double rowsAfterPruning(ArrowCacheTableHandle handle, TableInfo info) {
        // Without columns or limit: one plan for every projection of one filter.
        ScanRequest request = handle.scanRequest().toBuilder().columns(null).limit(null).build();
        return prunedRows.computeIfAbsent(request.toJson(), json -> {
            ScanPlan plan = cluster.plan(request).plan();
            long rows = 0;
            long bytes = 0;
            boolean rowsKnown = true;
            for (ScanPlan.Split split : plan.splits()) {
                rowsKnown &= split.rows() >= 0;
                rows += Math.max(0, split.rows());
                bytes += Math.max(0, split.bytes());
            }
            if (rowsKnown) {
                return (double) rows;
            }
            return info.totalBytes > 0 ? info.totalRows * Math.min(1.0, (double) bytes / info.totalBytes) : info.totalRows;
        });
    }

    @Override
    public Optional<Object> getInfo(ConnectorSession session, ConnectorTableHandle table) {
        return Optional.of(table.toString());
    }

    // ---------------------------------------------------------------------------------------
    // Pushdown

    @Override
    public Optional<ConstraintApplicationResult<ConnectorTableHandle>> applyFilter(ConnectorSession session, ConnectorTableHandle table,
                                                                                   Constraint constraint) {
        ArrowCacheTableHandle handle = (ArrowCacheTableHandle) table;
        TupleDomain<ColumnHandle> summary = constraint.getSummary();

        TupleDomain<ColumnHandle> enforced;
        TupleDomain<ColumnHandle> remaining;
        if (summary.isNone()) {
            enforced = TupleDomain.none();
            remaining = TupleDomain.all();
        } else {
            Map<ColumnHandle, Domain> pushed = new LinkedHashMap<>();
            Map<ColumnHandle, Domain> kept = new LinkedHashMap<>();
            for (Map.Entry<ColumnHandle, Domain> e : summary.getDomains().orElseThrow().entrySet()) {
                ArrowCacheColumnHandle column = (ArrowCacheColumnHandle) e.getKey();
                if (FilterTranslator.toExpression(column, e.getValue()).isPresent()) {
                    pushed.put(column, e.getValue());
                } else {
                    kept.put(column, e.getValue());
                }
            }
            enforced = handle.getConstraint().intersect(TupleDomain.withColumnDomains(pushed));
            remaining = TupleDomain.withColumnDomains(kept);
        }

        List<String> expressions = new ArrayList<>(handle.getExpressions());
        List<ConnectorExpression> notPushed = new ArrayList<>();
        for (ConnectorExpression conjunct : FilterTranslator.conjuncts(constraint.getExpression())) {
            Optional<io.arrowcache.scan.Expression> translated = FilterTranslator.toExpression(conjunct, constraint.getAssignments());
            if (translated.isEmpty()) {
                notPushed.add(conjunct);
            } else if (!expressions.contains(translated.get().toJson())) {
                expressions.add(translated.get().toJson());
            }
        }

        if (enforced.equals(handle.getConstraint()) && expressions.equals(handle.getExpressions())) {
            return Optional.empty();
        }
        ConnectorExpression remainingExpression = notPushed.isEmpty() ? Constant.TRUE
                : notPushed.size() == 1 ? notPushed.get(0) : new Call(BOOLEAN, AND_FUNCTION_NAME, notPushed);
        // precalculateStatistics=false: Trino asks getTableStatistics of the filtered handle, which
        // knows what pruning keeps (Trino cannot estimate a filter without column statistics).
        return Optional.of(new ConstraintApplicationResult<>(handle.withFilter(enforced, expressions), remaining, remainingExpression, false));
    }

    @Override
    public Optional<ProjectionApplicationResult<ConnectorTableHandle>> applyProjection(ConnectorSession session, ConnectorTableHandle table,
                                                                                       List<ConnectorExpression> projections,
                                                                                       Map<String, ColumnHandle> assignments) {
        ArrowCacheTableHandle handle = (ArrowCacheTableHandle) table;
        // The columns the projections read; expressions over them (dereferences, ...) stay in Trino.
        Set<String> variables = new HashSet<>();
        for (ConnectorExpression p : projections) {
            collectVariables(p, variables);
        }
        List<ArrowCacheColumnHandle> order = handle.getColumns() != null ? handle.getColumns() : describe(handle).columns;
        Set<ColumnHandle> used = new HashSet<>();
        for (String v : variables) {
            ColumnHandle c = assignments.get(v);
            if (c != null) {
                used.add(c);
            }
        }
        List<ArrowCacheColumnHandle> columns = order.stream().filter(used::contains).collect(Collectors.toList());
        if (columns.size() != used.size() || columns.equals(handle.getColumns())) {
            return Optional.empty();
        }
        List<Assignment> newAssignments = new ArrayList<>();
        for (String v : variables) {
            ColumnHandle c = assignments.get(v);
            if (c != null) {
                newAssignments.add(new Assignment(v, c, ((ArrowCacheColumnHandle) c).getType()));
            }
        }
        newAssignments.sort((a, b) -> a.getVariable().compareTo(b.getVariable()));
        return Optional.of(new ProjectionApplicationResult<>(handle.withColumns(columns), projections, newAssignments, false));
    }

    private static void collectVariables(ConnectorExpression e, Set<String> out) {
        if (e instanceof Variable) {
            out.add(((Variable) e).getName());
        }
        for (ConnectorExpression child : e.getChildren()) {
            collectVariables(child, out);
        }
    }

    @Override
    public Optional<LimitApplicationResult<ConnectorTableHandle>> applyLimit(ConnectorSession session, ConnectorTableHandle table, long limit) {
        ArrowCacheTableHandle handle = (ArrowCacheTableHandle) table;
        if (handle.getLimit() != null && handle.getLimit() <= limit) {
            return Optional.empty();
        }
        // Not guaranteed: Trino keeps its own limit over the splits' rows.
        return Optional.of(new LimitApplicationResult<>(handle.withLimit(limit), false, false));
    }
}
