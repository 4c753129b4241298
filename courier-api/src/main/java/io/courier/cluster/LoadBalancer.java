package io.courier.cluster;

import java.util.List;

/**
 * Picks the endpoint for a call. (SPI, one instance per client and service, thread-safe.)
 *
 * <p>Built-in policies come from {@code io.courier.core.cluster.LoadBalancers}.
 */
public interface LoadBalancer {

  /**
   * Picks one of {@code candidates}.
   *
   * @param candidates the endpoints that may take the call now; never empty
   * @param args the call's arguments (for policies that hash one of them); never null
   * @return one of {@code candidates}
   */
  <C extends Candidate> C pick(List<C> candidates, Object[] args);
}
