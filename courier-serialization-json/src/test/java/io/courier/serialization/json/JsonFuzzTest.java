package io.courier.serialization.json;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.courier.spi.NamedArguments;
import io.courier.spi.SafetyCanaryFlag;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzz tests of what the JSON serializer reads from untrusted bytes, with the allow-list on:
 * arguments as an array, arguments by name (the HTTP/JSON bridge's object form) and a result.
 * Only a {@link SerializationException} may end a read (a {@code ClassRejectedException} among
 * them); anything else thrown ({@link StackOverflowError} and {@link OutOfMemoryError} included)
 * is a finding, and so is a disallowed class's initializer having run. Inputs:
 * {@code src/test/resources/io/courier/serialization/json/JsonFuzzTestInputs/<method>/}.
 */
class JsonFuzzTest {

  public record Point(int x, int y) {}

  public record Holder(List<Object> items, Map<String, Object> names, Optional<Point> where,
      Instant at) {}

  static final Type[] ARGUMENTS = {Point.class, String.class, int.class, long[].class,
      List.class, Map.class, Object.class, Holder.class};
  static final String[] NAMES = {"p", "s", "n", "longs", "list", "map", "any", "holder"};
  static final Type RESULT = Holder.class;

  private static Serializer serializer;

  private static Serializer serializer() {
    if (serializer == null) {
      serializer = new JsonSerializerProvider().create(SerializerConfig.builder()
          .allow(List.of(Point.class, Holder.class)).build());
    }
    return serializer;
  }

  @FuzzTest(maxDuration = "5m")
  void readArguments(byte[] input) {
    read(() -> serializer().readArguments(ARGUMENTS, new ByteArrayInputStream(input)));
  }

  @FuzzTest(maxDuration = "5m")
  void readNamedArguments(byte[] input) {
    read(() -> ((NamedArguments) serializer()).readNamedArguments(ARGUMENTS, NAMES,
        new ByteArrayInputStream(input)));
  }

  @FuzzTest(maxDuration = "5m")
  void readValue(byte[] input) {
    read(() -> serializer().readValue(RESULT, new ByteArrayInputStream(input)));
  }

  interface Read {
    Object run() throws IOException;
  }

  private static void read(Read read) {
    try {
      read.run();
    } catch (SerializationException expected) {
      // refused: the one way bad bytes may end
    } catch (IOException e) {
      throw new AssertionError("an IOException that is not a SerializationException", e);
    }
    if (SafetyCanaryFlag.ran) {
      throw new AssertionError("a disallowed class was initialized");
    }
  }

  /** Writes the committed inputs; run with {@code -Dcourier.fuzz.writeSeeds=true}. */
  @Test
  @EnabledIfSystemProperty(named = "courier.fuzz.writeSeeds", matches = "true")
  void writeSeeds() throws IOException {
    Path dir = Path.of("src/test/resources/io/courier/serialization/json/JsonFuzzTestInputs");
    String holder = "{\"items\": [1, \"two\", 3.5, [true, null], {\"k\": \"v\"}],"
        + " \"names\": {\"a\": 1, \"b\": [2]}, \"where\": {\"x\": 1, \"y\": 2},"
        + " \"at\": \"2026-01-02T03:04:05Z\"}";
    write(dir.resolve("readArguments"), "all", "[{\"x\": 1, \"y\": 2}, \"h\\u00e9llo\", 42,"
        + " [1, 2, 3], [\"a\", 1], {\"k\": 1}, \"any\", " + holder + "]");
    write(dir.resolve("readArguments"), "nulls", "[null, null, 0, null, null, null, null,"
        + " null]");
    write(dir.resolve("readNamedArguments"), "all", "{\"holder\": " + holder + ", \"p\": {\"x\":"
        + " 1, \"y\": 2}, \"s\": \"s\", \"n\": -7, \"longs\": [9007199254740993],"
        + " \"list\": [], \"map\": {}, \"any\": 1e300}");
    write(dir.resolve("readValue"), "holder", holder);
    write(dir.resolve("readValue"), "empty", "{\"items\": [], \"names\": {}, \"where\": null,"
        + " \"at\": null}");
  }

  private static void write(Path dir, String name, String json) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name), json, StandardCharsets.UTF_8);
  }
}
