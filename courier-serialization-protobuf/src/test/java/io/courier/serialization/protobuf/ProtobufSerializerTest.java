package io.courier.serialization.protobuf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Type;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ProtobufSerializerTest {

  private final Serializer s = new ProtobufSerializerProvider().create(
      SerializerConfig.builder().build());

  @Test
  void messagesRoundTripIncludingNull() throws Exception {
    Struct struct = Struct.newBuilder()
        .putFields("k", Value.newBuilder().setStringValue("v").build()).build();
    Object[] args = {StringValue.of("hi"), Int32Value.of(7), null, struct};
    Type[] types = {StringValue.class, Int32Value.class, StringValue.class, Struct.class};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.writeArguments(args, types, out);
    assertThat(s.readArguments(types, new ByteArrayInputStream(out.toByteArray())))
        .containsExactly(args);
    ByteArrayOutputStream r = new ByteArrayOutputStream();
    s.writeValue(Int32Value.of(3), Int32Value.class, r);
    assertThat(s.readValue(Int32Value.class, new ByteArrayInputStream(r.toByteArray())))
        .isEqualTo(Int32Value.of(3));
  }

  @Test
  void nonMessageTypesAreRefusedWithAHint() {
    assertThatThrownBy(() -> s.writeValue("text", String.class, new ByteArrayOutputStream()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("java.lang.String is not a generated protobuf Message type");
  }

  @Test
  void countMismatchTruncationAndHugeLengthsAreErrors() throws Exception {
    Type[] one = {StringValue.class};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.writeArguments(new Object[] {StringValue.of("a"), StringValue.of("b")},
        new Type[] {StringValue.class, StringValue.class}, out);
    byte[] two = out.toByteArray();
    assertThatThrownBy(() -> s.readArguments(one, new ByteArrayInputStream(two)))
        .hasMessage("expected 1 arguments, got 2");
    for (int cut = 1; cut < two.length; cut++) {
      byte[] part = Arrays.copyOf(two, cut);
      assertThatThrownBy(() -> s.readArguments(new Type[] {StringValue.class, StringValue.class},
          new ByteArrayInputStream(part))).isInstanceOf(SerializationException.class);
    }
    // count 1, present, a declared length of 2^31-1 in a 20-byte body
    byte[] huge = {1, 1, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 0x0A, 0x01,
        'x', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assertThatThrownBy(() -> s.readArguments(one, new ByteArrayInputStream(huge)))
        .isInstanceOf(SerializationException.class);
  }
}
