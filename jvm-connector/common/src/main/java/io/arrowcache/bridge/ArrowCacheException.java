package io.arrowcache.bridge;

/**
 * An error of the native bridge: the cluster or a node refused a request, could not be reached, or
 * the bridge itself failed. The message is the Rust side's, meant for users; {@link #code()} is
 * the canonical gRPC status name so that connectors can map errors (for example {@code NOT_FOUND}
 * to Spark's {@code AnalysisException}, {@code INVALID_ARGUMENT} to an
 * {@link IllegalArgumentException}).
 *
 * <p>Thrown by the native methods of {@link NativeBridge}, which construct it through JNI with the
 * {@code (String, String)} constructor: keep that constructor.
 */
public final class ArrowCacheException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The table, partition, column or split asked for does not exist. */
    public static final String NOT_FOUND = "NOT_FOUND";
    /** The request is malformed (bad JSON, unknown column, bad filter, bad address, closed handle). */
    public static final String INVALID_ARGUMENT = "INVALID_ARGUMENT";
    /** No node answered (unreachable, down, timed out); worth retrying elsewhere or later. */
    public static final String UNAVAILABLE = "UNAVAILABLE";
    /** The node cannot do it (for example an unsupported type or filter). */
    public static final String UNIMPLEMENTED = "UNIMPLEMENTED";
    /** The node is out of memory for this request. */
    public static final String RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED";
    /** A data file is corrupt or unreadable. */
    public static final String DATA_LOSS = "DATA_LOSS";
    /** A bug, in a node or in the bridge (a Rust panic is reported with this code). */
    public static final String INTERNAL = "INTERNAL";
    public static final String PERMISSION_DENIED = "PERMISSION_DENIED";
    public static final String UNAUTHENTICATED = "UNAUTHENTICATED";
    public static final String DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED";
    public static final String UNKNOWN = "UNKNOWN";

    private final String code;

    /** Called by the native side. */
    public ArrowCacheException(String code, String message) {
        super(message);
        this.code = code == null || code.isEmpty() ? UNKNOWN : code;
    }

    public ArrowCacheException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code == null || code.isEmpty() ? UNKNOWN : code;
    }

    /** The gRPC status name: {@code NOT_FOUND}, {@code INVALID_ARGUMENT}, {@code UNAVAILABLE}, ... */
    public String code() {
        return code;
    }

    public boolean isNotFound() {
        return NOT_FOUND.equals(code);
    }

    public boolean isInvalidArgument() {
        return INVALID_ARGUMENT.equals(code);
    }

    public boolean isUnavailable() {
        return UNAVAILABLE.equals(code);
    }

    @Override
    public String toString() {
        return getClass().getName() + " [" + code + "]: " + getMessage();
    }
}
