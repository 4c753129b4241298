package io.courier.bench.courier;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Overload: a service of known capacity (each call holds one of {@code permits} permits for
 * {@code holdMillis} ms, so at most {@code permits * 1000 / holdMillis} calls a second succeed),
 * served by a server JVM of its own, called open-loop (calls start at a fixed rate whether or not
 * earlier ones have ended) by this JVM with a deadline. It first finds the peak goodput (calls a
 * second that succeed within their deadline) over a sweep of rates, then offers three times that
 * peak and reports goodput, shed calls (refused with OVERLOADED), other failures, and p50/p99 of
 * the calls that succeeded. Each experiment runs with the server's adaptive concurrency limit off,
 * then on.
 *
 * <pre>java -cp benchmarks/courier/target/bench-courier.jar io.courier.bench.courier.Overload
 *     [seconds per measured window, default 6] [permits, default 8] [hold ms, default 5]
 *     [deadline ms, default 500]</pre>
 *
 * <p>The server runs Courier's defaults otherwise: the bounded pool of 200 threads and 1024 queued
 * calls, no per-method limit. Its JVM's flags come from {@code -Dbench.serverJvm="..."} (default
 * {@code -Xms512m -Xmx512m}).
 */
public final class Overload {

  /** The service: one method of fixed capacity. */
  @ServiceName("bench.Capacity")
  public interface Capacity {
    /** Holds a permit for the configured time; answers {@code id}. */
    int work(int id);
  }

  /** The same method as the load generator calls it. */
  @ServiceName("bench.Capacity")
  public interface CapacityAsync {
    CompletableFuture<Integer> work(int id);
  }

  private Overload() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("server")) {
      serve(Boolean.parseBoolean(args[1]), Integer.parseInt(args[2]),
          Integer.parseInt(args[3]));
      return;
    }
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
    int permits = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int holdMillis = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int deadlineMillis = args.length > 3 ? Integer.parseInt(args[3]) : 500;
    double nominal = permits * 1000.0 / holdMillis;
    System.out.printf(Locale.ROOT, "capacity: %d permits x %d ms = %.0f calls/s nominal;"
        + " deadline %d ms; %d s windows; %d cores%n", permits, holdMillis, nominal,
        deadlineMillis, seconds, Runtime.getRuntime().availableProcessors());
    for (boolean adaptive : new boolean[] {false, true}) {
      System.out.println();
      System.out.println("adaptive concurrency limit " + (adaptive ? "ON" : "OFF"));
      try (ServerProcess server = startServer(adaptive, permits, holdMillis);
          CourierClient client = CourierClient.builder().address("127.0.0.1:" + server.port)
              .timeout(Duration.ofMillis(deadlineMillis)).build()) {
        CapacityAsync stub = client.stub(CapacityAsync.class);
        run(stub, nominal * 0.5, 3); // warm-up: JIT, connections, the limit's baseline
        double peak = 0;
        double peakRate = 0;
        for (double share : new double[] {0.7, 0.85, 1.0, 1.15}) {
          Window w = run(stub, nominal * share, seconds);
          System.out.println("  sweep " + w);
          if (w.goodput() > peak) {
            peak = w.goodput();
            peakRate = w.offered;
          }
        }
        System.out.printf(Locale.ROOT, "  peak goodput %.0f calls/s (offered %.0f/s)%n", peak,
            peakRate);
        run(stub, peak * 3, 2); // two seconds to settle at the new load, not measured
        Window over = run(stub, peak * 3, seconds);
        System.out.println("  3x   " + over);
        System.out.printf(Locale.ROOT, "  goodput at 3x = %.0f%% of peak; server: %s%n",
            100 * over.goodput() / peak, server.ask("stats", "STATS").substring("STATS ".length()));
      }
    }
  }

  /** Offers {@code rate} calls a second for {@code seconds}, then waits for the stragglers. */
  private static Window run(CapacityAsync stub, double rate, int seconds) throws Exception {
    long period = Math.max(1, (long) (1e9 / rate));
    long start = System.nanoTime();
    long end = start + seconds * 1_000_000_000L;
    Recorder accepted = new Recorder(3);
    AtomicLong ok = new AtomicLong();
    AtomicLong shed = new AtomicLong();
    AtomicLong late = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    java.util.Map<String, AtomicLong> otherReasons = new java.util.concurrent.ConcurrentHashMap<>();
    List<CompletableFuture<?>> pending = new ArrayList<>();
    long sent = 0;
    for (long due = start; due < end; due += period) {
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      long intended = due; // latency from the planned start: no coordinated omission
      CompletableFuture<?> f = stub.work((int) sent).handle((v, t) -> {
        if (t == null) {
          ok.incrementAndGet();
          accepted.recordValue(Math.max(0, System.nanoTime() - intended));
        } else {
          Throwable c = t instanceof CompletionException && t.getCause() != null
              ? t.getCause() : t;
          ErrorReason r = c instanceof RpcException e ? e.reason() : null;
          if (r == ErrorReason.OVERLOADED) {
            shed.incrementAndGet();
          } else if (r == ErrorReason.DEADLINE_EXCEEDED) {
            late.incrementAndGet();
          } else {
            failed.incrementAndGet();
            otherReasons.computeIfAbsent(r == null ? c.getClass().getSimpleName() : r.name(),
                k -> new AtomicLong()).incrementAndGet();
          }
        }
        return null;
      });
      sent++;
      if ((sent & 1023) == 0) {
        pending.removeIf(CompletableFuture::isDone);
      }
      pending.add(f);
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .get(30, TimeUnit.SECONDS);
    return new Window(sent / elapsed, ok.get() / elapsed, shed.get() / elapsed,
        late.get() / elapsed, failed.get() / elapsed, accepted.getIntervalHistogram(),
        otherReasons.toString());
  }

  private record Window(double offered, double goodput, double shed, double late, double failed,
      Histogram latency, String otherReasons) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "offered %6.0f/s  goodput %6.0f/s  shed %6.0f/s"
          + "  deadline %6.0f/s  other %4.0f/s  accepted p50 %7.1f ms  p99 %7.1f ms", offered,
          goodput, shed, late, failed, latency.getValueAtPercentile(50) / 1e6,
          latency.getValueAtPercentile(99) / 1e6)
          + (failed > 0 ? "  other: " + otherReasons : "");
    }
  }

  // ------------------------------------------------------------------------ the server JVM

  private static void serve(boolean adaptive, int permits, int holdMillis) throws IOException {
    Semaphore slots = new Semaphore(permits, true);
    Capacity impl = id -> {
      slots.acquireUninterruptibly();
      try {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(holdMillis));
      } finally {
        slots.release();
      }
      return id;
    };
    CourierServer.Builder b = CourierServer.builder().host("127.0.0.1")
        .service(Capacity.class, impl);
    if (adaptive) {
      b.adaptiveConcurrencyLimit();
    }
    try (CourierServer server = b.build().start();
        BufferedReader in = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
      System.out.println("READY " + server.port());
      System.out.flush();
      String line;
      while ((line = in.readLine()) != null && !line.equals("stop")) {
        if (line.equals("stats")) {
          System.out.println("STATS shed by the adaptive limit " + server.callsShedByAdaptiveLimit()
              + ", refused in all " + server.counters().rejectedCalls() + ", adaptive limit now "
              + server.adaptiveConcurrencyLimit());
          System.out.flush();
        }
      }
    }
    System.exit(0);
  }

  /** The server JVM, started from this jar. */
  private static ServerProcess startServer(boolean adaptive, int permits, int holdMillis)
      throws IOException {
    return new ServerProcess(List.of(System.getProperty("bench.serverJvm", "-Xms512m -Xmx512m")
        .split(" ")), Overload.class.getName(), "server", Boolean.toString(adaptive),
        Integer.toString(permits), Integer.toString(holdMillis));
  }
}
