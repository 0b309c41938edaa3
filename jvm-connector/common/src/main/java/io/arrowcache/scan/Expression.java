package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Objects;

/**
 * An immutable filter in the Iceberg REST specification's expression JSON, the form scan requests
 * carry ({@code {"type": "eq", "term": "id", "value": 5}}). Build with {@link Expressions}.
 *
 * <p>The cache evaluates it with SQL logic: a row passes only when the filter is TRUE, comparisons
 * with NULL are NULL, and comparisons with NaN are false ({@code not-eq} is true).
 */
public final class Expression {
    private final ObjectNode json;

    Expression(ObjectNode json) {
        this.json = json;
    }

    /** A copy of the JSON tree. */
    public ObjectNode toJsonNode() {
        return json.deepCopy();
    }

    ObjectNode node() {
        return json;
    }

    /** The JSON type: {@code eq}, {@code and}, {@code true}, ... */
    public String type() {
        return json.get("type").asText();
    }

    public String toJson() {
        return Json.write(json);
    }

    /** Parses expression JSON (no validation beyond being an object with a type). */
    public static Expression fromJson(String text) {
        JsonNode node = Json.read(text);
        if (!node.isObject() || !node.hasNonNull("type")) {
            throw new IllegalArgumentException("not an Iceberg expression (an object with a \"type\"): " + text);
        }
        return new Expression((ObjectNode) node);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Expression && json.equals(((Expression) o).json);
    }

    @Override
    public int hashCode() {
        return Objects.hash(json);
    }

    @Override
    public String toString() {
        return toJson();
    }
}
