package io.arrowcache.trino;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.trino.spi.HostAddress;
import io.trino.spi.SplitWeight;
import io.trino.spi.connector.ConnectorSplit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One split of the cluster's plan: its ticket (which carries the table, snapshot, columns, filter
 * and limit), its owners' Flight addresses (primary first; the bridge fails over along them) and
 * their hosts, which Trino's scheduler prefers when it has workers there.
 */
public final class ArrowCacheSplit implements ConnectorSplit {
    private final byte[] ticket;
    private final List<String> locations;
    private final List<HostAddress> addresses;
    private final long bytes;
    private final long rows;
    private final SplitWeight weight;

    @JsonCreator
    public ArrowCacheSplit(@JsonProperty("ticket") byte[] ticket,
                           @JsonProperty("locations") List<String> locations,
                           @JsonProperty("addresses") List<HostAddress> addresses,
                           @JsonProperty("bytes") long bytes,
                           @JsonProperty("rows") long rows,
                           @JsonProperty("splitWeight") SplitWeight weight) {
        this.ticket = Objects.requireNonNull(ticket, "ticket");
        this.locations = Collections.unmodifiableList(new ArrayList<>(locations));
        this.addresses = Collections.unmodifiableList(new ArrayList<>(addresses));
        this.bytes = bytes;
        this.rows = rows;
        this.weight = weight == null ? SplitWeight.standard() : weight;
    }

    @JsonProperty
    public byte[] getTicket() {
        return ticket;
    }

    @JsonProperty
    public List<String> getLocations() {
        return locations;
    }

    @JsonProperty
    @Override
    public List<HostAddress> getAddresses() {
        return addresses;
    }

    @Override
    public boolean isRemotelyAccessible() {
        return true;
    }

    @JsonProperty
    public long getBytes() {
        return bytes;
    }

    @JsonProperty
    public long getRows() {
        return rows;
    }

    @JsonProperty
    @Override
    public SplitWeight getSplitWeight() {
        return weight;
    }

    @Override
    public long getRetainedSizeInBytes() {
        long size = 64 + ticket.length;
        for (String l : locations) {
            size += 48 + 2L * l.length();
        }
        return size + 64L * addresses.size();
    }

    @Override
    public String toString() {
        return "ArrowCacheSplit{locations=" + locations + ", bytes=" + bytes + ", rows=" + rows + "}";
    }
}
