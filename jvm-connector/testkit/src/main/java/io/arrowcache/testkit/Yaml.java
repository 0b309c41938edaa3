package io.arrowcache.testkit;

import java.util.Collection;
import java.util.Map;

/**
 * Writes a node's configuration: nested maps as YAML blocks, every scalar as JSON (a quoted
 * string, a number or a boolean), which YAML reads as the same value.
 */
final class Yaml {
    private Yaml() {
    }

    static String write(Map<String, ?> map) {
        StringBuilder out = new StringBuilder();
        block(out, map, "");
        return out.toString();
    }

    private static void block(StringBuilder out, Map<?, ?> map, String indent) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            out.append(indent).append(e.getKey()).append(':');
            Object v = e.getValue();
            if (v instanceof Map && !((Map<?, ?>) v).isEmpty()) {
                out.append('\n');
                block(out, (Map<?, ?>) v, indent + "  ");
            } else {
                out.append(' ').append(json(v)).append('\n');
            }
        }
    }

    /** A value as JSON (maps and collections in flow style). */
    static String json(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        if (v instanceof Map) {
            StringBuilder b = new StringBuilder("{");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                b.append(b.length() > 1 ? ", " : "").append(json(String.valueOf(e.getKey()))).append(": ").append(json(e.getValue()));
            }
            return b.append('}').toString();
        }
        if (v instanceof Collection) {
            StringBuilder b = new StringBuilder("[");
            for (Object o : (Collection<?>) v) {
                b.append(b.length() > 1 ? ", " : "").append(json(o));
            }
            return b.append(']').toString();
        }
        String s = v.toString();
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    b.append("\\\"");
                    break;
                case '\\':
                    b.append("\\\\");
                    break;
                case '\n':
                    b.append("\\n");
                    break;
                case '\t':
                    b.append("\\t");
                    break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }
}
