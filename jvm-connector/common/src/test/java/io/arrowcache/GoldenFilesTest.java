package io.arrowcache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.arrowcache.client.ClusterStatus;
import io.arrowcache.client.TableAction;
import io.arrowcache.scan.Aggregate;
import io.arrowcache.scan.AggregateFunction;
import io.arrowcache.scan.Json;
import io.arrowcache.scan.Pushed;
import io.arrowcache.scan.ScanMetadata;
import io.arrowcache.scan.ScanRequest;
import io.arrowcache.scan.SortKey;
import io.arrowcache.scan.Term;
import org.junit.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNull;
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
                "scan_request_tag.json", "scan_request_as_of.json", "scan_request_aggregate.json", "scan_request_top_n.json",
                "table_action.json", "scan_app_metadata.json", "cluster_status.json"}) {
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

    /** The aggregate and top-N files parse into the model Java builds, terms in the form given. */
    @Test
    public void aggregateAndTopNFilesParseIntoTheModel() throws IOException {
        Path dir = testdata();
        ScanRequest aggregate = ScanRequest.fromJson(read(dir.resolve("scan_request_aggregate.json")));
        Aggregate a = aggregate.aggregate();
        assertEquals(Aggregate.Mode.PARTIAL, a.mode());
        assertEquals(Arrays.asList(Term.of("l_returnflag"), Term.reference("l_linestatus")), a.groupBy());
        assertEquals(AggregateFunction.countStar(), a.functions().get(0));
        assertNull(a.functions().get(0).term());
        assertEquals(AggregateFunction.avg("l_discount"), a.functions().get(5));
        assertEquals(Integer.valueOf(8), aggregate.targetSplits());
        assertNull(aggregate.columns());
        assertEquals(Arrays.asList("l_returnflag", "l_linestatus", "count_star", "count(l_orderkey)", "sum(l_quantity)",
                "min(l_shipdate)", "max(l_comment)", "avg_sum(l_discount)", "avg_count(l_discount)"), a.resultColumns());
        // The same request built in Java.
        ScanRequest built = ScanRequest.fromJson(read(dir.resolve("scan_request_aggregate.json"))).toBuilder().build();
        assertEquals(aggregate, built);
        assertEquals(aggregate.hashCode(), built.hashCode());

        ScanRequest topN = ScanRequest.fromJson(read(dir.resolve("scan_request_top_n.json")));
        List<SortKey> keys = topN.orderBy();
        assertEquals(SortKey.desc("o_totalprice").withNulls(SortKey.NullOrder.LAST), keys.get(0));
        assertEquals(SortKey.asc("o_orderkey"), keys.get(1));
        assertFalse("desc nulls last", keys.get(0).nullsFirst());
        assertTrue("asc defaults to nulls first", keys.get(1).nullsFirst());
        assertEquals(topN, ScanRequest.builder("tpch.orders").columns(Arrays.asList("o_orderkey", "o_totalprice"))
                .orderBy(keys).limit(10L).tag("eod").build());
        // The name form and the reference form of a term are kept apart (each re-emits as given).
        assertNotEquals(Term.of("x"), Term.reference("x"));
        assertEquals("{\"type\":\"reference\",\"term\":\"x\"}", Term.reference("x").toString());
        // direction is always written, as the node writes it; a missing one is asc.
        ScanRequest noDirection = ScanRequest.fromJson("{\"table\": \"t\", \"order_by\": [{\"term\": \"x\"}]}");
        assertEquals("{\"table\":\"t\",\"order_by\":[{\"term\":\"x\",\"direction\":\"asc\"}]}", noDirection.toJson());
        ScanRequest noGroup = ScanRequest.fromJson(
                "{\"table\": \"t\", \"aggregate\": {\"functions\": [{\"fn\": \"count_star\"}], \"mode\": \"final\"}}");
        assertEquals("{\"group_by\":[],\"functions\":[{\"fn\":\"count_star\"}],\"mode\":\"final\"}",
                noGroup.aggregate().toString());
    }

    @Test
    public void aggregateAndOrderAreValidatedNamingTheField() {
        String agg = "{\"table\": \"a.b\", \"aggregate\": ";
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"functions\": [], \"mode\": \"final\"}}"),
                "field aggregate.functions: give at least one function");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"mode\": \"final\"}}"), "field aggregate.functions");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"functions\": [{\"fn\": \"sum\"}], \"mode\": \"final\"}}"),
                "field aggregate.functions[0]: sum needs a term");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"functions\": [{\"fn\": \"count_star\"}, {\"fn\": \"count_star\", "
                + "\"term\": \"x\"}], \"mode\": \"partial\"}}"), "field aggregate.functions[1]: count_star takes no term");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"functions\": [{\"fn\": \"median\", \"term\": \"x\"}], "
                + "\"mode\": \"final\"}}"), "field aggregate.functions[0].fn: unknown function `median`");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"functions\": [{\"fn\": \"sum\", \"term\": \"x\"}], "
                + "\"mode\": \"both\"}}"), "field aggregate.mode: unknown mode `both`");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"functions\": [{\"fn\": \"sum\", \"term\": \"x\"}]}}"),
                "field aggregate.mode");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"functions\": [{\"fn\": \"sum\", \"term\": \"x\"}], "
                + "\"mode\": \"final\", \"having\": 1}}"), "field aggregate.having: unknown field");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"functions\": [{\"fn\": \"sum\", \"term\": \"x\", \"distinct\": true}], "
                + "\"mode\": \"final\"}}"), "field aggregate.functions[0].distinct: unknown field");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"group_by\": [{\"type\": \"transform\", \"term\": \"x\"}], "
                + "\"functions\": [{\"fn\": \"count_star\"}], \"mode\": \"final\"}}"), "field aggregate.group_by[0].type");
        expectRefused(() -> ScanRequest.fromJson(agg + "{\"group_by\": [1], \"functions\": [{\"fn\": \"count_star\"}], "
                + "\"mode\": \"final\"}}"), "field aggregate.group_by[0]");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"columns\": [\"x\"], \"aggregate\": "
                + "{\"functions\": [{\"fn\": \"count_star\"}], \"mode\": \"final\"}}"), "field columns: leave it out with aggregate");

        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"order_by\": []}"), "field order_by: give at least one key");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"order_by\": {\"term\": \"x\"}}"), "field order_by");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"order_by\": [{\"term\": \"x\", \"direction\": \"up\"}]}"),
                "field order_by[0].direction: unknown direction `up`");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"order_by\": [{\"term\": \"x\", \"nulls\": \"middle\"}]}"),
                "field order_by[0].nulls");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"order_by\": [{\"direction\": \"asc\"}]}"),
                "field order_by[0].term");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"order_by\": [{\"term\": \"x\", \"dir\": \"asc\"}]}"),
                "field order_by[0].dir: unknown field");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"target_splits\": 0}"), "field target_splits: must be at least 1");
        expectRefused(() -> ScanRequest.fromJson("{\"table\": \"a.b\", \"target_splits\": 1.5}"), "field target_splits");
        // null is absent, as for the other optional keys.
        assertEquals(ScanRequest.builder("a.b").build(),
                ScanRequest.fromJson("{\"table\": \"a.b\", \"aggregate\": null, \"order_by\": null, \"target_splits\": null}"));
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
        assertNull(m.pushed());
        // "pushed": what the cache applied of an aggregate or an order.
        String text = "{\"snapshot_id\":7,\"schema_id\":1,\"pushed\":{\"aggregate\":\"final\",\"order_by\":true,\"limit\":true,"
                + "\"splits\":1}}";
        ScanMetadata p = ScanMetadata.fromJson(text);
        assertEquals(new ScanMetadata(7L, 1, new Pushed(Aggregate.Mode.FINAL, true, true, 1)), p);
        assertEquals(text, p.toJson());
        assertNotEquals(p, new ScanMetadata(7L, 1));
        Pushed partial = ScanMetadata.fromJson("{\"snapshot_id\": 7, \"schema_id\": 1, \"pushed\": {\"order_by\": true, \"splits\": 4}}")
                .pushed();
        assertNull(partial.aggregate());
        assertTrue(partial.orderBy());
        assertFalse(partial.limit());
        assertEquals(4, partial.splits());
        assertEquals("{\"order_by\":true,\"limit\":false,\"splits\":4}", partial.toString());
        expectRefused(() -> ScanMetadata.fromJson("{\"snapshot_id\": 7, \"pushed\": {\"order_by\": true}}"), "pushed.splits");
        expectRefused(() -> ScanMetadata.fromJson("{\"snapshot_id\": 7, \"pushed\": {\"aggregate\": \"all\", \"splits\": 1}}"),
                "pushed.aggregate");
        expectRefused(() -> ScanMetadata.fromJson("{\"snapshot_id\": 7, \"pushed\": {\"limit\": 1, \"splits\": 1}}"), "pushed.limit");
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
