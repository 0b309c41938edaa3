package io.arrowcache.trino;

import io.trino.spi.connector.ConnectorTransactionHandle;

/** The cache is read-only and every scan names its snapshot: one handle serves every transaction. */
public enum ArrowCacheTransactionHandle implements ConnectorTransactionHandle {
    INSTANCE
}
