package io.arrowcache.trino;

import io.trino.spi.ErrorCode;
import io.trino.spi.ErrorCodeSupplier;
import io.trino.spi.ErrorType;

import static io.trino.spi.ErrorType.EXTERNAL;
import static io.trino.spi.ErrorType.INTERNAL_ERROR;
import static io.trino.spi.ErrorType.USER_ERROR;

/** The connector's error codes (the range 0x0A0C_0000 is this connector's). */
public enum ArrowCacheErrorCode implements ErrorCodeSupplier {
    /** No node of the cluster answered (down, unreachable, timed out). */
    ARROW_CACHE_UNAVAILABLE(0, EXTERNAL),
    /** The cluster refused or failed a request (a node's error, with its message). */
    ARROW_CACHE_ERROR(1, EXTERNAL),
    /** The cluster served a type or value this connector cannot represent in Trino. */
    ARROW_CACHE_UNSUPPORTED_TYPE(2, EXTERNAL),
    /** Reading a split failed part-way (after failing over across the split's owners). */
    ARROW_CACHE_SPLIT_FAILED(3, EXTERNAL),
    /** The native bridge could not be loaded. */
    ARROW_CACHE_NATIVE_LIBRARY(4, EXTERNAL),
    /** A request the user can fix (for example a table version that does not exist). */
    ARROW_CACHE_BAD_REQUEST(5, USER_ERROR),
    /** A bug in the connector or the bridge. */
    ARROW_CACHE_INTERNAL(6, INTERNAL_ERROR);

    private final ErrorCode errorCode;

    ArrowCacheErrorCode(int code, ErrorType type) {
        errorCode = new ErrorCode(code + 0x0A0C_0000, name(), type);
    }

    @Override
    public ErrorCode toErrorCode() {
        return errorCode;
    }
}
