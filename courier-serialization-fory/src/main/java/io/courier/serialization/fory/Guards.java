package io.courier.serialization.fory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.fory.Fory;
import org.apache.fory.ThreadSafeFory;
import org.apache.fory.config.Language;
import org.apache.fory.logging.LogLevel;
import org.apache.fory.logging.LoggerFactory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.serializer.ArraySerializers;
import org.apache.fory.serializer.Serializer;
import org.apache.fory.serializer.collection.CollectionSerializer;
import org.apache.fory.serializer.collection.MapSerializer;

/**
 * Serializers Courier puts in front of Fory's own, for two holes a class checker cannot close.
 *
 * <p>Sizes: Fory allocates an array or a list from its declared length before reading the
 * elements, and for primitive arrays copies that many bytes whether or not the body holds them.
 * {@link Bounded} reads the length first and refuses one larger than the bytes that remain (every
 * element takes at least one byte), so a hostile length costs nothing.
 *
 * <p>Numbered classes: Fory resolves the JDK classes it pre-registers by number, without asking
 * the class checker. Each one that is neither in {@link SafeTypes} nor on the allow-list gets
 * {@link Refused}, so naming it by number is rejected exactly as naming it by name is.
 */
final class Guards {

  private Guards() {}

  /** Carries a refusal out of Fory's read path. */
  static final class TooLarge extends RuntimeException {
    TooLarge(String message) {
      super(message, null, false, false);
    }
  }

  /** Carries a rejected class name out of Fory's read path. */
  static final class Rejected extends RuntimeException {
    final String className;

    Rejected(String className) {
      super("rejected " + className, null, false, false);
      this.className = className;
    }
  }

  /** JDK classes Fory resolves by number; read once from a plain Fory. */
  static final Set<Class<?>> PRE_REGISTERED = preRegistered();

  private static Set<Class<?>> preRegistered() {
    Fory probe;
    synchronized (ForySerializer.class) { // quietly, as ForySerializer builds its own
      int level = LoggerFactory.getLogLevel();
      LoggerFactory.setLogLevel(LogLevel.ERROR_LEVEL);
      try {
        probe = Fory.builder().withLanguage(Language.JAVA).requireClassRegistration(false)
            .suppressClassRegistrationWarnings(true).build();
      } finally {
        LoggerFactory.setLogLevel(level);
      }
    }
    Set<Class<?>> out = new LinkedHashSet<>();
    for (int id = 0; id < 1024; id++) {
      Class<?> c = probe.getClassResolver().getRegisteredClass((short) id);
      if (c != null && !c.isPrimitive()) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * Installs the guards on every Fory instance {@code fory} makes. {@code allowed} holds the
   * names of the allow-listed classes.
   */
  static void install(ThreadSafeFory fory, Set<String> allowed) {
    bound(fory, byte[].class, 0, 1);
    bound(fory, boolean[].class, 0, 1);
    bound(fory, char[].class, 0, 1);
    bound(fory, short[].class, 0, 1);
    bound(fory, int[].class, 0, 1);
    bound(fory, long[].class, 0, 1);
    bound(fory, float[].class, 0, 1);
    bound(fory, double[].class, 0, 1);
    bound(fory, String[].class, 0, 1);
    bound(fory, Object[].class, 1, 1);
    // the collections and maps that allocate room for every declared element up front
    for (Class<?> c : List.of(ArrayList.class, ArrayDeque.class, Vector.class,
        CopyOnWriteArrayList.class, Arrays.asList().getClass(), List.of(1, 2, 3).getClass(),
        Set.of(1, 2, 3).getClass(), Map.of(1, 1, 2, 2, 3, 3).getClass())) {
      bound(fory, c, 0, 1);
    }
    for (Class<?> c : PRE_REGISTERED) {
      Class<?> element = c;
      while (element.isArray()) {
        element = element.getComponentType();
      }
      if (!element.isPrimitive() && !SafeTypes.isSafe(c.getName())
          && !allowed.contains(element.getName())) {
        fory.registerSerializer(c, f -> refused(f, c));
      }
    }
    // arrays of other classes (an allow-listed record's array, say) get their serializer made on
    // first use: bound those too
    fory.setSerializerFactory((f, c) -> c.isArray() && !c.getComponentType().isPrimitive()
        ? boundedObjectArray(f, c) : null);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Serializer<?> boundedObjectArray(Fory f, Class<?> c) {
    return new Bounded(f, new ArraySerializers.ObjectArraySerializer(f, c), 1, 1);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void bound(ThreadSafeFory fory, Class<?> c, int flagBits, int minBytes) {
    fory.registerSerializer(c, f -> {
      Serializer original = f.getClassResolver().getSerializer(c);
      if (original instanceof CollectionSerializer list) {
        return new BoundedCollection(f, list);
      }
      if (original instanceof MapSerializer map) {
        return new BoundedMap(f, map);
      }
      return new Bounded(f, original, flagBits, minBytes);
    });
  }

  /**
   * Reads the declared length in front of a value (shifted right by {@code flagBits}, for formats
   * that keep flags in its low bits), refuses it if even {@code minBytes} per element would not
   * fit in what remains, then lets Fory's own serializer read from the same place.
   */
  static final class Bounded<T> extends Serializer<T> {
    private final Serializer<T> delegate;
    private final int flagBits;
    private final int minBytes;

    Bounded(Fory fory, Serializer<T> delegate, int flagBits, int minBytes) {
      super(fory, delegate.getType(), delegate.needToWriteRef(), delegate.isImmutable());
      this.delegate = delegate;
      this.flagBits = flagBits;
      this.minBytes = minBytes;
    }

    @Override
    public void write(MemoryBuffer buffer, T value) {
      delegate.write(buffer, value);
    }

    @Override
    public T copy(T value) {
      return delegate.copy(value);
    }

    @Override
    public T read(MemoryBuffer buffer) {
      checkLength(buffer, flagBits, minBytes, type);
      return delegate.read(buffer);
    }
  }

  private static void checkLength(MemoryBuffer buffer, int flagBits, int minBytes, Class<?> type) {
    int at = buffer.readerIndex();
    long declared = Integer.toUnsignedLong(buffer.readVarUint32Small7()) >>> flagBits;
    int remaining = buffer.size() - buffer.readerIndex();
    buffer.readerIndex(at);
    if (declared * minBytes > remaining) {
      throw new TooLarge("declared length " + declared + " of a " + type.getSimpleName()
          + " exceeds the " + remaining + " bytes that remain");
    }
  }

  /**
   * As {@link Bounded}, for a collection: Fory requires a collection's serializer to be a
   * {@link CollectionSerializer}, and its generated code calls {@link #newCollection} directly.
   */
  static final class BoundedCollection<T extends Collection<?>> extends CollectionSerializer<T> {
    private final CollectionSerializer<T> delegate;

    BoundedCollection(Fory fory, CollectionSerializer<T> delegate) {
      super(fory, delegate.getType(), delegate.supportCodegenHook(), delegate.isImmutable());
      this.delegate = delegate;
    }

    @Override
    public Collection onCollectionWrite(MemoryBuffer buffer, T value) {
      return delegate.onCollectionWrite(buffer, value);
    }

    @Override
    public Collection newCollection(MemoryBuffer buffer) {
      checkLength(buffer, 0, 1, type);
      Collection c = delegate.newCollection(buffer);
      setNumElements(delegate.getAndClearNumElements());
      return c;
    }

    @Override
    public T onCollectionRead(Collection collection) {
      return delegate.onCollectionRead(collection);
    }

    @Override
    public T copy(T value) {
      return delegate.copy(value);
    }
  }

  /** As {@link BoundedCollection}, for a map: its entries' count comes first. */
  static final class BoundedMap<T extends Map<?, ?>> extends MapSerializer<T> {
    private final MapSerializer<T> delegate;

    BoundedMap(Fory fory, MapSerializer<T> delegate) {
      super(fory, delegate.getType(), delegate.supportCodegenHook(), delegate.isImmutable());
      this.delegate = delegate;
    }

    @Override
    public Map onMapWrite(MemoryBuffer buffer, T value) {
      return delegate.onMapWrite(buffer, value);
    }

    @Override
    public Map newMap(MemoryBuffer buffer) {
      checkLength(buffer, 0, 1, type);
      Map m = delegate.newMap(buffer);
      setNumElements(delegate.getAndClearNumElements());
      return m;
    }

    @Override
    public T onMapRead(Map map) {
      return delegate.onMapRead(map);
    }

    @Override
    public T onMapCopy(Map map) {
      return delegate.onMapCopy(map);
    }

    @Override
    public T copy(T value) {
      return delegate.copy(value);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Serializer<?> refused(Fory f, Class<?> c) {
    if (Collection.class.isAssignableFrom(c)) {
      return new RefusedCollection(f, c);
    }
    if (Map.class.isAssignableFrom(c)) {
      return new RefusedMap(f, c);
    }
    return new Refused<>(f, c);
  }

  /** {@link Refused} for a collection class (Fory insists on the kind). */
  static final class RefusedCollection<T extends Collection<?>> extends CollectionSerializer<T> {
    RefusedCollection(Fory fory, Class<T> type) {
      super(fory, type);
    }

    @Override
    public Collection onCollectionWrite(MemoryBuffer buffer, T value) {
      throw new Rejected(type.getName());
    }

    @Override
    public Collection newCollection(MemoryBuffer buffer) {
      throw new Rejected(type.getName());
    }

    @Override
    public T onCollectionRead(Collection collection) {
      throw new Rejected(type.getName());
    }
  }

  /** {@link Refused} for a map class. */
  static final class RefusedMap<T extends Map<?, ?>> extends MapSerializer<T> {
    RefusedMap(Fory fory, Class<T> type) {
      super(fory, type);
    }

    @Override
    public Map onMapWrite(MemoryBuffer buffer, T value) {
      throw new Rejected(type.getName());
    }

    @Override
    public Map newMap(MemoryBuffer buffer) {
      throw new Rejected(type.getName());
    }

    @Override
    public T onMapRead(Map map) {
      throw new Rejected(type.getName());
    }
  }

  /** Stands in for a class Fory knows by number but the allow-list does not allow. */
  static final class Refused<T> extends Serializer<T> {
    Refused(Fory fory, Class<T> type) {
      super(fory, type);
    }

    @Override
    public void write(MemoryBuffer buffer, T value) {
      throw new Rejected(type.getName());
    }

    @Override
    public T read(MemoryBuffer buffer) {
      throw new Rejected(type.getName());
    }
  }
}
