package io.courier.bench.jmh;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.courier.core.MethodDescriptor;
import io.courier.core.ServiceDescriptor;
import io.courier.internal.codec.AllowList;
import io.courier.internal.codec.Serializers;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The payloads the benchmarks send, the service interfaces that declare them, and serializers
 * made the way {@code CourierServer} and {@code NettyClient} make them: from the provider found
 * by name, with the allow-list computed from the service interface.
 *
 * <p>Fory and JSON carry Java records. The protobuf serializer only takes generated
 * {@code Message} types; without protoc the same data travel as {@code google.protobuf.Struct}
 * (field names on the wire, every number a double), which costs more than a generated message
 * with the same fields would.
 */
public final class Payloads {

  private Payloads() {}

  /** The small object: five fields of common types. */
  public record Small(long id, String name, int quantity, double price, boolean active) {}

  /** The medium object: 20 nested small records and a map of 10 entries. */
  public record Medium(long id, String customer, List<Small> items,
      Map<String, String> attributes) {}

  /** A service taking the records (Fory and JSON). */
  public interface Shapes {
    Small small(Small value);

    Medium medium(Medium value);
  }

  /** A service taking protobuf messages. */
  public interface StructShapes {
    Struct small(Struct value);

    Struct medium(Struct value);
  }

  /** The object sizes measured: {@code small} or {@code medium}. */
  public static boolean isSmall(String size) {
    switch (size) {
      case "small":
        return true;
      case "medium":
        return false;
      default:
        throw new IllegalArgumentException("size: " + size + " (expected small or medium)");
    }
  }

  /** The small record. */
  public static Small small() {
    return small(42);
  }

  private static Small small(int i) {
    return new Small(1_000_000L + i, "item-" + i + " blue widget", 3 + i % 7, 19.95 + i,
        i % 3 != 0);
  }

  /** The medium record, about 2 KiB in JSON. */
  public static Medium medium() {
    List<Small> items = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      items.add(small(i));
    }
    Map<String, String> attributes = new LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      attributes.put("attribute-" + i, "value " + i);
    }
    return new Medium(7_000_123L, "ACME Corporation", items, attributes);
  }

  /** The small record's data as a {@code Struct}. */
  public static Struct smallStruct() {
    return toStruct(small());
  }

  /** The medium record's data as a {@code Struct}. */
  public static Struct mediumStruct() {
    Medium m = medium();
    ListValue.Builder items = ListValue.newBuilder();
    for (Small s : m.items()) {
      items.addValues(Value.newBuilder().setStructValue(toStruct(s)));
    }
    Struct.Builder attributes = Struct.newBuilder();
    m.attributes().forEach((k, v) -> attributes.putFields(k, string(v)));
    return Struct.newBuilder()
        .putFields("id", number(m.id()))
        .putFields("customer", string(m.customer()))
        .putFields("items", Value.newBuilder().setListValue(items).build())
        .putFields("attributes", Value.newBuilder().setStructValue(attributes).build())
        .build();
  }

  private static Struct toStruct(Small s) {
    return Struct.newBuilder()
        .putFields("id", number(s.id()))
        .putFields("name", string(s.name()))
        .putFields("quantity", number(s.quantity()))
        .putFields("price", number(s.price()))
        .putFields("active", Value.newBuilder().setBoolValue(s.active()).build())
        .build();
  }

  private static Value number(double v) {
    return Value.newBuilder().setNumberValue(v).build();
  }

  private static Value string(String v) {
    return Value.newBuilder().setStringValue(v).build();
  }

  /** One method's call: its descriptor, a serializer for it, and arguments to send. */
  public record Call(MethodDescriptor method, SerializerProvider provider, Serializer serializer,
      Object[] args) {

    /** The method's declared parameter types, as the serializer is given them. */
    public Type[] types() {
      return method.parameterTypes();
    }
  }

  /**
   * The call of {@code small} or {@code medium} in the given format ({@code fory},
   * {@code protobuf} or {@code json}), with a serializer built as the server builds one.
   */
  public static Call call(String format, String size) {
    boolean small = isSmall(size);
    boolean protobuf = format.equals("protobuf");
    Class<?> service = protobuf ? StructShapes.class : Shapes.class;
    ServiceDescriptor sd = ServiceDescriptor.of(service);
    SerializerConfig config = SerializerConfig.builder()
        .allow(AllowList.reachable(List.of(sd), Set.of()))
        .classLoader(service.getClassLoader())
        .build();
    SerializerProvider provider = Serializers.byName(format);
    Serializer serializer = provider.create(config);
    String name = small ? "small" : "medium";
    MethodDescriptor method = sd.methods().stream()
        .filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    Object arg;
    if (protobuf) {
      arg = small ? smallStruct() : mediumStruct();
    } else {
      arg = small ? small() : medium();
    }
    return new Call(method, provider, serializer, new Object[] {arg});
  }
}
