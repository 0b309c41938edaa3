package io.arrowcache.testkit;

import org.junit.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

/** The node's configuration (no process is started here). */
public class ArrowCacheNodeTest {
    @Test
    public void writesTheTestBaseConfig() throws Exception {
        Path dir = Files.createTempDirectory("testkit-node");
        ArrowCacheNode node = new ArrowCacheNode(dir, "jdbc:sqlite:/tmp/c.db", "iceberg", "file:///tmp/wh");
        String yaml = node.configYaml();
        assertTrue(yaml, yaml.startsWith("cache_node:\n  memory:\n    total_memory: \"1GB\"\n    arrow_pool_percent: 80\n"));
        assertTrue(yaml, yaml.contains("  storage:\n    iceberg:\n      catalog_type: \"sql\"\n"
                + "      catalog_uri: \"jdbc:sqlite:/tmp/c.db\"\n      catalog_name: \"iceberg\"\n      warehouse: \"file:///tmp/wh\"\n"));
        assertTrue(yaml, yaml.contains("  caching:\n    eviction_policy: \"lru\"\n    ttl_seconds: 600\n    poll_interval_ms: 0\n"
                + "    max_partition_size: \"1GB\"\n  networking:\n"));
        assertTrue(yaml, yaml.contains("    bind_address: \"127.0.0.1\"\n"));
        assertTrue(yaml, node.cluster().startsWith("127.0.0.1:"));
        assertFalse(yaml, yaml.contains("object_store") || yaml.contains("cluster:") || yaml.contains("split_size"));
    }

    @Test
    public void writesWhatItIsToldToChange() throws Exception {
        Path dir = Files.createTempDirectory("testkit-node");
        Map<String, Object> store = new LinkedHashMap<>();
        store.put("type", "gcs");
        store.put("allow_http", true);
        store.put("options", Collections.singletonMap("google_skip_signature", "true"));
        String yaml = new ArrowCacheNode(dir, "127.0.0.2", "jdbc:sqlite:/c.db", "ice", "gs://b/wh")
                .memory("6GB").freshness(7200, 250).splitSize("32MiB").objectStore(store).join("static://a:1,b:2", "n1", 2)
                .configYaml();
        assertTrue(yaml, yaml.contains("    total_memory: \"6GB\"\n"));
        assertTrue(yaml, yaml.contains("      warehouse: \"gs://b/wh\"\n    object_store:\n      type: \"gcs\"\n      allow_http: true\n"
                + "      options:\n        google_skip_signature: \"true\"\n  caching:\n"));
        assertTrue(yaml, yaml.contains("    ttl_seconds: 7200\n    poll_interval_ms: 250\n    max_partition_size: \"1GB\"\n    split_size: \"32MiB\"\n"));
        assertTrue(yaml, yaml.contains("    bind_address: \"127.0.0.2\"\n    discovery_service: \"static://a:1,b:2\"\n"
                + "  cluster:\n    node_id: \"n1\"\n    replication_factor: 2\n    heartbeat_interval_ms: 200\n    failure_timeout_ms: 1500\n"));
    }

    @Test
    public void scalarsAreJson() {
        assertEquals("\"a\\\"b\\\\c\\nd\\u0001\"", Yaml.json("a\"b\\c\nd\u0001"));
        assertEquals("[1, \"x\", true]", Yaml.json(java.util.Arrays.asList(1, "x", true)));
        assertEquals("{\"k\": \"v\"}", Yaml.json(Collections.singletonMap("k", "v")));
    }

    @Test
    public void aMissingBinaryIsNamed() throws Exception {
        ArrowCacheNode node = new ArrowCacheNode(Files.createTempDirectory("testkit-node"), "jdbc:sqlite:/c.db", "ice", "file:///wh")
                .binary("/nonexistent/arrow-cache");
        try {
            node.start();
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("/nonexistent/arrow-cache"));
            return;
        }
        throw new AssertionError("started a node from a missing binary");
    }
}
