package io.arrowcache.trino;

import io.arrowcache.client.PlannedScan;
import io.arrowcache.scan.ScanPlan;
import io.trino.spi.HostAddress;
import io.trino.spi.SplitWeight;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorSplitManager;
import io.trino.spi.connector.ConnectorSplitSource;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.connector.Constraint;
import io.trino.spi.connector.FixedSplitSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** Splits are the cluster's splits: the handle's scan request is planned once, by any node. */
public final class ArrowCacheSplitManager implements ConnectorSplitManager {
    private final ArrowCacheCluster cluster;

    public ArrowCacheSplitManager(ArrowCacheCluster cluster) {
        this.cluster = cluster;
    }

    // Trino release-specific signature (483: the dynamic filter's columns; see TrinoRelease).
    @Override
    public ConnectorSplitSource getSplits(ConnectorTransactionHandle transaction, ConnectorSession session, ConnectorTableHandle table,
                                          Set<ColumnHandle> dynamicFilterColumns, Constraint constraint) {
        ArrowCacheTableHandle handle = (ArrowCacheTableHandle) table;
        if (handle.getConstraint().isNone()) {
            return FixedSplitSource.emptySplitSource();
        }
        PlannedScan scan = cluster.plan(handle.scanRequest());
        return new FixedSplitSource(splits(scan.plan()));
    }

    static List<ConnectorSplit> splits(ScanPlan plan) {
        long total = 0;
        for (ScanPlan.Split s : plan.splits()) {
            total += Math.max(0, s.bytes());
        }
        double mean = plan.splits().isEmpty() ? 1 : Math.max(1, (double) total / plan.splits().size());
        List<ConnectorSplit> out = new ArrayList<>();
        for (ScanPlan.Split s : plan.splits()) {
            List<HostAddress> addresses = new ArrayList<>();
            for (String host : s.hosts()) {
                addresses.add(HostAddress.fromString(host));
            }
            // Weight by bytes relative to the mean, within Trino's accepted range.
            double proportion = Math.min(1.0, Math.max(0.05, s.bytes() / mean / 2));
            out.add(new ArrowCacheSplit(s.ticket(), Arrays.asList(s.locations()), addresses, s.bytes(), s.rows(),
                    SplitWeight.fromProportion(proportion)));
        }
        return out;
    }
}
