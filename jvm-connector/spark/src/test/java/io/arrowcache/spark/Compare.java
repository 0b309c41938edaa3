package io.arrowcache.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.Assert.fail;

/**
 * Exact comparison of two reads as multisets of rows. Rows are compared in a canonical text form
 * (maps sorted by key, bytes in hex, NaN and -0.0 kept apart), so map columns compare too, which
 * Spark's exceptAll cannot do.
 */
public final class Compare {
    private Compare() {
    }

    /** Asserts both reads return the same multiset of rows; returns how many. */
    public static int assertSameRows(String what, Dataset<Row> expected, Dataset<Row> actual) {
        List<String> want = canonical(expected.collectAsList());
        List<String> got = canonical(actual.collectAsList());
        if (want.equals(got)) {
            return want.size();
        }
        Map<String, Integer> diff = new HashMap<>();
        want.forEach(r -> diff.merge(r, 1, Integer::sum));
        got.forEach(r -> diff.merge(r, -1, Integer::sum));
        List<String> missing = new ArrayList<>();
        List<String> extra = new ArrayList<>();
        diff.forEach((r, n) -> {
            for (int i = 0; i < Math.abs(n); i++) {
                (n > 0 ? missing : extra).add(r);
            }
        });
        Collections.sort(missing);
        Collections.sort(extra);
        fail(what + ": expected " + want.size() + " rows, got " + got.size() + "; " + missing.size() + " missing, e.g. "
                + missing.subList(0, Math.min(5, missing.size())) + "; " + extra.size() + " unexpected, e.g. "
                + extra.subList(0, Math.min(5, extra.size())));
        return -1;
    }

    static List<String> canonical(List<Row> rows) {
        List<String> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            out.add(canonical(r));
        }
        Collections.sort(out);
        return out;
    }

    static String canonical(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Row) {
            Row r = (Row) v;
            StringBuilder b = new StringBuilder("{");
            for (int i = 0; i < r.length(); i++) {
                b.append(i == 0 ? "" : ", ").append(canonical(r.get(i)));
            }
            return b.append('}').toString();
        }
        if (v instanceof scala.collection.Map) {
            List<String> entries = new ArrayList<>();
            scala.collection.Iterator<?> it = ((scala.collection.Map<?, ?>) v).iterator();
            while (it.hasNext()) {
                scala.Tuple2<?, ?> e = (scala.Tuple2<?, ?>) it.next();
                entries.add(canonical(e._1()) + "->" + canonical(e._2()));
            }
            Collections.sort(entries);
            return "map" + entries;
        }
        if (v instanceof scala.collection.Seq) {
            List<String> items = new ArrayList<>();
            scala.collection.Iterator<?> it = ((scala.collection.Seq<?>) v).iterator();
            while (it.hasNext()) {
                items.add(canonical(it.next()));
            }
            return items.toString();
        }
        if (v instanceof byte[]) {
            StringBuilder b = new StringBuilder("0x");
            for (byte x : (byte[]) v) {
                b.append(String.format("%02x", x));
            }
            return b.toString();
        }
        return v.getClass().getSimpleName() + ":" + v;
    }
}
