package io.arrowcache.spark;

import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/**
 * Arrow types (as the cache serves Iceberg tables) to Spark types, following Iceberg's own Spark
 * mapping: int/long, float/double, decimal, string, binary and fixed (BinaryType), boolean, date,
 * timestamptz (TimestampType), timestamp (TimestampNTZType), uuid (StringType, when the field is
 * tagged {@value #ARROW_UUID}), struct, list and map.
 */
public final class ArrowCacheSchemaUtil {
    /** Field metadata of a binary column that is Iceberg fixed[n]: its width n. */
    public static final String FIXED_WIDTH_KEY = "arrow-cache.fixed-width";
    /** Field metadata of a string column that is Iceberg uuid (16 bytes the reader formats). */
    public static final String UUID_KEY = "arrow-cache.uuid";
    /**
     * Arrow's canonical UUID extension (storage FixedSizeBinary(16)), named in the field metadata
     * under {@value #EXTENSION_NAME_KEY}. Only a field tagged so is a uuid: untagged, 16 bytes are
     * Iceberg fixed[16], which Spark reads as binary.
     */
    public static final String ARROW_UUID = "arrow.uuid";
    public static final String EXTENSION_NAME_KEY = "ARROW:extension:name";

    private ArrowCacheSchemaUtil() {
    }

    /** The Spark schema of an Arrow schema; a type Spark cannot hold is an IllegalArgumentException naming the column. */
    public static StructType convert(Schema schema, String table) {
        List<StructField> fields = new ArrayList<>();
        for (Field f : schema.getFields()) {
            if (isUuid(f)) {
                // Iceberg's Spark read has uuid as a string (the canonical 36-character form).
                Metadata m = new MetadataBuilder().putBoolean(UUID_KEY, true).build();
                fields.add(new StructField(f.getName(), DataTypes.StringType, f.isNullable(), m));
            } else if (f.getType().getTypeID() == ArrowType.ArrowTypeID.FixedSizeBinary) {
                // Spark's ArrowColumnVector has no fixed-size binary; the reader wraps a top-level one
                // itself. The width goes into the field's metadata for the filter translation.
                int width = ((ArrowType.FixedSizeBinary) f.getType()).getByteWidth();
                Metadata m = new MetadataBuilder().putLong(FIXED_WIDTH_KEY, width).build();
                fields.add(new StructField(f.getName(), DataTypes.BinaryType, f.isNullable(), m));
            } else {
                fields.add(new StructField(f.getName(), convert(f, f.getName(), table), f.isNullable(), Metadata.empty()));
            }
        }
        return new StructType(fields.toArray(new StructField[0]));
    }

    /**
     * Whether {@code f} is tagged {@value #ARROW_UUID}: in its metadata (Arrow Java has no UUID
     * extension type to import it as), or as an extension type someone registered.
     */
    static boolean isUuid(Field f) {
        ArrowType t = f.getType();
        if (t instanceof ArrowType.ExtensionType) {
            return ARROW_UUID.equals(((ArrowType.ExtensionType) t).extensionName());
        }
        return t instanceof ArrowType.FixedSizeBinary && ((ArrowType.FixedSizeBinary) t).getByteWidth() == 16
                && ARROW_UUID.equals(f.getMetadata().get(EXTENSION_NAME_KEY));
    }

    static DataType convert(Field field, String path, String table) {
        ArrowType type = field.getType();
        switch (type.getTypeID()) {
            case Bool:
                return DataTypes.BooleanType;
            case Int: {
                ArrowType.Int t = (ArrowType.Int) type;
                if (t.getIsSigned()) {
                    switch (t.getBitWidth()) {
                        case 8: return DataTypes.ByteType;
                        case 16: return DataTypes.ShortType;
                        case 32: return DataTypes.IntegerType;
                        case 64: return DataTypes.LongType;
                        default: break;
                    }
                }
                break;
            }
            case FloatingPoint: {
                FloatingPointPrecision p = ((ArrowType.FloatingPoint) type).getPrecision();
                if (p == FloatingPointPrecision.SINGLE) {
                    return DataTypes.FloatType;
                } else if (p == FloatingPointPrecision.DOUBLE) {
                    return DataTypes.DoubleType;
                }
                break;
            }
            case Decimal: {
                ArrowType.Decimal d = (ArrowType.Decimal) type;
                if (d.getBitWidth() == 128 && d.getPrecision() <= DecimalType.MAX_PRECISION() && d.getScale() >= 0) {
                    return DataTypes.createDecimalType(d.getPrecision(), d.getScale());
                }
                break;
            }
            case Utf8:
            case LargeUtf8:
                return DataTypes.StringType;
            case Binary:
            case LargeBinary:
                return DataTypes.BinaryType;
            case Date:
                if (((ArrowType.Date) type).getUnit() == org.apache.arrow.vector.types.DateUnit.DAY) {
                    return DataTypes.DateType;
                }
                break;
            case Timestamp: {
                ArrowType.Timestamp t = (ArrowType.Timestamp) type;
                if (t.getUnit() == org.apache.arrow.vector.types.TimeUnit.MICROSECOND) {
                    return t.getTimezone() == null ? DataTypes.TimestampNTZType : DataTypes.TimestampType;
                }
                break;
            }
            case Struct: {
                List<StructField> children = new ArrayList<>();
                for (Field c : field.getChildren()) {
                    children.add(new StructField(c.getName(), convert(c, path + "." + c.getName(), table), c.isNullable(), Metadata.empty()));
                }
                return new StructType(children.toArray(new StructField[0]));
            }
            case List: {
                Field element = field.getChildren().get(0);
                return new ArrayType(convert(element, path + ".element", table), element.isNullable());
            }
            case Map: {
                Field entries = field.getChildren().get(0);
                Field key = entries.getChildren().get(0);
                Field value = entries.getChildren().get(1);
                return new MapType(convert(key, path + ".key", table), convert(value, path + ".value", table), value.isNullable());
            }
            default:
                break;
        }
        throw new IllegalArgumentException("column `" + path + "` of arrow-cache table " + table + " has type " + type
                + ", which the arrow-cache Spark connector cannot read");
    }
}
