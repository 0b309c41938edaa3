package io.arrowcache.testkit;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Starting, probing and stopping the server processes of the testkit, and what /proc says of them. */
public final class Processes {
    /** How long a server may take to become healthy. */
    public static final long START_TIMEOUT_MS = 60_000;
    /** USER_HZ: the unit of /proc's CPU times. */
    public static final long CLOCK_TICKS = clockTicks();

    private Processes() {
    }

    /** A free TCP port on this machine (free now; the process that binds it comes soon after). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port: " + e.getMessage(), e);
        }
    }

    /**
     * Starts {@code command} with no input, its output (stdout, and stderr unless {@code stderr} is
     * given) into {@code stdout}, and stops it at JVM exit at the latest (also on Ctrl-C).
     */
    public static Process start(List<String> command, Path workDir, Path stdout, Path stderr, Map<String, String> env, String what)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(stdout.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        if (stderr == null) {
            pb.redirectErrorStream(true);
        } else {
            pb.redirectError(stderr.toFile());
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroy, "stop " + what));
        return p;
    }

    /**
     * Waits until {@code healthUrl} answers HTTP 200. A process that exits first, or is not healthy
     * within {@link #START_TIMEOUT_MS}, is stopped and an IllegalStateException says so, followed by
     * {@code logs}.
     */
    public static void waitHealthy(Process p, String healthUrl, String what, Supplier<String> logs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        String last = "no answer";
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(what + " exited with code " + p.exitValue() + " before it was healthy" + logs.get());
            }
            try {
                int status = request("GET", healthUrl, null);
                if (status == 200) {
                    return;
                }
                last = "HTTP " + status;
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        stop(p);
        throw new IllegalStateException(what + " not healthy at " + healthUrl + " after " + START_TIMEOUT_MS + " ms (" + last + ")"
                + logs.get());
    }

    /** An HTTP request (a JSON body when one is given); with a body, a status other than 200 is an IOException. */
    public static int request(String method, String url, String body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(body == null ? 2000 : 10_000);
        c.setRequestMethod(method);
        try {
            if (body != null) {
                c.setDoOutput(true);
                c.setRequestProperty("Content-Type", "application/json");
                try (OutputStream out = c.getOutputStream()) {
                    out.write(body.getBytes(StandardCharsets.UTF_8));
                }
            }
            int status = c.getResponseCode();
            if (body != null && status != 200) {
                throw new IOException(method + " " + url + " answered HTTP " + status);
            }
            return status;
        } finally {
            c.disconnect();
        }
    }

    /** Stops a process: SIGTERM, then SIGKILL after 10 s. */
    public static void stop(Process p) {
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** The end of a log file (at most {@code max} characters), or "" when there is none. */
    public static String tail(Path file, int max) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            String s = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            return s.length() <= max ? s : s.substring(s.length() - max);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    /** CPU time a process has used (user + system), from /proc; 0 once it is gone. */
    public static long cpuNanos(long pid) {
        try {
            String stat = new String(Files.readAllBytes(Paths.get("/proc/" + pid + "/stat")), StandardCharsets.UTF_8);
            // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1_000_000_000L / CLOCK_TICKS;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** A process's resident memory in MiB (from /proc), or -1 when unknown. */
    public static long residentMiB(long pid) {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // unknown
        }
        return -1;
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
            return Long.parseLong(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
        } catch (IOException | RuntimeException e) {
            return 100;  // USER_HZ on Linux
        }
    }
}
