package io.arrowcache.trino;

import com.fasterxml.jackson.databind.JsonNode;
import io.airlift.slice.Slice;
import io.arrowcache.scan.Expression;
import io.arrowcache.scan.Expressions;
import io.arrowcache.scan.Literal;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.expression.Call;
import io.trino.spi.expression.ConnectorExpression;
import io.trino.spi.expression.Constant;
import io.trino.spi.expression.FunctionName;
import io.trino.spi.expression.Variable;
import io.trino.spi.predicate.Domain;
import io.trino.spi.predicate.Range;
import io.trino.spi.predicate.TupleDomain;
import io.trino.spi.predicate.ValueSet;
import io.trino.spi.type.BigintType;
import io.trino.spi.type.BooleanType;
import io.trino.spi.type.DateType;
import io.trino.spi.type.DecimalType;
import io.trino.spi.type.DoubleType;
import io.trino.spi.type.Int128;
import io.trino.spi.type.IntegerType;
import io.trino.spi.type.LongTimestampWithTimeZone;
import io.trino.spi.type.RealType;
import io.trino.spi.type.SmallintType;
import io.trino.spi.type.TimeType;
import io.trino.spi.type.TimestampType;
import io.trino.spi.type.TimestampWithTimeZoneType;
import io.trino.spi.type.TinyintType;
import io.trino.spi.type.Type;
import io.trino.spi.type.UuidType;
import io.trino.spi.type.VarbinaryType;
import io.trino.spi.type.VarcharType;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.trino.spi.expression.StandardFunctions.AND_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.ARRAY_CONSTRUCTOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.EQUAL_OPERATOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.GREATER_THAN_OPERATOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.GREATER_THAN_OR_EQUAL_OPERATOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.IN_PREDICATE_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.IS_NULL_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.LESS_THAN_OPERATOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.LESS_THAN_OR_EQUAL_OPERATOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.LIKE_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.NOT_EQUAL_OPERATOR_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.NOT_FUNCTION_NAME;
import static io.trino.spi.expression.StandardFunctions.OR_FUNCTION_NAME;
import static io.trino.spi.type.DateTimeEncoding.unpackMillisUtc;

/**
 * Trino predicates to the Iceberg expression language the cluster evaluates (a row passes only
 * when the expression is TRUE; comparisons with NULL are NULL, with NaN false, {@code not-eq} and
 * {@code not-in} true for NaN). Everything here translates exactly or not at all, so what is
 * translated is enforced by the cluster and leaves Trino's plan; the rest stays in Trino.
 *
 * <ul>
 *   <li>Domains (TupleDomain): single values, IN lists, NOT IN lists (not for real/double, whose
 *       Trino domains never contain NaN while not-in does), ranges, IS NULL / IS NOT NULL, OR NULL.
 *   <li>Expressions: comparisons of a column with a constant ({@code <>} included), IS NULL, IN,
 *       NOT, AND, OR, {@code LIKE 'prefix%'} and {@code starts_with} (starts-with), {@code is_nan}.
 *   <li>Types: boolean, integers, real, double, decimal, date, time(6), timestamp(6),
 *       timestamp(6) with time zone, varchar, varbinary (fixed(L): equality with L-byte values
 *       only), uuid (equality only). Nested types and other precisions stay in Trino.
 * </ul>
 */
public final class FilterTranslator {
    private FilterTranslator() {
    }

    // ---------------------------------------------------------------------------------------
    // Domains

    /** The whole TupleDomain (every domain must translate), or null for TupleDomain.all(). */
    public static Expression toExpression(TupleDomain<ColumnHandle> domain) {
        if (domain.isNone()) {
            return Expressions.alwaysFalse();
        }
        if (domain.isAll()) {
            return null;
        }
        List<Expression> conjuncts = new ArrayList<>();
        for (Map.Entry<ColumnHandle, Domain> e : domain.getDomains().orElseThrow().entrySet()) {
            ArrowCacheColumnHandle column = (ArrowCacheColumnHandle) e.getKey();
            conjuncts.add(toExpression(column, e.getValue()).orElseThrow(
                    () -> new IllegalStateException("domain of " + column + " cannot be pushed: " + e.getValue())));
        }
        conjuncts.sort((a, b) -> a.toJson().compareTo(b.toJson()));
        return Expressions.and(conjuncts);
    }

    /** The exact translation of one column's domain, if there is one. */
    public static Optional<Expression> toExpression(ArrowCacheColumnHandle column, Domain domain) {
        String term = column.getName();
        Type type = column.getType();
        if (!pushable(type)) {
            return Optional.empty();
        }
        if (domain.isNone()) {
            return Optional.of(Expressions.alwaysFalse());
        }
        if (domain.isAll()) {
            return Optional.of(Expressions.alwaysTrue());
        }
        if (domain.isOnlyNull()) {
            return Optional.of(Expressions.isNull(term));
        }
        ValueSet values = domain.getValues();
        Optional<Expression> expression = values.isAll()
                ? Optional.of(Expressions.notNull(term))
                : valueSet(column, values);
        if (expression.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(domain.isNullAllowed() ? Expressions.or(expression.get(), Expressions.isNull(term)) : expression.get());
    }

    private static Optional<Expression> valueSet(ArrowCacheColumnHandle column, ValueSet values) {
        String term = column.getName();
        Type type = column.getType();
        if (values.isDiscreteSet()) {
            return inList(column, values.getDiscreteSet(), false);
        }
        ValueSet complement = values.complement();
        if (!isFloating(type) && !complement.isNone() && complement.isDiscreteSet()) {
            // x <> a, x NOT IN (a, b): not-eq / not-in (never true for NULL, like the domain).
            return inList(column, complement.getDiscreteSet(), true);
        }
        if (!orderable(column)) {
            return Optional.empty();
        }
        List<Expression> disjuncts = new ArrayList<>();
        for (Range range : values.getRanges().getOrderedRanges()) {
            Optional<Expression> r = range(column, range);
            if (r.isEmpty()) {
                return Optional.empty();
            }
            disjuncts.add(r.get());
        }
        Expression out = null;
        for (Expression d : disjuncts) {
            out = out == null ? d : Expressions.or(out, d);
        }
        return Optional.ofNullable(out);
    }

    private static Optional<Expression> inList(ArrowCacheColumnHandle column, List<Object> values, boolean negated) {
        List<Literal> literals = new ArrayList<>();
        for (Object v : values) {
            Optional<Literal> l = literal(column, v);
            if (l.isEmpty()) {
                return Optional.empty();
            }
            literals.add(l.get());
        }
        if (literals.isEmpty()) {
            return Optional.empty();
        }
        String term = column.getName();
        if (literals.size() == 1) {
            return Optional.of(negated ? Expressions.notEqual(term, literals.get(0)) : Expressions.equal(term, literals.get(0)));
        }
        return Optional.of(negated ? Expressions.notIn(term, literals) : Expressions.in(term, literals));
    }

    private static Optional<Expression> range(ArrowCacheColumnHandle column, Range range) {
        String term = column.getName();
        if (range.isSingleValue()) {
            return literal(column, range.getSingleValue()).map(l -> Expressions.equal(term, l));
        }
        Expression low = null;
        Expression high = null;
        if (!range.isLowUnbounded()) {
            Optional<Literal> l = literal(column, range.getLowBoundedValue());
            if (l.isEmpty()) {
                return Optional.empty();
            }
            low = range.isLowInclusive() ? Expressions.greaterThanOrEqual(term, l.get()) : Expressions.greaterThan(term, l.get());
        }
        if (!range.isHighUnbounded()) {
            Optional<Literal> h = literal(column, range.getHighBoundedValue());
            if (h.isEmpty()) {
                return Optional.empty();
            }
            high = range.isHighInclusive() ? Expressions.lessThanOrEqual(term, h.get()) : Expressions.lessThan(term, h.get());
        }
        if (low == null && high == null) {
            return Optional.of(Expressions.notNull(term));
        }
        return Optional.of(low == null ? high : high == null ? low : Expressions.and(low, high));
    }

    // ---------------------------------------------------------------------------------------
    // Types and literals

    static boolean isFloating(Type type) {
        return type instanceof RealType || type instanceof DoubleType;
    }

    static boolean pushable(Type type) {
        return type instanceof BooleanType || type instanceof TinyintType || type instanceof SmallintType
                || type instanceof IntegerType || type instanceof BigintType || type instanceof RealType
                || type instanceof DoubleType || type instanceof DecimalType || type instanceof DateType
                || (type instanceof TimeType && ((TimeType) type).getPrecision() == 6)
                || (type instanceof TimestampType && ((TimestampType) type).getPrecision() == 6)
                || (type instanceof TimestampWithTimeZoneType && ((TimestampWithTimeZoneType) type).getPrecision() == 6)
                || type instanceof VarcharType || type instanceof VarbinaryType || type instanceof UuidType;
    }

    /** Columns on which ordering comparisons can be pushed (uuid and fixed(L): equality only). */
    static boolean orderable(ArrowCacheColumnHandle column) {
        return pushable(column.getType()) && !(column.getType() instanceof UuidType) && column.getFixedSize() == 0;
    }

    /** A Trino value (its stack representation) of the column's type as a filter literal. */
    static Optional<Literal> literal(ArrowCacheColumnHandle column, Object value) {
        Type type = column.getType();
        if (value == null) {
            return Optional.empty();
        }
        if (type instanceof BooleanType) {
            return Optional.of(Literal.of((Boolean) value));
        }
        if (type instanceof TinyintType || type instanceof SmallintType || type instanceof IntegerType || type instanceof BigintType) {
            return Optional.of(Literal.of((long) (Long) value));
        }
        if (type instanceof RealType) {
            float f = Float.intBitsToFloat((int) (long) (Long) value);
            return Float.isNaN(f) ? Optional.empty() : Optional.of(Literal.of(f));
        }
        if (type instanceof DoubleType) {
            double d = (Double) value;
            return Double.isNaN(d) ? Optional.empty() : Optional.of(Literal.of(d));
        }
        if (type instanceof DecimalType) {
            DecimalType t = (DecimalType) type;
            BigInteger unscaled = t.isShort() ? BigInteger.valueOf((Long) value) : ((Int128) value).toBigInteger();
            return Optional.of(Literal.decimal(new BigDecimal(unscaled, t.getScale())));
        }
        if (type instanceof DateType) {
            long days = (Long) value;
            return Literal.canRepresentDate(days) ? Optional.of(Literal.date(days)) : Optional.empty();
        }
        if (type instanceof TimeType) {
            long picos = (Long) value;
            if (picos % 1_000_000 != 0) {
                return Optional.empty();
            }
            return Optional.of(Literal.of(picos / 1_000_000));  // microseconds of the day
        }
        if (type instanceof TimestampType) {
            long micros = (Long) value;
            return Literal.canRepresentTimestamp(micros) ? Optional.of(Literal.timestamp(micros)) : Optional.empty();
        }
        if (type instanceof TimestampWithTimeZoneType) {
            long micros;
            if (value instanceof LongTimestampWithTimeZone) {
                LongTimestampWithTimeZone t = (LongTimestampWithTimeZone) value;
                if (t.getPicosOfMilli() % 1_000_000 != 0) {
                    return Optional.empty();
                }
                micros = Math.multiplyExact(t.getEpochMillis(), 1000L) + t.getPicosOfMilli() / 1_000_000;
            } else {
                micros = Math.multiplyExact(unpackMillisUtc((Long) value), 1000L);
            }
            return Literal.canRepresentTimestamp(micros) ? Optional.of(Literal.timestamptz(micros)) : Optional.empty();
        }
        if (type instanceof VarcharType) {
            return Optional.of(Literal.of(((Slice) value).toStringUtf8()));
        }
        if (type instanceof VarbinaryType) {
            byte[] bytes = ((Slice) value).getBytes();
            if (column.getFixedSize() != 0 && bytes.length != column.getFixedSize()) {
                return Optional.empty();  // never equal; comparing would be refused by the node
            }
            return Optional.of(Literal.binary(bytes));
        }
        if (type instanceof UuidType) {
            return Optional.of(Literal.of(UuidType.trinoUuidToJavaUuid((Slice) value).toString()));
        }
        return Optional.empty();
    }

    // ---------------------------------------------------------------------------------------
    // Connector expressions (what TupleDomains cannot say)

    /** The conjuncts of an expression ($and flattened). */
    public static List<ConnectorExpression> conjuncts(ConnectorExpression e) {
        List<ConnectorExpression> out = new ArrayList<>();
        if (e instanceof Call && ((Call) e).getFunctionName().equals(AND_FUNCTION_NAME)) {
            for (ConnectorExpression c : ((Call) e).getArguments()) {
                out.addAll(conjuncts(c));
            }
        } else if (!(e instanceof Constant && Boolean.TRUE.equals(((Constant) e).getValue()))) {
            out.add(e);
        }
        return out;
    }

    /** The exact translation of a boolean expression over the table's columns, if there is one. */
    public static Optional<Expression> toExpression(ConnectorExpression e, Map<String, ColumnHandle> assignments) {
        if (e instanceof Variable) {
            ArrowCacheColumnHandle column = column(e, assignments);
            if (column != null && column.getType() instanceof BooleanType) {
                return Optional.of(Expressions.equal(column.getName(), Literal.of(true)));
            }
            return Optional.empty();
        }
        if (!(e instanceof Call)) {
            return Optional.empty();
        }
        Call call = (Call) e;
        FunctionName fn = call.getFunctionName();
        List<ConnectorExpression> args = call.getArguments();
        if (fn.equals(AND_FUNCTION_NAME) || fn.equals(OR_FUNCTION_NAME)) {
            Expression out = null;
            for (ConnectorExpression a : args) {
                Optional<Expression> t = toExpression(a, assignments);
                if (t.isEmpty()) {
                    return Optional.empty();
                }
                out = out == null ? t.get() : fn.equals(AND_FUNCTION_NAME) ? Expressions.and(out, t.get()) : Expressions.or(out, t.get());
            }
            return Optional.ofNullable(out);
        }
        if (fn.equals(NOT_FUNCTION_NAME) && args.size() == 1) {
            return toExpression(args.get(0), assignments).map(Expressions::not);
        }
        if (fn.equals(IS_NULL_FUNCTION_NAME) && args.size() == 1) {
            ArrowCacheColumnHandle column = column(args.get(0), assignments);
            return column == null || !pushable(column.getType()) ? Optional.empty() : Optional.of(Expressions.isNull(column.getName()));
        }
        if (fn.getName().equals("is_nan") && fn.getCatalogSchema().isEmpty() && args.size() == 1) {
            ArrowCacheColumnHandle column = column(args.get(0), assignments);
            return column == null || !isFloating(column.getType()) ? Optional.empty() : Optional.of(Expressions.isNaN(column.getName()));
        }
        if (isComparison(fn) && args.size() == 2) {
            return comparison(fn, args.get(0), args.get(1), assignments);
        }
        if (fn.equals(IN_PREDICATE_FUNCTION_NAME) && args.size() == 2) {
            return in(args.get(0), args.get(1), assignments);
        }
        if (fn.equals(LIKE_FUNCTION_NAME) && (args.size() == 2 || args.size() == 3)) {
            return like(args, assignments);
        }
        if (fn.getName().equals("starts_with") && fn.getCatalogSchema().isEmpty() && args.size() == 2) {
            ArrowCacheColumnHandle column = column(args.get(0), assignments);
            String prefix = varcharConstant(args.get(1));
            if (column == null || !(column.getType() instanceof VarcharType) || prefix == null) {
                return Optional.empty();
            }
            return Optional.of(Expressions.startsWith(column.getName(), prefix));
        }
        return Optional.empty();
    }

    private static boolean isComparison(FunctionName fn) {
        return fn.equals(EQUAL_OPERATOR_FUNCTION_NAME) || fn.equals(NOT_EQUAL_OPERATOR_FUNCTION_NAME)
                || fn.equals(LESS_THAN_OPERATOR_FUNCTION_NAME) || fn.equals(LESS_THAN_OR_EQUAL_OPERATOR_FUNCTION_NAME)
                || fn.equals(GREATER_THAN_OPERATOR_FUNCTION_NAME) || fn.equals(GREATER_THAN_OR_EQUAL_OPERATOR_FUNCTION_NAME);
    }

    private static Optional<Expression> comparison(FunctionName fn, ConnectorExpression left, ConnectorExpression right,
                                                   Map<String, ColumnHandle> assignments) {
        boolean flipped = false;
        if (left instanceof Constant && right instanceof Variable) {
            ConnectorExpression t = left;
            left = right;
            right = t;
            flipped = true;
        }
        ArrowCacheColumnHandle column = column(left, assignments);
        if (column == null || !(right instanceof Constant) || !pushable(column.getType()) || !right.getType().equals(column.getType())) {
            return Optional.empty();
        }
        boolean ordering = !fn.equals(EQUAL_OPERATOR_FUNCTION_NAME) && !fn.equals(NOT_EQUAL_OPERATOR_FUNCTION_NAME);
        if (ordering && !orderable(column)) {
            return Optional.empty();
        }
        Optional<Literal> literal = literal(column, ((Constant) right).getValue());
        if (literal.isEmpty()) {
            return Optional.empty();
        }
        String term = column.getName();
        Literal l = literal.get();
        if (fn.equals(EQUAL_OPERATOR_FUNCTION_NAME)) {
            return Optional.of(Expressions.equal(term, l));
        }
        if (fn.equals(NOT_EQUAL_OPERATOR_FUNCTION_NAME)) {
            return Optional.of(Expressions.notEqual(term, l));
        }
        // constant < column  is  column > constant
        boolean less = fn.equals(LESS_THAN_OPERATOR_FUNCTION_NAME) || fn.equals(LESS_THAN_OR_EQUAL_OPERATOR_FUNCTION_NAME);
        boolean inclusive = fn.equals(LESS_THAN_OR_EQUAL_OPERATOR_FUNCTION_NAME) || fn.equals(GREATER_THAN_OR_EQUAL_OPERATOR_FUNCTION_NAME);
        if (flipped) {
            less = !less;
        }
        if (less) {
            return Optional.of(inclusive ? Expressions.lessThanOrEqual(term, l) : Expressions.lessThan(term, l));
        }
        return Optional.of(inclusive ? Expressions.greaterThanOrEqual(term, l) : Expressions.greaterThan(term, l));
    }

    private static Optional<Expression> in(ConnectorExpression value, ConnectorExpression list, Map<String, ColumnHandle> assignments) {
        ArrowCacheColumnHandle column = column(value, assignments);
        if (column == null || !pushable(column.getType()) || !(list instanceof Call)
                || !((Call) list).getFunctionName().equals(ARRAY_CONSTRUCTOR_FUNCTION_NAME)) {
            return Optional.empty();
        }
        List<Literal> literals = new ArrayList<>();
        for (ConnectorExpression item : ((Call) list).getArguments()) {
            // A NULL in the list makes a non-matching row NULL rather than FALSE: keep it in Trino.
            if (!(item instanceof Constant) || !item.getType().equals(column.getType())) {
                return Optional.empty();
            }
            Optional<Literal> l = literal(column, ((Constant) item).getValue());
            if (l.isEmpty()) {
                return Optional.empty();
            }
            literals.add(l.get());
        }
        if (literals.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Expressions.in(column.getName(), literals));
    }

    /** {@code column LIKE 'prefix%'} (no other wildcard) is starts-with. */
    private static Optional<Expression> like(List<ConnectorExpression> args, Map<String, ColumnHandle> assignments) {
        ArrowCacheColumnHandle column = column(args.get(0), assignments);
        String pattern = varcharConstant(args.get(1));
        String escape = args.size() == 3 ? varcharConstant(args.get(2)) : null;
        if (column == null || !(column.getType() instanceof VarcharType) || pattern == null || (args.size() == 3 && escape == null)) {
            return Optional.empty();
        }
        if (!pattern.endsWith("%")) {
            return Optional.empty();
        }
        String prefix = pattern.substring(0, pattern.length() - 1);
        if (prefix.indexOf('%') >= 0 || prefix.indexOf('_') >= 0 || (escape != null && !escape.isEmpty() && pattern.contains(escape))) {
            return Optional.empty();
        }
        return Optional.of(Expressions.startsWith(column.getName(), prefix));
    }

    private static String varcharConstant(ConnectorExpression e) {
        if (e instanceof Constant && e.getType() instanceof VarcharType && ((Constant) e).getValue() instanceof Slice) {
            return ((Slice) ((Constant) e).getValue()).toStringUtf8();
        }
        return null;
    }

    private static ArrowCacheColumnHandle column(ConnectorExpression e, Map<String, ColumnHandle> assignments) {
        if (!(e instanceof Variable)) {
            return null;
        }
        ColumnHandle handle = assignments.get(((Variable) e).getName());
        return handle instanceof ArrowCacheColumnHandle ? (ArrowCacheColumnHandle) handle : null;
    }

    // ---------------------------------------------------------------------------------------
    // EXPLAIN

    /** The expression as SQL-like text, for EXPLAIN. */
    public static String describe(Expression e) {
        return describe(e.toJsonNode());
    }

    static String describe(JsonNode n) {
        String type = n.path("type").asText();
        String term = "\"" + n.path("term").asText() + "\"";
        switch (type) {
            case "true": return "TRUE";
            case "false": return "FALSE";
            case "and": return describeChild(n.get("left"), "and") + " AND " + describeChild(n.get("right"), "and");
            case "or": return describeChild(n.get("left"), "or") + " OR " + describeChild(n.get("right"), "or");
            case "not": return "NOT (" + describe(n.get("child")) + ")";
            case "is-null": return term + " IS NULL";
            case "not-null": return term + " IS NOT NULL";
            case "is-nan": return "is_nan(" + term + ")";
            case "not-nan": return "NOT is_nan(" + term + ")";
            case "eq": return term + " = " + value(n.get("value"));
            case "not-eq": return term + " <> " + value(n.get("value"));
            case "lt": return term + " < " + value(n.get("value"));
            case "lt-eq": return term + " <= " + value(n.get("value"));
            case "gt": return term + " > " + value(n.get("value"));
            case "gt-eq": return term + " >= " + value(n.get("value"));
            case "starts-with": return "starts_with(" + term + ", " + value(n.get("value")) + ")";
            case "not-starts-with": return "NOT starts_with(" + term + ", " + value(n.get("value")) + ")";
            case "in":
            case "not-in": {
                StringBuilder s = new StringBuilder(term).append(type.equals("in") ? " IN (" : " NOT IN (");
                Iterator<JsonNode> it = n.path("values").elements();
                while (it.hasNext()) {
                    s.append(value(it.next())).append(it.hasNext() ? ", " : "");
                }
                return s.append(')').toString();
            }
            default:
                return n.toString();
        }
    }

    private static String describeChild(JsonNode child, String parent) {
        String type = child.path("type").asText();
        String text = describe(child);
        return (type.equals("and") || type.equals("or")) && !type.equals(parent) ? "(" + text + ")" : text;
    }

    private static String value(JsonNode v) {
        return v.isTextual() ? "'" + v.asText().replace("'", "''") + "'" : v.toString();
    }
}
