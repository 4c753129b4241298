package io.courier.serialization.fory;

import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;

/**
 * Apache Fory, Courier's default binary format (name {@code fory}, id 1). Every class name read
 * from a payload is checked against the allow-list before the class is loaded.
 */
public final class ForySerializerProvider implements SerializerProvider {

  @Override
  public String name() {
    return "fory";
  }

  @Override
  public int id() {
    return 1;
  }

  @Override
  public Serializer create(SerializerConfig config) {
    return new ForySerializer(config);
  }
}
