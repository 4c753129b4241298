package io.courier.core.cluster;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scales each candidate's weight by how far it is through its warm-up (from 1% to 100%, linearly)
 * and lets the wrapped balancer pick with those weights. Only allocates while some endpoint is
 * warming up.
 */
final class WarmupLoadBalancer implements LoadBalancer {

  private final LoadBalancer delegate;
  private final long warmupNanos;

  WarmupLoadBalancer(LoadBalancer delegate, long warmupNanos) {
    this.delegate = delegate;
    this.warmupNanos = warmupNanos;
  }

  @Override
  public <C extends Candidate> C pick(List<C> candidates, Object[] args) {
    long now = System.nanoTime();
    boolean warming = false;
    for (C c : candidates) {
      if (now - c.upSinceNanos() < warmupNanos) {
        warming = true;
        break;
      }
    }
    if (!warming) {
      return delegate.pick(candidates, args);
    }
    List<Warming> scaled = new ArrayList<>(candidates.size());
    Map<Warming, C> back = new IdentityHashMap<>();
    for (C c : candidates) {
      Warming w = new Warming(c, effectiveWeight(c, now));
      scaled.add(w);
      back.put(w, c);
    }
    return back.get(delegate.pick(scaled, args));
  }

  int effectiveWeight(Candidate c, long now) {
    int weight = LoadBalancers.weightOf(c);
    long up = now - c.upSinceNanos();
    if (up >= warmupNanos) {
      return weight;
    }
    double share = Math.max(0.01, (double) Math.max(0, up) / warmupNanos);
    return Math.max(1, (int) Math.round(weight * share));
  }

  /** A candidate seen with its warming weight. */
  private record Warming(Candidate c, int weight) implements Candidate {
    @Override
    public String address() {
      return c.address();
    }

    @Override
    public int inFlight() {
      return c.inFlight();
    }

    @Override
    public long latencyEwmaNanos() {
      return c.latencyEwmaNanos();
    }

    @Override
    public long upSinceNanos() {
      return c.upSinceNanos();
    }
  }
}
