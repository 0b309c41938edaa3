package io.arrowcache.spark;

import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.sql.vectorized.ColumnarMap;
import org.apache.spark.unsafe.types.UTF8String;

/** Iceberg fixed[n] columns as Spark binary; Spark's ArrowColumnVector has no fixed-size binary. */
class FixedSizeBinaryColumnVector extends ColumnVector {
    protected final FixedSizeBinaryVector vector;

    FixedSizeBinaryColumnVector(FixedSizeBinaryVector vector) {
        this(vector, DataTypes.BinaryType);
    }

    protected FixedSizeBinaryColumnVector(FixedSizeBinaryVector vector, DataType type) {
        super(type);
        this.vector = vector;
    }

    @Override
    public void close() {
        // The reader owns the vector.
    }

    @Override
    public boolean hasNull() {
        return vector.getNullCount() > 0;
    }

    @Override
    public int numNulls() {
        return vector.getNullCount();
    }

    @Override
    public boolean isNullAt(int rowId) {
        return vector.isNull(rowId);
    }

    @Override
    public byte[] getBinary(int rowId) {
        return vector.isNull(rowId) ? null : vector.get(rowId);
    }

    private UnsupportedOperationException unsupported() {
        return new UnsupportedOperationException("a fixed-size binary column read as " + dataType().simpleString()
                + " has no such value");
    }

    @Override
    public boolean getBoolean(int rowId) {
        throw unsupported();
    }

    @Override
    public byte getByte(int rowId) {
        throw unsupported();
    }

    @Override
    public short getShort(int rowId) {
        throw unsupported();
    }

    @Override
    public int getInt(int rowId) {
        throw unsupported();
    }

    @Override
    public long getLong(int rowId) {
        throw unsupported();
    }

    @Override
    public float getFloat(int rowId) {
        throw unsupported();
    }

    @Override
    public double getDouble(int rowId) {
        throw unsupported();
    }

    @Override
    public ColumnarArray getArray(int rowId) {
        throw unsupported();
    }

    @Override
    public ColumnarMap getMap(int ordinal) {
        throw unsupported();
    }

    @Override
    public Decimal getDecimal(int rowId, int precision, int scale) {
        throw unsupported();
    }

    @Override
    public UTF8String getUTF8String(int rowId) {
        throw unsupported();
    }

    @Override
    public ColumnVector getChild(int ordinal) {
        throw unsupported();
    }
}
