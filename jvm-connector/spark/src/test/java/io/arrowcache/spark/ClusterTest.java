package io.arrowcache.spark;

import io.arrowcache.client.ArrowCacheClient;
import io.arrowcache.client.ClusterStatus;
import io.arrowcache.testkit.ArrowCacheNode;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.junit.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static io.arrowcache.spark.Compare.assertSameRows;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

/**
 * A two-node cluster with replication 2: input partitions prefer their split's owners, every row
 * arrives once, and a read keeps working (failing over to the replica) after a node dies.
 */
public class ClusterTest {
    @Test
    public void preferredLocationsAndFailover() throws Exception {
        TestEnv env = TestEnv.get();
        TestTables.allTypes(env);
        String table = TestTables.PARTITIONED;
        try (ArrowCacheNode n1 = new ArrowCacheNode(env.workDir.resolve("n1"), "127.0.0.1", env.catalogUri, TestEnv.ICEBERG, env.warehouseUri);
             ArrowCacheNode n2 = new ArrowCacheNode(env.workDir.resolve("n2"), "127.0.0.2", env.catalogUri, TestEnv.ICEBERG, env.warehouseUri)) {
            String discovery = "static://" + n1.cluster() + "," + n2.cluster();
            n1.join(discovery, "n1", 2).start();
            n2.join(discovery, "n2", 2).start();
            waitForMembers(n1.cluster(), 2);
            String cluster = n1.cluster() + "," + n2.cluster();

            Map<String, String> options = new HashMap<>();
            options.put("cache.cluster", cluster);
            options.put("table.id", TestEnv.tableId(table));
            ArrowCacheTable t = ArrowCacheTables.load(ArrowCacheReadConf.fromOptions(options));
            InputPartition[] partitions = t.newScanBuilder(CaseInsensitiveStringMap.empty()).build().toBatch().planInputPartitions();
            Set<String> primaries = new HashSet<>();
            for (InputPartition p : partitions) {
                String[] hosts = p.preferredLocations();
                assertEquals(Arrays.toString(hosts), new HashSet<>(Arrays.asList("127.0.0.1", "127.0.0.2")), new HashSet<>(Arrays.asList(hosts)));
                primaries.add(hosts[0]);
            }
            assertEquals("both nodes are primaries of some split", 2, primaries.size());

            Dataset<Row> expected = env.icebergRead(table).localCheckpoint(true);
            assertSameRows("two nodes", expected, read(env, cluster, table));
            assertSameRows("two nodes, filtered", expected.where("i > 0"), read(env, cluster, table).where("i > 0"));

            // n2 dies; n1 still lists it as an owner until failure_timeout_ms passes, so its
            // splits fail over to n1 while they are read.
            n2.kill();
            assertSameRows("after n2 died", expected, read(env, cluster, table));
            assertSameRows("after n2 died, filtered", expected.where("s LIKE 'bc%'"), read(env, cluster, table).where("s LIKE 'bc%'"));
            assertTrue(n1.isAlive());
        }
    }

    /**
     * A node killed while a split streams from it: the reader fails with an IOException (there is
     * no other owner), the JVM lives on, and the reader's memory is freed on both sides.
     */
    @Test
    public void nodeKilledMidStream() throws Exception {
        TestEnv env = TestEnv.get();
        String table = "kill_mid_stream";
        env.sql("DROP TABLE IF EXISTS " + TestEnv.iceberg(table));
        env.sql("CREATE TABLE " + TestEnv.iceberg(table) + " (id BIGINT, s STRING) USING iceberg TBLPROPERTIES ("
                + "'write.parquet.row-group-size-bytes'='1', 'write.parquet.row-group-check-min-record-count'='100', "
                + "'write.parquet.row-group-check-max-record-count'='100')");
        env.sql("INSERT INTO " + TestEnv.iceberg(table) + " SELECT id, repeat('x', 1000) FROM range(100000)");
        try (ArrowCacheNode n = new ArrowCacheNode(env.workDir.resolve("n3"), "127.0.0.1", env.catalogUri, TestEnv.ICEBERG, env.warehouseUri)) {
            n.start();
            Map<String, String> options = new HashMap<>();
            options.put("cache.cluster", n.cluster());
            options.put("table.id", TestEnv.tableId(table));
            ArrowCacheClient.shared(n.cluster(), 10_000);
            long jvmStart = io.arrowcache.client.Allocators.root().getAllocatedMemory();
            long nativeStart = ArrowCacheClient.nativeBytesInUse();
            org.apache.spark.sql.connector.read.Batch batch = ArrowCacheTables.load(ArrowCacheReadConf.fromOptions(options))
                    .newScanBuilder(CaseInsensitiveStringMap.empty()).build().toBatch();
            InputPartition[] partitions = batch.planInputPartitions();
            long rows = 0;
            java.io.IOException failure = null;
            try (org.apache.spark.sql.connector.read.PartitionReader<org.apache.spark.sql.vectorized.ColumnarBatch> reader =
                         batch.createReaderFactory().createColumnarReader(partitions[0])) {
                for (int i = 0; i < 5 && reader.next(); i++) {
                    rows += reader.get().numRows();
                }
                n.kill();
                while (reader.next()) {
                    rows += reader.get().numRows();
                }
            } catch (java.io.IOException e) {
                failure = e;
            }
            System.out.println("nodeKilledMidStream: " + rows + " rows before " + (failure == null ? "the end" : failure.getMessage()));
            // ~100 MB cannot all be in flight when the node dies.
            assertTrue("the read went on after its only node died (" + rows + " rows)", failure != null);
            assertTrue(failure.getMessage(), failure.getMessage().contains("arrow-cache split") && rows < 100000);
            assertEquals(jvmStart, io.arrowcache.client.Allocators.root().getAllocatedMemory());
            long nativeNow = ArrowCacheClient.nativeBytesInUse();
            for (int i = 0; i < 50 && nativeNow != nativeStart; i++) {
                Thread.sleep(100);
                nativeNow = ArrowCacheClient.nativeBytesInUse();
            }
            assertEquals(nativeStart, nativeNow);
        }
    }

    private static Dataset<Row> read(TestEnv env, String cluster, String table) {
        return env.spark.read().format("arrow-cache").option("cache.cluster", cluster)
                .option("table.id", TestEnv.tableId(table)).load();
    }

    private static void waitForMembers(String cluster, int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        ClusterStatus status = null;
        while (System.currentTimeMillis() < deadline) {
            status = ArrowCacheClient.shared(cluster, 10_000).clusterStatus();
            if (status.upCount() == n) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the cluster did not come up with " + n + " members: " + status);
    }
}
