package io.arrowcache.spark;

import io.arrowcache.client.PlannedScan;
import io.arrowcache.scan.Expression;
import io.arrowcache.scan.Expressions;
import io.arrowcache.scan.Literal;
import io.arrowcache.scan.ScanMetadata;
import io.arrowcache.scan.ScanPlan;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.junit.Test;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;

/** Scans and batches are equal when they read the same, so that Spark can reuse one for the other. */
public class ArrowCacheScanEqualityTest {
    private static final StructType AB = new StructType().add("a", DataTypes.LongType).add("b", DataTypes.StringType);
    private static final StructType A = new StructType().add("a", DataTypes.LongType);

    private static ArrowCacheReadConf conf(String... kv) {
        Map<String, String> m = new HashMap<>();
        m.put("cache.cluster", "cache-node:8816");
        m.put("table.id", "ns.t");
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return ArrowCacheReadConf.fromOptions(m);
    }

    private static Expression aIs(long v) {
        return Expressions.equal("a", Literal.of(v));
    }

    private static ArrowCacheScan scan(ArrowCacheReadConf conf, StructType schema, Expression filter, Integer limit) {
        return new ArrowCacheScan(conf, schema, filter, Collections.emptyList(), limit);
    }

    private static void assertSame(Object x, Object y) {
        assertEquals(x, y);
        assertEquals(y, x);
        assertEquals(x.hashCode(), y.hashCode());
    }

    private static void assertDifferent(Object x, Object y) {
        assertNotEquals(x, y);
        assertNotEquals(y, x);
    }

    @Test
    public void scansReadingTheSameAreEqual() {
        ArrowCacheScan s = scan(conf(), AB, aIs(1), 10);
        assertSame(s, scan(conf(), AB, aIs(1), 10));
        // Built separately (another filter object, a per-scan option that changes nothing, another timeout).
        assertSame(s, scan(conf("cache.connect-timeout-ms", "5000"), AB, Expression.fromJson(aIs(1).toJson()), 10));
        assertSame(s, scan(conf().withScanOptions(new CaseInsensitiveStringMap(Collections.singletonMap("cache.cluster", "x:1"))), AB, aIs(1), 10));
        assertSame(scan(conf("tag", "v1"), A, null, null), scan(conf().withScanOptions(
                new CaseInsensitiveStringMap(Collections.singletonMap("tag", "v1"))), A, null, null));
    }

    @Test
    public void scansReadingSomethingElseDiffer() {
        ArrowCacheScan s = scan(conf(), AB, aIs(1), 10);
        assertDifferent(s, scan(conf("table.id", "ns.other"), AB, aIs(1), 10));
        assertDifferent(s, scan(conf("cache.cluster", "other-node:8816"), AB, aIs(1), 10));
        assertDifferent(s, scan(conf("snapshot-id", "7"), AB, aIs(1), 10));
        assertDifferent(s, scan(conf("branch", "audit"), AB, aIs(1), 10));
        assertDifferent(s, scan(conf("tag", "audit"), AB, aIs(1), 10));
        assertDifferent(s, scan(conf("as-of-timestamp", "7"), AB, aIs(1), 10));
        assertDifferent(s, scan(conf(), A, aIs(1), 10));
        assertDifferent(s, scan(conf(), new StructType().add("a", DataTypes.IntegerType).add("b", DataTypes.StringType), aIs(1), 10));
        assertDifferent(s, scan(conf(), AB, aIs(2), 10));
        assertDifferent(s, scan(conf(), AB, null, 10));
        assertDifferent(s, scan(conf(), AB, aIs(1), 11));
        assertDifferent(s, scan(conf(), AB, aIs(1), null));
    }

    /** The batch of a scan that planned this snapshot and schema (no splits: nothing is read). */
    private static ArrowCacheBatch batch(ArrowCacheReadConf conf, StructType schema, Expression filter, Integer limit,
                                         Long snapshotId, Integer schemaId) {
        PlannedScan planned = new PlannedScan(new Schema(Collections.emptyList()),
                new ScanPlan(new ScanMetadata(snapshotId, schemaId), 0, 0, Collections.emptyList()));
        return new ArrowCacheBatch(conf, schema, scan(conf, schema, filter, limit).request(), planned);
    }

    @Test
    public void batchesOfEqualScansAtTheSameSnapshotAreEqual() {
        ArrowCacheBatch b = batch(conf(), AB, aIs(1), 10, 42L, 1);
        assertSame(b, batch(conf(), AB, aIs(1), 10, 42L, 1));
        assertSame(batch(conf(), AB, aIs(1), 10, null, null), batch(conf(), AB, aIs(1), 10, null, null));
        // The table moved on between the two plans: another snapshot or schema is another batch.
        assertDifferent(b, batch(conf(), AB, aIs(1), 10, 43L, 1));
        assertDifferent(b, batch(conf(), AB, aIs(1), 10, 42L, 2));
        assertDifferent(b, batch(conf(), AB, aIs(2), 10, 42L, 1));
        assertDifferent(b, batch(conf(), A, aIs(1), 10, 42L, 1));
        assertDifferent(b, batch(conf(), AB, aIs(1), 5, 42L, 1));
        assertDifferent(b, batch(conf("cache.cluster", "other:1"), AB, aIs(1), 10, 42L, 1));
        assertDifferent(b, batch(conf("tag", "v1"), AB, aIs(1), 10, 42L, 1));
    }
}
