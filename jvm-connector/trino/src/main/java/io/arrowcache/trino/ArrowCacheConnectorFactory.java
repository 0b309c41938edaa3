package io.arrowcache.trino;

import io.trino.spi.TrinoException;
import io.trino.spi.connector.Connector;
import io.trino.spi.connector.ConnectorContext;
import io.trino.spi.connector.ConnectorFactory;

import java.util.Map;

import static io.trino.spi.StandardErrorCode.CONFIGURATION_INVALID;

/**
 * {@code connector.name=arrow-cache}. Trino names connectors {@code [a-z][a-z0-9_]*}, so the
 * factory's name is {@code arrow_cache}; Trino reads {@code connector.name=arrow-cache} in a
 * catalog file as {@code arrow_cache} (logging that the dash is deprecated), and
 * {@code CREATE CATALOG ... USING arrow_cache} names it directly.
 */
public final class ArrowCacheConnectorFactory implements ConnectorFactory {
    public static final String NAME = "arrow_cache";

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public Connector create(String catalogName, Map<String, String> config, ConnectorContext context) {
        ArrowCacheConfig parsed;
        try {
            parsed = ArrowCacheConfig.parse(config);
        } catch (IllegalArgumentException e) {
            throw new TrinoException(CONFIGURATION_INVALID, "arrow-cache catalog " + catalogName + ": " + e.getMessage(), e);
        }
        // No connection yet: a cluster that is down fails queries, not the catalog (or the server).
        return new ArrowCacheConnector(new ArrowCacheCluster(catalogName, parsed), context.getTypeManager());
    }
}
