package io.arrowcache.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.arrowcache.scan.Json;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * The body of the table operations {@code table_stats}, {@code invalidate}, {@code refresh} and
 * {@code warm}: {@code {"table": "ns.tbl", "partition": "k=v[,k=v]", "columns": [..]}}, every key
 * but {@code table} optional (no partition: the whole table; no columns: every column). Immutable.
 * Send it with {@link ArrowCacheClient#tableAction(String, TableAction)}.
 */
public final class TableAction {
    /** The operations that take this body. */
    public static final List<String> OPERATIONS = Collections.unmodifiableList(Arrays.asList(
            "table_stats", "invalidate", "refresh", "warm"));
    private static final List<String> FIELDS = Collections.unmodifiableList(Arrays.asList("table", "partition", "columns"));

    private final String table;
    private final String partition;      // null: the whole table
    private final List<String> columns;  // null: every column

    private TableAction(String table, String partition, List<String> columns) {
        Objects.requireNonNull(table, "table");
        if (table.trim().isEmpty()) {
            throw new IllegalArgumentException("a table operation needs a table (namespace.table)");
        }
        this.table = table;
        this.partition = partition;
        this.columns = columns == null ? null : Collections.unmodifiableList(new ArrayList<>(columns));
    }

    /** The whole table, every column. */
    public static TableAction of(String table) {
        return new TableAction(table, null, null);
    }

    /** One partition ({@code k=v[,k=v]}, or null for the whole table) and these columns (null: every column). */
    public static TableAction of(String table, String partition, List<String> columns) {
        return new TableAction(table, partition, columns);
    }

    /**
     * Parses a body; a JSON {@code null} counts as absent. A missing table, a value of the wrong
     * type or an unknown key is an {@link IllegalArgumentException} naming the field.
     */
    public static TableAction fromJson(String text) {
        return fromJsonNode(Json.read(text));
    }

    public static TableAction fromJsonNode(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("a table operation's body must be a JSON object like {\"table\": \"ns.tbl\"}, got " + n);
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new IllegalArgumentException("table operation field " + field + ": unknown field; the body has " + FIELDS);
            }
        }
        JsonNode table = n.get("table");
        if (table == null || !table.isTextual() || table.asText().trim().isEmpty()) {
            throw new IllegalArgumentException("table operation field table: required, a string (namespace.table), got " + table);
        }
        JsonNode partition = n.get("partition");
        if (partition != null && !partition.isNull() && !partition.isTextual()) {
            throw new IllegalArgumentException("table operation field partition: must be a string (k=v[,k=v]), got " + partition);
        }
        List<String> columns = null;
        JsonNode cols = n.get("columns");
        if (cols != null && !cols.isNull()) {
            if (!cols.isArray()) {
                throw new IllegalArgumentException("table operation field columns: must be an array of column names, got " + cols);
            }
            columns = new ArrayList<>();
            for (JsonNode c : cols) {
                if (!c.isTextual()) {
                    throw new IllegalArgumentException("table operation field columns: must be an array of column names, got " + c);
                }
                columns.add(c.asText());
            }
        }
        return new TableAction(table.asText(), partition == null || partition.isNull() ? null : partition.asText(), columns);
    }

    public String table() {
        return table;
    }

    /** The partition ({@code k=v[,k=v]}), or null for the whole table. */
    public String partition() {
        return partition;
    }

    /** The columns, or null for every column. */
    public List<String> columns() {
        return columns;
    }

    public ObjectNode toJsonNode() {
        ObjectNode n = Json.NODES.objectNode();
        n.put("table", table);
        if (partition != null) {
            n.put("partition", partition);
        }
        if (columns != null) {
            ArrayNode cols = n.putArray("columns");
            columns.forEach(cols::add);
        }
        return n;
    }

    public String toJson() {
        return Json.write(toJsonNode());
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TableAction)) {
            return false;
        }
        TableAction a = (TableAction) o;
        return table.equals(a.table) && Objects.equals(partition, a.partition) && Objects.equals(columns, a.columns);
    }

    @Override
    public int hashCode() {
        return Objects.hash(table, partition, columns);
    }

    @Override
    public String toString() {
        return toJson();
    }
}
