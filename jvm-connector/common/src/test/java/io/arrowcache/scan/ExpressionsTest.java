package io.arrowcache.scan;

import org.junit.Test;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Base64;

import static io.arrowcache.scan.Expressions.*;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

public class ExpressionsTest {
    @Test
    public void writesTheIcebergRestExpressionJson() {
        Expression e = and(greaterThanOrEqual("id", Literal.of(10)), notIn("id", Literal.of(12L), Literal.of(13L)));
        assertEquals("{\"type\":\"and\",\"left\":{\"type\":\"gt-eq\",\"term\":\"id\",\"value\":10},"
                + "\"right\":{\"type\":\"not-in\",\"term\":\"id\",\"values\":[12,13]}}", e.toJson());
        assertEquals("{\"type\":\"not\",\"child\":{\"type\":\"is-null\",\"term\":\"s\"}}", not(isNull("s")).toJson());
        assertEquals("{\"type\":\"or\",\"left\":{\"type\":\"true\"},\"right\":{\"type\":\"false\"}}",
                or(alwaysTrue(), alwaysFalse()).toJson());
        assertEquals("{\"type\":\"starts-with\",\"term\":\"s\",\"value\":\"ab\"}", startsWith("s", "ab").toJson());
        assertEquals("{\"type\":\"not-starts-with\",\"term\":\"s\",\"value\":\"ab\"}", notStartsWith("s", "ab").toJson());
        assertEquals("{\"type\":\"is-nan\",\"term\":\"x\"}", isNaN("x").toJson());
        assertEquals("{\"type\":\"not-nan\",\"term\":\"x\"}", notNaN("x").toJson());
        assertEquals("{\"type\":\"not-null\",\"term\":\"x\"}", notNull("x").toJson());
        for (Expression c : Arrays.asList(equal("a", Literal.of(1)), notEqual("a", Literal.of(1)), lessThan("a", Literal.of(1)),
                lessThanOrEqual("a", Literal.of(1)), greaterThan("a", Literal.of(1)), in("a", Literal.of(1)))) {
            assertEquals(c, Expression.fromJson(c.toJson()));
        }
        assertEquals(Arrays.asList("eq", "not-eq", "lt", "lt-eq", "gt", "in"), Arrays.asList(
                equal("a", Literal.of(1)).type(), notEqual("a", Literal.of(1)).type(), lessThan("a", Literal.of(1)).type(),
                lessThanOrEqual("a", Literal.of(1)).type(), greaterThan("a", Literal.of(1)).type(), in("a", Literal.of(1)).type()));
    }

    @Test
    public void andOfAListFoldsLeft() {
        assertEquals(alwaysTrue(), and(java.util.Collections.emptyList()));
        Expression a = isNull("a");
        Expression b = isNull("b");
        Expression c = isNull("c");
        assertEquals(and(and(a, b), c), and(Arrays.asList(a, b, c)));
    }

    @Test
    public void literalsAreWrittenAsTheSpecWritesThem() {
        assertEquals("true", Literal.of(true).toString());
        assertEquals("-7", Literal.of(-7).toString());
        assertEquals("9223372036854775807", Literal.of(Long.MAX_VALUE).toString());
        assertEquals("1.5", Literal.of(1.5).toString());
        assertEquals("0.10000000149011612", Literal.of(0.1f).toString());  // the float's exact value
        assertEquals("-0.0", Literal.of(-0.0).toString());
        assertEquals("\"Infinity\"", Literal.of(Double.POSITIVE_INFINITY).toString());
        assertEquals("\"-Infinity\"", Literal.of(Float.NEGATIVE_INFINITY).toString());
        assertEquals("\"é\\\"x\"", Literal.of("é\"x").toString());
        assertEquals("\"-12.50\"", Literal.decimal(new BigDecimal("-12.50")).toString());
        assertEquals("\"100000000000000000000\"", Literal.decimal(new BigDecimal("1E+20")).toString());
        assertEquals("\"2024-02-29\"", Literal.date(LocalDate.of(2024, 2, 29)).toString());
        assertEquals("\"1969-12-31\"", Literal.date(-1).toString());
        assertEquals("\"0001-01-01\"", Literal.date(Literal.MIN_DATE_DAYS).toString());
        assertEquals("\"1970-01-01T00:00:00.000001\"", Literal.timestamp(1).toString());
        assertEquals("\"1969-12-31T23:59:59.999999+00:00\"", Literal.timestamptz(-1).toString());
        assertEquals("\"2024-01-01T00:00:00.000000+00:00\"", Literal.timestamptz(1704067200000000L).toString());
        assertEquals("\"00ff7f80\"", Literal.binary(new byte[] {0, -1, 127, -128}).toString());
        assertEquals("\"\"", Literal.binary(new byte[0]).toString());
    }

    @Test
    public void refusesWhatTheCacheCannotRepresent() {
        expectRefused(() -> Literal.of(Double.NaN), "NaN");
        expectRefused(() -> Literal.of(Float.NaN), "NaN");
        expectRefused(() -> Literal.date(LocalDate.of(10000, 1, 1)), "1..9999");
        expectRefused(() -> Literal.timestamp(Long.MAX_VALUE), "1677");
        assertTrue(Literal.canRepresentTimestamp(Literal.MAX_TIMESTAMP_MICROS));
        assertFalse(Literal.canRepresentTimestamp(Literal.MAX_TIMESTAMP_MICROS + 1));
        assertFalse(Literal.canRepresentDate(Literal.MIN_DATE_DAYS - 1));
        // The extremes themselves format.
        Literal.timestamptz(Literal.MIN_TIMESTAMP_MICROS);
        Literal.timestamp(Literal.MAX_TIMESTAMP_MICROS);
    }

    @Test
    public void scanRequestsCarryOnlyWhatIsSet() {
        assertEquals("{\"table\":\"ns.t\"}", ScanRequest.builder("ns.t").build().toJson());
        ScanRequest r = ScanRequest.builder("ns.t").columns(Arrays.asList("a", "b")).filter(isNull("a"))
                .snapshotId(42L).limit(10L).build();
        assertEquals("{\"table\":\"ns.t\",\"columns\":[\"a\",\"b\"],\"filter\":{\"type\":\"is-null\",\"term\":\"a\"},"
                + "\"snapshot_id\":42,\"limit\":10}", r.toJson());
        assertEquals(r.toJson(), r.toBuilder().build().toJson());
        assertEquals("{\"table\":\"ns.t\",\"columns\":[],\"as_of_timestamp_ms\":1700000000000}",
                ScanRequest.builder("ns.t").columns(java.util.Collections.emptyList()).asOfTimestampMs(1700000000000L).build().toJson());
        expectRefused(() -> ScanRequest.builder("ns.t").snapshotId(1L).asOfTimestampMs(2L).build(), "not by snapshot_id and as_of_timestamp_ms");
        ScanRequest branch = ScanRequest.builder("ns.t").branch("audit").build();
        assertEquals("{\"table\":\"ns.t\",\"branch\":\"audit\"}", branch.toJson());
        assertEquals("audit", branch.toBuilder().build().branch());
        assertEquals("{\"table\":\"ns.t\",\"tag\":\"v1\"}", ScanRequest.builder("ns.t").tag("v1").build().toJson());
        expectRefused(() -> ScanRequest.builder("ns.t").branch("b").tag("t").build(), "not by branch and tag");
        expectRefused(() -> ScanRequest.builder("ns.t").snapshotId(1L).tag("t").build(), "not by snapshot_id and tag");
        expectRefused(() -> ScanRequest.builder("ns.t").tag(" "), "tag name");
        expectRefused(() -> ScanRequest.builder(" ").build(), "table");
        expectRefused(() -> ScanRequest.builder("t").limit(-1L), "limit");
    }

    @Test
    public void parsesPlans() {
        String ticket = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3});
        ScanPlan p = ScanPlan.fromJson("{\"snapshot_id\": 7, \"total_rows\": -1, \"total_bytes\": 100, \"splits\": ["
                + "{\"ticket\": \"" + ticket + "\", \"owners\": [{\"node_id\": \"n1\", \"flight\": \"grpc+tcp://h1:8815\", \"host\": \"h1\"},"
                + "{\"node_id\": \"n2\", \"flight\": \"grpc+tcp://h2:8815\", \"host\": \"h2\"}], \"bytes\": 60, \"rows\": 5},"
                + "{\"ticket\": \"" + ticket + "\", \"owners\": [], \"bytes\": 40, \"rows\": 3}]}");
        assertEquals(Long.valueOf(7), p.snapshotId());
        assertEquals(-1, p.totalRows());
        assertEquals(100, p.totalBytes());
        assertEquals(2, p.splits().size());
        ScanPlan.Split s = p.splits().get(0);
        assertArrayEquals(new byte[] {1, 2, 3}, s.ticket());
        assertArrayEquals(new String[] {"grpc+tcp://h1:8815", "grpc+tcp://h2:8815"}, s.locations());
        assertArrayEquals(new String[] {"h1", "h2"}, s.hosts());
        assertEquals(60, s.bytes());
        assertEquals(5, s.rows());
        assertEquals(0, p.splits().get(1).locations().length);

        ScanPlan empty = ScanPlan.fromJson("{\"snapshot_id\": null, \"total_rows\": 0, \"total_bytes\": 0, \"splits\": []}");
        assertNull(empty.snapshotId());
        assertTrue(empty.splits().isEmpty());
        expectRefused(() -> ScanPlan.fromJson("{\"splits\": [{\"owners\": []}]}"), "ticket");
        expectRefused(() -> ScanPlan.fromJson("not json"), "malformed");
    }

    static void expectRefused(Runnable r, String fragment) {
        try {
            r.run();
        } catch (IllegalArgumentException e) {
            assertTrue("message `" + e.getMessage() + "` should mention " + fragment, e.getMessage().contains(fragment));
            return;
        }
        fail("expected an IllegalArgumentException mentioning " + fragment);
    }
}
