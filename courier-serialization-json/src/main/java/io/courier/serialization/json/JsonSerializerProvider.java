package io.courier.serialization.json;

import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;

/**
 * JSON through Jackson (name {@code json}, id 3). Arguments travel as a JSON array, a result as
 * one JSON value. Polymorphic typing is never enabled, so a payload cannot name a class: values
 * are decoded into the declared types (an {@code Object} parameter gets maps, lists, strings,
 * numbers and booleans only).
 */
public final class JsonSerializerProvider implements SerializerProvider {

  @Override
  public String name() {
    return "json";
  }

  @Override
  public int id() {
    return 3;
  }

  @Override
  public Serializer create(SerializerConfig config) {
    return new JsonSerializer(config);
  }
}
