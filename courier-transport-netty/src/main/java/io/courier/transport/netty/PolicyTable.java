package io.courier.transport.netty;

import io.courier.cluster.ClusterPolicy;
import io.courier.core.MethodDescriptor;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Which {@link ClusterPolicy} each method of a client's stubs uses: one set for the method wins
 * over one set for its service, which wins over the client's default. A policy set for one method
 * must fit it; a broader one applies where it fits and failover elsewhere. Filled by the client's
 * builder, then only read. Internal.
 */
public final class PolicyTable {

  private ClusterPolicy defaultPolicy = ClusterPolicy.failover();
  private final Map<Class<?>, ClusterPolicy> byService = new HashMap<>();
  private final Map<Class<?>, Map<String, ClusterPolicy>> byMethod = new HashMap<>();

  /** Sets the policy of every method without a more specific one. */
  public void setDefault(ClusterPolicy policy) {
    this.defaultPolicy = Objects.requireNonNull(policy, "policy");
  }

  /** Sets the policy of a service's methods. */
  public void set(Class<?> service, ClusterPolicy policy) {
    byService.put(Objects.requireNonNull(service, "service"),
        Objects.requireNonNull(policy, "policy"));
  }

  /** Sets the policy of a service's methods named {@code method} (every overload). */
  public void set(Class<?> service, String method, ClusterPolicy policy) {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(method, "method");
    boolean found = false;
    for (java.lang.reflect.Method m : service.getMethods()) {
      found |= m.getName().equals(method) && !m.isDefault()
          && !java.lang.reflect.Modifier.isStatic(m.getModifiers());
    }
    if (!found) {
      throw new IllegalArgumentException("method: " + method + " (expected: a method of "
          + service.getName() + ")");
    }
    byMethod.computeIfAbsent(service, s -> new HashMap<>()).put(method, policy);
  }

  /**
   * The policy of a method of the stub interface {@code type}.
   *
   * @throws IllegalArgumentException when the policy set for exactly this method does not fit it
   */
  ClusterPolicy resolve(Class<?> type, MethodDescriptor md) {
    Map<String, ClusterPolicy> methods = byMethod.get(type);
    ClusterPolicy own = methods == null ? null : methods.get(md.name());
    if (own != null) {
      String misfit = misfit(own, md);
      if (misfit != null) {
        throw new IllegalArgumentException("cluster policy " + own + " for "
            + md.displayName() + ": " + misfit);
      }
      return own;
    }
    ClusterPolicy broad = byService.getOrDefault(type, defaultPolicy);
    return misfit(broad, md) == null ? broad : ClusterPolicy.failover();
  }

  /** Why {@code p} cannot serve {@code md}, or null when it can. */
  static String misfit(ClusterPolicy p, MethodDescriptor md) {
    if (md.kind().isStreaming() && p.kind() != ClusterPolicy.Kind.FAILOVER
        && p.kind() != ClusterPolicy.Kind.FAILFAST) {
      return "a stream goes to one provider and is never retried or copied; use failover or"
          + " failfast";
    }
    if (p.copiesCalls() && !md.isIdempotent()) {
      return "it runs a call on several providers, so the method must be marked @Idempotent";
    }
    if (p.copiesCalls() && md.kind() == MethodDescriptor.Kind.ONE_WAY) {
      return "a one-way call has no answer to wait for";
    }
    if (p.kind() == ClusterPolicy.Kind.BROADCAST && md.kind() == MethodDescriptor.Kind.ONE_WAY) {
      return "a one-way call has no answer to wait for; broadcast waits for every provider's";
    }
    if (p.kind() == ClusterPolicy.Kind.FAILBACK && md.resultType() != void.class
        && md.resultType() != Void.class) {
      return "failback returns before the answer, so the method must return nothing, not "
          + md.resultType().getTypeName();
    }
    return null;
  }
}
