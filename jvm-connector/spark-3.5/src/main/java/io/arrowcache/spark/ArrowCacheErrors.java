package io.arrowcache.spark;

import io.arrowcache.bridge.ArrowCacheException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;

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
                if (msg != null && msg.contains("snapshot") && (conf.snapshotId() != null || conf.asOfTimestampMs() != null)) {
                    String option = conf.snapshotId() != null
                            ? ArrowCacheReadConf.SNAPSHOT_ID + "=" + conf.snapshotId()
                            : ArrowCacheReadConf.AS_OF_TIMESTAMP + "=" + conf.asOfTimestampMs();
                    return new IllegalArgumentException("option " + option + ": " + msg, e);
                }
                return sneaky(noSuchTable(conf.tableId(), msg));
            case "UNAVAILABLE":
            case "DEADLINE_EXCEEDED":
                return new IllegalArgumentException("cannot reach the arrow-cache cluster at " + conf.cluster()
                        + " (option " + ArrowCacheReadConf.CLUSTER + "): " + msg, e);
            case "INVALID_ARGUMENT":
            case "UNIMPLEMENTED":
                return new IllegalArgumentException("arrow-cache refused the read of " + conf.tableId() + ": " + msg, e);
            default:
                return e;
        }
    }

    static NoSuchTableException noSuchTable(String table, String detail) {
        return new NoSuchTableException("arrow-cache table " + table + " does not exist"
                + (detail == null || detail.isEmpty() ? "" : ": " + detail), scala.Option.empty());
    }

    /** Throws a checked exception (AnalysisException) where the Spark interface declares none. */
    @SuppressWarnings("unchecked")
    static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }
}
