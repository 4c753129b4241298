package io.courier.serialization.fory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.spi.ClassRejectedException;
import io.courier.spi.InMemoryInput;
import io.courier.spi.InMemoryOutput;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.net.URL;
import java.net.URLClassLoader;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ForySerializerTest {

  public record Point(int x, int y) {}

  public enum Color { RED, GREEN }

  public record Holder(List<Object> items, Map<Object, String> names) {}

  private static Serializer serializer(Class<?>... allowed) {
    return new ForySerializerProvider().create(SerializerConfig.builder()
        .allow(List.of(allowed)).build());
  }

  private static byte[] writeArgs(Serializer s, Object[] args, Type[] types) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.writeArguments(args, types, out);
    return out.toByteArray();
  }

  /** A body as Courier hands an uncompressed one over: in direct memory, read in place. */
  private static InputStream in(byte[] b) {
    ByteBuffer direct = ByteBuffer.allocateDirect(b.length).put(b).flip();
    return new InMemory(direct);
  }

  private static final class InMemory extends ByteArrayInputStream implements InMemoryInput {
    private final ByteBuffer bytes;

    InMemory(ByteBuffer bytes) {
      super(new byte[0]); // a serializer that copies the stream would read nothing and fail
      this.bytes = bytes;
    }

    @Override
    public ByteBuffer remaining() {
      return bytes.asReadOnlyBuffer();
    }
  }

  /**
   * An output that offers in-place writing as Courier's frame buffers do: views of direct memory,
   * here {@code slack} bytes larger than asked for (negative: smaller, as a buffer that cannot
   * grow would). Counts what came in place and what came through the stream.
   */
  private static final class InMemoryOut extends ByteArrayOutputStream implements InMemoryOutput {
    private final int slack;
    private ByteBuffer view;
    int inPlace;
    int streamed;

    InMemoryOut(int slack) {
      this.slack = slack;
    }

    @Override
    public ByteBuffer reserve(int minBytes) {
      view = ByteBuffer.allocateDirect(Math.max(0, minBytes + slack));
      return view;
    }

    @Override
    public void commit(int bytes) {
      byte[] b = new byte[bytes];
      view.get(0, b);
      super.write(b, 0, bytes);
      inPlace += bytes;
      view = null;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      super.write(b, off, len);
      streamed += len;
    }

    @Override
    public void write(int b) {
      super.write(b);
      streamed++;
    }
  }

  @Test
  void largeArraysAndStringsAreWrittenInPlaceAndReadBack() throws Exception {
    Serializer s = serializer();
    byte[] big = new byte[1 << 20];
    new Random(7).nextBytes(big);
    String text = "grüße, 世界 ".repeat(2000);
    Type[] types = {byte[].class, String.class, int.class};
    InMemoryOut out = new InMemoryOut(0);
    s.writeArguments(new Object[] {big, text, 42}, types, out);
    assertThat(out.streamed).isZero();
    assertThat(out.inPlace).isEqualTo(out.size()).isGreaterThan(big.length);
    Object[] back = s.readArguments(types, in(out.toByteArray()));
    assertThat((byte[]) back[0]).isEqualTo(big);
    assertThat(back[1]).isEqualTo(text);
    assertThat(back[2]).isEqualTo(42);

    InMemoryOut value = new InMemoryOut(0);
    s.writeValue(big, byte[].class, value);
    assertThat(value.streamed).isZero();
    assertThat((byte[]) s.readValue(byte[].class, in(value.toByteArray()))).isEqualTo(big);
  }

  @Test
  void aShortViewFallsBackToTheStreamAndSmallOrUnknownValuesUseIt() throws Exception {
    Serializer s = serializer(Point.class);
    byte[] big = new byte[64 << 10];
    new Random(8).nextBytes(big);
    InMemoryOut shortView = new InMemoryOut(-1);
    s.writeValue(big, byte[].class, shortView);
    assertThat(shortView.inPlace).isZero();
    assertThat((byte[]) s.readValue(byte[].class, in(shortView.toByteArray()))).isEqualTo(big);

    InMemoryOut small = new InMemoryOut(0);
    s.writeValue("hi", String.class, small);
    assertThat(small.inPlace).isZero();
    assertThat(s.readValue(String.class, in(small.toByteArray()))).isEqualTo("hi");

    List<Point> points = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      points.add(new Point(i, -i));
    }
    InMemoryOut unknown = new InMemoryOut(0);
    s.writeValue(points, List.class, unknown);
    assertThat(unknown.inPlace).isZero();
    assertThat(s.readValue(List.class, in(unknown.toByteArray()))).isEqualTo(points);
  }

  @Test
  void sizeHintsBoundTheEncodingOrAreUnknown() {
    assertThat(ForySerializer.sizeHint(new Object[] {new byte[5000], null, 3L}))
        .isGreaterThanOrEqualTo(5000);
    assertThat(ForySerializer.sizeHint("abc")).isGreaterThanOrEqualTo(9);
    assertThat(ForySerializer.sizeHint(new Object[] {new byte[10], new Point(1, 2)})).isEqualTo(-1);
    assertThat(ForySerializer.sizeHint(List.of())).isEqualTo(-1);
  }

  @Test
  void aBodyThatIsOnlyAStreamIsReadToo() throws Exception {
    Serializer s = serializer(Point.class);
    Type[] types = {Point.class, String.class};
    byte[] body = writeArgs(s, new Object[] {new Point(7, 8), "x"}, types);
    assertThat(s.readArguments(types, new ByteArrayInputStream(body)))
        .containsExactly(new Point(7, 8), "x");
    byte[] rejected = writeArgs(serializer(Point.class), new Object[] {new Point(1, 1)},
        new Type[] {Object.class});
    assertThatThrownBy(() -> serializer().readArguments(new Type[] {Object.class},
        new ByteArrayInputStream(rejected))).isInstanceOf(ClassRejectedException.class);
  }

  @Test
  void roundTripsValuesRecordsCollectionsAndTime() throws Exception {
    Serializer s = serializer(Point.class, Color.class);
    Map<String, Integer> stock = new LinkedHashMap<>();
    stock.put("a", 1);
    Object[] args = {42, "text", new Point(1, 2), List.of(new Point(3, 4)), stock,
        LocalDate.of(2026, 11, 24), Instant.ofEpochSecond(1_000), Color.GREEN, null,
        new byte[] {1, 2, 3}};
    Type[] types = {int.class, String.class, Point.class, List.class, Map.class, LocalDate.class,
        Instant.class, Color.class, String.class, byte[].class};
    Object[] back = s.readArguments(types, in(writeArgs(s, args, types)));
    assertThat(Arrays.copyOf(back, 9)).containsExactly(Arrays.copyOf(args, 9));
    assertThat((byte[]) back[9]).containsExactly(1, 2, 3);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.writeValue(new Point(5, 6), Point.class, out);
    assertThat(s.readValue(Point.class, in(out.toByteArray()))).isEqualTo(new Point(5, 6));
  }

  @Test
  void argumentCountMismatchSaysWhatWasExpected() throws Exception {
    Serializer s = serializer();
    byte[] three = writeArgs(s, new Object[] {1, 2, 3},
        new Type[] {int.class, int.class, int.class});
    assertThatThrownBy(() -> s.readArguments(new Type[] {int.class, int.class}, in(three)))
        .isInstanceOf(SerializationException.class)
        .hasMessage("expected 2 arguments (int, int), got 3");
  }

  @Test
  void resultOfTheWrongTypeIsRefused() throws Exception {
    Serializer s = serializer();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    s.writeValue("a string", String.class, out);
    assertThatThrownBy(() -> s.readValue(Integer.class, in(out.toByteArray())))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("expected a java.lang.Integer, got java.lang.String");
  }

  @Test
  void writingADisallowedClassIsRefused() {
    Serializer s = serializer();
    assertThatThrownBy(() -> writeArgs(s, new Object[] {new Point(1, 1)},
        new Type[] {Object.class}))
        .isInstanceOf(ClassRejectedException.class)
        .hasMessageContaining(Point.class.getName());
  }

  /**
   * Loads {@link Canary} and {@link CanaryFlag} in a class loader of their own, so the payload can
   * be written without initializing the test's own copy of Canary.
   */
  private static final class Isolated extends URLClassLoader {
    Isolated() {
      super(new URL[] {Canary.class.getProtectionDomain().getCodeSource().getLocation()},
          ForySerializerTest.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (name.startsWith(Canary.class.getName())) {
        synchronized (getClassLoadingLock(name)) {
          Class<?> c = findLoadedClass(name);
          return c != null ? c : findClass(name);
        }
      }
      return super.loadClass(name, resolve);
    }
  }

  private static byte[] payloadNamingCanary(Object wrap) throws Exception {
    try (Isolated loader = new Isolated()) {
      Class<?> canaryClass = loader.loadClass(Canary.class.getName());
      Object canary = canaryClass.getConstructor().newInstance();
      Serializer writer = new ForySerializerProvider().create(SerializerConfig.builder()
          .allow(List.of(canaryClass, Holder.class)).classLoader(loader).build());
      Object arg = wrap == null ? canary : wrap;
      if (arg instanceof Holder h) {
        h.items().replaceAll(x -> x == null ? canary : x);
        if (h.names().containsKey("KEY")) {
          h.names().remove("KEY");
          h.names().put(canary, "key");
        }
      }
      return writeArgs(writer, new Object[] {arg}, new Type[] {Object.class});
    }
  }

  @Test
  void disallowedClassIsRejectedBeforeItIsLoaded() throws Exception {
    byte[] payload = payloadNamingCanary(null);
    Serializer strict = serializer(Point.class);
    assertThatThrownBy(() -> strict.readArguments(new Type[] {Object.class}, in(payload)))
        .isInstanceOf(ClassRejectedException.class)
        .satisfies(e -> assertThat(((ClassRejectedException) e).className())
            .isEqualTo(Canary.class.getName()));
    assertThat(CanaryFlag.initialized).as("Canary's static initializer ran").isFalse();
  }

  @Test
  void disallowedClassNestedInAnAllowedContainerOrAsAMapKeyIsRejected() throws Exception {
    List<Object> items = new ArrayList<>(Arrays.asList("fine", null));
    byte[] nested = payloadNamingCanary(new Holder(items, new HashMap<>()));
    Map<Object, String> names = new HashMap<>();
    names.put("KEY", "x");
    byte[] mapKey = payloadNamingCanary(new Holder(new ArrayList<>(), names));
    Serializer strict = serializer(Holder.class);
    for (byte[] payload : List.of(nested, mapKey)) {
      assertThatThrownBy(() -> strict.readArguments(new Type[] {Object.class}, in(payload)))
          .isInstanceOf(ClassRejectedException.class)
          .hasMessageContaining(Canary.class.getName());
    }
    assertThat(CanaryFlag.initialized).isFalse();
  }

  @Test
  void deepNestingIsAnErrorNotAStackOverflow() throws Exception {
    AtomicReference<byte[]> payload = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread writerThread = new Thread(null, () -> {
      try {
        List<Object> root = new ArrayList<>();
        List<Object> cur = root;
        for (int i = 0; i < 10_000; i++) {
          List<Object> next = new ArrayList<>();
          cur.add(next);
          cur = next;
        }
        Serializer deep = new ForySerializerProvider().create(SerializerConfig.builder()
            .maxDepth(20_000).build());
        payload.set(writeArgs(deep, new Object[] {root}, new Type[] {List.class}));
      } catch (Throwable t) {
        failure.set(t);
      }
    }, "deep-writer", 512L << 20);
    writerThread.start();
    writerThread.join();
    assertThat(failure.get()).isNull();
    Serializer s = serializer();
    assertThatThrownBy(() -> s.readArguments(new Type[] {List.class}, in(payload.get())))
        .isInstanceOf(SerializationException.class);
  }

  @Test
  void truncatedAndRandomBytesGiveOnlySerializationExceptions() throws Exception {
    Serializer s = serializer(Point.class);
    Type[] types = {Point.class, String.class};
    byte[] good = writeArgs(s, new Object[] {new Point(1, 2), "hello"}, types);
    for (int cut = 0; cut < good.length; cut++) {
      byte[] part = Arrays.copyOf(good, cut);
      assertThatThrownBy(() -> s.readArguments(types, in(part)))
          .isInstanceOf(SerializationException.class);
    }
    Random random = new Random(7);
    for (int i = 0; i < 2_000; i++) {
      byte[] junk = new byte[random.nextInt(64)];
      random.nextBytes(junk);
      try {
        s.readArguments(types, in(junk));
      } catch (SerializationException expected) {
        // the only acceptable failure
      }
    }
  }

  @Test
  void jdkValueTypesAreAllowedAndOthersAreNot() {
    assertThat(SafeTypes.isSafe("java.lang.String")).isTrue();
    assertThat(SafeTypes.isSafe("[Ljava.lang.String;")).isTrue();
    assertThat(SafeTypes.isSafe("[[I")).isTrue();
    assertThat(SafeTypes.isSafe("java.time.LocalDate")).isTrue();
    assertThat(SafeTypes.isSafe("java.util.ImmutableCollections$ListN")).isTrue();
    for (String gadget : Set.of("org.apache.commons.collections.functors.InvokerTransformer",
        "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
        "com.sun.rowset.JdbcRowSetImpl", "java.lang.Runtime", "java.lang.ProcessBuilder",
        "java.net.URLClassLoader", "javax.script.ScriptEngineManager")) {
      assertThat(SafeTypes.isSafe(gadget)).as(gadget).isFalse();
    }
  }

  /** A stream that says fewer bytes are available than it has, as decompressing streams do. */
  private static InputStream understating(byte[] data, int says) {
    return new ByteArrayInputStream(data) {
      @Override
      public synchronized int available() {
        return Math.min(says, super.available());
      }
    };
  }

  @Test
  void bodiesAreReadWholeWhateverTheStreamSaysIsAvailable() throws IOException {
    byte[] data = new byte[10_000];
    new Random(7).nextBytes(data);
    assertThat(ForySerializer.readBody(new ByteArrayInputStream(data))).isEqualTo(data);
    assertThat(ForySerializer.readBody(understating(data, 0))).isEqualTo(data);
    assertThat(ForySerializer.readBody(understating(data, 100))).isEqualTo(data);
    assertThat(ForySerializer.readBody(understating(data, 9_999))).isEqualTo(data);
    assertThat(ForySerializer.readBody(new ByteArrayInputStream(new byte[0]))).isEmpty();
  }
}
