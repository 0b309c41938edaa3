package io.arrowcache.trino;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.trino.spi.connector.ColumnHandle;
import io.trino.spi.connector.ColumnMetadata;
import io.trino.spi.type.Type;

import java.util.Locale;
import java.util.Objects;

/**
 * A top-level column: its name as the table has it (any case), its Trino type and, for Iceberg's
 * fixed(L) (varbinary in Trino), its width L, which decides which literals can be pushed down.
 */
public final class ArrowCacheColumnHandle implements ColumnHandle {
    private final String name;
    private final Type type;
    private final int fixedSize;

    @JsonCreator
    public ArrowCacheColumnHandle(@JsonProperty("name") String name, @JsonProperty("type") Type type,
                                  @JsonProperty("fixedSize") int fixedSize) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        this.fixedSize = fixedSize;
    }

    public ArrowCacheColumnHandle(String name, Type type) {
        this(name, type, 0);
    }

    /** The column's name in the table (the scan request's name for it). */
    @JsonProperty
    public String getName() {
        return name;
    }

    @JsonProperty
    public Type getType() {
        return type;
    }

    /** The byte width of a fixed(L) column, 0 for every other type. */
    @JsonProperty
    public int getFixedSize() {
        return fixedSize;
    }

    public ColumnMetadata toColumnMetadata() {
        return ColumnMetadata.builder().setName(name.toLowerCase(Locale.ENGLISH)).setType(type).setNullable(true).build();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ArrowCacheColumnHandle)) {
            return false;
        }
        ArrowCacheColumnHandle other = (ArrowCacheColumnHandle) o;
        return name.equals(other.name) && type.equals(other.type) && fixedSize == other.fixedSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, fixedSize);
    }

    @Override
    public String toString() {
        return name + ":" + type.getDisplayName();
    }
}
