package io.courier.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Type;

/**
 * Turns a call's arguments and results into bytes and back. One instance is made per service (on
 * the server) or per stub (on the client) by a {@link SerializerProvider}, from a
 * {@link SerializerConfig} whose allow-list it must enforce on every read.
 *
 * <p>Implementations are thread-safe: many calls use one instance at once.
 *
 * <p>Rules every implementation keeps, because the bytes come from the network:
 * <ul>
 *   <li>a class not in {@link SerializerConfig#allowedTypes()} (or a JDK value type such as
 *       {@code String}, boxed primitives, {@code java.time} types, collections) is never loaded or
 *       instantiated; reading one throws {@link ClassRejectedException} naming it;
 *   <li>nesting deeper than {@link SerializerConfig#maxDepth()} throws
 *       {@link SerializationException}, never a {@link StackOverflowError};
 *   <li>a declared length larger than the bytes that remain throws before allocating;
 *   <li>a wrong number of arguments throws a {@link SerializationException} saying how many were
 *       expected and how many came.
 * </ul>
 */
public interface Serializer {

  /** Writes a call's arguments; {@code types[i]} is the declared type of {@code args[i]}. */
  void writeArguments(Object[] args, Type[] types, OutputStream out) throws IOException;

  /** Reads a call's arguments, checking their count against {@code types}. */
  Object[] readArguments(Type[] types, InputStream in) throws IOException;

  /** Writes one value (a call's result) of the declared type. */
  void writeValue(Object value, Type type, OutputStream out) throws IOException;

  /** Reads one value (a call's result) of the declared type. */
  Object readValue(Type type, InputStream in) throws IOException;
}
