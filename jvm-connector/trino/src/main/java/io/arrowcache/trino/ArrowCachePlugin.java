package io.arrowcache.trino;

import io.trino.spi.Plugin;
import io.trino.spi.connector.ConnectorFactory;

import java.util.Collections;

/** The Trino plugin of arrow-cache: one connector, {@code arrow-cache}. */
public final class ArrowCachePlugin implements Plugin {
    @Override
    public Iterable<ConnectorFactory> getConnectorFactories() {
        return Collections.singletonList(new ArrowCacheConnectorFactory());
    }
}
