package io.courier.serialization.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.courier.spi.ClassRejectedException;
import io.courier.spi.SafetyCanaryFlag;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;
import io.courier.spi.SerializerSafetyContract;
import java.io.ByteArrayInputStream;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * JSON against the serializer safety contract. A JSON payload can name a class only where an
 * application class asks for it ({@code @JsonTypeInfo(use = CLASS)}) or where a parameter or map
 * key is a {@code Class}; the holder below does all of that, so every place is reachable. The
 * payloads are written by hand, as an attacker would.
 */
class JsonSafetyTest extends SerializerSafetyContract {

  /** An application interface that asks for class-named polymorphism. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
  public interface Shape {}

  /** Every place a JSON payload can put a class name. */
  public static final class Nest {
    @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
    public Object any;
    @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
    public List<Object> list;
    @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
    public Set<Object> set;
    public Map<Class<?>, String> keys;
    @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
    public Map<String, Object> values;
    @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
    public Object[] array;
    public Shape shape;
  }

  /** Objects in objects. */
  public record Node(Node next) {}

  @Override
  protected SerializerProvider provider() {
    return new JsonSerializerProvider();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  protected Payload naming(String className, Place place) {
    String typed = "{\"@class\":\"" + className + "\"}";
    String nest = switch (place) {
      case TOP_LEVEL -> null;
      case FIELD -> "{\"any\":" + typed + "}";
      case LIST_ELEMENT -> "{\"list\":[" + typed + "]}";
      case SET_ELEMENT -> "{\"set\":[" + typed + "]}";
      case MAP_KEY -> "{\"keys\":{\"" + className + "\":\"v\"}}";
      case MAP_VALUE -> "{\"values\":{\"k\":" + typed + "}}";
      case OBJECT_ARRAY -> "{\"array\":[" + typed + "]}";
      case INTERFACE_FIELD -> "{\"shape\":" + typed + "}";
    };
    if (nest == null) {
      return new Payload(utf8("[" + typed + "]"), new Type[] {Shape.class},
          List.of(Shape.class));
    }
    return new Payload(utf8("[" + nest + "]"), new Type[] {Nest.class},
        List.of(Nest.class, Shape.class));
  }

  @Override
  protected List<Payload> nested(int depth) {
    StringBuilder arrays = new StringBuilder();
    StringBuilder objects = new StringBuilder();
    StringBuilder nodes = new StringBuilder();
    for (int i = 0; i < depth; i++) {
      arrays.append('[');
      objects.append("{\"a\":");
      nodes.append("{\"next\":");
    }
    arrays.append("1");
    objects.append("1");
    nodes.append("null");
    for (int i = 0; i < depth; i++) {
      arrays.append(']');
      objects.append('}');
      nodes.append('}');
    }
    return List.of(
        new Payload(utf8("[" + arrays + "]"), new Type[] {Object.class}, List.of()),
        new Payload(utf8("[" + arrays + "]"), new Type[] {List.class}, List.of()),
        new Payload(utf8("[" + objects + "]"), new Type[] {Map.class}, List.of()),
        new Payload(utf8("[" + nodes + "]"), new Type[] {Node.class}, List.of(Node.class)));
  }

  /** JSON declares no lengths: its strings and arrays end where their text ends. */
  @Override
  protected List<Payload> hugeDeclaredLengths() {
    return List.of();
  }

  private static Serializer strict(Class<?>... allowed) {
    return new JsonSerializerProvider().create(SerializerConfig.builder()
        .allow(List.of(allowed)).build());
  }

  @Test
  void aGenericTypeIdCannotSmuggleAClassInItsTypeParameters() {
    String payload = "[{\"any\":{\"@class\":\"" + ArrayList.class.getName() + "<"
        + "io.courier.spi.SafetyCanary>\"}}]";
    Serializer s = strict(Nest.class, Shape.class, ArrayList.class);
    assertThatThrownBy(() -> s.readArguments(new Type[] {Nest.class},
        new ByteArrayInputStream(utf8(payload))))
        .isInstanceOf(ClassRejectedException.class)
        .hasMessageContaining("io.courier.spi.SafetyCanary");
    assertThat(SafetyCanaryFlag.ran).isFalse();
  }

  @Test
  void aClassParameterNamesOnlyAllowedClasses() throws Exception {
    Serializer s = strict(Nest.class);
    Type[] types = {Class.class};
    assertThatThrownBy(() -> s.readArguments(types,
        new ByteArrayInputStream(utf8("[\"io.courier.spi.SafetyCanary\"]"))))
        .isInstanceOf(ClassRejectedException.class)
        .hasMessageContaining("io.courier.spi.SafetyCanary");
    assertThat(SafetyCanaryFlag.ran).isFalse();
    assertThat(s.readArguments(types,
        new ByteArrayInputStream(utf8("[\"" + Nest.class.getName() + "\"]"))))
        .containsExactly(Nest.class);
  }
}
