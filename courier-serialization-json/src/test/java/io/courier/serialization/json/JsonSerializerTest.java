package io.courier.serialization.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.courier.spi.NamedArguments;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonSerializerTest {

  public record Point(int x, int y) {}

  public record Trip(String name, List<Point> stops, LocalDate day, Instant at) {}

  /** An application class that asks for class-named polymorphism. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
  public static class Shape {
    public int size;
  }

  public static final class Square extends Shape {}

  public record Drawing(Shape shape) {}

  private static Serializer serializer(Class<?>... allowed) {
    return new JsonSerializerProvider().create(SerializerConfig.builder()
        .allow(List.of(allowed)).build());
  }

  private static InputStream json(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void argumentsAreAJsonArrayAndRoundTrip() throws Exception {
    Serializer s = serializer(Point.class, Trip.class);
    Trip trip = new Trip("t", List.of(new Point(1, 2)), LocalDate.of(2026, 11, 24),
        Instant.parse("2026-11-24T10:15:30Z"));
    Type[] types = {int.class, String.class, Trip.class};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.writeArguments(new Object[] {7, null, trip}, types, out);
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text).startsWith("[7,null,{").contains("\"day\":\"2026-11-24\"");
    assertThat(s.readArguments(types, json(text))).containsExactly(7, null, trip);
  }

  @Test
  void namedArgumentsInAnyOrderWithTheSameRules() throws Exception {
    NamedArguments s = (NamedArguments) serializer(Point.class, Drawing.class, Shape.class);
    Type[] types = {int.class, Point.class, List.class};
    String[] names = {"n", "p", "tags"};
    assertThat(s.readNamedArguments(types, names,
        json("{\"tags\": [\"a\"], \"p\": {\"x\": 1, \"y\": 2}, \"n\": 3}")))
        .containsExactly(3, new Point(1, 2), List.of("a"));
    assertThatThrownBy(() -> s.readNamedArguments(types, names,
        json("{\"n\": 3, \"p\": null}")))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("missing argument 'tags'");
    assertThatThrownBy(() -> s.readNamedArguments(types, names,
        json("{\"n\": 3, \"q\": 1, \"p\": null, \"tags\": []}")))
        .hasMessageContaining("unknown argument 'q'").hasMessageContaining("n: int");
    assertThatThrownBy(() -> s.readNamedArguments(types, names,
        json("{\"n\": 3, \"n\": 4, \"p\": null, \"tags\": []}")))
        .hasMessageContaining("argument 'n' given twice");
    assertThatThrownBy(() -> s.readNamedArguments(types, names, json("[3, null, []]")))
        .hasMessageContaining("expected a JSON object of named arguments");
    assertThatThrownBy(() -> s.readNamedArguments(types, names,
        json("{\"n\": null, \"p\": null, \"tags\": []}")))
        .isInstanceOf(SerializationException.class);
    // the allow-list holds for named arguments too
    assertThatThrownBy(() -> s.readNamedArguments(new Type[] {Drawing.class},
        new String[] {"d"}, json("{\"d\": {\"shape\": {\"@class\": \""
            + Square.class.getName() + "\", \"size\": 1}}}")))
        .isInstanceOf(io.courier.spi.ClassRejectedException.class)
        .hasMessageContaining(Square.class.getName());
  }

  @Test
  void wrongArgumentCountsAreNamed() {
    Serializer s = serializer();
    Type[] two = {int.class, int.class};
    assertThatThrownBy(() -> s.readArguments(two, json("[1,2,3]")))
        .isInstanceOf(SerializationException.class)
        .hasMessage("expected 2 arguments (int, int), got 3");
    assertThatThrownBy(() -> s.readArguments(two, json("[1]")))
        .hasMessage("expected 2 arguments (int, int), got 1");
    assertThatThrownBy(() -> s.readArguments(two, json("{\"a\":1}")))
        .hasMessageContaining("expected a JSON array of 2 arguments");
    assertThatThrownBy(() -> s.readArguments(two, json("[\"x\", 2]")))
        .isInstanceOf(SerializationException.class);
    assertThatThrownBy(() -> s.readArguments(two, json("[null, 2]")))
        .isInstanceOf(SerializationException.class);
  }

  @Test
  void anObjectParameterNeverBecomesAnApplicationClass() throws Exception {
    Serializer s = serializer();
    Object[] args = s.readArguments(new Type[] {Object.class},
        json("[{\"@class\":\"java.lang.ProcessBuilder\",\"command\":[\"true\"]}]"));
    assertThat(args[0]).isInstanceOf(Map.class);
  }

  @Test
  void classNamedPolymorphismOnlyReachesAllowedClasses() throws Exception {
    Serializer s = serializer(Drawing.class, Shape.class, Square.class);
    Type[] types = {Drawing.class};
    String ok = "[{\"shape\":{\"@class\":\"" + Square.class.getName() + "\",\"size\":2}}]";
    assertThat(((Drawing) s.readArguments(types, json(ok))[0]).shape()).isInstanceOf(Square.class);
    String evil = "[{\"shape\":{\"@class\":\"java.lang.ProcessBuilder\",\"size\":2}}]";
    assertThatThrownBy(() -> s.readArguments(types, json(evil)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("java.lang.ProcessBuilder");
  }

  @Test
  void unknownPropertiesAndDeepNestingAreErrors() {
    Serializer s = serializer(Point.class);
    assertThatThrownBy(() -> s.readArguments(new Type[] {Point.class},
        json("[{\"x\":1,\"y\":2,\"z\":3}]"))).isInstanceOf(SerializationException.class);
    String deep = "[" + "[".repeat(10_000) + "]".repeat(10_000) + "]";
    assertThatThrownBy(() -> s.readArguments(new Type[] {Object.class}, json(deep)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("nesting depth");
  }

  @Test
  void invalidUtf8AndTruncatedInputAreErrors() {
    Serializer s = serializer();
    byte[] bad = {'[', '"', (byte) 0xC3, (byte) 0x28, '"', ']'};
    assertThatThrownBy(() -> s.readArguments(new Type[] {String.class},
        new ByteArrayInputStream(bad))).isInstanceOf(SerializationException.class);
    assertThatThrownBy(() -> s.readArguments(new Type[] {String.class}, json("[\"abc")))
        .isInstanceOf(SerializationException.class);
  }

  @Test
  void resultsAreOneValue() throws Exception {
    Serializer s = serializer(Point.class);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.writeValue(List.of(new Point(1, 1)), List.class, out);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("[{\"x\":1,\"y\":1}]");
    assertThat(s.readValue(Point.class, json("{\"x\":3,\"y\":4}"))).isEqualTo(new Point(3, 4));
    assertThatThrownBy(() -> s.readValue(Point.class, json("{\"x\":3,\"y\":4} 5")))
        .isInstanceOf(SerializationException.class);
  }
}
