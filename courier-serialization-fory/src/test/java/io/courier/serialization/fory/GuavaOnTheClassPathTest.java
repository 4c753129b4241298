package io.courier.serialization.fory;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * With Guava on the class path (here its Android flavour, which grpc-java depends on) Fory
 * registers serializers for Guava's collections at start. Fory 0.13 named Guava classes that
 * Guava 33.6's Android flavour no longer has and could not start at all.
 */
class GuavaOnTheClassPathTest {

  @Test
  void foryStartsAndRoundTripsBesideGuava() throws Exception {
    Serializer s = new ForySerializerProvider().create(SerializerConfig.builder()
        .allow(List.of()).build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.writeValue(List.of("a", "b"), List.class, out);
    assertThat(s.readValue(List.class, new ByteArrayInputStream(out.toByteArray())))
        .isEqualTo(List.of("a", "b"));
    assertThat(ImmutableList.of(1).getClass().getName()).startsWith("com.google.common.");
  }
}
