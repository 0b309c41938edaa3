package io.arrowcache.spark;

import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.junit.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

public class ArrowCacheReadConfTest {
    private static Map<String, String> opts(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    public void readsTheContractOptions() {
        ArrowCacheReadConf c = ArrowCacheReadConf.fromOptions(opts("cache.cluster", " cache-node:8816 ", "TABLE.ID", "ns.t", "snapshot-id", "42"));
        assertEquals("cache-node:8816", c.cluster());
        assertEquals("ns.t", c.tableId());
        assertEquals(Long.valueOf(42), c.snapshotId());
        assertNull(c.asOfTimestampMs());
        assertEquals(ArrowCacheReadConf.DEFAULT_CONNECT_TIMEOUT_MS, c.connectTimeoutMs());
        assertEquals("a:1,b", ArrowCacheReadConf.fromOptions(opts("cache.cluster", "a:1, grpc://b", "table.id", "t")).cluster());
        ArrowCacheReadConf p = ArrowCacheReadConf.fromOptions(opts("cache.cluster", "h:1", "path", "ns.p", "as-of-timestamp", "1700000000000"));
        assertEquals("ns.p", p.tableId());
        assertEquals(Long.valueOf(1700000000000L), p.asOfTimestampMs());
        // Scan options override the table's snapshot; the same options change nothing.
        assertSame(c, c.withScanOptions(new CaseInsensitiveStringMap(opts("snapshot-id", "42"))));
        ArrowCacheReadConf t = c.withScanOptions(new CaseInsensitiveStringMap(opts("as-of-timestamp", "5")));
        assertNull(t.snapshotId());
        assertEquals(Long.valueOf(5), t.asOfTimestampMs());
        // Iceberg's branch and tag options; a ref given per scan replaces the table's snapshot.
        ArrowCacheReadConf b = ArrowCacheReadConf.fromOptions(opts("cache.cluster", "h:1", "table.id", "ns.t", "Branch", "audit"));
        assertEquals("audit", b.branch());
        assertEquals("branch=audit", b.selectorOption());
        ArrowCacheReadConf tagged = c.withScanOptions(new CaseInsensitiveStringMap(opts("tag", "v1")));
        assertNull(tagged.snapshotId());
        assertEquals("v1", tagged.tag());
        assertEquals("v1", ArrowCacheReadConf.fromOptions(tagged.toOptions()).tag());
    }

    @Test
    public void badOptionsAreNamed() {
        expectRefused(opts("table.id", "ns.t"), "cache.cluster");
        expectRefused(opts("cache.cluster", "h:1"), "table.id");
        expectRefused(opts("cache.cluster", "no host", "table.id", "ns.t"), "cache.cluster");
        expectRefused(opts("cache.cluster", "h:1,:2", "table.id", "ns.t"), "cache.cluster");
        expectRefused(opts("cache.cluster", "h:99999", "table.id", "ns.t"), "cache.cluster");
        expectRefused(opts("cache.cluster", "h:1", "table.id", "ns.t", "snapshot-id", "abc"), "snapshot-id");
        expectRefused(opts("cache.cluster", "h:1", "table.id", "ns.t", "as-of-timestamp", "2024-01-01"), "as-of-timestamp");
        expectRefused(opts("cache.cluster", "h:1", "table.id", "ns.t", "snapshot-id", "1", "as-of-timestamp", "2"), "both");
        expectRefused(opts("cache.cluster", "h:1", "table.id", "ns.t", "branch", "b", "tag", "t"), "branch=b and tag=t");
        expectRefused(opts("cache.cluster", "h:1", "table.id", "ns.t", "snapshot-id", "1", "tag", "t"), "snapshot-id=1 and tag=t");
        expectRefused(opts("cache.cluster", "h:1", "table.id", "ns.t", "tag", ""), "option tag");
        expectRefused(opts("cache.cluster", "h:1", "table.id", "ns.t", "cache.connect-timeout-ms", "0"), "cache.connect-timeout-ms");
        expectRefused(opts("cache.cluster", "h:1", "table.id", "ns.t", "snapshotid", "1"), "snapshotid");
    }

    private static void expectRefused(Map<String, String> options, String fragment) {
        try {
            ArrowCacheReadConf.fromOptions(options);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(fragment));
            return;
        }
        fail("expected " + options + " to be refused naming " + fragment);
    }
}
