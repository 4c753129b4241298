package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.cluster.LoadBalancer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The endpoints a client calls and how it picks among them: endpoints backing off after failed
 * connects or ejected after consecutive failures are left out, as are those a call already tried;
 * the load balancer picks from the rest. Retries draw on a shared budget. Thread-safe.
 */
final class Cluster {

  volatile List<Endpoint> endpoints;
  private final String service;
  private final LoadBalancer balancer;
  final int maxAttempts;
  final int ejectAfterFailures;
  final RetryBudget retryBudget;
  /** Registration to first use by this consumer of the newest provider, ms; -1 before any. */
  volatile long lastPropagationMillis = -1;

  Cluster(String service, List<Endpoint> endpoints, LoadBalancer balancer, int maxAttempts,
      int ejectAfterFailures, RetryBudget retryBudget) {
    this.service = service;
    this.endpoints = List.copyOf(endpoints);
    this.balancer = balancer;
    this.maxAttempts = maxAttempts;
    this.ejectAfterFailures = ejectAfterFailures;
    this.retryBudget = retryBudget;
  }

  /**
   * The endpoint for the next attempt of a call.
   *
   * @param tried endpoints this call already failed on (never sent, refused), or null
   */
  Endpoint pick(Object[] args, List<Endpoint> tried) {
    List<Endpoint> endpoints = this.endpoints;
    if (endpoints.size() == 1) {
      return endpoints.get(0);
    }
    if (endpoints.isEmpty()) {
      throw new RpcException(ErrorReason.NO_PROVIDER, "no provider of " + service
          + " is registered (that accepts this client's serializer)");
    }
    boolean filter = tried != null;
    for (Endpoint e : endpoints) {
      if (!e.available()) {
        filter = true;
        break;
      }
    }
    if (!filter) {
      return balancer.pick(endpoints, args);
    }
    List<Endpoint> candidates = new ArrayList<>(endpoints.size());
    for (Endpoint e : endpoints) {
      if (e.available() && (tried == null || !tried.contains(e))) {
        candidates.add(e);
      }
    }
    if (candidates.isEmpty()) { // all failing or tried: let one of the untried say why
      for (Endpoint e : endpoints) {
        if (tried == null || !tried.contains(e)) {
          candidates.add(e);
        }
      }
    }
    if (candidates.isEmpty()) {
      candidates.addAll(endpoints);
    }
    return balancer.pick(candidates, args);
  }

  /** How many times the endpoints were replaced; for tests and diagnostics. */
  final java.util.concurrent.atomic.AtomicInteger updates =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Replaces the endpoints (from a registry notification). */
  void update(List<Endpoint> endpoints) {
    this.endpoints = List.copyOf(endpoints);
    updates.incrementAndGet();
  }

  @Override
  public String toString() {
    return endpoints.stream().map(Endpoint::toString).collect(Collectors.joining(", "));
  }
}
