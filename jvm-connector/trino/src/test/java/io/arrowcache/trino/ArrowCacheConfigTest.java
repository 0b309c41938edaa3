package io.arrowcache.trino;

import org.junit.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

public class ArrowCacheConfigTest {
    private static Map<String, String> props(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static void assertFailsNaming(Map<String, String> props, String property) {
        try {
            ArrowCacheConfig.parse(props);
            fail("accepted " + props);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("'" + property + "'"));
        }
    }

    @Test
    public void defaults() {
        ArrowCacheConfig c = ArrowCacheConfig.parse(props("arrow-cache.cluster", "cache-node:8816"));
        assertEquals("cache-node:8816", c.cluster());
        assertEquals(10_000, c.connectTimeoutMillis());
        assertEquals(8192, c.maxRowsPerPage());
    }

    @Test
    public void everySetting() {
        ArrowCacheConfig c = ArrowCacheConfig.parse(props("arrow-cache.cluster", "a:1, b:2", "arrow-cache.connect-timeout", "1.5s",
                "arrow-cache.max-rows-per-page", "1024", "arrow-cache.tls.enabled", "false"));
        assertEquals("a:1,b:2", c.cluster());
        assertEquals(1500, c.connectTimeoutMillis());
        assertEquals(1024, c.maxRowsPerPage());
        assertEquals(120_000, ArrowCacheConfig.parseDurationMillis("x", "2m"));
        assertEquals(250, ArrowCacheConfig.parseDurationMillis("x", "250ms"));
    }

    @Test
    public void badInputNamesTheProperty() {
        assertFailsNaming(props(), "arrow-cache.cluster");
        assertFailsNaming(props("arrow-cache.cluster", " "), "arrow-cache.cluster");
        assertFailsNaming(props("arrow-cache.cluster", "a b"), "arrow-cache.cluster");
        assertFailsNaming(props("arrow-cache.cluster", "h:99999"), "arrow-cache.cluster");
        assertFailsNaming(props("arrow-cache.cluster", "h:1", "arrow-cache.clustr", "x"), "arrow-cache.clustr");
        assertFailsNaming(props("arrow-cache.cluster", "h:1", "arrow-cache.connect-timeout", "10"), "arrow-cache.connect-timeout");
        assertFailsNaming(props("arrow-cache.cluster", "h:1", "arrow-cache.connect-timeout", "0s"), "arrow-cache.connect-timeout");
        assertFailsNaming(props("arrow-cache.cluster", "h:1", "arrow-cache.max-rows-per-page", "x"), "arrow-cache.max-rows-per-page");
        assertFailsNaming(props("arrow-cache.cluster", "h:1", "arrow-cache.tls.enabled", "yes"), "arrow-cache.tls.enabled");
    }

    @Test
    public void tlsAndCredentialsAreRefusedUntilClustersHaveThem() {
        assertFailsNaming(props("arrow-cache.cluster", "h:1", "arrow-cache.tls.enabled", "true"), "arrow-cache.tls.enabled");
        for (String p : new String[] {"arrow-cache.tls.truststore-path", "arrow-cache.tls.truststore-password",
                "arrow-cache.auth.user", "arrow-cache.auth.password", "arrow-cache.auth.token"}) {
            assertFailsNaming(props("arrow-cache.cluster", "h:1", p, "x"), p);
        }
    }
}
