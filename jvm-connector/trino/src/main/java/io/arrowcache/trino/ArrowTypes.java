package io.arrowcache.trino;

import io.trino.spi.TrinoException;
import io.trino.spi.type.ArrayType;
import io.trino.spi.type.BigintType;
import io.trino.spi.type.BooleanType;
import io.trino.spi.type.DateType;
import io.trino.spi.type.DecimalType;
import io.trino.spi.type.DoubleType;
import io.trino.spi.type.IntegerType;
import io.trino.spi.type.MapType;
import io.trino.spi.type.RealType;
import io.trino.spi.type.RowType;
import io.trino.spi.type.SmallintType;
import io.trino.spi.type.TimeType;
import io.trino.spi.type.TimestampType;
import io.trino.spi.type.TimestampWithTimeZoneType;
import io.trino.spi.type.TinyintType;
import io.trino.spi.type.Type;
import io.trino.spi.type.TypeManager;
import io.trino.spi.type.UuidType;
import io.trino.spi.type.VarbinaryType;
import io.trino.spi.type.VarcharType;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.arrowcache.trino.ArrowCacheErrorCode.ARROW_CACHE_UNSUPPORTED_TYPE;

/**
 * Arrow types, as an arrow-cache node serves Iceberg tables, to Trino types, following Trino's own
 * Iceberg connector: boolean, int → integer, long → bigint, float → real, double, decimal(p, s),
 * date, time → time(6), timestamp → timestamp(6), timestamptz → timestamp(6) with time zone (UTC),
 * string → varchar, uuid (the {@code arrow.uuid} extension over fixed(16)) → uuid, fixed(L) and
 * binary → varbinary, struct → row (field names as in the table), list → array, map → map.
 * Nanosecond timestamps (Iceberg v3) become timestamp(9).
 */
public final class ArrowTypes {
    /** Arrow's extension-type metadata key and the canonical UUID extension name. */
    static final String EXTENSION_NAME = "ARROW:extension:name";
    static final String UUID_EXTENSION = "arrow.uuid";

    private ArrowTypes() {
    }

    /** The Trino type of a top-level column; ARROW_CACHE_UNSUPPORTED_TYPE names the column. */
    public static Type toTrino(Field field, TypeManager types, String table) {
        return toTrino(field, types, table, field.getName());
    }

    static Type toTrino(Field field, TypeManager types, String table, String path) {
        ArrowType type = field.getType();
        if (type instanceof ArrowType.ExtensionType) {
            ArrowType.ExtensionType ext = (ArrowType.ExtensionType) type;
            if (UUID_EXTENSION.equals(ext.extensionName())) {
                return UuidType.UUID;
            }
            // Another extension: read its storage.
            return toTrino(new Field(field.getName(), new org.apache.arrow.vector.types.pojo.FieldType(field.isNullable(),
                    ext.storageType(), field.getDictionary(), field.getMetadata()), field.getChildren()), types, table, path);
        }
        switch (type.getTypeID()) {
            case Bool:
                return BooleanType.BOOLEAN;
            case Int: {
                ArrowType.Int t = (ArrowType.Int) type;
                if (t.getIsSigned()) {
                    switch (t.getBitWidth()) {
                        case 8: return TinyintType.TINYINT;
                        case 16: return SmallintType.SMALLINT;
                        case 32: return IntegerType.INTEGER;
                        case 64: return BigintType.BIGINT;
                        default: break;
                    }
                }
                break;
            }
            case FloatingPoint: {
                FloatingPointPrecision p = ((ArrowType.FloatingPoint) type).getPrecision();
                if (p == FloatingPointPrecision.SINGLE) {
                    return RealType.REAL;
                }
                if (p == FloatingPointPrecision.DOUBLE) {
                    return DoubleType.DOUBLE;
                }
                break;
            }
            case Decimal: {
                ArrowType.Decimal d = (ArrowType.Decimal) type;
                if (d.getBitWidth() == 128 && d.getPrecision() >= 1 && d.getPrecision() <= 38
                        && d.getScale() >= 0 && d.getScale() <= d.getPrecision()) {
                    return DecimalType.createDecimalType(d.getPrecision(), d.getScale());
                }
                break;
            }
            case Utf8:
            case LargeUtf8:
                return VarcharType.VARCHAR;
            case Binary:
            case LargeBinary:
                return VarbinaryType.VARBINARY;
            case FixedSizeBinary:
                if (isUuid(field)) {
                    return UuidType.UUID;
                }
                return VarbinaryType.VARBINARY;
            case Date:
                return DateType.DATE;
            case Time: {
                ArrowType.Time t = (ArrowType.Time) type;
                return TimeType.createTimeType(precision(t.getUnit()));
            }
            case Timestamp: {
                ArrowType.Timestamp t = (ArrowType.Timestamp) type;
                int precision = precision(t.getUnit());
                if (t.getTimezone() == null) {
                    return TimestampType.createTimestampType(precision);
                }
                if (!isUtc(t.getTimezone())) {
                    break;  // Iceberg's timestamptz is UTC; other zones are not what the cache serves
                }
                return TimestampWithTimeZoneType.createTimestampWithTimeZoneType(precision);
            }
            case Struct: {
                List<RowType.Field> fields = new ArrayList<>();
                for (Field child : field.getChildren()) {
                    fields.add(new RowType.Field(java.util.Optional.of(child.getName()),
                            toTrino(child, types, table, path + "." + child.getName())));
                }
                if (fields.isEmpty()) {
                    break;
                }
                return RowType.from(fields);
            }
            case List:
            case LargeList:
            case FixedSizeList:
                return new ArrayType(toTrino(field.getChildren().get(0), types, table, path + ".element"));
            case Map: {
                Field entries = field.getChildren().get(0);
                Type key = toTrino(entries.getChildren().get(0), types, table, path + ".key");
                Type value = toTrino(entries.getChildren().get(1), types, table, path + ".value");
                return new MapType(key, value, types.getTypeOperators());
            }
            default:
                break;
        }
        throw new TrinoException(ARROW_CACHE_UNSUPPORTED_TYPE, "column `" + path + "` of arrow-cache table " + table
                + " has the Arrow type " + type + ", which the Trino connector cannot read");
    }

    static boolean isUuid(Field field) {
        if (field.getType() instanceof ArrowType.ExtensionType) {
            return UUID_EXTENSION.equals(((ArrowType.ExtensionType) field.getType()).extensionName());
        }
        Map<String, String> metadata = field.getMetadata();
        return field.getType() instanceof ArrowType.FixedSizeBinary
                && ((ArrowType.FixedSizeBinary) field.getType()).getByteWidth() == 16
                && metadata != null && UUID_EXTENSION.equals(metadata.get(EXTENSION_NAME));
    }

    static boolean isUtc(String zone) {
        switch (zone) {
            case "UTC":
            case "+00:00":
            case "Z":
            case "Etc/UTC":
            case "utc":
            case "+0000":
            case "GMT":
                return true;
            default:
                return false;
        }
    }

    static int precision(TimeUnit unit) {
        switch (unit) {
            case SECOND: return 0;
            case MILLISECOND: return 3;
            case MICROSECOND: return 6;
            default: return 9;
        }
    }
}
