package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.util.Objects;

/**
 * What a planned scan read: {@code {"snapshot_id": n|null, "schema_id": n, "pushed": {..}}}, a scan FlightInfo's
 * {@code app_metadata}, and the same two keys of the bridge's plan (which {@link ScanPlan} reads
 * through this class). The snapshot is null for a table without snapshots; the schema id is null
 * when the answer does not name it (the bridge's plan before it carried one). A scan request with an
 * {@code aggregate} or an {@code order_by} adds {@code "pushed": {..}}, what the cache applied
 * ({@link Pushed}; null when absent).
 */
public final class ScanMetadata implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Long snapshotId;
    private final Integer schemaId;
    private final Pushed pushed;

    public ScanMetadata(Long snapshotId, Integer schemaId) {
        this(snapshotId, schemaId, null);
    }

    public ScanMetadata(Long snapshotId, Integer schemaId, Pushed pushed) {
        this.snapshotId = snapshotId;
        this.schemaId = schemaId;
        this.pushed = pushed;
    }

    public static ScanMetadata fromJson(String text) {
        return fromJsonNode(Json.read(text));
    }

    /**
     * Reads {@code snapshot_id}, {@code schema_id} and {@code pushed} of an object (other keys are
     * not this class's).
     */
    public static ScanMetadata fromJsonNode(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("scan metadata must be a JSON object, got " + Json.abbreviate(String.valueOf(n)));
        }
        JsonNode snap = n.get("snapshot_id");
        if (snap != null && !snap.isNull() && !(snap.isIntegralNumber() && snap.canConvertToLong())) {
            throw new IllegalArgumentException("scan metadata field snapshot_id: must be a whole number or null, got " + snap);
        }
        JsonNode schema = n.get("schema_id");
        if (schema != null && !schema.isNull() && !(schema.isIntegralNumber() && schema.canConvertToInt())) {
            throw new IllegalArgumentException("scan metadata field schema_id: must be a whole number (32 bits), got " + schema);
        }
        JsonNode pushed = Json.present(n, "pushed");
        Pushed p;
        try {
            p = pushed == null ? null : Pushed.fromJsonNode(pushed, "pushed");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scan metadata field " + e.getMessage(), e);
        }
        return new ScanMetadata(snap == null || snap.isNull() ? null : snap.asLong(),
                schema == null || schema.isNull() ? null : schema.asInt(), p);
    }

    /** The snapshot read, or null for a table without snapshots. */
    public Long snapshotId() {
        return snapshotId;
    }

    /** The id of the schema the scan read the table with, or null when not known. */
    public Integer schemaId() {
        return schemaId;
    }

    /** What the cache applied beyond filters and projections, or null (a plain scan). */
    public Pushed pushed() {
        return pushed;
    }

    /** {@code snapshot_id} always (null without a snapshot, as the node writes it), {@code schema_id} when known. */
    public ObjectNode toJsonNode() {
        ObjectNode n = Json.NODES.objectNode();
        if (snapshotId == null) {
            n.putNull("snapshot_id");
        } else {
            n.put("snapshot_id", snapshotId);
        }
        if (schemaId != null) {
            n.put("schema_id", schemaId);
        }
        if (pushed != null) {
            n.set("pushed", pushed.toJsonNode());
        }
        return n;
    }

    public String toJson() {
        return Json.write(toJsonNode());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScanMetadata && Objects.equals(snapshotId, ((ScanMetadata) o).snapshotId)
                && Objects.equals(schemaId, ((ScanMetadata) o).schemaId) && Objects.equals(pushed, ((ScanMetadata) o).pushed);
    }

    @Override
    public int hashCode() {
        return Objects.hash(snapshotId, schemaId, pushed);
    }

    @Override
    public String toString() {
        return toJson();
    }
}
