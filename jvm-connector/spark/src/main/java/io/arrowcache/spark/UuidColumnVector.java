package io.arrowcache.spark;

import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Iceberg uuid columns (16 bytes, tagged arrow.uuid) as Spark strings in the canonical lowercase
 * form, which is what Iceberg's own Spark read returns ({@code java.util.UUID#toString}).
 */
final class UuidColumnVector extends FixedSizeBinaryColumnVector {
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    UuidColumnVector(FixedSizeBinaryVector vector) {
        super(vector, DataTypes.StringType);
        if (vector.getByteWidth() != 16) {
            throw new IllegalArgumentException("a uuid column holds 16 bytes per value, not " + vector.getByteWidth());
        }
    }

    @Override
    public UTF8String getUTF8String(int rowId) {
        if (vector.isNull(rowId)) {
            return null;
        }
        return UTF8String.fromBytes(format(vector.get(rowId)));
    }

    /** xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, as ASCII bytes. */
    static byte[] format(byte[] uuid) {
        byte[] out = new byte[36];
        int o = 0;
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                out[o++] = '-';
            }
            out[o++] = HEX[(uuid[i] >> 4) & 0xF];
            out[o++] = HEX[uuid[i] & 0xF];
        }
        return out;
    }
}
