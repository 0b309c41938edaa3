package io.arrowcache.scan;

import org.junit.Test;

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
