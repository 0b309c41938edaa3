package io.arrowcache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.arrowcache.client.ClusterStatus;
import io.arrowcache.client.TableAction;
import io.arrowcache.scan.Json;
import io.arrowcache.scan.ScanMetadata;
import io.arrowcache.scan.ScanRequest;
import org.junit.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/**
 * The golden files of the wire protocol (protocol/testdata, see its README.md): every file Java has
 * a model for is parsed with that model and re-emitted, and the re-emitted JSON must equal the file
 * as a JSON tree (key order aside). The Rust and Python suites do the same with theirs, so a change
 * of the wire format shows up in all three. A new golden file fails here until it gets a model
 * below or a line in {@link #NOT_FOR_JAVA}.
 */
public class GoldenFilesTest {
    /** Golden files the JVM connectors never parse, and why. */
    private static final Map<String, String> NOT_FOR_JAVA = new LinkedHashMap<>();

    static {
        NOT_FOR_JAVA.put("scan_ticket.json", "a DoGet ticket, opaque to clients (the bridge passes it through as bytes)");
        NOT_FOR_JAVA.put("fragment_ticket.json", "a DoGet ticket, opaque to clients (the bridge passes it through as bytes)");
    }

    /** The Java model of a golden file (by name): parse, then re-emit; null when there is none. */
    static Function<String, String> model(String file) {
        if (file.startsWith("scan_request_")) {
            return text -> ScanRequest.fromJson(text).toJson();
        }
        switch (file) {
            case "table_action.json":
                return text -> TableAction.fromJson(text).toJson();
            case "scan_app_metadata.json":
                return text -> ScanMetadata.fromJson(text).toJson();
            case "cluster_status.json":
                return text -> ClusterStatus.fromJson(text).toJson();
            default:
                return null;
        }
    }

    /**
     * protocol/testdata: the system property common/build.gradle sets, else found upwards from the
     * working directory (a run outside Gradle, e.g. from an IDE).
     */
    static Path testdata() {
        String property = System.getProperty("arrowcache.testdata");
        if (property != null && !property.isEmpty()) {
            Path dir = Paths.get(property);
            assertTrue("arrowcache.testdata=" + property + " is not a directory (the protocol's golden files)", Files.isDirectory(dir));
            return dir;
        }
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path dir = p.resolve("protocol").resolve("testdata");
            if (Files.isDirectory(dir)) {
                return dir;
            }
        }
        throw new AssertionError("no protocol/testdata above " + Paths.get("").toAbsolutePath()
                + ": set the system property arrowcache.testdata (common/build.gradle does)");
    }

    static List<Path> goldenFiles() throws IOException {
        try (Stream<Path> files = Files.list(testdata())) {
            return files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().collect(Collectors.toList());
        }
    }

    static String read(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    }

    /** Why a re-emitted document differs from the file, or null when it does not (as JSON trees). */
    static String difference(String file, String original, String reEmitted) {
        JsonNode expected = Json.read(original);
        JsonNode actual = Json.read(reEmitted);
        return expected.equals(actual) ? null : file + ": re-emitted as\n  " + Json.write(actual) + "\nbut the file is\n  " + Json.write(expected);
    }

    @Test
    public void everyGoldenFileRoundTripsThroughItsJavaModel() throws IOException {
        List<String> checked = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (Path p : goldenFiles()) {
            String file = p.getFileName().toString();
            if (NOT_FOR_JAVA.containsKey(file)) {
                continue;
            }
            Function<String, String> model = model(file);
            if (model == null) {
                failures.add(file + ": no Java model; add one to GoldenFilesTest.model, or the file to NOT_FOR_JAVA with the reason");
                continue;
            }
            String text = read(p);
            try {
                String diff = difference(file, text, model.apply(text));
                if (diff != null) {
                    failures.add(diff);
                }
            } catch (RuntimeException e) {
                failures.add(file + ": " + e);
            }
            checked.add(file);
        }
        assertTrue(String.join("\n\n", failures), failures.isEmpty());
        // The files the protocol's README says Java parses are all there (a rename would skip one).
        for (String expected : new String[] {"scan_request_minimal.json", "scan_request_full.json", "scan_request_branch.json",
                "scan_request_tag.json", "scan_request_as_of.json", "table_action.json", "scan_app_metadata.json", "cluster_status.json"}) {
            assertTrue(expected + " is not in " + testdata() + " (checked: " + checked + ")", checked.contains(expected));
        }
    }

    /** The comparison catches what a model would drop, add or change. */
    @Test
    public void theComparisonCatchesADroppedOrChangedField() throws IOException {
        Path dir = testdata();
        String full = read(dir.resolve("scan_request_full.json"));
        ObjectNode dropped = ScanRequest.fromJson(full).toJsonNode();
        dropped.remove("limit");
        assertTrue(difference("scan_request_full.json", full, Json.write(dropped)) != null);
        ObjectNode changed = ScanRequest.fromJson(full).toJsonNode();
        ((ObjectNode) changed.get("filter").get("left").get("left")).put("value", "5");  // 5 as a string
        assertTrue(difference("scan_request_full.json", full, Json.write(changed)) != null);
        // A key the lenient cluster-status model does not know is dropped on re-emission: caught.
        ObjectNode status = (ObjectNode) Json.read(read(dir.resolve("cluster_status.json")));
        ((ObjectNode) status.get("nodes").get(0)).put("zone", "eu-1");
        assertNotEquals(status, Json.read(ClusterStatus.fromJsonNode(status).toJson()));
        // The request models refuse unknown keys outright.
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"limt\": 1}"), "limt");
        expectRefused(() -> TableAction.fromJson("{\"table\": \"t\", \"partitions\": \"a=1\"}"), "partitions");
    }

    @Test
    public void scanRequestParsingValidatesLikeTheBuilderAndNamesTheField() {
        expectRefused(() -> ScanRequest.fromJson("[]"), "JSON object");
        expectRefused(() -> ScanRequest.fromJson("{}"), "field table");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \" \"}"), "field table");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": 1}"), "field table");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"columns\": \"a\"}"), "field columns");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"columns\": [1]}"), "field columns");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"filter\": {\"term\": \"a\"}}"), "field filter");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"snapshot_id\": \"1\"}"), "field snapshot_id");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"snapshot_id\": 1.5}"), "field snapshot_id");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"as_of_timestamp_ms\": 1e40}"), "field as_of_timestamp_ms");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"branch\": \"\"}"), "field branch");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"tag\": 3}"), "field tag");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"limit\": -1}"), "field limit");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"t\", \"snapshot_id\": 1, \"tag\": \"v1\"}"), "snapshot_id and tag");
        // JSON null is absent, as in the Rust model.
        ScanRequest r = ScanRequest.fromJson("{\"table\": \"t\", \"columns\": null, \"limit\": null, \"tag\": null}");
        assertEquals(ScanRequest.builder("t").build(), r);
        assertEquals("{\"table\":\"t\"}", r.toJson());
    }

    @Test
    public void theOtherModelsParseWhatTheyEmit() {
        TableAction a = TableAction.of("ns.t", "region=EU", Collections.singletonList("amount"));
        assertEquals(a, TableAction.fromJson(a.toJson()));
        assertEquals("{\"table\":\"ns.t\"}", TableAction.of("ns.t").toJson());
        expectRefused(() -> TableAction.fromJson("{\"partition\": \"a=1\"}"), "field table");
        expectRefused(() -> TableAction.fromJson("{\"table\": \"t\", \"columns\": [1]}"), "field columns");
        ScanMetadata m = ScanMetadata.fromJson("{\"snapshot_id\": null, \"schema_id\": 0}");
        assertEquals(new ScanMetadata(null, 0), m);
        assertEquals("{\"snapshot_id\":null,\"schema_id\":0}", m.toJson());
        expectRefused(() -> ScanMetadata.fromJson("{\"snapshot_id\": \"x\"}"), "snapshot_id");
    }

    private static void expectRefused(Runnable action, String fragment) {
        try {
            action.run();
        } catch (IllegalArgumentException e) {
            assertTrue("`" + e.getMessage() + "` should mention " + fragment, e.getMessage().contains(fragment));
            return;
        }
        fail("expected an IllegalArgumentException mentioning " + fragment);
    }
}
