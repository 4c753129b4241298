package io.courier.core.cluster;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The built-in load balancers. Each returns a new, thread-safe instance; give each client (and
 * service) its own, since some keep state.
 *
 * <pre>{@code
 * CourierClient.builder().addresses("10.0.0.1:9000", "10.0.0.2:9000")
 *     .loadBalancer(LoadBalancers.leastActive())
 * }</pre>
 */
public final class LoadBalancers {

  /** The default warm-up: a new endpoint's weight ramps up over this long. */
  public static final Duration DEFAULT_WARMUP = Duration.ofSeconds(10);

  private LoadBalancers() {}

  /**
   * The default: power of two choices over a peak-sensitive moving average of latency times calls
   * in flight (divided by weight). Two random endpoints are compared and the cheaper one wins, so
   * a slow or busy endpoint sheds load at once without any global coordination.
   */
  public static LoadBalancer peakEwma() {
    return new PeakEwmaLoadBalancer();
  }

  /** Random, in proportion to the weights. */
  public static LoadBalancer weightedRandom() {
    return new WeightedRandomLoadBalancer();
  }

  /**
   * Smooth weighted round robin (the nginx algorithm): weights 5, 1, 1 give
   * a a b a c a a, not a a a a a b c.
   */
  public static LoadBalancer roundRobin() {
    return new SmoothRoundRobinLoadBalancer();
  }

  /** The endpoint with the fewest calls in flight; ties are broken at random by weight. */
  public static LoadBalancer leastActive() {
    return new LeastActiveLoadBalancer();
  }

  /**
   * Consistent hashing on one argument (its {@code String.valueOf} form): the same argument goes
   * to the same endpoint while the set of endpoints stays the same, and only about 1/n of the
   * arguments move when an endpoint joins or leaves.
   *
   * @param argumentIndex which argument to hash, from 0
   */
  public static LoadBalancer consistentHash(int argumentIndex) {
    if (argumentIndex < 0) {
      throw new IllegalArgumentException(
          "argumentIndex: " + argumentIndex + " (expected: >= 0)");
    }
    return new ConsistentHashLoadBalancer(argumentIndex);
  }

  /**
   * Wraps a balancer so that an endpoint's weight ramps up linearly over {@code warmup} after it
   * becomes usable (from 1% of its weight), letting a freshly started JVM warm up before it takes
   * its full share.
   */
  public static LoadBalancer withWarmup(LoadBalancer balancer, Duration warmup) {
    Objects.requireNonNull(balancer, "balancer");
    Objects.requireNonNull(warmup, "warmup");
    if (warmup.isNegative() || warmup.isZero()) {
      return balancer;
    }
    return new WarmupLoadBalancer(balancer, warmup.toNanos());
  }

  /** The weight a balancer should use for {@code c}: its weight, at least 1. */
  static int weightOf(Candidate c) {
    return Math.max(1, c.weight());
  }

  static <C extends Candidate> C one(List<C> candidates) {
    if (candidates.isEmpty()) {
      throw new IllegalArgumentException("candidates: [] (expected: at least one)");
    }
    return candidates.size() == 1 ? candidates.get(0) : null;
  }
}
