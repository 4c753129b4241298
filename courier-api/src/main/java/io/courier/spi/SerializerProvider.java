package io.courier.spi;

/**
 * A named serialization format, found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.courier.spi.SerializerProvider}).
 *
 * <p>The {@link #id()} is what travels in every frame. Ids 1 to 15 are Courier's own
 * (1 fory, 2 protobuf, 3 json); third-party formats use 64 to 255.
 */
public interface SerializerProvider {

  /** The name used in configuration, for example {@code "fory"}. */
  String name();

  /** The wire id, 1 to 255. */
  int id();

  /** Creates a serializer that decodes only what {@code config} allows. */
  Serializer create(SerializerConfig config);
}
