package io.arrowcache.client;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * The connectors' Arrow memory: one root allocator per JVM, a child per reader, so a reader's
 * memory is accounted for and a leak is reported when the reader closes.
 */
public final class Allocators {
    private static final RootAllocator ROOT = new RootAllocator(Long.MAX_VALUE);

    private Allocators() {
    }

    /** The process-wide root; {@code root().getAllocatedMemory()} is what the connectors hold. */
    public static BufferAllocator root() {
        return ROOT;
    }

    /** A child of the root for one reader or plan; close it when done. */
    public static BufferAllocator newChild(String name) {
        return ROOT.newChildAllocator(name, 0, Long.MAX_VALUE);
    }
}
