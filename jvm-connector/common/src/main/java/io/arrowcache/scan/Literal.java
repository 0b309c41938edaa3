package io.arrowcache.scan;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;

/**
 * A literal of a filter, written the way the Iceberg REST specification writes it: numbers as
 * JSON numbers, booleans as JSON booleans, strings as strings, dates as {@code "YYYY-MM-DD"},
 * timestamps as {@code "YYYY-MM-DDTHH:MM:SS.ffffff"} ({@code +00:00} appended for timestamptz),
 * decimals as strings, binary as hex.
 *
 * <p>The cache types each literal by its column, so the literal must fit the column's type.
 * Values the cache cannot represent are refused with {@link IllegalArgumentException}; use the
 * {@code can...} checks to decide beforehand.
 */
public final class Literal {
    /** Timestamps the cache parses: it keeps them as nanoseconds in a signed 64-bit integer. */
    public static final long MIN_TIMESTAMP_MICROS = Long.MIN_VALUE / 1000 + 1;
    public static final long MAX_TIMESTAMP_MICROS = Long.MAX_VALUE / 1000 - 1;
    /** Dates the cache parses: four-digit years. */
    public static final long MIN_DATE_DAYS = LocalDate.of(1, 1, 1).toEpochDay();
    public static final long MAX_DATE_DAYS = LocalDate.of(9999, 12, 31).toEpochDay();

    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS");
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final JsonNode json;

    private Literal(JsonNode json) {
        this.json = json;
    }

    public JsonNode toJsonNode() {
        return json.deepCopy();
    }

    JsonNode node() {
        return json;
    }

    public static Literal of(boolean value) {
        return new Literal(Json.NODES.booleanNode(value));
    }

    public static Literal of(int value) {
        return new Literal(Json.NODES.numberNode(value));
    }

    public static Literal of(long value) {
        return new Literal(Json.NODES.numberNode(value));
    }

    /** A float; the cache reads it as a double and rounds to the column's type. */
    public static Literal of(float value) {
        return of((double) value);
    }

    /**
     * A double. JSON has no NaN, so NaN is refused (filter on NaN with {@code is-nan}); the
     * infinities are written as the strings {@code "Infinity"} and {@code "-Infinity"}.
     */
    public static Literal of(double value) {
        if (Double.isNaN(value)) {
            throw new IllegalArgumentException("NaN cannot be a filter literal; use is-nan / not-nan");
        }
        if (Double.isInfinite(value)) {
            return new Literal(Json.NODES.textNode(value > 0 ? "Infinity" : "-Infinity"));
        }
        return new Literal(Json.NODES.numberNode(value));
    }

    public static Literal of(String value) {
        return new Literal(Json.NODES.textNode(Objects.requireNonNull(value, "value")));
    }

    /** A decimal, written as its plain string ({@code "-12.50"}). */
    public static Literal decimal(BigDecimal value) {
        return new Literal(Json.NODES.textNode(value.toPlainString()));
    }

    /** A date from days since 1970-01-01. */
    public static Literal date(long epochDay) {
        if (!canRepresentDate(epochDay)) {
            throw new IllegalArgumentException("date " + epochDay + " days from 1970-01-01 is outside years 1..9999");
        }
        return new Literal(Json.NODES.textNode(LocalDate.ofEpochDay(epochDay).toString()));
    }

    public static Literal date(LocalDate date) {
        return date(date.toEpochDay());
    }

    /** A timestamp with time zone (timestamptz) from microseconds since the epoch, written in UTC. */
    public static Literal timestamptz(long micros) {
        return new Literal(Json.NODES.textNode(formatMicros(micros) + "+00:00"));
    }

    /** A timestamp without time zone from microseconds since 1970-01-01T00:00:00 (local). */
    public static Literal timestamp(long micros) {
        return new Literal(Json.NODES.textNode(formatMicros(micros)));
    }

    /** Bytes as lower-case hex. */
    public static Literal binary(byte[] value) {
        char[] out = new char[value.length * 2];
        for (int i = 0; i < value.length; i++) {
            out[2 * i] = HEX[(value[i] >> 4) & 0xf];
            out[2 * i + 1] = HEX[value[i] & 0xf];
        }
        return new Literal(Json.NODES.textNode(new String(out)));
    }

    public static boolean canRepresentTimestamp(long micros) {
        return micros >= MIN_TIMESTAMP_MICROS && micros <= MAX_TIMESTAMP_MICROS;
    }

    public static boolean canRepresentDate(long epochDay) {
        return epochDay >= MIN_DATE_DAYS && epochDay <= MAX_DATE_DAYS;
    }

    private static String formatMicros(long micros) {
        if (!canRepresentTimestamp(micros)) {
            throw new IllegalArgumentException("timestamp " + micros + " µs from the epoch is outside 1677-09-21..2262-04-11");
        }
        long seconds = Math.floorDiv(micros, 1_000_000L);
        int nanos = (int) Math.floorMod(micros, 1_000_000L) * 1000;
        LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochSecond(seconds, nanos), ZoneOffset.UTC);
        return TIMESTAMP.format(t);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Literal && json.equals(((Literal) o).json);
    }

    @Override
    public int hashCode() {
        return json.hashCode();
    }

    @Override
    public String toString() {
        return Json.write(json);
    }
}
