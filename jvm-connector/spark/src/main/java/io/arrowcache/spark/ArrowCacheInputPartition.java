package io.arrowcache.spark;

import org.apache.spark.sql.connector.read.InputPartition;

import java.util.Arrays;

/** One split: its ticket and its owners' Flight URIs (primary first); preferred locations are their hosts. */
public class ArrowCacheInputPartition implements InputPartition {
    private static final long serialVersionUID = 1L;

    private final int index;
    private final byte[] ticket;
    private final String[] locations;
    private final String[] hosts;

    ArrowCacheInputPartition(int index, byte[] ticket, String[] locations, String[] hosts) {
        this.index = index;
        this.ticket = ticket;
        this.locations = locations;
        this.hosts = hosts;
    }

    public int index() {
        return index;
    }

    public byte[] ticket() {
        return ticket;
    }

    /** Flight URIs, primary first. */
    public String[] locations() {
        return locations.clone();
    }

    /** The locations for attempt {@code attempt} of the task: a retry starts at the next owner. */
    public String[] locationsForAttempt(int attempt) {
        if (locations.length < 2 || attempt <= 0) {
            return locations.clone();
        }
        String[] out = new String[locations.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = locations[(i + attempt) % locations.length];
        }
        return out;
    }

    @Override
    public String[] preferredLocations() {
        return hosts.clone();
    }

    @Override
    public String toString() {
        return "ArrowCacheInputPartition(" + index + ", owners=" + Arrays.toString(locations) + ")";
    }
}
