package io.courier.transport.netty;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps retries as a share of calls, so that retries cannot multiply the load on a cluster that is
 * already failing: every call deposits {@code ratio} of a token, every retry withdraws a whole
 * one, and a floor of {@code minPerSecond} tokens a second lets a quiet client still retry.
 * Lock-free; thread-safe.
 */
final class RetryBudget {

  private static final long UNIT = 1_000;

  private final long depositPerCall;
  private final long capacity;
  private final long refillPerSecond;
  private final AtomicLong tokens;
  private final AtomicLong lastRefillNanos = new AtomicLong(System.nanoTime());

  /**
   * @param ratio retries allowed per call, for example 0.2
   * @param minPerSecond retries always allowed per second
   */
  RetryBudget(double ratio, int minPerSecond) {
    this.depositPerCall = Math.round(ratio * UNIT);
    this.refillPerSecond = minPerSecond * UNIT;
    this.capacity = Math.max(10 * UNIT, 10 * refillPerSecond);
    this.tokens = new AtomicLong(refillPerSecond);
  }

  /** Records a first attempt. */
  void deposit() {
    if (depositPerCall > 0 && tokens.get() < capacity) { // a full budget costs no write
      tokens.getAndUpdate(t -> Math.min(capacity, t + depositPerCall));
    }
  }

  /** Takes a token for a retry; false when the budget is spent. */
  boolean tryWithdraw() {
    refill();
    while (true) {
      long t = tokens.get();
      if (t < UNIT) {
        return false;
      }
      if (tokens.compareAndSet(t, t - UNIT)) {
        return true;
      }
    }
  }

  private void refill() {
    long now = System.nanoTime();
    long last = lastRefillNanos.get();
    long elapsed = now - last;
    if (elapsed < 10_000_000L || !lastRefillNanos.compareAndSet(last, now)) {
      return; // at most one refill every 10 ms, by one thread
    }
    long add = refillPerSecond * elapsed / 1_000_000_000L;
    tokens.getAndUpdate(t -> Math.min(capacity, t + add));
  }
}
