package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code aggregate} of a scan request: {@code {"group_by": [TERM...], "functions": [{"fn",
 * "term"}...], "mode": "partial"|"final"}}, {@code group_by} optional (none: one row), at least one
 * function. The result columns are the group-by terms, then one per function
 * ({@link #resultColumns()}). Immutable.
 */
public final class Aggregate implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final List<String> KEYS = Collections.unmodifiableList(Arrays.asList("group_by", "functions", "mode"));

    /** Where the aggregate is finished. */
    public enum Mode {
        /** {@code partial}: each split's endpoint returns that split's aggregate; the client merges. */
        PARTIAL,
        /** {@code final}: the cluster merges the splits' partial aggregates; one endpoint. */
        FINAL;

        /** {@code partial} or {@code final}. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The mode of a wire name; an error names {@code path}. */
        public static Mode fromWireName(String name, String path) {
            for (Mode m : values()) {
                if (m.wireName().equals(name)) {
                    return m;
                }
            }
            throw new IllegalArgumentException(path + ": unknown mode `" + name + "`; expected partial or final");
        }
    }

    private final List<Term> groupBy;
    private final List<AggregateFunction> functions;
    private final Mode mode;

    private Aggregate(List<Term> groupBy, List<AggregateFunction> functions, Mode mode) {
        this.groupBy = groupBy;
        this.functions = functions;
        this.mode = mode;
    }

    /**
     * Groups by {@code groupBy} (null or empty: one row) and computes {@code functions} (at least
     * one, else an {@link IllegalArgumentException} naming {@code aggregate.functions}).
     */
    public static Aggregate of(List<Term> groupBy, List<AggregateFunction> functions, Mode mode) {
        Objects.requireNonNull(mode, "mode");
        if (functions == null || functions.isEmpty()) {
            throw new IllegalArgumentException("aggregate.functions: give at least one function");
        }
        List<Term> group = new ArrayList<>(groupBy == null ? Collections.<Term>emptyList() : groupBy);
        List<AggregateFunction> fns = new ArrayList<>(functions);
        for (int i = 0; i < group.size(); i++) {
            Objects.requireNonNull(group.get(i), "aggregate.group_by[" + i + "]");
        }
        for (int i = 0; i < fns.size(); i++) {
            Objects.requireNonNull(fns.get(i), "aggregate.functions[" + i + "]");
        }
        return new Aggregate(Collections.unmodifiableList(group), Collections.unmodifiableList(fns), mode);
    }

    /** The group-by terms (empty: one row). */
    public List<Term> groupBy() {
        return groupBy;
    }

    public List<AggregateFunction> functions() {
        return functions;
    }

    public Mode mode() {
        return mode;
    }

    /**
     * The names of the result columns, as the node names them: the group-by columns, then per
     * function {@code count_star}, {@code count(x)}, {@code sum(x)}, {@code min(x)},
     * {@code max(x)}, {@code avg(x)}, in {@code partial} mode {@code avg} as the two columns
     * {@code avg_sum(x)} and {@code avg_count(x)}; a name already taken gets {@code #2},
     * {@code #3}, ...
     */
    public List<String> resultColumns() {
        List<String> names = new ArrayList<>();
        for (Term t : groupBy) {
            names.add(t.column());
        }
        for (AggregateFunction f : functions) {
            if (f.kind() == AggregateFunction.Kind.AVG && mode == Mode.PARTIAL) {
                names.add(unique(names, "avg_sum", f.term()));
                names.add(unique(names, "avg_count", f.term()));
            } else {
                names.add(unique(names, f.kind().wireName(), f.term()));
            }
        }
        return Collections.unmodifiableList(names);
    }

    private static String unique(List<String> taken, String what, Term term) {
        String base = term == null ? what : what + "(" + term.column() + ")";
        String name = base;
        for (int n = 2; taken.contains(name); n++) {
            name = base + "#" + n;
        }
        return name;
    }

    /** Parses an aggregate; an error names the field under {@code path} ({@code "aggregate.mode: ..."}). */
    public static Aggregate fromJsonNode(JsonNode n, String path) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(path + ": must be an object {\"group_by\", \"functions\", \"mode\"}, got "
                    + Json.abbreviate(String.valueOf(n)));
        }
        Json.onlyKeys(n, path, KEYS);
        List<Term> group = new ArrayList<>();
        JsonNode groupBy = n.get("group_by");
        if (groupBy != null) {
            if (!groupBy.isArray()) {
                throw new IllegalArgumentException(path + ".group_by: must be a list of terms, got " + Json.abbreviate(groupBy.toString()));
            }
            for (int i = 0; i < groupBy.size(); i++) {
                group.add(Term.fromJsonNode(groupBy.get(i), path + ".group_by[" + i + "]"));
            }
        }
        JsonNode functions = n.get("functions");
        if (functions == null || !functions.isArray()) {
            throw new IllegalArgumentException(path + ".functions: required, a list of functions, got "
                    + Json.abbreviate(String.valueOf(functions)));
        }
        List<AggregateFunction> fns = new ArrayList<>();
        for (int i = 0; i < functions.size(); i++) {
            fns.add(AggregateFunction.fromJsonNode(functions.get(i), path + ".functions[" + i + "]"));
        }
        if (fns.isEmpty()) {
            throw new IllegalArgumentException(path + ".functions: give at least one function");
        }
        JsonNode mode = n.get("mode");
        if (mode == null || !mode.isTextual()) {
            throw new IllegalArgumentException(path + ".mode: required, partial or final, got " + mode);
        }
        return of(group, fns, Mode.fromWireName(mode.asText(), path + ".mode"));
    }

    /** {@code group_by} always (as the node writes it), then {@code functions} and {@code mode}. */
    public ObjectNode toJsonNode() {
        ObjectNode n = Json.NODES.objectNode();
        ArrayNode group = n.putArray("group_by");
        groupBy.forEach(t -> group.add(t.toJsonNode()));
        ArrayNode fns = n.putArray("functions");
        functions.forEach(f -> fns.add(f.toJsonNode()));
        n.put("mode", mode.wireName());
        return n;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Aggregate)) {
            return false;
        }
        Aggregate a = (Aggregate) o;
        return groupBy.equals(a.groupBy) && functions.equals(a.functions) && mode == a.mode;
    }

    @Override
    public int hashCode() {
        return Objects.hash(groupBy, functions, mode);
    }

    @Override
    public String toString() {
        return Json.write(toJsonNode());
    }
}
