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
import org.apache.fory.context.CopyContext;
import org.apache.fory.context.ReadContext;
import org.apache.fory.context.WriteContext;
import org.apache.fory.logging.LogLevel;
import org.apache.fory.logging.LoggerFactory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.resolver.ClassResolver;
import org.apache.fory.resolver.TypeResolver;
import org.apache.fory.serializer.ArraySerializers;
import org.apache.fory.serializer.Serializer;
import org.apache.fory.serializer.collection.CollectionSerializer;
import org.apache.fory.serializer.collection.MapSerializer;

/**
 * Serializers Courier puts in front of Fory's own, for two holes a class checker cannot close.
 *
 * <p>Sizes: Fory allocates an array or a list from its declared length before reading the
 * elements. Fory 1.6 checks most such lengths against the bytes that remain itself (0.13 did not,
 * and copied a primitive array's bytes whether or not the body held them); {@link Bounded} still
 * reads the length first and refuses one larger than the bytes that remain (every element takes
 * at least one byte), so a hostile length costs nothing and the error names it, whatever the
 * Fory version.
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
    ClassResolver resolver = (ClassResolver) probe.getTypeResolver(); // Java mode's resolver
    Set<Class<?>> out = new LinkedHashSet<>();
    for (int id = 0; id <= Short.MAX_VALUE; id++) {
      Class<?> c = resolver.getRegisteredClass((short) id);
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
    // a primitive array's prefix counts its bytes, the others' count their elements; either way
    // each takes at least one byte
    for (Class<?> c : List.of(byte[].class, boolean[].class, char[].class, short[].class,
        int[].class, long[].class, float[].class, double[].class, String[].class,
        Object[].class)) {
      bound(fory, c);
    }
    // the collections and maps that allocate room for every declared element up front
    for (Class<?> c : List.of(ArrayList.class, ArrayDeque.class, Vector.class,
        CopyOnWriteArrayList.class, Arrays.asList().getClass(), List.of(1, 2, 3).getClass(),
        Set.of(1, 2, 3).getClass(), Map.of(1, 1, 2, 2, 3, 3).getClass())) {
      bound(fory, c);
    }
    for (Class<?> c : PRE_REGISTERED) {
      Class<?> element = c;
      while (element.isArray()) {
        element = element.getComponentType();
      }
      if (!element.isPrimitive() && !SafeTypes.isSafe(c.getName())
          && !allowed.contains(element.getName())) {
        fory.registerSerializer(c, r -> refused(r, c));
      }
    }
    // arrays of other classes (an allow-listed record's array, say) get their serializer made on
    // first use: bound those too
    fory.registerSerializerFactory((r, c) -> c.isArray() && !c.getComponentType().isPrimitive()
        ? boundedObjectArray(r, c) : null);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Serializer<?> boundedObjectArray(TypeResolver r, Class<?> c) {
    return new Bounded(r, new ArraySerializers.ObjectArraySerializer(r, c));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void bound(ThreadSafeFory fory, Class<?> c) {
    fory.registerSerializer(c, r -> {
      Serializer original = r.getSerializer(c);
      if (original instanceof CollectionSerializer list) {
        return new BoundedCollection(r, list);
      }
      if (original instanceof MapSerializer map) {
        return new BoundedMap(r, map);
      }
      return new Bounded(r, original);
    });
  }

  /**
   * Reads the declared length in front of a value, refuses it if even one byte per element would
   * not fit in what remains, then lets Fory's own serializer read from the same place.
   */
  static final class Bounded<T> extends Serializer<T> {
    private final Serializer<T> delegate;

    Bounded(TypeResolver resolver, Serializer<T> delegate) {
      super(resolver.getConfig(), delegate.getType(), delegate.needToWriteRef(),
          delegate.isImmutable());
      this.delegate = delegate;
    }

    @Override
    public void write(WriteContext context, T value) {
      delegate.write(context, value);
    }

    @Override
    public T copy(CopyContext context, T value) {
      return delegate.copy(context, value);
    }

    @Override
    public T read(ReadContext context) {
      checkLength(context.getBuffer(), type);
      return delegate.read(context);
    }

    @Override
    public boolean readDataAlwaysAdvances() {
      return delegate.readDataAlwaysAdvances();
    }
  }

  private static void checkLength(MemoryBuffer buffer, Class<?> type) {
    int at = buffer.readerIndex();
    long declared = Integer.toUnsignedLong(buffer.readVarUInt32Small7());
    int remaining = buffer.size() - buffer.readerIndex();
    buffer.readerIndex(at);
    if (declared > remaining) {
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

    BoundedCollection(TypeResolver resolver, CollectionSerializer<T> delegate) {
      super(resolver, delegate.getType(), delegate.supportCodegenHook(), delegate.isImmutable());
      this.delegate = delegate;
    }

    @Override
    public Collection onCollectionWrite(WriteContext context, T value) {
      return delegate.onCollectionWrite(context, value);
    }

    @Override
    public Collection newCollection(ReadContext context, boolean elementReadAlwaysAdvances) {
      checkLength(context.getBuffer(), type);
      Collection c = delegate.newCollection(context, elementReadAlwaysAdvances);
      setNumElements(delegate.getAndClearNumElements());
      return c;
    }

    @Override
    public T onCollectionRead(Collection collection) {
      return delegate.onCollectionRead(collection);
    }

    @Override
    public T copy(CopyContext context, T value) {
      return delegate.copy(context, value);
    }
  }

  /** As {@link BoundedCollection}, for a map: its entries' count comes first. */
  static final class BoundedMap<T extends Map<?, ?>> extends MapSerializer<T> {
    private final MapSerializer<T> delegate;

    BoundedMap(TypeResolver resolver, MapSerializer<T> delegate) {
      super(resolver, delegate.getType(), delegate.supportCodegenHook(), delegate.isImmutable());
      this.delegate = delegate;
    }

    @Override
    public Map onMapWrite(WriteContext context, T value) {
      return delegate.onMapWrite(context, value);
    }

    @Override
    public Map newMap(ReadContext context, boolean entryReadAlwaysAdvances) {
      checkLength(context.getBuffer(), type);
      Map m = delegate.newMap(context, entryReadAlwaysAdvances);
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
    public T copy(CopyContext context, T value) {
      return delegate.copy(context, value);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Serializer<?> refused(TypeResolver r, Class<?> c) {
    if (Collection.class.isAssignableFrom(c)) {
      return new RefusedCollection(r, c);
    }
    if (Map.class.isAssignableFrom(c)) {
      return new RefusedMap(r, c);
    }
    return new Refused<>(r, c);
  }

  /** {@link Refused} for a collection class (Fory insists on the kind). */
  static final class RefusedCollection<T extends Collection<?>> extends CollectionSerializer<T> {
    RefusedCollection(TypeResolver resolver, Class<T> type) {
      super(resolver, type);
    }

    @Override
    public Collection onCollectionWrite(WriteContext context, T value) {
      throw new Rejected(type.getName());
    }

    @Override
    public Collection newCollection(ReadContext context, boolean elementReadAlwaysAdvances) {
      throw new Rejected(type.getName());
    }

    @Override
    public T onCollectionRead(Collection collection) {
      throw new Rejected(type.getName());
    }
  }

  /** {@link Refused} for a map class. */
  static final class RefusedMap<T extends Map<?, ?>> extends MapSerializer<T> {
    RefusedMap(TypeResolver resolver, Class<T> type) {
      super(resolver, type);
    }

    @Override
    public Map onMapWrite(WriteContext context, T value) {
      throw new Rejected(type.getName());
    }

    @Override
    public Map newMap(ReadContext context, boolean entryReadAlwaysAdvances) {
      throw new Rejected(type.getName());
    }

    @Override
    public T onMapRead(Map map) {
      throw new Rejected(type.getName());
    }
  }

  /** Stands in for a class Fory knows by number but the allow-list does not allow. */
  static final class Refused<T> extends Serializer<T> {
    Refused(TypeResolver resolver, Class<T> type) {
      super(resolver.getConfig(), type);
    }

    @Override
    public void write(WriteContext context, T value) {
      throw new Rejected(type.getName());
    }

    @Override
    public T read(ReadContext context) {
      throw new Rejected(type.getName());
    }
  }
}
