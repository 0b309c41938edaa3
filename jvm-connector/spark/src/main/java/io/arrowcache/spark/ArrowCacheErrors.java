package io.arrowcache.spark;

import io.arrowcache.bridge.ArrowCacheException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.connector.catalog.Identifier;

import java.util.Arrays;

/** The bridge's errors as what Spark users expect: AnalysisException or IllegalArgumentException. */
final class ArrowCacheErrors {
    private ArrowCacheErrors() {
    }

    /** Rethrows a failure of planning {@code conf}'s table. */
    static RuntimeException translate(RuntimeException e, ArrowCacheReadConf conf) {
        if (!(e instanceof ArrowCacheException)) {
            return e;
        }
        ArrowCacheException ae = (ArrowCacheException) e;
        String code = String.valueOf(ae.code());
        String msg = ae.getMessage();
        switch (code) {
            case "NOT_FOUND":
                // The table exists but not the snapshot, branch or tag the read selects.
                String selector = conf.selectorOption();
                if (selector != null && msg != null && (msg.contains("snapshot") || msg.contains("branch or tag"))) {
                    return new IllegalArgumentException("option " + selector + ": " + msg, e);
                }
                return sneaky(noSuchTable(conf.tableId(), ae));
            case "UNAVAILABLE":
            case "DEADLINE_EXCEEDED":
                return new IllegalArgumentException("cannot reach the arrow-cache cluster at " + conf.cluster()
                        + " (option " + ArrowCacheReadConf.CLUSTER + "): " + msg, e);
            case "PERMISSION_DENIED":
                // The node reached the table's store or catalog, which refused the node's credentials.
                return new IllegalStateException("arrow-cache cannot read " + conf.tableId()
                        + ": the store or catalog refused the cache node's credentials (check the node's config): " + msg, e);
            case "INVALID_ARGUMENT":
            case "UNIMPLEMENTED":
                return new IllegalArgumentException("arrow-cache refused the read of " + conf.tableId() + ": " + msg, e);
            default:
                return e;
        }
    }

    /**
     * Spark's own TABLE_OR_VIEW_NOT_FOUND error (the constructor every Spark line has: 4.x dropped
     * the free-text one), with the node's message attached as a suppressed exception.
     */
    static NoSuchTableException noSuchTable(String table, ArrowCacheException fromNode) {
        String[] parts = table.split("\\.");
        NoSuchTableException e = new NoSuchTableException(
                Identifier.of(Arrays.copyOf(parts, parts.length - 1), parts[parts.length - 1]));
        e.addSuppressed(fromNode);
        return e;
    }

    /** Throws a checked exception (AnalysisException) where the Spark interface declares none. */
    @SuppressWarnings("unchecked")
    static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }
}
