package io.courier;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A point in time by which a call must finish, measured on this JVM's monotonic clock
 * ({@link System#nanoTime()}). On the wire a deadline travels as the time remaining, so clock skew
 * between hosts does not matter.
 *
 * <p>Immutable and thread-safe.
 */
public final class Deadline implements Comparable<Deadline> {

  private final long nanoTime;

  private Deadline(long nanoTime) {
    this.nanoTime = nanoTime;
  }

  /** A deadline the given time from now. */
  public static Deadline after(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return after(saturatedNanos(timeout), TimeUnit.NANOSECONDS);
  }

  /** A deadline the given time from now. */
  public static Deadline after(long amount, TimeUnit unit) {
    Objects.requireNonNull(unit, "unit");
    return new Deadline(System.nanoTime() + unit.toNanos(amount));
  }

  /** A deadline at the given {@link System#nanoTime()} value. */
  public static Deadline atNanoTime(long nanoTime) {
    return new Deadline(nanoTime);
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return d.isNegative() ? Long.MIN_VALUE / 4 : Long.MAX_VALUE / 4;
    }
  }

  /** The {@link System#nanoTime()} value of this deadline. */
  public long nanoTime() {
    return nanoTime;
  }

  /** Nanoseconds left; zero or negative once expired. */
  public long remainingNanos() {
    return nanoTime - System.nanoTime();
  }

  /** Whether the deadline has passed. */
  public boolean isExpired() {
    return remainingNanos() <= 0;
  }

  /** The earlier of this deadline and {@code other} ({@code other} may be null). */
  public Deadline min(Deadline other) {
    return other == null || compareTo(other) <= 0 ? this : other;
  }

  @Override
  public int compareTo(Deadline o) {
    return Long.compare(nanoTime - o.nanoTime, 0);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Deadline d && d.nanoTime == nanoTime;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(nanoTime);
  }

  @Override
  public String toString() {
    long rem = remainingNanos();
    return rem > 0 ? "Deadline[" + TimeUnit.NANOSECONDS.toMillis(rem) + " ms left]"
        : "Deadline[expired " + TimeUnit.NANOSECONDS.toMillis(-rem) + " ms ago]";
  }
}
