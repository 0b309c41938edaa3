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
 * One key of a scan request's {@code order_by}: {@code {"term": TERM, "direction": "asc"|"desc",
 * "nulls": "first"|"last"}}, {@code direction} optional ({@code asc}), {@code nulls} optional
 * (first ascending, last descending, as Spark and Trino sort). The term is a column of the output:
 * a group-by term with an aggregate, a column of the scan without. Immutable.
 */
public final class SortKey implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final List<String> KEYS = Collections.unmodifiableList(Arrays.asList("term", "direction", "nulls"));

    /** Sort direction. */
    public enum Direction {
        /** {@code asc}: smallest first. */
        ASC,
        /** {@code desc}: largest first. */
        DESC;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The direction of a wire name; an error names {@code path}. */
        public static Direction fromWireName(String name, String path) {
            for (Direction d : values()) {
                if (d.wireName().equals(name)) {
                    return d;
                }
            }
            throw new IllegalArgumentException(path + ": unknown direction `" + name + "`; expected asc or desc");
        }
    }

    /** Where nulls sort. */
    public enum NullOrder {
        /** {@code first}: before every value. */
        FIRST,
        /** {@code last}: after every value. */
        LAST;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The null order of a wire name; an error names {@code path}. */
        public static NullOrder fromWireName(String name, String path) {
            for (NullOrder o : values()) {
                if (o.wireName().equals(name)) {
                    return o;
                }
            }
            throw new IllegalArgumentException(path + ": unknown null order `" + name + "`; expected first or last");
        }
    }

    private final Term term;
    private final Direction direction;
    private final NullOrder nulls;  // null: the direction's default

    private SortKey(Term term, Direction direction, NullOrder nulls) {
        this.term = Objects.requireNonNull(term, "term");
        this.direction = Objects.requireNonNull(direction, "direction");
        this.nulls = nulls;
    }

    /** {@code term} in {@code direction}; {@code nulls} null for the direction's default. */
    public static SortKey of(Term term, Direction direction, NullOrder nulls) {
        return new SortKey(term, direction, nulls);
    }

    /** The column ascending, nulls first. */
    public static SortKey asc(String column) {
        return new SortKey(Term.of(column), Direction.ASC, null);
    }

    /** The column descending, nulls last. */
    public static SortKey desc(String column) {
        return new SortKey(Term.of(column), Direction.DESC, null);
    }

    /** This key with nulls placed as given (null: the direction's default). */
    public SortKey withNulls(NullOrder order) {
        return new SortKey(term, direction, order);
    }

    public Term term() {
        return term;
    }

    public Direction direction() {
        return direction;
    }

    /** The null order given, or null when the request leaves it to the direction. */
    public NullOrder nulls() {
        return nulls;
    }

    /** Whether nulls sort first: as given, else ascending. */
    public boolean nullsFirst() {
        return nulls == null ? direction == Direction.ASC : nulls == NullOrder.FIRST;
    }

    /** Parses a key; an error names the field under {@code path} ({@code "order_by[0].direction: ..."}). */
    public static SortKey fromJsonNode(JsonNode n, String path) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(path + ": must be an object {\"term\", \"direction\", \"nulls\"}, got "
                    + Json.abbreviate(String.valueOf(n)));
        }
        Json.onlyKeys(n, path, KEYS);
        JsonNode term = n.get("term");
        if (term == null) {
            throw new IllegalArgumentException(path + ".term: required, a column name or a reference");
        }
        Direction direction = Direction.ASC;
        JsonNode d = n.get("direction");
        if (d != null) {
            if (!d.isTextual()) {
                throw new IllegalArgumentException(path + ".direction: must be asc or desc, got " + d);
            }
            direction = Direction.fromWireName(d.asText(), path + ".direction");
        }
        NullOrder nulls = null;
        JsonNode o = Json.present(n, "nulls");
        if (o != null) {
            if (!o.isTextual()) {
                throw new IllegalArgumentException(path + ".nulls: must be first or last, got " + o);
            }
            nulls = NullOrder.fromWireName(o.asText(), path + ".nulls");
        }
        return new SortKey(Term.fromJsonNode(term, path + ".term"), direction, nulls);
    }

    /** {@code direction} always (as the node writes it), {@code nulls} when given. */
    public ObjectNode toJsonNode() {
        ObjectNode n = Json.NODES.objectNode();
        n.set("term", term.toJsonNode());
        n.put("direction", direction.wireName());
        if (nulls != null) {
            n.put("nulls", nulls.wireName());
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SortKey)) {
            return false;
        }
        SortKey k = (SortKey) o;
        return term.equals(k.term) && direction == k.direction && nulls == k.nulls;
    }

    @Override
    public int hashCode() {
        return Objects.hash(term, direction, nulls);
    }

    @Override
    public String toString() {
        return Json.write(toJsonNode());
    }
}
