package io.courier.serialization.fory;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.courier.spi.InMemoryInput;
import io.courier.spi.SafetyCanaryFlag;
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
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzz tests of what Fory reads from untrusted bytes, with the allow-list on: arguments and a
 * result, each read from direct memory in place (as Courier hands over an uncompressed body) and
 * from a stream (a compressed one). The only acceptable failure is a
 * {@link SerializationException} (a {@code ClassRejectedException} among them); anything else
 * thrown, a {@link StackOverflowError} or an {@link OutOfMemoryError} included, is a finding, and
 * so is a class initializer of a disallowed class having run. Inputs:
 * {@code src/test/resources/io/courier/serialization/fory/ForyFuzzTestInputs/<method>/}.
 */
class ForyFuzzTest {

  public record Point(int x, int y) {}

  public record Holder(List<Object> items, Map<Object, String> names, Optional<Point> where) {}

  static final Type[] ARGUMENTS = {Point.class, String.class, int.class, long[].class,
      List.class, Map.class, Object.class, Holder.class};
  static final Type RESULT = Holder.class;

  private static Serializer serializer;

  private static Serializer serializer() {
    if (serializer == null) {
      serializer = new ForySerializerProvider().create(SerializerConfig.builder()
          .allow(List.of(Point.class, Holder.class)).build());
    }
    return serializer;
  }

  @FuzzTest(maxDuration = "5m")
  void readArguments(byte[] input) throws IOException {
    read(input, in -> serializer().readArguments(ARGUMENTS, in));
  }

  @FuzzTest(maxDuration = "5m")
  void readValue(byte[] input) throws IOException {
    read(input, in -> serializer().readValue(RESULT, in));
  }

  interface Read {
    Object from(InputStream in) throws IOException;
  }

  static void read(byte[] input, Read read) {
    for (InputStream in : new InputStream[] {inMemory(input), new ByteArrayInputStream(input)}) {
      try {
        read.from(in);
      } catch (SerializationException expected) {
        // refused: the one way bad bytes may end
      } catch (IOException e) {
        throw new AssertionError("an IOException that is not a SerializationException", e);
      }
      if (SafetyCanaryFlag.ran) {
        throw new AssertionError("a disallowed class was initialized");
      }
    }
  }

  /** A body in direct memory, read in place. */
  static InputStream inMemory(byte[] b) {
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

  /**
   * Writes the committed inputs: valid arguments and results. Run with
   * {@code -Dcourier.fuzz.writeSeeds=true}, then commit the files.
   */
  @Test
  @EnabledIfSystemProperty(named = "courier.fuzz.writeSeeds", matches = "true")
  void writeSeeds() throws IOException {
    Path dir = Path.of("src/test/resources/io/courier/serialization/fory/ForyFuzzTestInputs");
    Holder holder = new Holder(List.of(1, "two", 3.0, List.of(new Point(1, 2))),
        Map.of("k", "v", 7, "seven"), Optional.of(new Point(3, 4)));
    write(dir.resolve("readArguments"), "all", out -> serializer().writeArguments(new Object[] {
        new Point(1, 2), "hello", 42, new long[] {1, 2, 3}, List.of("a", "b"),
        Map.of("a", 1), "object", holder}, ARGUMENTS, out));
    write(dir.resolve("readArguments"), "nulls", out -> serializer().writeArguments(
        new Object[] {null, null, 0, null, null, null, null, null}, ARGUMENTS, out));
    write(dir.resolve("readValue"), "holder", out -> serializer().writeValue(holder, RESULT,
        out));
    write(dir.resolve("readValue"), "empty-holder", out -> serializer().writeValue(
        new Holder(List.of(), Map.of(), Optional.empty()), RESULT, out));
  }

  interface Write {
    void to(ByteArrayOutputStream out) throws IOException;
  }

  static void write(Path dir, String name, Write w) throws IOException {
    Files.createDirectories(dir);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    w.to(out);
    Files.write(dir.resolve(name), out.toByteArray());
  }
}
