package io.courier.transport.netty;

/** Counts events in one-second windows. Not thread-safe: one per connection, on its event loop. */
final class RateWindow {

  private long windowStart;
  private int count;

  /** Counts an event at {@code nanoTime}; true when this window now holds more than {@code max}. */
  boolean exceeded(long nanoTime, int max) {
    if (nanoTime - windowStart > 1_000_000_000L) {
      windowStart = nanoTime;
      count = 0;
    }
    return ++count > max;
  }
}
