package io.arrowcache.spark;

import io.arrowcache.scan.Expression;
import io.arrowcache.scan.Expressions;
import io.arrowcache.scan.Literal;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import org.apache.spark.unsafe.types.UTF8String;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Spark V2 predicates to Iceberg expression JSON, exactly or not at all (the name follows
 * Iceberg's {@code SparkV2Filters}).
 *
 * <p>A predicate is translated only when the cache's answer equals Spark's for every row,
 * including NULLs (SQL three-valued logic on both sides, so NOT, AND and OR translate part by part)
 * and NaN: Spark orders NaN above every number and says NaN = NaN, while the cache follows IEEE
 * (every comparison with NaN is false, not-eq is true). So on float and double columns
 * {@code >} and {@code >=} become {@code gt OR is-nan}, the other comparisons already agree, and a
 * NaN literal is never pushed. Literals must fit the column's type exactly (a decimal with more
 * scale than its column, a long beyond an int column, a timestamp the cache cannot represent stay
 * in Spark).
 */
public final class ArrowCacheV2Filters {
    private ArrowCacheV2Filters() {
    }

    /** The translation of {@code predicate} over {@code schema}, or null when it cannot be exact. */
    public static Expression convert(Predicate predicate, StructType schema) {
        try {
            return new Converter(schema).convert(predicate);
        } catch (RuntimeException e) {
            return null;  // anything unexpected stays in Spark
        }
    }

    private static final class Converter {
        private final StructType schema;

        Converter(StructType schema) {
            this.schema = schema;
        }

        Expression convert(org.apache.spark.sql.connector.expressions.Expression e) {
            if (!(e instanceof Predicate)) {
                return null;
            }
            Predicate p = (Predicate) e;
            org.apache.spark.sql.connector.expressions.Expression[] c = p.children();
            switch (p.name()) {
                case "ALWAYS_TRUE":
                    return Expressions.alwaysTrue();
                case "ALWAYS_FALSE":
                    return Expressions.alwaysFalse();
                case "AND": {
                    Expression l = convert(c[0]);
                    Expression r = l == null ? null : convert(c[1]);
                    return r == null ? null : Expressions.and(l, r);
                }
                case "OR": {
                    Expression l = convert(c[0]);
                    Expression r = l == null ? null : convert(c[1]);
                    return r == null ? null : Expressions.or(l, r);
                }
                case "NOT": {
                    Expression child = convert(c[0]);
                    return child == null ? null : Expressions.not(child);
                }
                case "IS_NULL":
                case "IS_NOT_NULL": {
                    StructField f = column(c[0]);
                    if (f == null) {
                        return null;
                    }
                    return p.name().equals("IS_NULL") ? Expressions.isNull(f.name()) : Expressions.notNull(f.name());
                }
                case "=":
                case "<>":
                case "<":
                case "<=":
                case ">":
                case ">=":
                case "<=>":
                    return comparison(p.name(), c);
                case "IN":
                    return in(c);
                case "STARTS_WITH": {
                    StructField f = column(c[0]);
                    Object v = literal(c[1]);
                    if (f == null || !(f.dataType() instanceof StringType) || !(v instanceof UTF8String) || isUuid(f)) {
                        return null;
                    }
                    return Expressions.startsWith(f.name(), v.toString());
                }
                default:
                    return null;  // ENDS_WITH, CONTAINS, functions: Spark evaluates them
            }
        }

        private Expression comparison(String op, org.apache.spark.sql.connector.expressions.Expression[] c) {
            if (c.length != 2) {
                return null;
            }
            StructField f = column(c[0]);
            org.apache.spark.sql.connector.expressions.Expression lit = c[1];
            if (f == null) {
                f = column(c[1]);
                lit = c[0];
                op = flip(op);
            }
            if (f == null || !(lit instanceof org.apache.spark.sql.connector.expressions.Literal)) {
                return null;
            }
            org.apache.spark.sql.connector.expressions.Literal<?> l = (org.apache.spark.sql.connector.expressions.Literal<?>) lit;
            String name = f.name();
            if (l.value() == null) {
                // x <=> NULL is IS NULL; other comparisons with NULL are NULL, which JSON cannot say.
                return op.equals("<=>") ? Expressions.isNull(name) : null;
            }
            Literal value = toLiteral(l.value(), l.dataType(), f.dataType());
            if (value == null || !fitsColumn(f, l.value())) {
                return null;
            }
            boolean floating = f.dataType() instanceof FloatType || f.dataType() instanceof DoubleType;
            switch (op) {
                case "=":
                    return Expressions.equal(name, value);
                case "<=>":
                    // Never NULL: FALSE for a NULL column value.
                    return Expressions.and(Expressions.notNull(name), Expressions.equal(name, value));
                case "<>":
                    return Expressions.notEqual(name, value);
                case "<":
                    return Expressions.lessThan(name, value);
                case "<=":
                    return Expressions.lessThanOrEqual(name, value);
                case ">":
                    return floating ? Expressions.or(Expressions.greaterThan(name, value), Expressions.isNaN(name))
                            : Expressions.greaterThan(name, value);
                case ">=":
                    return floating ? Expressions.or(Expressions.greaterThanOrEqual(name, value), Expressions.isNaN(name))
                            : Expressions.greaterThanOrEqual(name, value);
                default:
                    return null;
            }
        }

        private Expression in(org.apache.spark.sql.connector.expressions.Expression[] c) {
            if (c.length < 2) {
                return null;  // IN () is left to Spark
            }
            StructField f = column(c[0]);
            if (f == null) {
                return null;
            }
            List<Literal> values = new ArrayList<>();
            for (int i = 1; i < c.length; i++) {
                if (!(c[i] instanceof org.apache.spark.sql.connector.expressions.Literal)) {
                    return null;
                }
                org.apache.spark.sql.connector.expressions.Literal<?> l = (org.apache.spark.sql.connector.expressions.Literal<?>) c[i];
                if (l.value() == null) {
                    return null;  // x IN (.., NULL) is NULL where Spark finds no match
                }
                Literal v = toLiteral(l.value(), l.dataType(), f.dataType());
                if (v == null || !fitsColumn(f, l.value())) {
                    return null;
                }
                values.add(v);
            }
            return Expressions.in(f.name(), values);
        }

        /** A top-level column of the table, or null (nested fields and expressions are not pushed). */
        private StructField column(org.apache.spark.sql.connector.expressions.Expression e) {
            if (!(e instanceof NamedReference)) {
                return null;
            }
            String[] names = ((NamedReference) e).fieldNames();
            if (names.length != 1) {
                return null;
            }
            for (StructField f : schema.fields()) {
                if (f.name().equals(names[0])) {
                    return f;
                }
            }
            return null;
        }

        private static Object literal(org.apache.spark.sql.connector.expressions.Expression e) {
            return e instanceof org.apache.spark.sql.connector.expressions.Literal
                    ? ((org.apache.spark.sql.connector.expressions.Literal<?>) e).value() : null;
        }
    }

    /**
     * The cache compares a fixed[n] column only with n-byte literals (and refuses others), and a
     * uuid column only with uuid strings. Those must be in the canonical lowercase form, the only
     * one Spark's string comparison can match (and whose order is the order of the 16 bytes).
     */
    private static boolean fitsColumn(StructField f, Object value) {
        if (isUuid(f)) {
            return value instanceof UTF8String && CANONICAL_UUID.matcher(value.toString()).matches();
        }
        if (!f.metadata().contains(ArrowCacheSchemaUtil.FIXED_WIDTH_KEY)) {
            return true;
        }
        return value instanceof byte[] && ((byte[]) value).length == f.metadata().getLong(ArrowCacheSchemaUtil.FIXED_WIDTH_KEY);
    }

    private static final Pattern CANONICAL_UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private static boolean isUuid(StructField f) {
        return f.metadata().contains(ArrowCacheSchemaUtil.UUID_KEY);
    }

    private static String flip(String op) {
        switch (op) {
            case "<": return ">";
            case "<=": return ">=";
            case ">": return "<";
            case ">=": return "<=";
            default: return op;  // =, <>, <=> are symmetric
        }
    }

    /**
     * A Spark (Catalyst) literal value of {@code literalType} as a literal for a column of
     * {@code columnType}, or null when the cache would not compare it exactly as Spark does.
     */
    static Literal toLiteral(Object value, DataType literalType, DataType columnType) {
        if (columnType instanceof BooleanType) {
            return literalType instanceof BooleanType ? Literal.of((Boolean) value) : null;
        }
        if (isIntegral(columnType)) {
            if (!isIntegral(literalType)) {
                return null;
            }
            long v = ((Number) value).longValue();
            return fits(v, columnType) ? Literal.of(v) : null;
        }
        if (columnType instanceof FloatType || columnType instanceof DoubleType) {
            double v;
            if (literalType instanceof FloatType) {
                v = (Float) value;
            } else if (literalType instanceof DoubleType && columnType instanceof DoubleType) {
                v = (Double) value;
            } else {
                return null;  // a double literal against a float column would be rounded
            }
            return Double.isNaN(v) ? null : Literal.of(v);
        }
        if (columnType instanceof DecimalType) {
            if (!(literalType instanceof DecimalType)) {
                return null;
            }
            DecimalType col = (DecimalType) columnType;
            BigDecimal v = ((Decimal) value).toJavaBigDecimal();
            BigDecimal stripped = v.stripTrailingZeros();
            if (stripped.scale() > col.scale()) {
                return null;  // more scale than the column: the cache refuses it
            }
            BigDecimal scaled = v.setScale(col.scale());
            if (scaled.precision() > col.precision()) {
                return null;
            }
            return Literal.decimal(scaled);
        }
        if (columnType instanceof StringType) {
            return literalType instanceof StringType ? Literal.of(value.toString()) : null;
        }
        if (columnType instanceof BinaryType) {
            return literalType instanceof BinaryType ? Literal.binary((byte[]) value) : null;
        }
        if (columnType instanceof DateType) {
            if (!(literalType instanceof DateType)) {
                return null;
            }
            int days = (Integer) value;
            return Literal.canRepresentDate(days) ? Literal.date(days) : null;
        }
        if (columnType instanceof TimestampType) {
            if (!(literalType instanceof TimestampType)) {
                return null;
            }
            long micros = (Long) value;
            return Literal.canRepresentTimestamp(micros) ? Literal.timestamptz(micros) : null;
        }
        if (columnType instanceof TimestampNTZType) {
            if (!(literalType instanceof TimestampNTZType)) {
                return null;
            }
            long micros = (Long) value;
            return Literal.canRepresentTimestamp(micros) ? Literal.timestamp(micros) : null;
        }
        return null;  // struct, list, map: only IS [NOT] NULL
    }

    private static boolean isIntegral(DataType t) {
        return t instanceof ByteType || t instanceof ShortType || t instanceof IntegerType || t instanceof LongType;
    }

    private static boolean fits(long v, DataType t) {
        if (t instanceof ByteType) {
            return v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
        }
        if (t instanceof ShortType) {
            return v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
        }
        if (t instanceof IntegerType) {
            return v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
        }
        return true;
    }
}
