package io.arrowcache.trino;

import org.junit.Test;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.ServerSocket;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertTrue;

/**
 * The native bridge in two class loaders of one JVM, the way an engine that gives each catalog its
 * own plugin class loader uses it (Trino did before 4xx; Trino 483 shares one loader per plugin):
 * both load the library (a JVM refuses one library file in two loaders, so the second loads a
 * private copy) and both get the bridge's exceptions as their own class.
 */
public class TwoClassLoadersTest {
    @Test
    public void bridgeWorksInTwoClassLoaders() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.contains("arrow-cache-common") || entry.contains(File.separator + "common" + File.separator)) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        assertTrue("arrow-cache-common is not on the test class path: " + System.getProperty("java.class.path"), !urls.isEmpty());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();  // closed again: nothing listens there
        }
        Class<?> first = null;
        for (int i = 0; i < 2; i++) {
            try (URLClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
                Class<?> bridge = loader.loadClass("io.arrowcache.bridge.NativeBridge");
                if (first == null) {
                    first = bridge;
                } else {
                    assertNotSame(first, bridge);
                }
                assertEquals(0L, ((Long) bridge.getMethod("nativeBytesInUse").invoke(null)).longValue());
                Method connect = bridge.getMethod("connect", String.class, long.class);
                try {
                    connect.invoke(null, "127.0.0.1:" + port, 500L);
                    throw new AssertionError("connected to a closed port");
                } catch (InvocationTargetException e) {
                    Throwable cause = e.getCause();
                    assertEquals("io.arrowcache.bridge.ArrowCacheException", cause.getClass().getName());
                    assertTrue("the exception is the loader's own class", cause.getClass().getClassLoader() == loader);
                    assertTrue(cause.getMessage(), cause.getMessage().contains("127.0.0.1:" + port));
                }
            }
        }
    }
}
