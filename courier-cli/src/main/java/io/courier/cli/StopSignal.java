package io.courier.cli;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;

/**
 * Waits for the user to stop a long-running command with Ctrl-C (SIGINT) or for a supervisor's
 * SIGTERM, so that the command closes what it runs and {@code courier} exits with status 0.
 *
 * <p>Without handlers the JVM would still run shutdown hooks on these signals, but would then
 * exit with 130 or 143, which scripts and supervisors read as a failure. The handlers are
 * installed through {@code sun.misc.Signal} (module {@code jdk.unsupported}, present in every
 * OpenJDK build), looked up reflectively so that a runtime without it falls back to the default
 * handling. Commands keep a shutdown hook as well, for every other way the JVM may end.
 */
final class StopSignal {

  private final CountDownLatch stop = new CountDownLatch(1);

  /**
   * Handles SIGINT and SIGTERM from now on by releasing {@link #await()}.
   *
   * @return false when the runtime offers no signal handling (the signals then end the JVM as
   *     usual, running its shutdown hooks)
   */
  boolean install() {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
      Object handler = Proxy.newProxyInstance(handlerType.getClassLoader(),
          new Class<?>[] {handlerType}, (proxy, method, args) -> {
            switch (method.getName()) {
              case "handle":
                stop.countDown();
                return null;
              case "hashCode":
                return System.identityHashCode(proxy);
              case "equals":
                return proxy == args[0];
              default:
                return "courier stop handler";
            }
          });
      Constructor<?> named = signal.getConstructor(String.class);
      Method handle = signal.getMethod("handle", signal, handlerType);
      for (String name : new String[] {"INT", "TERM"}) {
        handle.invoke(null, named.newInstance(name), handler);
      }
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return false; // no such API, or the signal is reserved (-Xrs): default handling applies
    }
  }

  /** Blocks until a stop signal arrives. */
  void await() throws InterruptedException {
    stop.await();
  }
}
