package io.arrowcache.bridge;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Loads the native bridge ({@code libarrow_cache_bridge.so}) into the class loader that loaded this
 * class, once. In order:
 *
 * <ol>
 *   <li>the file named by the system property {@value #LIBRARY_PROPERTY}, if set;
 *   <li>{@code System.loadLibrary("arrow_cache_bridge")}, from {@code java.library.path};
 *   <li>the copy inside the jar, {@code /native/<os>-<arch>/libarrow_cache_bridge.so} (for Linux
 *       on x86-64 {@value #DEFAULT_RESOURCE}), extracted to a temporary file.
 * </ol>
 *
 * <p>A JVM refuses to load one library file into two class loaders, and a Trino server gives each
 * catalog its own plugin class loader. So the extracted copy is a new file per class loader
 * (deleted again once loaded), and when the first two ways fail because another class loader has
 * the file already, the library is loaded from such a private copy instead.
 */
public final class NativeLoader {
    /** A system property naming the library file to load. */
    public static final String LIBRARY_PROPERTY = "arrow.cache.bridge.library";
    /** A system property naming the directory to extract the library into (default java.io.tmpdir). */
    public static final String TMPDIR_PROPERTY = "arrow.cache.bridge.tmpdir";
    /** The name for System.loadLibrary. */
    public static final String LIBRARY_NAME = "arrow_cache_bridge";
    /** Where the jar carries the Linux x86-64 build. */
    public static final String DEFAULT_RESOURCE = "/native/linux-x86_64/libarrow_cache_bridge.so";

    private static boolean loaded;
    private static String loadedFrom;

    private NativeLoader() {}

    /** Loads the library unless this class loader has it already. Throws UnsatisfiedLinkError. */
    public static synchronized void load() {
        if (loaded) {
            return;
        }
        List<String> attempts = new ArrayList<>();
        String explicit = System.getProperty(LIBRARY_PROPERTY);
        if (explicit != null && !explicit.trim().isEmpty()) {
            File file = new File(explicit.trim());
            if (!file.isFile()) {
                throw new UnsatisfiedLinkError("-D" + LIBRARY_PROPERTY + "=" + explicit
                        + ": no such file (it must name libarrow_cache_bridge.so itself)");
            }
            try {
                done(loadFile(file.getAbsolutePath()), file.getAbsolutePath());
            } catch (UnsatisfiedLinkError e) {
                if (!loadedElsewhere(e)) {
                    throw e;
                }
                // Another class loader has this file: load a private copy of it.
                try {
                    done(loadPrivateCopy(file.toPath()), "a copy of " + file);
                } catch (IOException copy) {
                    throw linkError("cannot copy " + file + " for this class loader: " + copy, e);
                }
            }
            return;
        }

        try {
            System.loadLibrary(LIBRARY_NAME);
            done(true, "java.library.path");
            return;
        } catch (UnsatisfiedLinkError e) {
            attempts.add("java.library.path: " + e.getMessage());
            if (loadedElsewhere(e)) {
                // Another class loader has it from java.library.path: load a private copy.
                for (String dir : System.getProperty("java.library.path", "").split(File.pathSeparator)) {
                    File file = new File(dir, System.mapLibraryName(LIBRARY_NAME));
                    if (!dir.isEmpty() && file.isFile()) {
                        try {
                            done(loadPrivateCopy(file.toPath()), "a copy of " + file);
                            return;
                        } catch (IOException | UnsatisfiedLinkError copy) {
                            attempts.add(file + ": " + copy.getMessage());
                        }
                        break;
                    }
                }
            }
        }

        String resource = resourcePath();
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                attempts.add(resource + ": not in the jar");
            } else {
                Path copy = extract(in);
                done(loadAndDelete(copy), resource + " (extracted)");
                return;
            }
        } catch (IOException | UnsatisfiedLinkError e) {
            attempts.add(resource + ": " + e.getMessage());
        }
        throw new UnsatisfiedLinkError("cannot load the arrow-cache native bridge (lib" + LIBRARY_NAME + ") for "
                + platform() + ": " + String.join("; ", attempts) + ". Set -D" + LIBRARY_PROPERTY
                + "=/path/to/lib" + LIBRARY_NAME + ".so, or put it on java.library.path.");
    }

    /** Where the library was loaded from, or null before {@link #load()}. */
    public static synchronized String loadedFrom() {
        return loadedFrom;
    }

    private static void done(boolean ok, String from) {
        if (ok) {
            loaded = true;
            loadedFrom = from;
        }
    }

    private static boolean loadFile(String path) {
        System.load(path);
        return true;
    }

    private static boolean loadedElsewhere(UnsatisfiedLinkError e) {
        String message = e.getMessage();
        return message != null && message.contains("another classloader");
    }

    private static boolean loadPrivateCopy(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return loadAndDelete(extract(in));
        }
    }

    /** Loads a private copy and removes it: on Linux the loaded mapping outlives the file. */
    private static boolean loadAndDelete(Path copy) {
        try {
            System.load(copy.toAbsolutePath().toString());
            return true;
        } finally {
            try {
                Files.deleteIfExists(copy);
            } catch (IOException | SecurityException e) {
                copy.toFile().deleteOnExit();
            }
        }
    }

    /** Copies the library to a new file (unique per call, hence per class loader). */
    private static Path extract(InputStream in) throws IOException {
        String dir = System.getProperty(TMPDIR_PROPERTY);
        String suffix = System.mapLibraryName(LIBRARY_NAME);
        suffix = suffix.substring(suffix.lastIndexOf('.'));
        Path file = dir == null || dir.trim().isEmpty()
                ? Files.createTempFile("arrow_cache_bridge-", suffix)
                : Files.createTempFile(Paths.get(dir.trim()), "arrow_cache_bridge-", suffix);
        try {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        return file;
    }

    /** {@code /native/<os>-<arch>/<mapped library name>}: {@value #DEFAULT_RESOURCE} on Linux x86-64. */
    static String resourcePath() {
        return "/native/" + platform() + "/" + System.mapLibraryName(LIBRARY_NAME);
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            os = "darwin";
        } else if (os.startsWith("windows")) {
            os = "windows";
        }
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86_64";
        } else if (arch.equals("arm64")) {
            arch = "aarch64";
        }
        return os + "-" + arch;
    }

    private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
        UnsatisfiedLinkError error = new UnsatisfiedLinkError(message);
        error.initCause(cause);
        return error;
    }
}
