package io.courier.spi;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Type;

/**
 * Implemented by a {@link Serializer} whose payloads people also write by hand (JSON): a call's
 * arguments may then come as an object keyed by parameter name instead of a positional list. The
 * HTTP/JSON bridge and generic invocation use it; every rule of {@link Serializer} applies
 * unchanged (the allow-list, the depth limit, exact argument counts).
 *
 * <p>Implementations are thread-safe.
 */
public interface NamedArguments {

  /**
   * Reads arguments given by name.
   *
   * @param types the declared parameter types
   * @param names the parameter names, in the order of {@code types}
   * @param in the payload: one object whose keys are exactly {@code names}, in any order
   * @return the arguments in parameter order
   * @throws SerializationException naming a missing, unknown or repeated argument
   */
  Object[] readNamedArguments(Type[] types, String[] names, InputStream in) throws IOException;
}
