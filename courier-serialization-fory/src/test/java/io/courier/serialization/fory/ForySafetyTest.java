package io.courier.serialization.fory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.spi.ClassRejectedException;
import io.courier.spi.GadgetLoader;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;
import io.courier.spi.SerializerSafetyContract;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Type;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Fory against the serializer safety contract, plus the classes Fory knows by number. */
class ForySafetyTest extends SerializerSafetyContract {

  /** Puts a value in every place a payload can name a class. */
  public record Nest(Object any, Serializable typed, List<Object> list, Set<Object> set,
      Map<Object, Object> map, Object[] array) {}

  /** Objects in objects. */
  public record Node(Node next) {}

  public record Point(int x, int y) {}

  /** Lengths inside a record's fields, read by the code Fory generates for the record. */
  public record Blob(byte[] data, int[] numbers, String text, List<String> words,
      Map<String, Integer> counts, Point[] points, Object[] any) {}

  private static final Type[] ONE_OBJECT = {Object.class};

  @Override
  protected SerializerProvider provider() {
    return new ForySerializerProvider();
  }

  private static byte[] write(Object[] args, Type[] types, List<Class<?>> allow,
      ClassLoader loader, int maxDepth) throws IOException {
    Serializer writer = new ForySerializerProvider().create(SerializerConfig.builder()
        .allow(allow).classLoader(loader).maxDepth(maxDepth).build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writer.writeArguments(args, types, out);
    return out.toByteArray();
  }

  @Override
  protected Payload naming(String className, Place place) throws Exception {
    GadgetLoader loader = new GadgetLoader(getClass().getClassLoader(), List.of(className));
    Object gadget;
    if (className.equals(PriorityQueue.class.getName())) {
      gadget = new PriorityQueue<>(List.of("a", "b"));
    } else if (className.startsWith("java.")) {
      return null; // cannot be made up, and Fory will not write a real one
    } else {
      gadget = loader.instance(className);
    }
    Class<?> gadgetClass = gadget.getClass();
    if (place == Place.SET_ELEMENT || place == Place.MAP_KEY) {
      try {
        gadget.hashCode();
      } catch (RuntimeException e) {
        return null; // an instance made without its constructor cannot be a key
      }
    }
    Object arg = switch (place) {
      case TOP_LEVEL -> gadget;
      case FIELD -> new Nest(gadget, null, null, null, null, null);
      case INTERFACE_FIELD -> gadget instanceof Serializable s
          ? new Nest(null, s, null, null, null, null) : null;
      case LIST_ELEMENT -> new Nest(null, null, new ArrayList<>(List.of("ok", gadget)), null,
          null, null);
      case SET_ELEMENT -> new Nest(null, null, null, new HashSet<>(Set.of(gadget)), null, null);
      case MAP_KEY -> new Nest(null, null, null, null, new HashMap<>(Map.of(gadget, "v")), null);
      case MAP_VALUE -> new Nest(null, null, null, null, new HashMap<>(Map.of("k", gadget)),
          null);
      case OBJECT_ARRAY -> new Nest(null, null, null, null, null, new Object[] {"ok", gadget});
    };
    if (arg == null) {
      return null;
    }
    List<Class<?>> writerAllows = new ArrayList<>(Guards.PRE_REGISTERED);
    writerAllows.add(gadgetClass);
    writerAllows.addAll(declaredFieldTypes(gadgetClass));
    writerAllows.add(Nest.class);
    List<String> names = new ArrayList<>(List.of(className));
    writerAllows.forEach(c -> names.add(c.getName()));
    byte[] bytes = writeDisallowed(names, () -> write(new Object[] {arg}, ONE_OBJECT,
        writerAllows, loader, SerializerConfig.DEFAULT_MAX_DEPTH));
    return new Payload(bytes, ONE_OBJECT, List.of(Nest.class));
  }

  /**
   * The classes a writer meets in {@code c}'s fields, and theirs in turn: Fory 1.6 asks the class
   * checker about declared field types as it builds a class's serializer, so the permissive writer
   * must allow them too (the reader allows none of them).
   */
  private static Set<Class<?>> declaredFieldTypes(Class<?> c) {
    Set<Class<?>> seen = new java.util.LinkedHashSet<>();
    java.util.Deque<Class<?>> todo = new ArrayDeque<>(List.of(c));
    while (!todo.isEmpty() && seen.size() < 200) {
      for (Class<?> k = todo.pop(); k != null && k != Object.class; k = k.getSuperclass()) {
        for (Field f : k.getDeclaredFields()) {
          Class<?> t = f.getType();
          while (t.isArray()) {
            t = t.getComponentType();
          }
          if (!java.lang.reflect.Modifier.isStatic(f.getModifiers()) && !t.isPrimitive()
              && seen.add(f.getType())) {
            seen.add(t);
            todo.add(t);
          }
        }
      }
    }
    return seen;
  }

  private interface Writing {
    byte[] write() throws IOException;
  }

  /**
   * Fory refuses to write a class on its own list of known gadgets (it checks loaded classes, so
   * a reader's class checker sees the name first). To write a payload naming one, the name leaves
   * that list for the duration of the write (with the classes of its fields, which Fory 1.6
   * checks as well). The list is an unmodifiable view of a set, edited through the view's
   * backing field.
   */
  @SuppressWarnings({"unchecked", "removal"})
  private static byte[] writeDisallowed(List<String> classNames, Writing writing)
      throws Exception {
    Set<String> view = org.apache.fory.resolver.DisallowedList.getDisallowedClasses();
    Field theUnsafe = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
    theUnsafe.setAccessible(true);
    sun.misc.Unsafe unsafe = (sun.misc.Unsafe) theUnsafe.get(null);
    Field backing = Class.forName("java.util.Collections$UnmodifiableCollection")
        .getDeclaredField("c");
    Set<String> disallowed = (Set<String>) unsafe.getObject(view,
        unsafe.objectFieldOffset(backing));
    List<String> listed = new ArrayList<>();
    for (String n : classNames) {
      if (disallowed.remove(n)) {
        listed.add(n);
      }
    }
    try {
      return writing.write();
    } finally {
      disallowed.addAll(listed);
    }
  }

  @Override
  protected List<Payload> nested(int depth) throws Exception {
    AtomicReference<List<Payload>> out = new AtomicReference<>();
    AtomicReference<Exception> failure = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        List<Object> lists = new ArrayList<>();
        List<Object> cur = lists;
        Object[] arrays = new Object[1];
        Object[] a = arrays;
        Node node = null;
        for (int i = 0; i < depth; i++) {
          List<Object> next = new ArrayList<>();
          cur.add(next);
          cur = next;
          Object[] inner = new Object[1];
          a[0] = inner;
          a = inner;
          node = new Node(node);
        }
        List<Payload> payloads = new ArrayList<>();
        for (Object v : new Object[] {lists, arrays, node}) {
          Type[] types = {v.getClass()};
          payloads.add(new Payload(write(new Object[] {v}, types, List.of(Node.class),
              getClass().getClassLoader(), depth * 2 + 8), types, List.of(Node.class)));
        }
        out.set(payloads);
      } catch (Exception e) {
        failure.set(e);
      }
    }, "deep-writer", 512L << 20);
    t.start();
    t.join();
    if (failure.get() != null) {
      throw failure.get();
    }
    return out.get();
  }

  private static byte[] varint(long v) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    while ((v & ~0x7FL) != 0) {
      o.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    o.write((int) v);
    return o.toByteArray();
  }

  /**
   * A payload declaring {@code huge} elements: the encodings of an empty and a one-element value
   * differ first at the length, which is replaced by {@code huge} (shifted past the two coder bits
   * for a string), followed by a few bytes of nothing.
   */
  private Payload declaring(Object empty, Object one, long huge, boolean string)
      throws IOException {
    return declaring(empty, one, huge, string, new Type[] {Object.class}, List.of(Point.class));
  }

  private Payload declaring(Object empty, Object one, long huge, boolean string, Type[] types,
      List<Class<?>> allow) throws IOException {
    byte[] a = write(new Object[] {empty}, types, allow, getClass().getClassLoader(), 64);
    byte[] b = write(new Object[] {one}, types, allow, getClass().getClassLoader(), 64);
    int p = 0;
    while (a[p] == b[p]) {
      p++;
    }
    byte[] length = varint(string ? (huge << 2) | (a[p] & 3) : huge);
    byte[] out = Arrays.copyOf(a, p + length.length + 8);
    System.arraycopy(length, 0, out, p, length.length);
    return new Payload(out, types, allow);
  }

  @Override
  protected List<Payload> hugeDeclaredLengths() throws Exception {
    List<Payload> out = new ArrayList<>();
    for (long huge : new long[] {100_000_000L, 400_000_000L, 0xFFFF_FFFFL}) {
      out.add(declaring(new byte[0], new byte[1], huge, false));
      out.add(declaring(new int[0], new int[1], huge, false));
      out.add(declaring(new long[0], new long[1], huge, false));
      out.add(declaring(new double[0], new double[1], huge, false));
      out.add(declaring("", "a", huge, true));
      out.add(declaring(new String[0], new String[1], huge, false));
      out.add(declaring(new Object[0], new Object[1], huge, false));
      out.add(declaring(new Point[0], new Point[] {new Point(1, 2)}, huge, false));
      out.add(declaring(new ArrayList<>(), new ArrayList<>(List.of(1)), huge, false));
      out.add(declaring(new ArrayDeque<>(), new ArrayDeque<>(List.of(1)), huge, false));
      out.add(declaring(new HashMap<>(), new HashMap<>(Map.of(1, 1)), huge, false));
      out.add(declaring(new HashSet<>(), new HashSet<>(Set.of(1)), huge, false));
      out.add(declaring(List.of(1, 2, 3), List.of(1, 2, 3, 4), huge, false));
      out.add(declaring(Set.of(1, 2, 3), Set.of(1, 2, 3, 4), huge, false));
      out.add(declaring(Map.of(1, 1, 2, 2, 3, 3), Map.of(1, 1, 2, 2, 3, 3, 4, 4), huge, false));
      out.add(declaring(new java.util.TreeMap<>(), new java.util.TreeMap<>(Map.of(1, 1)), huge,
          false));
      out.add(declaring(new java.util.LinkedList<>(), new java.util.LinkedList<>(List.of(1)),
          huge, false));
      out.add(declaring(new java.util.concurrent.ConcurrentHashMap<>(),
          new java.util.concurrent.ConcurrentHashMap<>(Map.of(1, 1)), huge, false));
    }
    return out;
  }

  /** A blob whose every field has one element, except {@code field}, which has {@code n}. */
  private static Blob blob(int field, int n) {
    int[] k = {1, 1, 1, 1, 1, 1, 1};
    if (field >= 0) {
      k[field] = n;
    }
    return new Blob(new byte[k[0]], new int[k[1]], "x".repeat(k[2]),
        new ArrayList<>(java.util.Collections.nCopies(k[3], "w")),
        k[4] == 0 ? new HashMap<>() : new HashMap<>(Map.of("k", 1)), new Point[k[5]],
        new Object[k[6]]);
  }

  /**
   * Fory reads a record's fields with code it generates in the background after the first uses;
   * the lengths of fields are checked on that path too. Each field in turn declares the huge
   * length.
   */
  @Test
  void lengthsInsideRecordFieldsAreCheckedAfterCodeGenerationToo() throws Exception {
    Type[] types = {Blob.class};
    List<Class<?>> allow = List.of(Blob.class, Point.class);
    Serializer s = provider().create(SerializerConfig.builder().allow(allow).build());
    byte[] good = write(new Object[] {blob(-1, 1)}, types, allow, getClass().getClassLoader(),
        64);
    for (int i = 0; i < 40; i++) { // give the background compilation time to finish
      assertThat(((Blob) s.readArguments(types, new ByteArrayInputStream(good))[0]).data())
          .hasSize(1);
      Thread.sleep(25);
    }
    for (int field = 0; field < 7; field++) {
      Payload p = declaring(blob(field, 0), blob(field, 1), 100_000_000L, field == 2, types,
          allow);
      // Fory checks a string's length itself, and a HashMap grows as entries arrive (so it fails
      // when they run out); the arrays and the list are refused by Courier's length checks
      assertThatThrownBy(() -> s.readArguments(types, new ByteArrayInputStream(p.bytes())))
          .as("field %d", field)
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining(field == 2 || field == 4 ? "malformed" : "exceeds");
    }
  }

  @Test
  void aPrimitiveArrayLongerThanTheBodyIsRefusedNotReadPastTheEnd() throws Exception {
    Payload p = declaring(new byte[0], new byte[1], 1_000, false);
    Serializer s = provider().create(SerializerConfig.builder().build());
    assertThatThrownBy(() -> s.readArguments(p.types(), new ByteArrayInputStream(p.bytes())))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("declared length 1000")
        .hasMessageContaining("bytes that remain");
  }

  /**
   * Fory resolves the JDK classes it pre-registers by number, without asking the class checker.
   * Each one outside the safe set is written by a serializer that allows it and read by one that
   * does not: the read must be rejected by name, exactly as a named class would be.
   */
  @Test
  void classesForyKnowsByNumberAreJudgedLikeNamedOnes() throws Exception {
    List<String> refused = new ArrayList<>();
    for (Class<?> c : Guards.PRE_REGISTERED) {
      if (SafeTypes.isSafe(c.getName()) || c.getName().startsWith("org.apache.fory.")) {
        continue;
      }
      refused.add(c.getName());
    }
    assertThat(refused).contains("java.lang.Class", "java.util.PriorityQueue",
        "java.lang.invoke.SerializedLambda", "java.util.regex.Pattern",
        "java.nio.DirectByteBuffer");
    Object[][] samples = {
        {String.class}, {new PriorityQueue<>(List.of(3, 1))},
        {java.util.regex.Pattern.compile("a+")},
        {new java.util.concurrent.atomic.AtomicReference<>("x")}, {new StringBuilder("sb")},
        {new java.util.concurrent.atomic.AtomicLong(5)}, {java.nio.ByteBuffer.allocateDirect(4)}};
    for (Object[] sample : samples) {
      Object v = sample[0];
      byte[] bytes = write(new Object[] {v}, ONE_OBJECT, List.of(v.getClass()),
          getClass().getClassLoader(), 64);
      Serializer strict = provider().create(SerializerConfig.builder().build());
      assertThatThrownBy(() -> strict.readArguments(ONE_OBJECT, new ByteArrayInputStream(bytes)))
          .as(v.getClass().getName())
          .isInstanceOf(ClassRejectedException.class)
          .hasMessageContaining(v.getClass().getName());
    }
  }
}
