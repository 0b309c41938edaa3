package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One function of an {@link Aggregate}: {@code {"fn": "sum", "term": TERM}}, or
 * {@code {"fn": "count_star"}} (which takes no term; every other function takes one). Immutable.
 */
public final class AggregateFunction implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final List<String> KEYS = Collections.unmodifiableList(Arrays.asList("fn", "term"));

    /** The functions a scan request can push (the wire's {@code fn}). */
    public enum Kind {
        /** {@code count_star}: rows. */
        COUNT_STAR,
        /** {@code count}: non-null values. */
        COUNT,
        /** {@code sum}: sum of the non-null values (null when there are none). */
        SUM,
        /** {@code min}: smallest non-null value. */
        MIN,
        /** {@code max}: largest non-null value. */
        MAX,
        /** {@code avg}: mean of the non-null values (in {@code partial} mode their sum and count). */
        AVG;

        /** The name on the wire: {@code count_star}, {@code sum}, ... */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The function of a wire name; an error names {@code path} and the known names. */
        public static Kind fromWireName(String name, String path) {
            for (Kind k : values()) {
                if (k.wireName().equals(name)) {
                    return k;
                }
            }
            throw new IllegalArgumentException(path + ": unknown function `" + name + "`; expected one of "
                    + "count_star, count, sum, min, max, avg");
        }
    }

    private final Kind kind;
    private final Term term;  // null for count_star

    private AggregateFunction(Kind kind, Term term) {
        this.kind = kind;
        this.term = term;
    }

    /**
     * {@code kind} over {@code term}: null for {@link Kind#COUNT_STAR}, given for the others
     * (else an {@link IllegalArgumentException}: {@code sum needs a term}).
     */
    public static AggregateFunction of(Kind kind, Term term) {
        Objects.requireNonNull(kind, "kind");
        if (kind == Kind.COUNT_STAR && term != null) {
            throw new IllegalArgumentException("count_star takes no term");
        }
        if (kind != Kind.COUNT_STAR && term == null) {
            throw new IllegalArgumentException(kind.wireName() + " needs a term");
        }
        return new AggregateFunction(kind, term);
    }

    public static AggregateFunction countStar() {
        return of(Kind.COUNT_STAR, null);
    }

    public static AggregateFunction count(String column) {
        return of(Kind.COUNT, Term.of(column));
    }

    public static AggregateFunction sum(String column) {
        return of(Kind.SUM, Term.of(column));
    }

    public static AggregateFunction min(String column) {
        return of(Kind.MIN, Term.of(column));
    }

    public static AggregateFunction max(String column) {
        return of(Kind.MAX, Term.of(column));
    }

    public static AggregateFunction avg(String column) {
        return of(Kind.AVG, Term.of(column));
    }

    public Kind kind() {
        return kind;
    }

    /** The argument, or null for {@code count_star}. */
    public Term term() {
        return term;
    }

    /** Parses a function; an error names {@code path} ({@code "aggregate.functions[0]: sum needs a term"}). */
    public static AggregateFunction fromJsonNode(JsonNode n, String path) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(path + ": must be an object {\"fn\": ..., \"term\": ...}, got "
                    + Json.abbreviate(String.valueOf(n)));
        }
        Json.onlyKeys(n, path, KEYS);
        JsonNode fn = n.get("fn");
        if (fn == null || !fn.isTextual()) {
            throw new IllegalArgumentException(path + ".fn: required, one of count_star, count, sum, min, max, avg, got " + fn);
        }
        Kind kind = Kind.fromWireName(fn.asText(), path + ".fn");
        JsonNode term = Json.present(n, "term");
        try {
            return of(kind, term == null ? null : Term.fromJsonNode(term, path + ".term"));
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(path) ? e : new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
    }

    public ObjectNode toJsonNode() {
        ObjectNode n = Json.NODES.objectNode();
        n.put("fn", kind.wireName());
        if (term != null) {
            n.set("term", term.toJsonNode());
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AggregateFunction && kind == ((AggregateFunction) o).kind
                && Objects.equals(term, ((AggregateFunction) o).term);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, term);
    }

    @Override
    public String toString() {
        return Json.write(toJsonNode());
    }
}
