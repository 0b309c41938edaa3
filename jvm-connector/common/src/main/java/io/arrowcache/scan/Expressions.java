package io.arrowcache.scan;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Factories for {@link Expression}s, named like Iceberg's {@code org.apache.iceberg.expressions
 * .Expressions}. Terms are top-level column names.
 */
public final class Expressions {
    private static final Expression TRUE = new Expression(type("true"));
    private static final Expression FALSE = new Expression(type("false"));

    private Expressions() {
    }

    public static Expression alwaysTrue() {
        return TRUE;
    }

    public static Expression alwaysFalse() {
        return FALSE;
    }

    public static Expression and(Expression left, Expression right) {
        ObjectNode n = type("and");
        n.set("left", left.node());
        n.set("right", right.node());
        return new Expression(n);
    }

    /** The conjunction of all, {@code true} when empty. */
    public static Expression and(List<Expression> all) {
        Expression out = null;
        for (Expression e : all) {
            out = out == null ? e : and(out, e);
        }
        return out == null ? alwaysTrue() : out;
    }

    public static Expression or(Expression left, Expression right) {
        ObjectNode n = type("or");
        n.set("left", left.node());
        n.set("right", right.node());
        return new Expression(n);
    }

    public static Expression not(Expression child) {
        ObjectNode n = type("not");
        n.set("child", child.node());
        return new Expression(n);
    }

    public static Expression isNull(String term) {
        return unary("is-null", term);
    }

    public static Expression notNull(String term) {
        return unary("not-null", term);
    }

    public static Expression isNaN(String term) {
        return unary("is-nan", term);
    }

    public static Expression notNaN(String term) {
        return unary("not-nan", term);
    }

    public static Expression equal(String term, Literal value) {
        return literal("eq", term, value);
    }

    public static Expression notEqual(String term, Literal value) {
        return literal("not-eq", term, value);
    }

    public static Expression lessThan(String term, Literal value) {
        return literal("lt", term, value);
    }

    public static Expression lessThanOrEqual(String term, Literal value) {
        return literal("lt-eq", term, value);
    }

    public static Expression greaterThan(String term, Literal value) {
        return literal("gt", term, value);
    }

    public static Expression greaterThanOrEqual(String term, Literal value) {
        return literal("gt-eq", term, value);
    }

    public static Expression startsWith(String term, String prefix) {
        return literal("starts-with", term, Literal.of(prefix));
    }

    public static Expression notStartsWith(String term, String prefix) {
        return literal("not-starts-with", term, Literal.of(prefix));
    }

    public static Expression in(String term, List<Literal> values) {
        return set("in", term, values);
    }

    public static Expression in(String term, Literal... values) {
        return in(term, Arrays.asList(values));
    }

    public static Expression notIn(String term, List<Literal> values) {
        return set("not-in", term, values);
    }

    public static Expression notIn(String term, Literal... values) {
        return notIn(term, Arrays.asList(values));
    }

    private static ObjectNode type(String type) {
        ObjectNode n = Json.NODES.objectNode();
        n.put("type", type);
        return n;
    }

    private static ObjectNode termNode(String type, String term) {
        ObjectNode n = type(type);
        n.put("term", Objects.requireNonNull(term, "term"));
        return n;
    }

    private static Expression unary(String type, String term) {
        return new Expression(termNode(type, term));
    }

    private static Expression literal(String type, String term, Literal value) {
        ObjectNode n = termNode(type, term);
        n.set("value", Objects.requireNonNull(value, "value").node());
        return new Expression(n);
    }

    private static Expression set(String type, String term, List<Literal> values) {
        ObjectNode n = termNode(type, term);
        ArrayNode list = n.putArray("values");
        for (Literal v : values) {
            list.add(Objects.requireNonNull(v, "values must not contain null").node());
        }
        return new Expression(n);
    }
}
