package io.courier.serialization.protobuf;

import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;

/**
 * Protocol Buffers (name {@code protobuf}, id 2): every parameter and result must be a generated
 * {@code com.google.protobuf.Message} type. The payload never names a class: each value is parsed
 * with its declared type's parser.
 */
public final class ProtobufSerializerProvider implements SerializerProvider {

  @Override
  public String name() {
    return "protobuf";
  }

  @Override
  public int id() {
    return 2;
  }

  @Override
  public Serializer create(SerializerConfig config) {
    return new ProtobufSerializer();
  }
}
