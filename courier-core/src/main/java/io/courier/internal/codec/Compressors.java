package io.courier.internal.codec;

import io.courier.spi.Compressor;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** The compressors on the class path, by wire id and by name. Immutable after loading. */
public final class Compressors {

  private static final Compressor[] BY_ID = new Compressor[256];
  private static final List<Compressor> ALL = new ArrayList<>();

  static {
    for (Compressor c : ServiceLoader.load(Compressor.class, Compressors.class.getClassLoader())) {
      if (c.id() > 0 && c.id() < 256 && BY_ID[c.id()] == null) {
        BY_ID[c.id()] = c;
        ALL.add(c);
      }
    }
  }

  private Compressors() {}

  /** The compressor with the wire id, or null. */
  public static Compressor byId(int id) {
    return id > 0 && id < 256 ? BY_ID[id] : null;
  }

  /**
   * The compressor with the name.
   *
   * @throws IllegalArgumentException naming the available ones when there is none
   */
  public static Compressor byName(String name) {
    for (Compressor c : ALL) {
      if (c.name().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("compressor: " + name + " (expected one of " + names()
        + "; add courier-compression-" + name + " to the class path if it is LZ4 or Zstandard)");
  }

  /** Names of the available compressors. */
  public static List<String> names() {
    return ALL.stream().map(Compressor::name).toList();
  }
}
