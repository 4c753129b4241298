package io.courier.bench.courier;

import io.courier.client.CourierClient;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Head-of-line blocking: the latency of 64-byte calls alone, then while 8 MiB calls run through
 * the same client to the same server (a server JVM of its own, on loopback), started at a steady
 * rate (each is started on time, or as soon as the one before it ends).
 *
 * <pre>java -Xms1g -Xmx1g -cp benchmarks/courier/target/bench-courier.jar \
 *     io.courier.bench.courier.HeadOfLine
 *     [seconds per phase, default 10] [8 MiB calls per second, default 20]
 *     [bulk lane threshold in bytes, default Courier's; 0 turns the lane off]</pre>
 *
 * <p>The server JVM's flags come from {@code -Dbench.serverJvm="..."} (default
 * {@code -Xms1g -Xmx1g}); give the client JVM the same heap.
 */
public final class HeadOfLine {

  private HeadOfLine() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int perSecond = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    CourierClient.Builder builder = CourierClient.builder().timeout(Duration.ofSeconds(60));
    if (args.length > 2) {
      builder.bulkLaneThreshold(Integer.parseInt(args[2]));
    }
    String[] serverFlags = System.getProperty("bench.serverJvm", "-Xms1g -Xmx1g").split(" ");
    try (ServerProcess server = new ServerProcess("courier", serverFlags);
        CourierClient client = builder.address("127.0.0.1:" + server.port).build()) {
      Bench bench = client.stub(Bench.class);
      byte[] small = new byte[64];
      byte[] big = new byte[8 << 20];
      small(bench, small, 3); // warm-up
      for (int i = 0; i < 10; i++) {
        bench.echo(big);
      }
      Histogram alone = small(bench, small, seconds);
      AtomicLong bigCalls = new AtomicLong();
      java.util.concurrent.atomic.AtomicBoolean running =
          new java.util.concurrent.atomic.AtomicBoolean(true);
      long periodNanos = 1_000_000_000L / perSecond;
      Thread bulk = new Thread(() -> {
        long next = System.nanoTime();
        while (running.get()) {
          long wait = next - System.nanoTime();
          if (wait > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
          }
          next += periodNanos;
          if (bench.echo(big).length != big.length) {
            throw new IllegalStateException("wrong answer");
          }
          bigCalls.incrementAndGet();
        }
      }, "bulk");
      bulk.setDaemon(true);
      bulk.start();
      Thread.sleep(500);
      long before = bigCalls.get();
      Histogram with = small(bench, small, seconds);
      long bigDone = bigCalls.get() - before;
      running.set(false);
      bulk.join();
      System.out.printf(Locale.ROOT, "64 B calls alone:            p50 %8.1f µs  p99 %9.1f µs"
          + "  p99.9 %9.1f µs  max %9.1f µs  (%d calls)%n", alone.getValueAtPercentile(50) / 1e3,
          alone.getValueAtPercentile(99) / 1e3, alone.getValueAtPercentile(99.9) / 1e3,
          alone.getMaxValue() / 1e3, alone.getTotalCount());
      System.out.printf(Locale.ROOT, "64 B calls beside 8 MiB ones: p50 %8.1f µs  p99 %9.1f µs"
          + "  p99.9 %9.1f µs  max %9.1f µs  (%d calls; %d calls of 8 MiB, %.0f MiB/s each"
          + " way)%n", with.getValueAtPercentile(50) / 1e3, with.getValueAtPercentile(99) / 1e3,
          with.getValueAtPercentile(99.9) / 1e3, with.getMaxValue() / 1e3, with.getTotalCount(),
          bigDone, bigDone * 8.0 / seconds);
      System.out.printf(Locale.ROOT, "p99 with / alone: %.2f%n",
          (double) with.getValueAtPercentile(99) / alone.getValueAtPercentile(99));
    }
  }

  private static Histogram small(Bench bench, byte[] payload, int seconds) {
    Histogram h = new Histogram(3);
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < end) {
      long t = System.nanoTime();
      bench.echo(payload);
      h.recordValue(System.nanoTime() - t);
    }
    return h;
  }
}
