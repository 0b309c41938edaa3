package io.arrowcache.scan;

import org.junit.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

public class ScanRequestTest {
    private static Map<String, String> opts(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    public void readOptionsSelectTheSnapshot() {
        ScanRequest r = ScanRequest.builder("ns.t").withOptions(opts("snapshot-id", " 42 ", "other", "x")).build();
        assertEquals(Long.valueOf(42), r.snapshotId());
        assertEquals("snapshot-id=42", r.selectorOption());
        assertEquals(Long.valueOf(5), ScanRequest.builder("ns.t").withOptions(opts("as-of-timestamp", "5")).build().asOfTimestampMs());
        assertEquals("audit", ScanRequest.builder("ns.t").withOptions(opts("branch", "audit")).build().branch());
        assertEquals("tag=v 1", ScanRequest.builder("ns.t").withOptions(opts("tag", "v 1")).build().selectorOption());
        assertEquals(Long.valueOf(7), ScanRequest.builder("ns.t").withOptions(opts("limit", "7")).build().limit());
        // A selector among the options replaces the builder's; none leaves it; blank numbers are absent.
        ScanRequest tagged = r.toBuilder().withOptions(opts("tag", "v1")).build();
        assertNull(tagged.snapshotId());
        assertEquals("v1", tagged.tag());
        assertEquals(r, r.toBuilder().withOptions(opts("snapshot-id", " ")).build());
        assertTrue(r.sameSnapshotSelection(r.toBuilder().withOptions(opts("limit", "3")).build()));
        assertNull(ScanRequest.builder("ns.t").build().selectorOption());
    }

    @Test
    public void badOptionsAreNamed() {
        expectRefused(opts("snapshot-id", "latest"), "option snapshot-id must be a whole number, got `latest`");
        expectRefused(opts("snapshot-id", "99999999999999999999"), "option snapshot-id");
        expectRefused(opts("as-of-timestamp", "2024-01-01"), "option as-of-timestamp must be milliseconds since the epoch");
        expectRefused(opts("branch", " "), "option branch must name a branch");
        expectRefused(opts("tag", ""), "option tag");
        expectRefused(opts("limit", "-1"), "option limit must be >= 0");
        expectRefused(opts("limit", "ten"), "option limit");
        expectRefused(opts("snapshot-id", "1", "as-of-timestamp", "2"), "options snapshot-id=1 and as-of-timestamp=2 both select a snapshot; "
                + "give only one of snapshot-id, as-of-timestamp, branch and tag");
        expectRefused(opts("branch", "b", "tag", "t", "snapshot-id", "1"), "snapshot-id=1 and branch=b and tag=t all");
    }

    @Test
    public void theBuilderAppliesTheSameRules() {
        expect(() -> ScanRequest.builder(" "), "needs a table");
        expect(() -> ScanRequest.builder("t").tag(" "), "a tag name cannot be empty");
        expect(() -> ScanRequest.builder("t").branch(""), "a branch name cannot be empty");
        expect(() -> ScanRequest.builder("t").limit(-1L), "limit must be >= 0");
        expect(() -> ScanRequest.builder("t").snapshotId(1L).tag("x").build(), "not by snapshot_id and tag");
    }

    @Test
    public void equalRequestsAreEqual() {
        ScanRequest a = ScanRequest.builder("ns.t").columns(java.util.Arrays.asList("a", "b"))
                .filter(Expressions.equal("a", Literal.of(1))).limit(3L).build();
        ScanRequest b = ScanRequest.fromJson(a.toJson());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, a.toBuilder().limit(4L).build());
        assertNotEquals(a, a.toBuilder().filter(Expressions.equal("a", Literal.of(2))).build());
        assertNotEquals(a, a.toBuilder().columns(null).build());
        assertNotEquals(a, a.toBuilder().branch("b").build());
    }

    @Test
    public void theBuilderChecksAggregatesAndOrders() {
        Aggregate count = Aggregate.of(null, Collections.singletonList(AggregateFunction.countStar()), Aggregate.Mode.FINAL);
        expect(() -> ScanRequest.builder("t").columns(Collections.singletonList("a")).aggregate(count).build(),
                "columns: leave it out with aggregate");
        expect(() -> ScanRequest.builder("t").orderBy(Collections.<SortKey>emptyList()), "order_by: give at least one key");
        expect(() -> ScanRequest.builder("t").targetSplits(0), "target_splits: must be at least 1");
        expect(() -> Aggregate.of(null, Collections.<AggregateFunction>emptyList(), Aggregate.Mode.PARTIAL),
                "aggregate.functions: give at least one function");
        expect(() -> AggregateFunction.of(AggregateFunction.Kind.SUM, null), "sum needs a term");
        expect(() -> AggregateFunction.of(AggregateFunction.Kind.COUNT_STAR, Term.of("x")), "count_star takes no term");

        ScanRequest r = ScanRequest.builder("ns.t").aggregate(count).orderBy(Collections.singletonList(SortKey.desc("a")))
                .targetSplits(4).limit(5L).build();
        assertEquals(r, ScanRequest.fromJson(r.toJson()));
        assertEquals(r.hashCode(), ScanRequest.fromJson(r.toJson()).hashCode());
        assertEquals("{\"table\":\"ns.t\",\"limit\":5,\"aggregate\":{\"group_by\":[],\"functions\":[{\"fn\":\"count_star\"}],"
                + "\"mode\":\"final\"},\"order_by\":[{\"term\":\"a\",\"direction\":\"desc\"}],\"target_splits\":4}", r.toJson());
        assertNotEquals(r, r.toBuilder().targetSplits(null).build());
        assertNotEquals(r, r.toBuilder().orderBy(Collections.singletonList(SortKey.desc("a").withNulls(SortKey.NullOrder.LAST))).build());
        assertNotEquals(r, r.toBuilder().aggregate(Aggregate.of(null, count.functions(), Aggregate.Mode.PARTIAL)).build());
        assertNotEquals(r, r.toBuilder().aggregate(null).build());
    }

    @Test
    public void resultColumnsAreNamedAsTheNodeNamesThem() {
        java.util.List<AggregateFunction> fns = Arrays.asList(AggregateFunction.countStar(), AggregateFunction.sum("x"),
                AggregateFunction.sum("x"), AggregateFunction.avg("x"), AggregateFunction.countStar(), AggregateFunction.min("g"));
        java.util.List<Term> group = Collections.singletonList(Term.reference("g"));
        assertEquals(Arrays.asList("g", "count_star", "sum(x)", "sum(x)#2", "avg(x)", "count_star#2", "min(g)"),
                Aggregate.of(group, fns, Aggregate.Mode.FINAL).resultColumns());
        assertEquals(Arrays.asList("g", "count_star", "sum(x)", "sum(x)#2", "avg_sum(x)", "avg_count(x)", "count_star#2", "min(g)"),
                Aggregate.of(group, fns, Aggregate.Mode.PARTIAL).resultColumns());
    }

    @Test
    public void requestsWithAggregatesSerialize() throws Exception {
        ScanRequest r = ScanRequest.builder("ns.t")
                .aggregate(Aggregate.of(Collections.singletonList(Term.reference("g")), Arrays.asList(AggregateFunction.avg("x")),
                        Aggregate.Mode.PARTIAL))
                .orderBy(Collections.singletonList(SortKey.asc("g").withNulls(SortKey.NullOrder.LAST))).targetSplits(2).build();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(r);
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(r, in.readObject());
        }
    }

    private static void expectRefused(Map<String, String> options, String fragment) {
        expect(() -> ScanRequest.builder("ns.t").withOptions(options).build(), fragment);
    }

    private static void expect(Runnable action, String fragment) {
        try {
            action.run();
        } catch (IllegalArgumentException e) {
            assertTrue("`" + e.getMessage() + "` should mention " + fragment, e.getMessage().contains(fragment));
            return;
        }
        fail("expected an IllegalArgumentException mentioning " + fragment);
    }
}
