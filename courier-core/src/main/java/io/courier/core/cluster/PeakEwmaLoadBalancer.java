package io.courier.core.cluster;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Power of two choices on cost = (latency EWMA + 1 µs) × (calls in flight + 1) / weight. An
 * endpoint with no answer yet has latency 0, so a new endpoint is tried at once. Stateless: the
 * moving average lives with the endpoint.
 */
final class PeakEwmaLoadBalancer implements LoadBalancer {

  @Override
  public <C extends Candidate> C pick(List<C> candidates, Object[] args) {
    C only = LoadBalancers.one(candidates);
    if (only != null) {
      return only;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int n = candidates.size();
    int i = random.nextInt(n);
    int j = random.nextInt(n - 1);
    if (j >= i) {
      j++;
    }
    C a = candidates.get(i);
    C b = candidates.get(j);
    return cost(a) <= cost(b) ? a : b;
  }

  static double cost(Candidate c) {
    return (c.latencyEwmaNanos() + 1_000.0) * (c.inFlight() + 1) / LoadBalancers.weightOf(c);
  }
}
