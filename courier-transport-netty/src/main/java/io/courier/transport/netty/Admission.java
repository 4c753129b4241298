package io.courier.transport.netty;

import io.courier.internal.server.ServerMethod;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Overload protection shared by every connection of a server, on every protocol: per-method
 * concurrency limits and the server's adaptive limit. A call is admitted after its method is
 * known and before its body is decoded or it is queued for its executor; every admitted call is
 * released exactly once when its answer is handed to the connection (or it ends unanswered).
 *
 * <p>Per-method limits count every call of the method, streams included. The adaptive limit counts
 * unary and one-way calls only: a stream's lifetime says nothing of the server's load. Thread-safe;
 * the table of limits is fixed at construction.
 */
final class Admission {

  /** No limits: every call is admitted. */
  static final Admission NONE = new Admission(Map.of(), null);

  private final Map<ServerMethod, Gate> gates;
  private final AdaptiveLimit adaptive;
  final LongAdder shedByMethodLimit = new LongAdder();
  final LongAdder shedByAdaptiveLimit = new LongAdder();

  /**
   * @param methodLimits the most calls of each method in flight at once, server-wide
   * @param adaptive the server's adaptive limit, or null for none
   */
  Admission(Map<ServerMethod, Integer> methodLimits, AdaptiveLimit adaptive) {
    IdentityHashMap<ServerMethod, Gate> g = new IdentityHashMap<>();
    methodLimits.forEach((m, max) -> g.put(m, new Gate(max)));
    this.gates = g;
    this.adaptive = adaptive;
  }

  /**
   * Admits a call of {@code m}: null when admitted (the caller must {@link #release} it later),
   * else why it was refused (the caller answers RESOURCE_EXHAUSTED / OVERLOADED with that text).
   */
  String admit(ServerMethod m) {
    Gate g = gates.isEmpty() ? null : gates.get(m);
    if (g != null && !g.tryAcquire()) {
      shedByMethodLimit.increment();
      return "too many calls of " + m.displayName() + " in flight (limit " + g.max
          + " per server, maxConcurrentCalls); retry on another provider or later";
    }
    if (adaptive != null && !m.descriptor().kind().isStreaming() && !adaptive.tryAcquire()) {
      if (g != null) {
        g.release();
      }
      shedByAdaptiveLimit.increment();
      return "server overloaded: adaptive concurrency limit of " + adaptive.limit()
          + " calls in flight reached; retry on another provider or later";
    }
    return null;
  }

  /**
   * Releases an admitted call of {@code m}.
   *
   * @param arrivalNanos when the call arrived ({@code System.nanoTime()})
   * @param sample whether the call's time from arrival to now tells the server's load (false for
   *     a call its executor refused, which ran no time at all)
   */
  void release(ServerMethod m, long arrivalNanos, boolean sample) {
    Gate g = gates.isEmpty() ? null : gates.get(m);
    if (g != null) {
      g.release();
    }
    if (adaptive != null && !m.descriptor().kind().isStreaming()) {
      if (sample) {
        long now = System.nanoTime();
        adaptive.release(now - arrivalNanos, now);
      } else {
        adaptive.release();
      }
    }
  }

  /** The adaptive limit now, or 0 when there is none. */
  int adaptiveLimit() {
    return adaptive == null ? 0 : adaptive.limit();
  }

  /** The most calls of one method at once. */
  private static final class Gate {
    final int max;
    private final AtomicInteger inFlight = new AtomicInteger();

    Gate(int max) {
      this.max = max;
    }

    boolean tryAcquire() {
      while (true) {
        int n = inFlight.get();
        if (n >= max) {
          return false;
        }
        if (inFlight.compareAndSet(n, n + 1)) {
          return true;
        }
      }
    }

    void release() {
      inFlight.decrementAndGet();
    }
  }
}
