package io.arrowcache.trino;

import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ConnectorPageSource;
import io.trino.spi.connector.ConnectorPageSourceProvider;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplit;
import io.trino.spi.connector.ConnectorTableCredentials;
import io.trino.spi.connector.ConnectorTableHandle;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.connector.DynamicFilter;
import io.trino.spi.connector.MemoryContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

public final class ArrowCachePageSourceProvider implements ConnectorPageSourceProvider {
    private final ArrowCacheCluster cluster;

    public ArrowCachePageSourceProvider(ArrowCacheCluster cluster) {
        this.cluster = cluster;
    }

    // Trino release-specific signature (483: table credentials and a memory context; see
    // TrinoRelease). The page source reports the native memory of the batch it holds.
    @Override
    public ConnectorPageSource createPageSource(ConnectorTransactionHandle transaction, ConnectorSession session, ConnectorSplit split,
                                                ConnectorTableHandle table, Optional<ConnectorTableCredentials> tableCredentials,
                                                List<ColumnHandle> columns, DynamicFilter dynamicFilter, MemoryContext memoryContext) {
        List<ArrowCacheColumnHandle> cols = new ArrayList<>();
        for (ColumnHandle c : columns) {
            cols.add((ArrowCacheColumnHandle) c);
        }
        return new ArrowCachePageSource(cluster, (ArrowCacheSplit) split, cols, memoryContext);
    }
}
