package io.courier.core.reflect;

import java.util.List;

/**
 * A served method, as {@link ServerReflection#services()} describes it. Immutable.
 *
 * @param name the method's Java name
 * @param callId the call ID typed calls send
 * @param signature the canonical signature the call ID is derived from
 * @param kind how it is called: {@code SYNC}, {@code ASYNC}, {@code ONE_WAY},
 *     {@code SERVER_STREAMING} or {@code BIDI_STREAMING}
 * @param parameterTypes the generic parameter types, for example
 *     {@code java.util.List<java.lang.String>}
 * @param parameterNames the parameter names (source names when the interface was compiled with
 *     {@code -parameters}, else {@code arg0}, {@code arg1}, ...): the keys of named arguments
 * @param resultType the result type ({@code T} of an asynchronous method's future)
 */
public record MethodInfo(String name, int callId, String signature, String kind,
    List<String> parameterTypes, List<String> parameterNames, String resultType) {

  public MethodInfo {
    parameterTypes = List.copyOf(parameterTypes);
    parameterNames = List.copyOf(parameterNames);
  }
}
