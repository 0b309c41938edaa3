package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A column of the table as a scan request's {@code aggregate} and {@code order_by} name it: its
 * name ({@code "l_quantity"}), or {@code {"type": "reference", "term": "l_quantity"}} as in the
 * Iceberg REST expressions. Both mean the same column; a term re-emits in the form it was given,
 * so the two forms are not {@link #equals(Object) equal}. Immutable.
 */
public final class Term implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final List<String> KEYS = Collections.unmodifiableList(Arrays.asList("type", "term"));

    private final String column;
    private final boolean reference;

    private Term(String column, boolean reference) {
        this.column = Objects.requireNonNull(column, "column");
        this.reference = reference;
    }

    /** The column written as its name. */
    public static Term of(String column) {
        return new Term(column, false);
    }

    /** The column written as {@code {"type": "reference", "term": column}}. */
    public static Term reference(String column) {
        return new Term(column, true);
    }

    /** The column's name (in either form). */
    public String column() {
        return column;
    }

    /** Whether it is written as a reference object rather than a bare name. */
    public boolean isReference() {
        return reference;
    }

    /** Parses a term; an error names {@code path} ({@code "order_by[0].term: ..."}). */
    public static Term fromJsonNode(JsonNode n, String path) {
        if (n != null && n.isTextual()) {
            return of(n.asText());
        }
        if (n != null && n.isObject()) {
            Json.onlyKeys(n, path, KEYS);
            JsonNode type = n.get("type");
            if (type == null || !"reference".equals(type.asText(null))) {
                throw new IllegalArgumentException(path + ".type: must be \"reference\", got " + type);
            }
            JsonNode term = n.get("term");
            if (term == null || !term.isTextual()) {
                throw new IllegalArgumentException(path + ".term: required, a column name, got " + term);
            }
            return reference(term.asText());
        }
        throw new IllegalArgumentException(path + ": must be a column name or {\"type\": \"reference\", \"term\": name}, got "
                + Json.abbreviate(String.valueOf(n)));
    }

    /** The term in the form it was given. */
    public JsonNode toJsonNode() {
        if (!reference) {
            return TextNode.valueOf(column);
        }
        ObjectNode n = Json.NODES.objectNode();
        n.put("type", "reference");
        n.put("term", column);
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Term && column.equals(((Term) o).column) && reference == ((Term) o).reference;
    }

    @Override
    public int hashCode() {
        return Objects.hash(column, reference);
    }

    @Override
    public String toString() {
        return Json.write(toJsonNode());
    }
}
