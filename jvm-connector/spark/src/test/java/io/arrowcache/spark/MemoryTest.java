package io.arrowcache.spark;

import io.arrowcache.client.Allocators;
import io.arrowcache.client.ArrowCacheClient;
import org.apache.spark.sql.Row;
import org.junit.BeforeClass;
import org.junit.Test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

/**
 * Thousands of batches through the bridge: JVM Arrow memory (the connectors' root allocator) and
 * the native side's memory return to where they started.
 */
public class MemoryTest {
    private static final String TABLE = "many_batches";
    private static final int ROWS = 250_000;
    private static TestEnv env;

    @BeforeClass
    public static void setUp() throws Exception {
        env = TestEnv.get();
        long t0 = System.nanoTime();
        String table = TestEnv.iceberg(TABLE);
        env.sql("DROP TABLE IF EXISTS " + table);
        // Row groups of ~100 rows: the node sends one batch per row group.
        env.sql("CREATE TABLE " + table + " (id BIGINT, d DOUBLE, s STRING, arr ARRAY<INT>) USING iceberg TBLPROPERTIES ("
                + "'write.parquet.row-group-size-bytes'='1', 'write.parquet.row-group-check-min-record-count'='100', "
                + "'write.parquet.row-group-check-max-record-count'='100')");
        env.sql("INSERT INTO " + table + " SELECT id, id / 7.0D, concat('row-', CAST(id AS STRING)), array(CAST(id % 9 AS INT)) "
                + "FROM range(" + ROWS + ")");
        System.out.printf("MemoryTest: wrote %d rows in %.1f s%n", ROWS, (System.nanoTime() - t0) / 1e9);
    }

    @Test
    public void thousandsOfBatchesLeaveNoMemoryBehind() throws Exception {
        // Connect first: the shared client is part of the baseline, not of a read.
        ArrowCacheClient.shared(env.node.cluster(), 10_000);
        long jvmStart = Allocators.root().getAllocatedMemory();
        long nativeStart = ArrowCacheClient.nativeBytesInUse();
        long batchesStart = ArrowCacheColumnarReader.batchesRead();
        for (int i = 0; i < 2; i++) {
            long t0 = System.nanoTime();
            Row r = env.cacheRead(TABLE).selectExpr("count(*)", "sum(id)", "count(s)", "sum(arr[0])").first();
            assertEquals(ROWS, r.getLong(0));
            assertEquals((long) ROWS * (ROWS - 1) / 2, r.getLong(1));
            assertEquals(ROWS, r.getLong(2));
            System.out.printf("MemoryTest: read %d in %.1f s%n", i, (System.nanoTime() - t0) / 1e9);
        }
        // A read stopped early (limit) closes its streams too.
        assertEquals(10, env.cacheRead(TABLE).where("d > 1.0D").limit(10).collectAsList().size());
        long batches = ArrowCacheColumnarReader.batchesRead() - batchesStart;
        assertTrue("only " + batches + " batches were read", batches >= 2 * 2000);

        assertEquals("JVM Arrow memory after " + batches + " batches", jvmStart, Allocators.root().getAllocatedMemory());
        long nativeNow = ArrowCacheClient.nativeBytesInUse();
        for (int i = 0; i < 50 && nativeNow != nativeStart; i++) {
            Thread.sleep(100);  // streams are dropped on the bridge's runtime
            nativeNow = ArrowCacheClient.nativeBytesInUse();
        }
        assertEquals("native bytes in use after " + batches + " batches", nativeStart, nativeNow);
        System.out.println("MemoryTest: " + batches + " batches; JVM Arrow peak " + Allocators.root().getPeakMemoryAllocation()
                + " bytes; native at rest " + nativeNow + " bytes");
    }
}
