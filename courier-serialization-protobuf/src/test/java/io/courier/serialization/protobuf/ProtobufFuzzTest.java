package io.courier.serialization.protobuf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.Any;
import com.google.protobuf.Int64Value;
import com.google.protobuf.ListValue;
import com.google.protobuf.StringValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.courier.spi.InMemoryInput;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzz tests of what the protobuf serializer reads from untrusted bytes: several message
 * arguments (a recursive {@link Struct} and an {@link Any} among them) and a result, from direct
 * memory and from a stream. Only a {@link SerializationException} may end a read; anything else
 * thrown ({@link StackOverflowError} and {@link OutOfMemoryError} included) is a finding. Inputs:
 * {@code src/test/resources/io/courier/serialization/protobuf/ProtobufFuzzTestInputs/<method>/}.
 */
class ProtobufFuzzTest {

  static final Type[] ARGUMENTS = {StringValue.class, Int64Value.class, Struct.class, Any.class};
  static final Type RESULT = Struct.class;

  private static Serializer serializer;

  private static Serializer serializer() {
    if (serializer == null) {
      serializer = new ProtobufSerializerProvider().create(SerializerConfig.builder()
          .allow(List.of(StringValue.class, Int64Value.class, Struct.class, Any.class)).build());
    }
    return serializer;
  }

  @FuzzTest(maxDuration = "5m")
  void readArguments(byte[] input) {
    read(input, in -> serializer().readArguments(ARGUMENTS, in));
  }

  @FuzzTest(maxDuration = "5m")
  void readValue(byte[] input) {
    read(input, in -> serializer().readValue(RESULT, in));
  }

  interface Read {
    Object from(InputStream in) throws IOException;
  }

  private static void read(byte[] input, Read read) {
    for (InputStream in : new InputStream[] {inMemory(input), new ByteArrayInputStream(input)}) {
      try {
        read.from(in);
      } catch (SerializationException expected) {
        // refused: the one way bad bytes may end
      } catch (IOException e) {
        throw new AssertionError("an IOException that is not a SerializationException", e);
      }
    }
  }

  private static InputStream inMemory(byte[] b) {
    ByteBuffer direct = ByteBuffer.allocateDirect(b.length).put(b).flip();
    return new InMemory(direct);
  }

  private static final class InMemory extends ByteArrayInputStream implements InMemoryInput {
    private final ByteBuffer bytes;

    InMemory(ByteBuffer bytes) {
      super(new byte[0]);
      this.bytes = bytes;
    }

    @Override
    public ByteBuffer remaining() {
      return bytes.asReadOnlyBuffer();
    }
  }

  /** Writes the committed inputs; run with {@code -Dcourier.fuzz.writeSeeds=true}. */
  @Test
  @EnabledIfSystemProperty(named = "courier.fuzz.writeSeeds", matches = "true")
  void writeSeeds() throws IOException {
    Path dir = Path.of(
        "src/test/resources/io/courier/serialization/protobuf/ProtobufFuzzTestInputs");
    Struct struct = Struct.newBuilder()
        .putFields("name", Value.newBuilder().setStringValue("courier").build())
        .putFields("n", Value.newBuilder().setNumberValue(3).build())
        .putFields("list", Value.newBuilder().setListValue(ListValue.newBuilder()
            .addValues(Value.newBuilder().setBoolValue(true))).build())
        .putFields("inner", Value.newBuilder().setStructValue(Struct.newBuilder()
            .putFields("x", Value.newBuilder().setNullValueValue(0).build())).build())
        .build();
    Any any = Any.pack(StringValue.of("packed"));
    write(dir.resolve("readArguments"), "all", out -> serializer().writeArguments(new Object[] {
        StringValue.of("hello"), Int64Value.of(-1), struct, any}, ARGUMENTS, out));
    write(dir.resolve("readArguments"), "defaults", out -> serializer().writeArguments(
        new Object[] {StringValue.getDefaultInstance(), Int64Value.getDefaultInstance(),
            Struct.getDefaultInstance(), Any.getDefaultInstance()}, ARGUMENTS, out));
    write(dir.resolve("readValue"), "struct", out -> serializer().writeValue(struct, RESULT, out));
  }

  interface Write {
    void to(ByteArrayOutputStream out) throws IOException;
  }

  private static void write(Path dir, String name, Write w) throws IOException {
    Files.createDirectories(dir);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    w.to(out);
    Files.write(dir.resolve(name), out.toByteArray());
  }
}
