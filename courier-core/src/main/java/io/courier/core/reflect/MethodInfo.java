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
 * @param annotations the Courier annotations in force on the method, as written in source, for
 *     example {@code @Idempotent} or {@code @Timeout(millis = 2000)} (one-way is its kind)
 */
public record MethodInfo(String name, int callId, String signature, String kind,
    List<String> parameterTypes, List<String> parameterNames, String resultType,
    List<String> annotations) {

  public MethodInfo {
    parameterTypes = List.copyOf(parameterTypes);
    parameterNames = List.copyOf(parameterNames);
    annotations = List.copyOf(annotations);
  }

  /** A method without Courier annotations. */
  public MethodInfo(String name, int callId, String signature, String kind,
      List<String> parameterTypes, List<String> parameterNames, String resultType) {
    this(name, callId, signature, kind, parameterTypes, parameterNames, resultType, List.of());
  }
}
