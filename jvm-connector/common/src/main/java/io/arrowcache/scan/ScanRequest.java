package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A scan request of the contract: {@code {"table": "ns.tbl", "columns": [..], "filter": EXPR,
 * "snapshot_id": n, "as_of_timestamp_ms": n, "branch": "name", "tag": "name", "limit": n,
 * "aggregate": {..}, "order_by": [..], "target_splits": n}}, every key but {@code table} optional
 * and at most one of the four snapshot selectors given. An {@link Aggregate} replaces
 * {@code columns} (the result columns are its group-by terms and functions), {@link SortKey}s
 * sort the rows after it (with a limit: a top-N), and {@code target_splits} (at least 1) asks
 * for at least that many splits when the scan can be cut so. The node
 * reads the current state and a branch head with the table's current schema, a snapshot id, a
 * time or a tag with the schema of that snapshot (as Iceberg's Spark reads do).
 * Immutable; build with {@link #builder(String)}, parse with {@link #fromJson(String)}.
 *
 * <p>This class is the one place that validates what a scan selects, for every connector: the
 * builder's setters (typed values), {@link Builder#withOptions(Map)} (string options, named as
 * Iceberg's Spark reads name them: {@value #SNAPSHOT_ID_OPTION}, {@value #AS_OF_TIMESTAMP_OPTION},
 * {@value #BRANCH_OPTION}, {@value #TAG_OPTION}, plus {@value #LIMIT_OPTION}) and
 * {@link #fromJsonNode(JsonNode)} (the wire form) all apply the same rules: at most one snapshot
 * selector, branch and tag names not blank, a limit of at least 0, no {@code columns} with an
 * aggregate, a non-empty {@code order_by}, {@code target_splits} of at least 1 (the aggregate's
 * own rules are {@link Aggregate}'s and {@link AggregateFunction}'s).
 */
public final class ScanRequest implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The read option selecting a snapshot by id (a whole number). */
    public static final String SNAPSHOT_ID_OPTION = "snapshot-id";
    /** The read option selecting the snapshot current at a time (milliseconds since the epoch). */
    public static final String AS_OF_TIMESTAMP_OPTION = "as-of-timestamp";
    /** The read option selecting a branch's head (read with the table's current schema). */
    public static final String BRANCH_OPTION = "branch";
    /** The read option selecting a tagged snapshot (read with its own schema). */
    public static final String TAG_OPTION = "tag";
    /** The read option limiting the rows each split returns (a whole number, at least 0). */
    public static final String LIMIT_OPTION = "limit";
    /** The options that select a snapshot, at most one of which a read may give. */
    public static final List<String> SELECTOR_OPTIONS = Collections.unmodifiableList(Arrays.asList(
            SNAPSHOT_ID_OPTION, AS_OF_TIMESTAMP_OPTION, BRANCH_OPTION, TAG_OPTION));

    /** The wire names of the selectors, in the order of {@link #SELECTOR_OPTIONS}. */
    private static final List<String> SELECTOR_FIELDS = Collections.unmodifiableList(Arrays.asList(
            "snapshot_id", "as_of_timestamp_ms", "branch", "tag"));
    private static final List<String> FIELDS = Collections.unmodifiableList(Arrays.asList(
            "table", "columns", "filter", "snapshot_id", "as_of_timestamp_ms", "branch", "tag", "limit", "aggregate",
            "order_by", "target_splits"));

    private final String table;
    private final List<String> columns;  // null: every column
    private final String filterJson;     // null: no filter
    private final Long snapshotId;
    private final Long asOfTimestampMs;
    private final String branch;
    private final String tag;
    private final Long limit;
    private final Aggregate aggregate;   // null: none
    private final List<SortKey> orderBy; // null: unsorted
    private final Integer targetSplits;  // null: the node's split size

    private ScanRequest(Builder b) {
        this.table = b.table;
        this.columns = b.columns == null ? null : Collections.unmodifiableList(new ArrayList<>(b.columns));
        this.filterJson = b.filter == null ? null : b.filter.toJson();
        this.snapshotId = b.snapshotId;
        this.asOfTimestampMs = b.asOfTimestampMs;
        this.branch = b.branch;
        this.tag = b.tag;
        this.limit = b.limit;
        this.aggregate = b.aggregate;
        this.orderBy = b.orderBy == null ? null : Collections.unmodifiableList(new ArrayList<>(b.orderBy));
        this.targetSplits = b.targetSplits;
    }

    public static Builder builder(String table) {
        return new Builder(table);
    }

    public Builder toBuilder() {
        Builder b = new Builder(table);
        b.columns = columns;
        b.filter = filterJson == null ? null : Expression.fromJson(filterJson);
        b.snapshotId = snapshotId;
        b.asOfTimestampMs = asOfTimestampMs;
        b.branch = branch;
        b.tag = tag;
        b.limit = limit;
        b.aggregate = aggregate;
        b.orderBy = orderBy;
        b.targetSplits = targetSplits;
        return b;
    }

    /**
     * Parses a scan request as a client sends it (see the class comment), with the builder's
     * rules; a JSON {@code null} counts as absent. Anything else, an unknown key included, is an
     * {@link IllegalArgumentException} naming the field ({@code "scan request field limit: ..."}).
     */
    public static ScanRequest fromJson(String text) {
        return fromJsonNode(Json.read(text));
    }

    /** {@link #fromJson(String)} of a parsed document. */
    public static ScanRequest fromJsonNode(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("a scan request must be a JSON object, got " + Json.abbreviate(String.valueOf(n)));
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new IllegalArgumentException("scan request field " + field + ": unknown field; a scan request has " + FIELDS);
            }
        }
        JsonNode table = present(n, "table");
        if (table == null || !table.isTextual()) {
            throw fieldError("table", "required, a string (namespace.table)");
        }
        Builder b;
        try {
            b = new Builder(table.asText());
        } catch (IllegalArgumentException e) {
            throw fieldError("table", e.getMessage());
        }
        JsonNode columns = present(n, "columns");
        if (columns != null) {
            if (!columns.isArray()) {
                throw fieldError("columns", "must be an array of column names, got " + columns);
            }
            List<String> names = new ArrayList<>();
            for (JsonNode c : columns) {
                if (!c.isTextual()) {
                    throw fieldError("columns", "must be an array of column names, got " + c);
                }
                names.add(c.asText());
            }
            b.columns(names);
        }
        JsonNode filter = present(n, "filter");
        if (filter != null) {
            if (!filter.isObject() || !filter.hasNonNull("type")) {
                throw fieldError("filter", "must be an Iceberg expression (an object with a \"type\"), got "
                        + Json.abbreviate(filter.toString()));
            }
            b.filter(new Expression(((ObjectNode) filter).deepCopy()));
        }
        b.snapshotId(longField(n, "snapshot_id"));
        b.asOfTimestampMs(longField(n, "as_of_timestamp_ms"));
        try {
            b.branch(textField(n, "branch"));
        } catch (IllegalArgumentException e) {
            throw fieldError("branch", e.getMessage());
        }
        try {
            b.tag(textField(n, "tag"));
        } catch (IllegalArgumentException e) {
            throw fieldError("tag", e.getMessage());
        }
        try {
            b.limit(longField(n, "limit"));
        } catch (IllegalArgumentException e) {
            throw fieldError("limit", e.getMessage());
        }
        JsonNode aggregate = present(n, "aggregate");
        if (aggregate != null) {
            b.aggregate(nested(() -> Aggregate.fromJsonNode(aggregate, "aggregate")));
        }
        JsonNode orderBy = present(n, "order_by");
        if (orderBy != null) {
            if (!orderBy.isArray()) {
                throw fieldError("order_by", "must be a list of sort keys, got " + Json.abbreviate(orderBy.toString()));
            }
            List<SortKey> keys = new ArrayList<>();
            for (int i = 0; i < orderBy.size(); i++) {
                JsonNode key = orderBy.get(i);
                String path = "order_by[" + i + "]";
                keys.add(nested(() -> SortKey.fromJsonNode(key, path)));
            }
            nested(() -> b.orderBy(keys));
        }
        Long targetSplits = longField(n, "target_splits");
        if (targetSplits != null && (targetSplits < 1 || targetSplits > Integer.MAX_VALUE)) {
            throw fieldError("target_splits", "must be at least 1 (and at most " + Integer.MAX_VALUE + "), got " + targetSplits);
        }
        b.targetSplits(targetSplits == null ? null : targetSplits.intValue());
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            // The rules between fields (build's messages start with the field: "columns: ...").
            String message = e.getMessage();
            for (String field : FIELDS) {
                if (message.startsWith(field + ": ")) {
                    throw new IllegalArgumentException("scan request field " + message, e);
                }
            }
            throw e;
        }
    }

    /** Parses a nested object, whose errors start with their path ({@code aggregate.mode: ...}). */
    private static <T> T nested(Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scan request field " + e.getMessage(), e);
        }
    }

    /** The value of a key, or null when it is absent or JSON null. */
    private static JsonNode present(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v;
    }

    private static Long longField(JsonNode n, String field) {
        JsonNode v = present(n, field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw fieldError(field, "must be a whole number (64 bits), got " + v);
        }
        return v.asLong();
    }

    private static String textField(JsonNode n, String field) {
        JsonNode v = present(n, field);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw fieldError(field, "must be a string, got " + v);
        }
        return v.asText();
    }

    private static IllegalArgumentException fieldError(String field, String problem) {
        return new IllegalArgumentException("scan request field " + field + ": " + problem);
    }

    public String table() {
        return table;
    }

    /** The requested columns, or null for every column. */
    public List<String> columns() {
        return columns;
    }

    /** The filter, or null. */
    public Expression filter() {
        return filterJson == null ? null : Expression.fromJson(filterJson);
    }

    public Long snapshotId() {
        return snapshotId;
    }

    public Long asOfTimestampMs() {
        return asOfTimestampMs;
    }

    /** The branch whose head this scan reads, or null. */
    public String branch() {
        return branch;
    }

    /** The tag whose snapshot this scan reads, or null. */
    public String tag() {
        return tag;
    }

    public Long limit() {
        return limit;
    }

    /** The aggregate the node computes, or null. */
    public Aggregate aggregate() {
        return aggregate;
    }

    /** The sort keys (applied after the aggregate), or null for no order. */
    public List<SortKey> orderBy() {
        return orderBy;
    }

    /** The least number of splits asked for (a hint), or null. */
    public Integer targetSplits() {
        return targetSplits;
    }

    /**
     * The read option that selects this scan's snapshot, as {@code option=value} (e.g.
     * {@code tag=v1}, {@code snapshot-id=42}), or null when it reads the current state.
     */
    public String selectorOption() {
        List<String> given = selectorOptions(snapshotId, asOfTimestampMs, branch, tag);
        return given.isEmpty() ? null : given.get(0);
    }

    /** Whether both read the same snapshot selection (the same selector, or both the current state). */
    public boolean sameSnapshotSelection(ScanRequest other) {
        return Objects.equals(snapshotId, other.snapshotId) && Objects.equals(asOfTimestampMs, other.asOfTimestampMs)
                && Objects.equals(branch, other.branch) && Objects.equals(tag, other.tag);
    }

    public ObjectNode toJsonNode() {
        ObjectNode n = Json.NODES.objectNode();
        n.put("table", table);
        if (columns != null) {
            ArrayNode cols = n.putArray("columns");
            columns.forEach(cols::add);
        }
        if (filterJson != null) {
            n.set("filter", Json.read(filterJson));
        }
        if (snapshotId != null) {
            n.put("snapshot_id", snapshotId);
        }
        if (asOfTimestampMs != null) {
            n.put("as_of_timestamp_ms", asOfTimestampMs);
        }
        if (branch != null) {
            n.put("branch", branch);
        }
        if (tag != null) {
            n.put("tag", tag);
        }
        if (limit != null) {
            n.put("limit", limit);
        }
        if (aggregate != null) {
            n.set("aggregate", aggregate.toJsonNode());
        }
        if (orderBy != null) {
            ArrayNode keys = n.putArray("order_by");
            orderBy.forEach(k -> keys.add(k.toJsonNode()));
        }
        if (targetSplits != null) {
            n.put("target_splits", targetSplits);
        }
        return n;
    }

    public String toJson() {
        return Json.write(toJsonNode());
    }

    /** Equal when every field is (the filters as JSON trees). */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ScanRequest)) {
            return false;
        }
        ScanRequest r = (ScanRequest) o;
        return table.equals(r.table) && Objects.equals(columns, r.columns) && sameSnapshotSelection(r)
                && Objects.equals(limit, r.limit) && Objects.equals(filterTree(), r.filterTree())
                && Objects.equals(aggregate, r.aggregate) && Objects.equals(orderBy, r.orderBy)
                && Objects.equals(targetSplits, r.targetSplits);
    }

    @Override
    public int hashCode() {
        return Objects.hash(table, columns, snapshotId, asOfTimestampMs, branch, tag, limit, filterTree(), aggregate, orderBy,
                targetSplits);
    }

    private JsonNode filterTree() {
        return filterJson == null ? null : Json.read(filterJson);
    }

    @Override
    public String toString() {
        return toJson();
    }

    /** The selectors given, as {@code option=value}, in the order of {@link #SELECTOR_OPTIONS}. */
    private static List<String> selectorOptions(Long snapshotId, Long asOfTimestampMs, String branch, String tag) {
        Object[] values = {snapshotId, asOfTimestampMs, branch, tag};
        List<String> given = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                given.add(SELECTOR_OPTIONS.get(i) + "=" + values[i]);
            }
        }
        return given;
    }

    public static final class Builder {
        private final String table;
        private List<String> columns;
        private Expression filter;
        private Long snapshotId;
        private Long asOfTimestampMs;
        private String branch;
        private String tag;
        private Long limit;
        private Aggregate aggregate;
        private List<SortKey> orderBy;
        private Integer targetSplits;

        private Builder(String table) {
            Objects.requireNonNull(table, "table");
            if (table.trim().isEmpty()) {
                throw new IllegalArgumentException("a scan request needs a table (namespace.table)");
            }
            this.table = table;
        }

        /** Only these columns, in this order; null for every column. */
        public Builder columns(List<String> columns) {
            this.columns = columns;
            return this;
        }

        public Builder filter(Expression filter) {
            this.filter = filter;
            return this;
        }

        public Builder snapshotId(Long snapshotId) {
            this.snapshotId = snapshotId;
            return this;
        }

        public Builder asOfTimestampMs(Long asOfTimestampMs) {
            this.asOfTimestampMs = asOfTimestampMs;
            return this;
        }

        /** Reads the head of this branch (Iceberg's {@code main} is the current snapshot). */
        public Builder branch(String branch) {
            this.branch = refName(branch, "branch");
            return this;
        }

        /** Reads the snapshot this tag names. */
        public Builder tag(String tag) {
            this.tag = refName(tag, "tag");
            return this;
        }

        private static String refName(String name, String kind) {
            if (name != null && name.trim().isEmpty()) {
                throw new IllegalArgumentException("a " + kind + " name cannot be empty");
            }
            return name;
        }

        public Builder limit(Long limit) {
            if (limit != null && limit < 0) {
                throw new IllegalArgumentException("limit must be >= 0, got " + limit);
            }
            this.limit = limit;
            return this;
        }

        /**
         * Aggregates the rows (null: none). The request then leaves {@code columns} out: the result
         * columns are the aggregate's ({@link Aggregate#resultColumns()}).
         */
        public Builder aggregate(Aggregate aggregate) {
            this.aggregate = aggregate;
            return this;
        }

        /**
         * Sorts the rows by these keys, after the aggregate (null: unsorted; not empty); with a
         * limit the scan returns the top N (per endpoint unless the aggregate is {@code final}).
         */
        public Builder orderBy(List<SortKey> orderBy) {
            if (orderBy != null) {
                if (orderBy.isEmpty()) {
                    throw new IllegalArgumentException("order_by: give at least one key, or leave it out");
                }
                for (int i = 0; i < orderBy.size(); i++) {
                    Objects.requireNonNull(orderBy.get(i), "order_by[" + i + "]");
                }
            }
            this.orderBy = orderBy;
            return this;
        }

        /** Asks for at least this many splits when the scan can be cut so (null: the node decides; else at least 1). */
        public Builder targetSplits(Integer targetSplits) {
            if (targetSplits != null && targetSplits < 1) {
                throw new IllegalArgumentException("target_splits: must be at least 1, got " + targetSplits);
            }
            this.targetSplits = targetSplits;
            return this;
        }

        /**
         * Applies read options given as strings, named as Iceberg's Spark reads name them:
         * {@value ScanRequest#SNAPSHOT_ID_OPTION}, {@value ScanRequest#AS_OF_TIMESTAMP_OPTION}
         * (milliseconds since the epoch), {@value ScanRequest#BRANCH_OPTION},
         * {@value ScanRequest#TAG_OPTION} and {@value ScanRequest#LIMIT_OPTION}. Other
         * keys are left to the caller. A snapshot selector among the options replaces the one this
         * builder has; a blank number counts as absent. A bad value, or more than one selector, is
         * an {@link IllegalArgumentException} naming the option(s), e.g. {@code option snapshot-id
         * must be a whole number, got `latest`} or {@code options branch=b and tag=t both select a
         * snapshot; give only one of snapshot-id, as-of-timestamp, branch and tag}.
         *
         * <p>{@code options.get(name)} is all this asks of the map, so a case-insensitive map (such
         * as Spark's {@code CaseInsensitiveStringMap}) matches the names in any case.
         */
        public Builder withOptions(Map<String, String> options) {
            if (options == null || options.isEmpty()) {
                return this;
            }
            Long snap = longOption(options, SNAPSHOT_ID_OPTION);
            Long asOf = longOption(options, AS_OF_TIMESTAMP_OPTION);
            String br = refOption(options, BRANCH_OPTION);
            String tg = refOption(options, TAG_OPTION);
            Long lim = longOption(options, LIMIT_OPTION);
            List<String> given = selectorOptions(snap, asOf, br, tg);
            if (given.size() > 1) {
                throw new IllegalArgumentException("options " + String.join(" and ", given) + (given.size() == 2 ? " both" : " all")
                        + " select a snapshot; give only one of " + String.join(", ", SELECTOR_OPTIONS.subList(0, 3))
                        + " and " + SELECTOR_OPTIONS.get(3));
            }
            if (!given.isEmpty()) {
                snapshotId = snap;
                asOfTimestampMs = asOf;
                branch = br;
                tag = tg;
            }
            if (lim != null) {
                if (lim < 0) {
                    throw new IllegalArgumentException("option " + LIMIT_OPTION + " must be >= 0, got " + lim);
                }
                limit = lim;
            }
            return this;
        }

        /** A whole-number option, or null when absent or blank; otherwise an error naming it. */
        public static Long longOption(Map<String, String> o, String key) {
            String v = o.get(key);
            if (v == null || v.trim().isEmpty()) {
                return null;
            }
            try {
                return Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                String what = key.equals(AS_OF_TIMESTAMP_OPTION) ? "milliseconds since the epoch" : "a whole number";
                throw new IllegalArgumentException("option " + key + " must be " + what + ", got `" + v + "`");
            }
        }

        /** A branch or tag name: used as given (names may hold any character), but not blank. */
        private static String refOption(Map<String, String> o, String key) {
            String v = o.get(key);
            if (v == null) {
                return null;
            }
            if (v.trim().isEmpty()) {
                throw new IllegalArgumentException("option " + key + " must name a " + key + " of the table, got an empty value");
            }
            return v;
        }

        public ScanRequest build() {
            List<String> given = new ArrayList<>();
            Object[] values = {snapshotId, asOfTimestampMs, branch, tag};
            for (int i = 0; i < values.length; i++) {
                if (values[i] != null) {
                    given.add(SELECTOR_FIELDS.get(i));
                }
            }
            if (given.size() > 1) {
                throw new IllegalArgumentException("a scan selects its snapshot by one of snapshot_id, as_of_timestamp_ms, branch "
                        + "and tag, not by " + String.join(" and ", given));
            }
            if (aggregate != null && columns != null) {
                throw new IllegalArgumentException("columns: leave it out with aggregate (the result columns are the group-by "
                        + "terms, then the functions)");
            }
            return new ScanRequest(this);
        }
    }
}
