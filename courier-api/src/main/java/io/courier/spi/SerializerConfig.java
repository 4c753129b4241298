package io.courier.spi;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * What a {@link Serializer} may decode: the allow-list of application classes (the types reachable
 * from the service interface plus those the user allowed explicitly), and limits.
 *
 * <p>Immutable; build with {@link #builder()}.
 */
public final class SerializerConfig {

  /** Default maximum nesting depth of a decoded value. */
  public static final int DEFAULT_MAX_DEPTH = 64;

  private final Set<Class<?>> allowedTypes;
  private final int maxDepth;
  private final ClassLoader classLoader;

  private SerializerConfig(Builder b) {
    this.allowedTypes = Collections.unmodifiableSet(new LinkedHashSet<>(b.allowedTypes));
    this.maxDepth = b.maxDepth;
    this.classLoader = b.classLoader;
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Application classes that may be decoded, in a deterministic order (sorted by name). JDK value
   * types (strings, boxed primitives, {@code java.time}, standard collections and maps, arrays of
   * allowed types) are always allowed and are not listed here.
   */
  public Set<Class<?>> allowedTypes() {
    return allowedTypes;
  }

  /** Maximum nesting depth of a decoded value. */
  public int maxDepth() {
    return maxDepth;
  }

  /** The class loader the service's classes come from. */
  public ClassLoader classLoader() {
    return classLoader;
  }

  /** Builds a {@link SerializerConfig}. Not thread-safe. */
  public static final class Builder {
    private final Set<Class<?>> allowedTypes = new LinkedHashSet<>();
    private int maxDepth = DEFAULT_MAX_DEPTH;
    private ClassLoader classLoader = SerializerConfig.class.getClassLoader();

    private Builder() {}

    /** Allows the given classes. */
    public Builder allow(Iterable<Class<?>> types) {
      for (Class<?> t : types) {
        allowedTypes.add(Objects.requireNonNull(t, "type"));
      }
      return this;
    }

    /** Sets the maximum nesting depth. */
    public Builder maxDepth(int maxDepth) {
      if (maxDepth <= 0) {
        throw new IllegalArgumentException("maxDepth: " + maxDepth + " (expected: > 0)");
      }
      this.maxDepth = maxDepth;
      return this;
    }

    /** Sets the class loader. */
    public Builder classLoader(ClassLoader classLoader) {
      this.classLoader = Objects.requireNonNull(classLoader, "classLoader");
      return this;
    }

    /** Builds the config. */
    public SerializerConfig build() {
      return new SerializerConfig(this);
    }
  }
}
