package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

/**
 * A planned scan as the bridge returns it: {@code {"snapshot_id": n|null, "total_rows": n (-1
 * unknown), "total_bytes": n, "splits": [{"ticket": "<base64>", "owners": [{"node_id", "flight",
 * "host"}], "bytes": n, "rows": n}]}}, and {@code "schema_id": n} when the bridge names it. The
 * snapshot and schema read are {@link #metadata()} (a {@link ScanMetadata}, the model of a scan's
 * {@code app_metadata}).
 */
public final class ScanPlan implements Serializable {
    private static final long serialVersionUID = 1L;

    private final ScanMetadata metadata;
    private final long totalRows;
    private final long totalBytes;
    private final List<Split> splits;

    public ScanPlan(Long snapshotId, long totalRows, long totalBytes, List<Split> splits) {
        this(new ScanMetadata(snapshotId, null), totalRows, totalBytes, splits);
    }

    public ScanPlan(ScanMetadata metadata, long totalRows, long totalBytes, List<Split> splits) {
        this.metadata = metadata;
        this.totalRows = totalRows;
        this.totalBytes = totalBytes;
        this.splits = Collections.unmodifiableList(new ArrayList<>(splits));
    }

    public static ScanPlan fromJson(String text) {
        JsonNode n = Json.read(text);
        if (!n.isObject()) {
            throw new IllegalArgumentException("a scan plan must be a JSON object: " + Json.abbreviate(text));
        }
        ScanMetadata metadata = ScanMetadata.fromJsonNode(n);
        long totalRows = n.has("total_rows") && !n.get("total_rows").isNull() ? n.get("total_rows").asLong() : -1;
        long totalBytes = n.path("total_bytes").asLong(0);
        List<Split> splits = new ArrayList<>();
        for (JsonNode s : n.path("splits")) {
            List<Owner> owners = new ArrayList<>();
            for (JsonNode o : s.path("owners")) {
                owners.add(new Owner(o.path("node_id").asText(""), o.path("flight").asText(""), o.path("host").asText("")));
            }
            JsonNode ticket = s.get("ticket");
            if (ticket == null || !ticket.isTextual()) {
                throw new IllegalArgumentException("a split of the scan plan has no ticket: " + Json.abbreviate(s.toString()));
            }
            splits.add(new Split(Base64.getDecoder().decode(ticket.asText()), owners,
                    s.path("bytes").asLong(0), s.has("rows") && !s.get("rows").isNull() ? s.get("rows").asLong() : -1));
        }
        return new ScanPlan(metadata, totalRows, totalBytes, splits);
    }

    /** The snapshot the scan reads, or null for a table without snapshots. */
    public Long snapshotId() {
        return metadata.snapshotId();
    }

    /** The id of the schema the scan reads the table with, or null when the bridge does not name it. */
    public Integer schemaId() {
        return metadata.schemaId();
    }

    /** The snapshot and schema the scan reads. */
    public ScanMetadata metadata() {
        return metadata;
    }

    /** Rows the scan returns, or -1 when unknown (a filter or limit was applied). */
    public long totalRows() {
        return totalRows;
    }

    public long totalBytes() {
        return totalBytes;
    }

    public List<Split> splits() {
        return splits;
    }

    /** One split: its ticket and the nodes that own it, primary first. */
    public static final class Split implements Serializable {
        private static final long serialVersionUID = 1L;
        private final byte[] ticket;
        private final List<Owner> owners;
        private final long bytes;
        private final long rows;

        public Split(byte[] ticket, List<Owner> owners, long bytes, long rows) {
            this.ticket = ticket.clone();
            this.owners = Collections.unmodifiableList(new ArrayList<>(owners));
            this.bytes = bytes;
            this.rows = rows;
        }

        public byte[] ticket() {
            return ticket.clone();
        }

        public List<Owner> owners() {
            return owners;
        }

        /** The owners' Flight URIs ({@code grpc+tcp://host:port}), primary first. */
        public String[] locations() {
            return owners.stream().map(Owner::flight).filter(f -> !f.isEmpty()).toArray(String[]::new);
        }

        /** The owners' hosts, primary first, without repeats. */
        public String[] hosts() {
            return owners.stream().map(Owner::host).filter(h -> !h.isEmpty()).distinct().toArray(String[]::new);
        }

        public long bytes() {
            return bytes;
        }

        /** Rows in the split before filtering, or -1 when unknown. */
        public long rows() {
            return rows;
        }
    }

    public static final class Owner implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String nodeId;
        private final String flight;
        private final String host;

        public Owner(String nodeId, String flight, String host) {
            this.nodeId = nodeId;
            this.flight = flight;
            this.host = host;
        }

        public String nodeId() {
            return nodeId;
        }

        public String flight() {
            return flight;
        }

        public String host() {
            return host;
        }

        @Override
        public String toString() {
            return nodeId + "@" + flight;
        }
    }
}
