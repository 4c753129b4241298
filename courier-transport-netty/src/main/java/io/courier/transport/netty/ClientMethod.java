package io.courier.transport.netty;

import io.courier.cluster.ClusterPolicy;
import io.courier.core.MethodDescriptor;
import io.courier.observe.CallObserver;
import io.courier.spi.Compressor;
import io.courier.spi.Serializer;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Type;
import java.util.HashMap;
import java.util.Map;

/**
 * A stub method, ready to call: its descriptor, serializer, compressor, default timeout, cluster
 * policy and the constructors of the checked exceptions it declares. Built once per stub;
 * immutable.
 */
final class ClientMethod {

  final MethodDescriptor descriptor;
  final Serializer serializer;
  final int serializerId;
  final Compressor compressor;
  final Type[] parameterTypes;
  final Type resultType;
  final long timeoutNanos;
  final String displayName;
  final boolean oneWay;
  final boolean async;
  final boolean idempotent;
  final ClusterPolicy policy;
  /** Attempts per call (each copy's, for copying policies); 0 for the client's maxAttempts. */
  final int maxAttempts;
  /** Whether the policy is failover or failfast: the call paths need no wrapper. */
  final boolean plain;
  /** What failsafe and failback return: null, or the primitive result type's zero. */
  final Object defaultValue;
  /** Told of each call; null when calls are not observed. Set once, when the stub is made. */
  CallObserver.ClientMethodObserver observer;
  private final Map<String, MethodHandle> checkedExceptions = new HashMap<>();

  ClientMethod(MethodDescriptor descriptor, Serializer serializer, int serializerId,
      Compressor compressor, long defaultTimeoutNanos, ClusterPolicy policy) {
    this.descriptor = descriptor;
    this.serializer = serializer;
    this.serializerId = serializerId;
    this.compressor = compressor;
    this.parameterTypes = descriptor.parameterTypes();
    this.resultType = descriptor.resultType();
    this.timeoutNanos = descriptor.timeoutMillis() > 0 ? descriptor.timeoutMillis() * 1_000_000L
        : defaultTimeoutNanos;
    this.displayName = descriptor.displayName();
    this.oneWay = descriptor.kind() == MethodDescriptor.Kind.ONE_WAY;
    this.async = descriptor.kind() == MethodDescriptor.Kind.ASYNC;
    this.idempotent = descriptor.isIdempotent();
    this.policy = policy;
    this.maxAttempts = switch (policy.kind()) {
      case FAILOVER, FAILSAFE -> policy.count();
      case FAILBACK -> 0; // the foreground attempts; count() is the background retries
      default -> 1; // failfast; each copy of forking, hedged and broadcast
    };
    this.plain = policy.kind() == ClusterPolicy.Kind.FAILOVER
        || policy.kind() == ClusterPolicy.Kind.FAILFAST;
    Class<?> raw = descriptor.method().getReturnType();
    this.defaultValue = raw.isPrimitive() && raw != void.class
        ? java.lang.reflect.Array.get(java.lang.reflect.Array.newInstance(raw, 1), 0) : null;
    for (Class<? extends Exception> e : descriptor.checkedExceptions()) {
      try {
        MethodHandle ctor = MethodHandles.publicLookup()
            .findConstructor(e, MethodType.methodType(void.class, String.class));
        checkedExceptions.put(e.getName(), ctor);
      } catch (ReflectiveOperationException ignored) {
        // no public (String) constructor: such an exception arrives as RpcException
      }
    }
  }

  /**
   * The declared checked exception named {@code className}, made with {@code message}, or null
   * when the method does not declare it (or it has no public (String) constructor).
   */
  Exception checkedException(String className, String message) {
    MethodHandle ctor = className == null ? null : checkedExceptions.get(className);
    if (ctor == null) {
      return null;
    }
    try {
      return (Exception) ctor.invoke(message);
    } catch (Throwable t) {
      return null;
    }
  }
}
