package io.courier.bench;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed loop that keeps {@code inflight} calls outstanding on one client: each answer starts
 * the next call, from the thread that delivered it. Latency is measured per call from just before
 * it is started to the moment its answer is delivered, into an HdrHistogram recorder; the warm-up
 * interval is discarded.
 */
final class LoadLoop {

  /** What each call sends. */
  enum Scenario {
    ECHO,
    SMALL
  }

  /** The outcome of the measured window. */
  record Result(long calls, double seconds, Histogram latencyNanos, long errors,
      String firstError) {
    double throughput() {
      return calls / seconds;
    }

    String line() {
      return String.format(java.util.Locale.ROOT,
          "RESULT calls=%d seconds=%.3f throughput=%.1f p50us=%.1f p99us=%.1f p999us=%.1f"
              + " maxus=%.1f errors=%d%s",
          calls, seconds, throughput(), micros(50), micros(99), micros(99.9),
          latencyNanos.getMaxValue() / 1000.0, errors,
          firstError == null ? "" : " firstError=" + firstError.replace(' ', '_'));
    }

    private double micros(double percentile) {
      return latencyNanos.getValueAtPercentile(percentile) / 1000.0;
    }
  }

  private final Contender.Client client;
  private final Scenario scenario;
  private final byte[] payload;
  private final Small small = new Small(42L, "widget-42", 7, 19.99, true);
  private final int inflight;
  private final Recorder recorder = new Recorder(3);
  private final AtomicLong errors = new AtomicLong();
  private final AtomicInteger outstanding = new AtomicInteger();
  private volatile String firstError;
  private volatile boolean running = true;

  LoadLoop(Contender.Client client, Scenario scenario, int payloadBytes, int inflight) {
    this.client = client;
    this.scenario = scenario;
    this.payload = new byte[payloadBytes];
    ThreadLocalRandom.current().nextBytes(payload);
    this.inflight = inflight;
  }

  /**
   * Runs the loop: {@code warmup}, then {@code onWarm}, then the measured {@code window}, then
   * {@code onDone}; then it stops starting calls and waits (up to 10 s) for those in flight.
   */
  Result run(Duration warmup, Duration window, Runnable onWarm, Runnable onDone)
      throws InterruptedException {
    for (int i = 0; i < inflight; i++) {
      outstanding.incrementAndGet();
      issue();
    }
    Thread.sleep(warmup.toMillis());
    recorder.getIntervalHistogram(); // discards the warm-up
    errors.set(0);
    firstError = null;
    long start = System.nanoTime();
    onWarm.run();
    Thread.sleep(window.toMillis());
    Histogram h = recorder.getIntervalHistogram();
    long end = System.nanoTime();
    long errorCount = errors.get();
    onDone.run();
    running = false;
    long waitUntil = System.nanoTime() + 10_000_000_000L;
    while (outstanding.get() > 0 && System.nanoTime() < waitUntil) {
      Thread.sleep(5);
    }
    return new Result(h.getTotalCount(), (end - start) / 1e9, h, errorCount, firstError);
  }

  /** Starts calls for one slot until one is pending (answers that are already there loop here). */
  private void issue() {
    while (running) {
      long t0 = System.nanoTime();
      CompletableFuture<?> f;
      try {
        f = (scenario == Scenario.ECHO ? client.echo(payload) : client.small(small))
            .toCompletableFuture();
      } catch (RuntimeException e) {
        failed(e);
        continue;
      }
      if (!f.isDone()) {
        f.whenComplete((v, e) -> {
          done(t0, v, e);
          issue();
        });
        return;
      }
      Object v = null;
      Throwable e = null;
      try {
        v = f.join();
      } catch (RuntimeException x) {
        e = x;
      }
      done(t0, v, e);
    }
    outstanding.decrementAndGet();
  }

  private void done(long t0, Object value, Throwable e) {
    if (e != null) {
      failed(e);
      return;
    }
    boolean right = scenario == Scenario.ECHO
        ? value instanceof byte[] b && b.length == payload.length
            && b[0] == payload[0] && b[b.length - 1] == payload[payload.length - 1]
        : value instanceof Small s && s.quantity == small.quantity + 1 && s.id == small.id;
    if (!right) {
      failed(new IllegalStateException("wrong answer: " + (value instanceof byte[] b
          ? b.length + " bytes" : String.valueOf(value))));
      return;
    }
    recorder.recordValue(System.nanoTime() - t0);
  }

  private void failed(Throwable e) {
    if (errors.getAndIncrement() == 0) {
      firstError = String.valueOf(e);
    }
  }

  @Override
  public String toString() {
    return "LoadLoop[" + scenario + ", " + payload.length + " B, " + inflight + " in flight]";
  }
}
