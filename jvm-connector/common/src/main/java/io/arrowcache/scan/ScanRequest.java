package io.arrowcache.scan;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A scan request of the contract: {@code {"table": "ns.tbl", "columns": [..], "filter": EXPR,
 * "snapshot_id": n, "as_of_timestamp_ms": n, "branch": "name", "tag": "name", "limit": n}}, every
 * key but {@code table} optional and at most one of the four snapshot selectors given. The node
 * reads the current state and a branch head with the table's current schema, a snapshot id, a
 * time or a tag with the schema of that snapshot (as Iceberg's Spark reads do).
 * Immutable; build with {@link #builder(String)}.
 */
public final class ScanRequest implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String table;
    private final List<String> columns;  // null: every column
    private final String filterJson;     // null: no filter
    private final Long snapshotId;
    private final Long asOfTimestampMs;
    private final String branch;
    private final String tag;
    private final Long limit;

    private ScanRequest(Builder b) {
        this.table = b.table;
        this.columns = b.columns == null ? null : Collections.unmodifiableList(new ArrayList<>(b.columns));
        this.filterJson = b.filter == null ? null : b.filter.toJson();
        this.snapshotId = b.snapshotId;
        this.asOfTimestampMs = b.asOfTimestampMs;
        this.branch = b.branch;
        this.tag = b.tag;
        this.limit = b.limit;
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
        return b;
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
        return n;
    }

    public String toJson() {
        return Json.write(toJsonNode());
    }

    @Override
    public String toString() {
        return toJson();
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

        public ScanRequest build() {
            List<String> given = new ArrayList<>();
            if (snapshotId != null) {
                given.add("snapshot_id");
            }
            if (asOfTimestampMs != null) {
                given.add("as_of_timestamp_ms");
            }
            if (branch != null) {
                given.add("branch");
            }
            if (tag != null) {
                given.add("tag");
            }
            if (given.size() > 1) {
                throw new IllegalArgumentException("a scan selects its snapshot by one of snapshot_id, as_of_timestamp_ms, branch "
                        + "and tag, not by " + String.join(" and ", given));
            }
            return new ScanRequest(this);
        }
    }
}
