package io.arrowcache.bench;

import io.arrowcache.spark.ArrowCacheSource;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.read.Batch;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.Statistics;
import org.apache.spark.sql.connector.read.SupportsPushDownLimit;
import org.apache.spark.sql.connector.read.SupportsPushDownRequiredColumns;
import org.apache.spark.sql.connector.read.SupportsPushDownV2Filters;
import org.apache.spark.sql.connector.read.SupportsReportStatistics;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.apache.spark.sql.vectorized.ArrowColumnVector;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarArray;
import org.apache.spark.sql.vectorized.ColumnarBatch;
import org.apache.spark.sql.vectorized.ColumnarMap;
import org.apache.spark.unsafe.types.UTF8String;

import java.io.IOException;
import java.util.Map;
import java.util.Set;

/**
 * What-if: the arrow-cache connector exactly as it is (planning, pushdown, the bridge, its reader),
 * with one change on the executor side: each batch's Spark {@code ArrowColumnVector}s are wrapped in
 * {@link FastColumnVector}, which is what this benchmark proposes for the connector's columnar
 * reader (see docs/BENCHMARKS.md, "Spark (issue 4)"). Used as
 * {@code spark.read.format("io.arrowcache.bench.WhatIfSource")} with the connector's options.
 */
public class WhatIfSource implements TableProvider {
    private final ArrowCacheSource connector = new ArrowCacheSource();

    @Override
    public StructType inferSchema(CaseInsensitiveStringMap options) {
        return connector.inferSchema(options);
    }

    @Override
    public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
        SupportsRead table = (SupportsRead) connector.getTable(schema, partitioning, properties);
        return new SupportsRead() {
            @Override
            public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
                return new Builder(table.newScanBuilder(options));
            }

            @Override
            public String name() {
                return table.name();
            }

            @Override
            public StructType schema() {
                return table.schema();
            }

            @Override
            public Map<String, String> properties() {
                return table.properties();
            }

            @Override
            public Set<TableCapability> capabilities() {
                return table.capabilities();
            }
        };
    }

    @Override
    public boolean supportsExternalMetadata() {
        return connector.supportsExternalMetadata();
    }

    /** The connector's scan builder, every pushdown passed through. */
    static final class Builder implements ScanBuilder, SupportsPushDownV2Filters, SupportsPushDownRequiredColumns, SupportsPushDownLimit {
        private final ScanBuilder inner;

        Builder(ScanBuilder inner) {
            this.inner = inner;
        }

        @Override
        public Predicate[] pushPredicates(Predicate[] predicates) {
            return ((SupportsPushDownV2Filters) inner).pushPredicates(predicates);
        }

        @Override
        public Predicate[] pushedPredicates() {
            return ((SupportsPushDownV2Filters) inner).pushedPredicates();
        }

        @Override
        public void pruneColumns(StructType requiredSchema) {
            ((SupportsPushDownRequiredColumns) inner).pruneColumns(requiredSchema);
        }

        @Override
        public boolean pushLimit(int limit) {
            return ((SupportsPushDownLimit) inner).pushLimit(limit);
        }

        @Override
        public boolean isPartiallyPushed() {
            return ((SupportsPushDownLimit) inner).isPartiallyPushed();
        }

        @Override
        public Scan build() {
            Scan scan = inner.build();
            return new SupportsReportStatistics() {
                @Override
                public StructType readSchema() {
                    return scan.readSchema();
                }

                @Override
                public String description() {
                    return "WhatIf(" + scan.description() + ")";
                }

                @Override
                public ColumnarSupportMode columnarSupportMode() {
                    return scan.columnarSupportMode();
                }

                @Override
                public Statistics estimateStatistics() {
                    return ((SupportsReportStatistics) scan).estimateStatistics();
                }

                @Override
                public Batch toBatch() {
                    Batch batch = scan.toBatch();
                    return new Batch() {
                        @Override
                        public InputPartition[] planInputPartitions() {
                            return batch.planInputPartitions();
                        }

                        @Override
                        public PartitionReaderFactory createReaderFactory() {
                            return new Factory(batch.createReaderFactory());
                        }
                    };
                }
            };
        }
    }

    static final class Factory implements PartitionReaderFactory {
        private static final long serialVersionUID = 1L;
        private final PartitionReaderFactory inner;

        Factory(PartitionReaderFactory inner) {
            this.inner = inner;
        }

        @Override
        public boolean supportColumnarReads(InputPartition partition) {
            return inner.supportColumnarReads(partition);
        }

        @Override
        public PartitionReader<InternalRow> createReader(InputPartition partition) {
            return inner.createReader(partition);
        }

        @Override
        public PartitionReader<ColumnarBatch> createColumnarReader(InputPartition partition) {
            PartitionReader<ColumnarBatch> reader = inner.createColumnarReader(partition);
            return new PartitionReader<ColumnarBatch>() {
                @Override
                public boolean next() throws IOException {
                    return reader.next();
                }

                @Override
                public ColumnarBatch get() {
                    ColumnarBatch batch = reader.get();
                    ColumnVector[] columns = new ColumnVector[batch.numCols()];
                    for (int i = 0; i < columns.length; i++) {
                        ColumnVector c = batch.column(i);
                        columns[i] = c instanceof ArrowColumnVector ? new FastColumnVector((ArrowColumnVector) c) : c;
                    }
                    return new ColumnarBatch(columns, batch.numRows());
                }

                @Override
                public void close() throws IOException {
                    reader.close();
                }
            };
        }
    }

    /**
     * The proposed column vector: Spark's ArrowColumnVector with two fast paths.
     * <ul>
     *   <li>A column without nulls in this batch answers {@code isNullAt} without touching the
     *       vector (Spark's generated code asks for every row of a nullable column).
     *   <li>A Decimal128 of precision up to 18 is read as the long its low 8 bytes hold
     *       (little-endian two's complement) and made a long-backed {@link Decimal}, as Spark's
     *       own vectors do, instead of byte[] -> BigInteger -> BigDecimal -> Decimal per value
     *       (ArrowColumnVector's DecimalAccessor, via DecimalVector.getObject), which also leaves
     *       Spark's decimal arithmetic on the slow BigDecimal path.
     * </ul>
     */
    static final class FastColumnVector extends ColumnVector {
        private final ArrowColumnVector inner;
        private final boolean hasNulls;
        private final ArrowBuf longDecimals;

        FastColumnVector(ArrowColumnVector inner) {
            super(inner.dataType());
            this.inner = inner;
            ValueVector v = inner.getValueVector();
            this.hasNulls = v.getNullCount() > 0;
            this.longDecimals = v instanceof DecimalVector && ((DecimalVector) v).getPrecision() <= Decimal.MAX_LONG_DIGITS()
                    ? ((DecimalVector) v).getDataBuffer() : null;
        }

        @Override
        public boolean isNullAt(int rowId) {
            return hasNulls && inner.isNullAt(rowId);
        }

        @Override
        public Decimal getDecimal(int rowId, int precision, int scale) {
            if (longDecimals == null || precision > Decimal.MAX_LONG_DIGITS()) {
                return inner.getDecimal(rowId, precision, scale);
            }
            if (isNullAt(rowId)) {
                return null;
            }
            return Decimal.createUnsafe(longDecimals.getLong((long) rowId * DecimalVector.TYPE_WIDTH), precision, scale);
        }

        @Override
        public void close() {
            // The connector's reader owns the vectors.
        }

        @Override
        public boolean hasNull() {
            return hasNulls;
        }

        @Override
        public int numNulls() {
            return hasNulls ? inner.numNulls() : 0;
        }

        @Override
        public boolean getBoolean(int rowId) {
            return inner.getBoolean(rowId);
        }

        @Override
        public byte getByte(int rowId) {
            return inner.getByte(rowId);
        }

        @Override
        public short getShort(int rowId) {
            return inner.getShort(rowId);
        }

        @Override
        public int getInt(int rowId) {
            return inner.getInt(rowId);
        }

        @Override
        public long getLong(int rowId) {
            return inner.getLong(rowId);
        }

        @Override
        public float getFloat(int rowId) {
            return inner.getFloat(rowId);
        }

        @Override
        public double getDouble(int rowId) {
            return inner.getDouble(rowId);
        }

        @Override
        public ColumnarArray getArray(int rowId) {
            return inner.getArray(rowId);
        }

        @Override
        public ColumnarMap getMap(int rowId) {
            return inner.getMap(rowId);
        }

        @Override
        public UTF8String getUTF8String(int rowId) {
            return inner.getUTF8String(rowId);
        }

        @Override
        public byte[] getBinary(int rowId) {
            return inner.getBinary(rowId);
        }

        @Override
        public ColumnVector getChild(int ordinal) {
            return inner.getChild(ordinal);
        }
    }
}
