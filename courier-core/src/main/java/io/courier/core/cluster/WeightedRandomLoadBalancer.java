package io.courier.core.cluster;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Random in proportion to weight. Stateless. */
final class WeightedRandomLoadBalancer implements LoadBalancer {

  @Override
  public <C extends Candidate> C pick(List<C> candidates, Object[] args) {
    C only = LoadBalancers.one(candidates);
    if (only != null) {
      return only;
    }
    long total = 0;
    for (C c : candidates) {
      total += LoadBalancers.weightOf(c);
    }
    long r = ThreadLocalRandom.current().nextLong(total);
    for (C c : candidates) {
      r -= LoadBalancers.weightOf(c);
      if (r < 0) {
        return c;
      }
    }
    return candidates.get(candidates.size() - 1);
  }
}
