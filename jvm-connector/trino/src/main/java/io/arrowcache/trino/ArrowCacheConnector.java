package io.arrowcache.trino;

import io.trino.spi.connector.Connector;
import io.trino.spi.connector.ConnectorMetadata;
import io.trino.spi.connector.ConnectorPageSourceProvider;
import io.trino.spi.connector.ConnectorSession;
import io.trino.spi.connector.ConnectorSplitManager;
import io.trino.spi.connector.ConnectorTransactionHandle;
import io.trino.spi.transaction.IsolationLevel;
import io.trino.spi.type.TypeManager;

/** One catalog: its cluster connection, metadata, splits and page sources. Read-only. */
public final class ArrowCacheConnector implements Connector {
    private final ArrowCacheCluster cluster;
    private final TypeManager types;
    private final ArrowCacheSplitManager splitManager;
    private final ArrowCachePageSourceProvider pageSourceProvider;

    public ArrowCacheConnector(ArrowCacheCluster cluster, TypeManager types) {
        this.cluster = cluster;
        this.types = types;
        this.splitManager = new ArrowCacheSplitManager(cluster);
        this.pageSourceProvider = new ArrowCachePageSourceProvider(cluster);
    }

    @Override
    public ConnectorTransactionHandle beginTransaction(IsolationLevel isolationLevel, boolean readOnly, boolean autoCommit) {
        return ArrowCacheTransactionHandle.INSTANCE;
    }

    @Override
    public ConnectorMetadata getMetadata(ConnectorSession session, ConnectorTransactionHandle transactionHandle) {
        return new ArrowCacheMetadata(cluster, types);
    }

    @Override
    public ConnectorSplitManager getSplitManager() {
        return splitManager;
    }

    @Override
    public ConnectorPageSourceProvider getPageSourceProvider() {
        return pageSourceProvider;
    }

    @Override
    public void shutdown() {
        cluster.close();
    }
}
