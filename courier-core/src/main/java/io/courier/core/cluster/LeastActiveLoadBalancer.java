package io.courier.core.cluster;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Fewest calls in flight; ties broken at random in proportion to weight. Stateless. */
final class LeastActiveLoadBalancer implements LoadBalancer {

  @Override
  public <C extends Candidate> C pick(List<C> candidates, Object[] args) {
    C only = LoadBalancers.one(candidates);
    if (only != null) {
      return only;
    }
    int least = Integer.MAX_VALUE;
    long tiedWeight = 0;
    for (C c : candidates) {
      int a = c.inFlight();
      if (a < least) {
        least = a;
        tiedWeight = LoadBalancers.weightOf(c);
      } else if (a == least) {
        tiedWeight += LoadBalancers.weightOf(c);
      }
    }
    long r = ThreadLocalRandom.current().nextLong(tiedWeight);
    C last = null;
    for (C c : candidates) {
      if (c.inFlight() == least) {
        last = c;
        r -= LoadBalancers.weightOf(c);
        if (r < 0) {
          return c;
        }
      }
    }
    return last != null ? last : candidates.get(0); // counts moved while we looked
  }
}
