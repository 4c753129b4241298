package io.courier.internal.codec;

import io.courier.spi.SerializerProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** The serializer providers on the class path, by wire id and by name. */
public final class Serializers {

  private static final SerializerProvider[] BY_ID = new SerializerProvider[256];
  private static final List<SerializerProvider> ALL = new ArrayList<>();

  static {
    for (SerializerProvider p
        : ServiceLoader.load(SerializerProvider.class, Serializers.class.getClassLoader())) {
      if (p.id() > 0 && p.id() < 256 && BY_ID[p.id()] == null) {
        BY_ID[p.id()] = p;
        ALL.add(p);
      }
    }
  }

  private Serializers() {}

  /** The provider with the wire id, or null. */
  public static SerializerProvider byId(int id) {
    return id > 0 && id < 256 ? BY_ID[id] : null;
  }

  /**
   * The provider with the name.
   *
   * @throws IllegalArgumentException naming the available ones when there is none
   */
  public static SerializerProvider byName(String name) {
    for (SerializerProvider p : ALL) {
      if (p.name().equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("serializer: " + name + " (expected one of " + names()
        + "; add courier-serialization-" + name + " to the class path)");
  }

  /** The default serializer's name: {@code fory} when present, else the first one found. */
  public static String defaultName() {
    for (SerializerProvider p : ALL) {
      if (p.name().equals("fory")) {
        return "fory";
      }
    }
    if (ALL.isEmpty()) {
      throw new IllegalStateException("no serializer on the class path: add "
          + "io.courier:courier-serialization-fory (or -json, -protobuf) as a dependency");
    }
    return ALL.get(0).name();
  }

  /** Names of the available serializers. */
  public static List<String> names() {
    return ALL.stream().map(SerializerProvider::name).toList();
  }
}
