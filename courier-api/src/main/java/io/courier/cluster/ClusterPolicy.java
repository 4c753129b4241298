package io.courier.cluster;

import java.time.Duration;
import java.util.Objects;

/**
 * What a client does when a call fails, or to keep a call from waiting on one slow provider.
 * Immutable; made by the static factories, set per client, service or method on the client's
 * builder.
 *
 * <table>
 *   <caption>The policies</caption>
 *   <tr><th>policy</th><th>what it does</th><th>for</th></tr>
 *   <tr><td>{@link #failover()} (default)</td><td>sends a failed call again, to another provider
 *     when there is one, when it provably did not run (never written, no connection, refused
 *     while draining or overloaded) or, for an {@link io.courier.annotation.Idempotent} method,
 *     when its connection was lost; up to the attempts allowed and within the retry
 *     budget</td><td>most calls</td></tr>
 *   <tr><td>{@link #failfast()}</td><td>one attempt; every failure reaches the caller at
 *     once</td><td>calls the caller retries itself</td></tr>
 *   <tr><td>{@link #failsafe()}</td><td>as failover, then a remaining failure is swallowed: the
 *     caller gets {@code null}, zero or {@code false}</td><td>calls whose failure does not
 *     matter, such as an audit record</td></tr>
 *   <tr><td>{@link #failback()}</td><td>the caller returns at once; a call that provably did not
 *     run (or is idempotent) is sent again in the background with growing delays</td>
 *     <td>{@code void} and one-way calls: notifications</td></tr>
 *   <tr><td>{@link #forking(int)}</td><td>sends the call to several providers at once; the first
 *     success wins, the others are cancelled</td><td>idempotent reads that must be fast</td></tr>
 *   <tr><td>{@link #hedged(Duration, int)}</td><td>sends a copy to another provider when no answer
 *     came within a delay; the first success wins, the others are cancelled</td><td>idempotent
 *     reads with a long latency tail</td></tr>
 *   <tr><td>{@link #broadcast()}</td><td>calls every provider; fails when any fails</td>
 *     <td>refreshing every provider's cache</td></tr>
 * </table>
 *
 * <p>Copies of a call ({@code forking}, {@code hedged}) run a method more than once, so they are
 * only applied to methods marked {@link io.courier.annotation.Idempotent}; {@code failback} only
 * to methods that return nothing. Set for a single method, a policy that does not fit it is
 * refused when the stub is made; set for a whole client or service, it applies to the methods it
 * fits and the others keep failover.
 */
public final class ClusterPolicy {

  /** The kinds of policy. */
  public enum Kind {
    FAILOVER,
    FAILFAST,
    FAILSAFE,
    FAILBACK,
    FORKING,
    HEDGED,
    BROADCAST
  }

  private static final ClusterPolicy FAILOVER = new ClusterPolicy(Kind.FAILOVER, 0, Duration.ZERO);
  private static final ClusterPolicy FAILFAST = new ClusterPolicy(Kind.FAILFAST, 1, Duration.ZERO);
  private static final ClusterPolicy FAILSAFE = new ClusterPolicy(Kind.FAILSAFE, 0, Duration.ZERO);
  private static final ClusterPolicy BROADCAST =
      new ClusterPolicy(Kind.BROADCAST, 1, Duration.ZERO);

  private final Kind kind;
  private final int count;
  private final Duration delay;

  private ClusterPolicy(Kind kind, int count, Duration delay) {
    this.kind = kind;
    this.count = count;
    this.delay = delay;
  }

  /** Failover with the client's {@code maxAttempts} (default 3). The default policy. */
  public static ClusterPolicy failover() {
    return FAILOVER;
  }

  /** Failover with up to {@code maxAttempts} attempts per call, the first included. */
  public static ClusterPolicy failover(int maxAttempts) {
    if (maxAttempts <= 0) {
      throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: > 0)");
    }
    return new ClusterPolicy(Kind.FAILOVER, maxAttempts, Duration.ZERO);
  }

  /** One attempt, no retry. */
  public static ClusterPolicy failfast() {
    return FAILFAST;
  }

  /** Failover, then any failure is swallowed and the method returns its type's default value. */
  public static ClusterPolicy failsafe() {
    return FAILSAFE;
  }

  /** Failback with 3 background retries, the first after 1 s, each delay twice the last. */
  public static ClusterPolicy failback() {
    return failback(3, Duration.ofSeconds(1));
  }

  /**
   * Failback: the call returns at once whatever happens; one that provably did not run (or is
   * idempotent) is retried in the background up to {@code retries} times, the first after
   * {@code firstDelay}, each delay twice the last (at most 60 s).
   */
  public static ClusterPolicy failback(int retries, Duration firstDelay) {
    if (retries <= 0) {
      throw new IllegalArgumentException("retries: " + retries + " (expected: > 0)");
    }
    return new ClusterPolicy(Kind.FAILBACK, retries, positive("firstDelay", firstDelay));
  }

  /** Sends each call to {@code copies} providers at once (fewer when fewer are known). */
  public static ClusterPolicy forking(int copies) {
    if (copies < 2) {
      throw new IllegalArgumentException("copies: " + copies + " (expected: >= 2)");
    }
    return new ClusterPolicy(Kind.FORKING, copies, Duration.ZERO);
  }

  /**
   * Sends a copy of a call to another provider each time {@code delay} passes without an answer,
   * up to {@code maxCopies} copies in all; a copy that fails without running is followed by the
   * next at once. Copies after the first draw on the retry budget.
   */
  public static ClusterPolicy hedged(Duration delay, int maxCopies) {
    if (maxCopies < 2) {
      throw new IllegalArgumentException("maxCopies: " + maxCopies + " (expected: >= 2)");
    }
    return new ClusterPolicy(Kind.HEDGED, maxCopies, positive("delay", delay));
  }

  /** Calls every provider at once; succeeds when every one succeeds. */
  public static ClusterPolicy broadcast() {
    return BROADCAST;
  }

  private static Duration positive(String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
    }
    return d;
  }

  /** The kind of policy. */
  public Kind kind() {
    return kind;
  }

  /**
   * Attempts for failover (0: the client's {@code maxAttempts}), 1 for failfast and broadcast,
   * background retries for failback, copies for forking and hedged.
   */
  public int count() {
    return count;
  }

  /** The hedging delay, or failback's first retry delay; zero for the others. */
  public Duration delay() {
    return delay;
  }

  /** Whether the policy runs a call on several providers that each may execute it. */
  public boolean copiesCalls() {
    return kind == Kind.FORKING || kind == Kind.HEDGED;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClusterPolicy p && p.kind == kind && p.count == count
        && p.delay.equals(delay);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, count, delay);
  }

  @Override
  public String toString() {
    String name = kind.name().toLowerCase(java.util.Locale.ROOT);
    return switch (kind) {
      case FAILOVER -> count == 0 ? name : name + "(" + count + ")";
      case FAILBACK -> name + "(" + count + ", " + delay.toMillis() + " ms)";
      case FORKING -> name + "(" + count + ")";
      case HEDGED -> name + "(" + delay.toMillis() + " ms, " + count + ")";
      default -> name;
    };
  }
}
