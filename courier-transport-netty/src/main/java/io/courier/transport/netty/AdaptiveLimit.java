package io.courier.transport.netty;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server-wide concurrency limit that follows the latency of the calls it admits, in the manner of
 * a latency gradient: it learns the latency the server has when it is not the bottleneck (the
 * <em>baseline</em>), and every window compares the window's median latency with it. While the
 * median stays within {@code tolerance} times the baseline, the limit grows by its square root;
 * when the median rises above that, the limit moves halfway towards its value scaled by the ratio
 * of the two (the ratio at least 1/2), plus its square root as room for bursts. Either happens only
 * when the limit is used (half of it or more in flight during the window): a limit that does not
 * bind says nothing about whether it is right. It never leaves {@code [min, max]}.
 *
 * <p>A call beyond the limit is refused at admission, before its body is decoded or it is queued,
 * so a saturated server answers the excess at once instead of letting it wait behind a queue that
 * only grows.
 *
 * <p>The median, not the mean, so that a few stalls (a collection, a core busy with something
 * else) do not cut the limit; a window keeps a uniform sample of at most 256 latencies for it. The
 * baseline falls at once to a lower window median; it rises (slowly, 5% of the gap per window)
 * only from windows in which the server was not the bottleneck (less than half the limit in
 * flight) or the limit is at its minimum, so queueing delay does not become the new baseline,
 * while a lasting change of the methods' own time does.
 *
 * <p>Time is passed in by the caller ({@code System.nanoTime()} on the server, a simulated clock
 * in tests). Admission is lock-free; recording a sample takes a short lock. Thread-safe.
 */
final class AdaptiveLimit {

  /** How much slower than the baseline a window may be before the limit is cut. */
  static final double TOLERANCE = 2.0;
  /** Samples a window needs before it may close. */
  static final int WINDOW_SAMPLES = 16;
  /** The shortest window. */
  static final long WINDOW_NANOS = 100_000_000L;
  /** Share of the gap by which a rising baseline moves per window. */
  static final double DRIFT = 0.05;
  /** Samples of a window kept for its median; beyond that, a uniform sample of them. */
  static final int RESERVOIR = 256;

  private final int min;
  private final int max;
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile int limit;

  private final Object lock = new Object();
  private double exact; // guarded by lock
  private double baselineNanos; // guarded by lock; 0 until the first window closes
  private long windowStartNanos; // guarded by lock
  private boolean windowOpen; // guarded by lock
  private int samples; // guarded by lock
  private final long[] reservoir = new long[RESERVOIR]; // guarded by lock
  private long random = 0x9E3779B97F4A7C15L; // guarded by lock; xorshift state, fixed seed
  private int peakInFlight; // guarded by lock

  /**
   * @param min the lowest the limit goes
   * @param max the highest the limit goes
   * @param initial the limit to start with, within {@code [min, max]}
   */
  AdaptiveLimit(int min, int max, int initial) {
    if (min <= 0 || max < min || initial < min || initial > max) {
      throw new IllegalArgumentException("min " + min + ", max " + max + ", initial " + initial
          + " (expected: 0 < min <= initial <= max)");
    }
    this.min = min;
    this.max = max;
    this.limit = initial;
    this.exact = initial;
  }

  /** Admits a call if fewer than the limit are in flight; the caller must later release it. */
  boolean tryAcquire() {
    while (true) {
      int n = inFlight.get();
      if (n >= limit) {
        return false;
      }
      if (inFlight.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Ends an admitted call without a latency sample (it was refused by its executor, say). */
  void release() {
    inFlight.decrementAndGet();
  }

  /**
   * Ends an admitted call that took {@code latencyNanos} from arrival to answer.
   *
   * @param nowNanos the clock now, which closes the window once it is long enough
   */
  void release(long latencyNanos, long nowNanos) {
    int n = inFlight.getAndDecrement();
    synchronized (lock) {
      if (!windowOpen) {
        windowOpen = true;
        windowStartNanos = nowNanos;
      }
      long sample = Math.max(0, latencyNanos);
      if (samples < RESERVOIR) {
        reservoir[samples] = sample;
      } else {
        // every sample of the window has the same chance to be kept (reservoir sampling)
        int slot = (int) Long.remainderUnsigned(nextRandom(), samples + 1L);
        if (slot < RESERVOIR) {
          reservoir[slot] = sample;
        }
      }
      samples++;
      peakInFlight = Math.max(peakInFlight, n);
      if (samples >= WINDOW_SAMPLES && nowNanos - windowStartNanos >= WINDOW_NANOS) {
        closeWindow();
      }
    }
  }

  private long nextRandom() {
    long x = random;
    x ^= x << 13;
    x ^= x >>> 7;
    x ^= x << 17;
    random = x;
    return x;
  }

  private void closeWindow() {
    int kept = Math.min(samples, RESERVOIR);
    Arrays.sort(reservoir, 0, kept);
    double median = reservoir[kept / 2];
    int peak = peakInFlight;
    windowOpen = false;
    samples = 0;
    peakInFlight = 0;
    if (baselineNanos == 0 || median < baselineNanos) {
      baselineNanos = Math.max(1, median);
    } else if (peak < exact / 2 || limit == min) {
      baselineNanos += (median - baselineNanos) * DRIFT;
    }
    double gradient =
        Math.max(0.5, Math.min(1.0, TOLERANCE * baselineNanos / Math.max(1, median)));
    double headroom = Math.max(1.0, Math.sqrt(exact));
    boolean used = peak >= exact / 2;
    if (gradient < 1.0 && used) {
      // halfway to the limit that would bring latency back within tolerance, plus a little
      // room for bursts: one slow window must not halve the limit
      exact = (exact + exact * gradient + headroom) / 2;
    } else if (gradient >= 1.0 && used) {
      exact += headroom;
    }
    // A slow window with little in flight changes nothing: the limit did not bind, so cutting it
    // would not have helped, and at light load nothing would grow it back afterwards.
    exact = Math.max(min, Math.min(max, exact));
    limit = (int) exact;
  }

  /** The limit now. */
  int limit() {
    return limit;
  }

  /** Calls admitted and not yet released. */
  int inFlight() {
    return inFlight.get();
  }

  /** The no-load latency learnt so far, in nanoseconds; 0 before the first window. */
  long baselineNanos() {
    synchronized (lock) {
      return (long) baselineNanos;
    }
  }
}
