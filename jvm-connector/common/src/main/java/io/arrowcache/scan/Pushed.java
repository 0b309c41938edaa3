package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.util.Objects;

/**
 * The {@code pushed} object of a scan FlightInfo's {@code app_metadata}, present when the request
 * had an {@code aggregate} or an {@code order_by}: {@code {"aggregate": "partial"|"final" (absent
 * without one), "order_by": bool, "limit": bool, "splits": n}}, what of the request the cache
 * applied. With a {@code partial} aggregate or without one, each endpoint's rows are its split's
 * (aggregated, sorted, limited), so a client still merges, re-sorts and limits; with a
 * {@code final} aggregate the one endpoint holds the answer. Immutable.
 */
public final class Pushed implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Aggregate.Mode aggregate;  // null: no aggregate
    private final boolean orderBy;
    private final boolean limit;
    private final int splits;

    public Pushed(Aggregate.Mode aggregate, boolean orderBy, boolean limit, int splits) {
        if (splits < 0) {
            throw new IllegalArgumentException("splits must be >= 0, got " + splits);
        }
        this.aggregate = aggregate;
        this.orderBy = orderBy;
        this.limit = limit;
        this.splits = splits;
    }

    /** The mode of the aggregate applied, or null when none was. */
    public Aggregate.Mode aggregate() {
        return aggregate;
    }

    /** Whether the rows are sorted by the request's {@code order_by} (per endpoint, or in all for {@code final}). */
    public boolean orderBy() {
        return orderBy;
    }

    /** Whether the request's {@code limit} was applied after the aggregate and order (per endpoint unless {@code final}). */
    public boolean limit() {
        return limit;
    }

    /** The number of splits the scan was cut into (1 for a {@code final} aggregate, its one endpoint). */
    public int splits() {
        return splits;
    }

    /**
     * Reads the object; {@code order_by} and {@code limit} default to false, {@code splits} is
     * required. Keys this class does not know are ignored, as {@link ScanMetadata} ignores them.
     * An error names {@code path} ({@code "pushed.splits: ..."}).
     */
    public static Pushed fromJsonNode(JsonNode n, String path) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(path + ": must be an object, got " + Json.abbreviate(String.valueOf(n)));
        }
        Aggregate.Mode mode = null;
        JsonNode aggregate = Json.present(n, "aggregate");
        if (aggregate != null) {
            if (!aggregate.isTextual()) {
                throw new IllegalArgumentException(path + ".aggregate: must be partial or final, got " + aggregate);
            }
            mode = Aggregate.Mode.fromWireName(aggregate.asText(), path + ".aggregate");
        }
        JsonNode splits = n.get("splits");
        if (splits == null || !splits.isIntegralNumber() || !splits.canConvertToInt() || splits.asInt() < 0) {
            throw new IllegalArgumentException(path + ".splits: required, a whole number >= 0, got " + splits);
        }
        return new Pushed(mode, flag(n, "order_by", path), flag(n, "limit", path), splits.asInt());
    }

    private static boolean flag(JsonNode n, String key, String path) {
        JsonNode v = n.get(key);
        if (v == null) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException(path + "." + key + ": must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    /** As the node writes it: {@code aggregate} when there is one, the other three always. */
    public ObjectNode toJsonNode() {
        ObjectNode n = Json.NODES.objectNode();
        if (aggregate != null) {
            n.put("aggregate", aggregate.wireName());
        }
        n.put("order_by", orderBy);
        n.put("limit", limit);
        n.put("splits", splits);
        return n;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Pushed)) {
            return false;
        }
        Pushed p = (Pushed) o;
        return aggregate == p.aggregate && orderBy == p.orderBy && limit == p.limit && splits == p.splits;
    }

    @Override
    public int hashCode() {
        return Objects.hash(aggregate, orderBy, limit, splits);
    }

    @Override
    public String toString() {
        return Json.write(toJsonNode());
    }
}
