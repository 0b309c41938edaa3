package io.arrowcache.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.arrowcache.scan.Json;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The answer of {@code cluster_status} (the bridge's, the Flight action's and the CLI's JSON):
 * {@code {"node_id", "discovery", "replication_factor", "nodes": [{"node_id", "flight", "control",
 * "status", "bytes_cached", "budget_bytes", "uptime_seconds", "error"?}]}}. Reading is lenient, as
 * a client of newer nodes must be: a missing key reads as empty or 0 and unknown keys are ignored
 * (the golden-file test, which re-emits the documented form, catches a key this model lacks).
 */
public final class ClusterStatus {
    private final String nodeId;
    private final String discovery;
    private final int replicationFactor;
    private final List<Node> nodes;

    public ClusterStatus(String nodeId, String discovery, int replicationFactor, List<Node> nodes) {
        this.nodeId = nodeId;
        this.discovery = discovery;
        this.replicationFactor = replicationFactor;
        this.nodes = Collections.unmodifiableList(new ArrayList<>(nodes));
    }

    public static ClusterStatus fromJson(String text) {
        return fromJsonNode(Json.read(text));
    }

    public static ClusterStatus fromJsonNode(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("a cluster status must be a JSON object, got " + n);
        }
        List<Node> nodes = new ArrayList<>();
        for (JsonNode m : n.path("nodes")) {
            JsonNode error = m.get("error");
            nodes.add(new Node(m.path("node_id").asText(""), m.path("flight").asText(""), m.path("control").asText(""),
                    m.path("status").asText(""), m.path("bytes_cached").asLong(0), m.path("budget_bytes").asLong(0),
                    m.path("uptime_seconds").asLong(0), error == null || error.isNull() ? "" : error.asText("")));
        }
        return new ClusterStatus(n.path("node_id").asText(""), n.path("discovery").asText(""),
                n.path("replication_factor").asInt(0), nodes);
    }

    /** The node that answered. */
    public String nodeId() {
        return nodeId;
    }

    public String discovery() {
        return discovery;
    }

    public int replicationFactor() {
        return replicationFactor;
    }

    /** Every member the answering node knows, itself included. */
    public List<Node> nodes() {
        return nodes;
    }

    /** The members whose status is {@code up}. */
    public int upCount() {
        int up = 0;
        for (Node n : nodes) {
            if ("up".equals(n.status())) {
                up++;
            }
        }
        return up;
    }

    public ObjectNode toJsonNode() {
        ObjectNode out = Json.NODES.objectNode();
        out.put("node_id", nodeId);
        out.put("discovery", discovery);
        out.put("replication_factor", replicationFactor);
        ArrayNode array = out.putArray("nodes");
        for (Node n : nodes) {
            ObjectNode m = array.addObject();
            m.put("node_id", n.nodeId);
            m.put("flight", n.flight);
            m.put("control", n.control);
            m.put("status", n.status);
            m.put("bytes_cached", n.bytesCached);
            m.put("budget_bytes", n.budgetBytes);
            m.put("uptime_seconds", n.uptimeSeconds);
            if (!n.error.isEmpty()) {
                m.put("error", n.error);
            }
        }
        return out;
    }

    public String toJson() {
        return Json.write(toJsonNode());
    }

    @Override
    public String toString() {
        return toJson();
    }

    /** One member as the answering node sees it. */
    public static final class Node {
        private final String nodeId;
        private final String flight;
        private final String control;
        private final String status;
        private final long bytesCached;
        private final long budgetBytes;
        private final long uptimeSeconds;
        private final String error;

        public Node(String nodeId, String flight, String control, String status, long bytesCached, long budgetBytes,
                    long uptimeSeconds, String error) {
            this.nodeId = nodeId;
            this.flight = flight;
            this.control = control;
            this.status = status;
            this.bytesCached = bytesCached;
            this.budgetBytes = budgetBytes;
            this.uptimeSeconds = uptimeSeconds;
            this.error = error == null ? "" : error;
        }

        /** Empty for a configured member that has not answered. */
        public String nodeId() {
            return nodeId;
        }

        /** Its Flight address ({@code grpc+tcp://host:port}), empty when not known. */
        public String flight() {
            return flight;
        }

        /** Its control-plane address ({@code host:port}). */
        public String control() {
            return control;
        }

        /** {@code up}, {@code down}, ... as the answering node judges it. */
        public String status() {
            return status;
        }

        /**
         * Whether the status says the member cannot serve now ({@code down}, {@code dead},
         * {@code suspect}, {@code unreachable}).
         */
        public boolean isDown() {
            String s = status.toLowerCase(Locale.ROOT);
            return s.contains("down") || s.contains("dead") || s.contains("suspect") || s.contains("unreachable");
        }

        public long bytesCached() {
            return bytesCached;
        }

        public long budgetBytes() {
            return budgetBytes;
        }

        public long uptimeSeconds() {
            return uptimeSeconds;
        }

        /** Why the member did not answer, or empty. */
        public String error() {
            return error;
        }

        @Override
        public String toString() {
            return (nodeId.isEmpty() ? control : nodeId) + " (" + status + ")";
        }
    }
}
