package io.arrowcache.trino;

import io.arrowcache.scan.ScanPlan;
import io.trino.spi.HostAddress;
import io.trino.spi.connector.ConnectorSplit;
import org.junit.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

/** The cluster's splits as Trino splits: owners' hosts as addresses (affinity), Flight URIs for reading. */
public class ArrowCacheSplitManagerTest {
    private static final String PLAN = "{\"snapshot_id\": 7, \"total_rows\": 300, \"total_bytes\": 3000, \"splits\": ["
            + "{\"ticket\": \"AQI=\", \"bytes\": 2000, \"rows\": 200, \"owners\": ["
            + "  {\"node_id\": \"n1\", \"flight\": \"grpc+tcp://10.0.0.1:8815\", \"host\": \"10.0.0.1\"},"
            + "  {\"node_id\": \"n2\", \"flight\": \"grpc+tcp://10.0.0.2:8815\", \"host\": \"10.0.0.2\"}]},"
            + "{\"ticket\": \"Aw==\", \"bytes\": 1000, \"rows\": 100, \"owners\": ["
            + "  {\"node_id\": \"n2\", \"flight\": \"grpc+tcp://10.0.0.2:8815\", \"host\": \"10.0.0.2\"},"
            + "  {\"node_id\": \"n3\", \"flight\": \"grpc+tcp://10.0.0.2:9815\", \"host\": \"10.0.0.2\"}]},"
            + "{\"ticket\": \"BA==\", \"bytes\": 0, \"owners\": []}"
            + "]}";

    @Test
    public void splitsCarryTheOwnersAsAddressesAndLocations() {
        List<ConnectorSplit> splits = ArrowCacheSplitManager.splits(ScanPlan.fromJson(PLAN));
        assertEquals(3, splits.size());

        ArrowCacheSplit first = (ArrowCacheSplit) splits.get(0);
        assertEquals(Arrays.asList(HostAddress.fromString("10.0.0.1"), HostAddress.fromString("10.0.0.2")), first.getAddresses());
        assertEquals(Arrays.asList("grpc+tcp://10.0.0.1:8815", "grpc+tcp://10.0.0.2:8815"), first.getLocations());
        assertTrue("any worker may read a split (its owners are cache nodes, not Trino workers)", first.isRemotelyAccessible());
        assertEquals(200, first.getRows());
        assertEquals(2000, first.getBytes());

        // Two owners on one host: one address, both Flight URIs (primary first).
        ArrowCacheSplit second = (ArrowCacheSplit) splits.get(1);
        assertEquals(Collections.singletonList(HostAddress.fromString("10.0.0.2")), second.getAddresses());
        assertEquals(Arrays.asList("grpc+tcp://10.0.0.2:8815", "grpc+tcp://10.0.0.2:9815"), second.getLocations());

        // Bigger splits weigh more.
        assertTrue(first.getSplitWeight().getRawValue() > second.getSplitWeight().getRawValue());

        ArrowCacheSplit third = (ArrowCacheSplit) splits.get(2);
        assertEquals(Collections.emptyList(), third.getAddresses());
        assertEquals(-1, third.getRows());
    }
}
