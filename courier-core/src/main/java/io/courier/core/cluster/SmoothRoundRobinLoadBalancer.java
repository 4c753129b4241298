package io.courier.core.cluster;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Smooth weighted round robin: every pick adds each candidate's weight to its running score,
 * takes the highest, and subtracts the total from the winner. A short critical section per pick.
 */
final class SmoothRoundRobinLoadBalancer implements LoadBalancer {

  private final Map<String, long[]> current = new HashMap<>();

  @Override
  public <C extends Candidate> C pick(List<C> candidates, Object[] args) {
    C only = LoadBalancers.one(candidates);
    if (only != null) {
      return only;
    }
    synchronized (current) {
      if (current.size() > 4 * candidates.size()) {
        current.clear(); // endpoints came and went; forget the departed
      }
      long total = 0;
      C best = null;
      long[] bestScore = null;
      for (C c : candidates) {
        int w = LoadBalancers.weightOf(c);
        total += w;
        long[] score = current.computeIfAbsent(c.address(), k -> new long[1]);
        score[0] += w;
        if (best == null || score[0] > bestScore[0]) {
          best = c;
          bestScore = score;
        }
      }
      bestScore[0] -= total;
      return best;
    }
  }
}
