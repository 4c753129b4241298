package io.courier.serialization.fory;

import io.courier.spi.ClassRejectedException;
import io.courier.spi.InMemoryInput;
import io.courier.spi.InMemoryOutput;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.StringJoiner;
import java.util.stream.Collectors;
import org.apache.fory.Fory;
import org.apache.fory.ThreadSafeFory;
import org.apache.fory.config.CompatibleMode;
import org.apache.fory.config.Language;
import org.apache.fory.logging.LogLevel;
import org.apache.fory.logging.LoggerFactory;
import org.apache.fory.memory.MemoryBuffer;

/**
 * Fory in Java mode behind a class checker: every class a payload names is judged by name against
 * the allow-list (plus {@link SafeTypes}) before Fory loads it, so a rejected class is never
 * loaded and its static initializer never runs; JDK classes Fory knows by number are judged the
 * same way, and declared lengths are checked against the bytes that remain before anything is
 * allocated (see {@link Guards}). Depth is capped by Fory's own max depth. Thread-safe.
 */
final class ForySerializer implements Serializer {

  static {
    LoggerFactory.useSlf4jLogging(true); // Fory's messages go where the application's logs go
  }

  /** Values whose size hint is at least this are encoded in place (see {@link #writeInPlace}). */
  static final int IN_PLACE_MIN_BYTES = 4096;

  private final ThreadSafeFory fory;
  private final Set<String> allowed;

  ForySerializer(SerializerConfig config) {
    this.allowed = config.allowedTypes().stream().map(Class::getName)
        .collect(Collectors.toUnmodifiableSet());
    this.fory = build(config);
    fory.setTypeChecker((resolver, className) -> {
      if (allowed.contains(SafeTypes.elementName(className)) || SafeTypes.isSafe(className)) {
        return true;
      }
      throw new Guards.Rejected(className);
    });
    Guards.install(fory, allowed);
  }

  /**
   * Builds Fory. Its builder warns that unregistered classes can be deserialized because it does
   * not know a class checker is installed right after; that warning is silenced here, since it
   * would tell operators the opposite of the truth.
   */
  private static ThreadSafeFory build(SerializerConfig config) {
    synchronized (ForySerializer.class) {
      int level = LoggerFactory.getLogLevel();
      LoggerFactory.setLogLevel(LogLevel.ERROR_LEVEL);
      try {
        return Fory.builder()
            .withLanguage(Language.JAVA)
            // 0.13's default, which 1.x changed: class names are written where values are, not
            // as layered type definitions naming superclasses before the class itself
            .withCompatibleMode(CompatibleMode.SCHEMA_CONSISTENT)
            .withRefTracking(false)
            .requireClassRegistration(false)
            .suppressClassRegistrationWarnings(true)
            .withMaxDepth(config.maxDepth())
            .withClassLoader(config.classLoader())
            .withAsyncCompilation(true)
            .buildThreadSafeFory();
      } finally {
        LoggerFactory.setLogLevel(level);
      }
    }
  }

  @Override
  public void writeArguments(Object[] args, Type[] types, OutputStream out) throws IOException {
    write(args, out);
  }

  @Override
  public Object[] readArguments(Type[] types, InputStream in) throws IOException {
    Object o = read(in);
    if (!(o instanceof Object[] args)) {
      throw new SerializationException("expected an argument array, got "
          + (o == null ? "null" : o.getClass().getName()));
    }
    if (args.length != types.length) {
      throw new SerializationException("expected " + types.length + " arguments "
          + signature(types) + ", got " + args.length);
    }
    return args;
  }

  @Override
  public void writeValue(Object value, Type type, OutputStream out) throws IOException {
    write(value, out);
  }

  @Override
  public Object readValue(Type type, InputStream in) throws IOException {
    Object v = read(in);
    Class<?> raw = raw(type);
    if (v != null && raw != null && !box(raw).isInstance(v)) {
      throw new SerializationException("expected a " + type.getTypeName() + ", got "
          + v.getClass().getName());
    }
    return v;
  }

  private void write(Object value, OutputStream out) throws IOException {
    int hint = out instanceof InMemoryOutput ? sizeHint(value) : -1;
    try {
      if (hint >= IN_PLACE_MIN_BYTES) {
        writeInPlace(value, (InMemoryOutput) out, out, hint);
      } else {
        fory.serialize(out, value);
      }
    } catch (StackOverflowError e) {
      throw new SerializationException("value nested too deeply to encode");
    } catch (RuntimeException e) {
      Guards.Rejected r = rejected(e);
      if (r != null) {
        throw new ClassRejectedException(r.className);
      }
      throw new SerializationException("cannot encode with fory: " + e, e);
    }
  }

  /**
   * Serializes straight into the stream's buffer. Through a stream, Fory builds the bytes in a
   * buffer of its own, grown by doubling and shrunk again after a large value, then copies them
   * out: an 8 MiB array cost a 16 MiB allocation and two copies.
   */
  private void writeInPlace(Object value, InMemoryOutput mem, OutputStream out, int hint)
      throws IOException {
    ByteBuffer view = mem.reserve(hint);
    if (view.remaining() < hint) {
      fory.serialize(out, value);
      return;
    }
    MemoryBuffer buf = MemoryBuffer.fromByteBuffer(view);
    buf.writerIndex(0);
    byte[] heap = buf.getHeapMemory();
    boolean offHeap = buf.isOffHeap();
    fory.serialize(buf, value);
    int n = buf.writerIndex();
    if (buf.getHeapMemory() == heap && buf.isOffHeap() == offHeap) {
      mem.commit(n);
    } else { // the hint was short and Fory moved the bytes to an array of its own
      mem.commit(0);
      out.write(buf.getBytes(0, n));
    }
  }

  /**
   * An upper bound of the encoded size when the value (or each argument) is null, a primitive
   * box, a byte array or a string; -1 for anything else, whose size is not known before encoding.
   */
  static int sizeHint(Object value) {
    long n = 64;
    if (value instanceof Object[] args) {
      for (Object a : args) {
        long k = knownSize(a);
        if (k < 0) {
          return -1;
        }
        n += k;
      }
    } else {
      long k = knownSize(value);
      if (k < 0) {
        return -1;
      }
      n += k;
    }
    return n > Integer.MAX_VALUE - 1024 ? -1 : (int) n;
  }

  private static long knownSize(Object v) {
    if (v == null || v instanceof Number || v instanceof Boolean || v instanceof Character) {
      return 16;
    }
    if (v instanceof byte[] b) {
      return b.length + 16L;
    }
    if (v instanceof String str) {
      return str.length() * 3L + 16; // Fory's widest string encoding takes at most 3 per char
    }
    return -1;
  }

  /**
   * The body's bytes in one array of the exact size when the stream knows how many remain (an
   * uncompressed body does), instead of {@link InputStream#readAllBytes()}'s 8 KiB chunks and
   * final copy, which cost more than everything else a small call allocates.
   */
  static byte[] readBody(InputStream in) throws IOException {
    int n = in.available();
    if (n <= 0) {
      return in.readAllBytes();
    }
    byte[] bytes = new byte[n];
    int read = in.readNBytes(bytes, 0, n);
    if (read < n) {
      return java.util.Arrays.copyOf(bytes, read);
    }
    int next = in.read();
    if (next < 0) {
      return bytes;
    }
    // more than available() promised (a decompressing stream): the rest the general way
    byte[] rest = in.readAllBytes();
    byte[] all = java.util.Arrays.copyOf(bytes, n + 1 + rest.length);
    all[n] = (byte) next;
    System.arraycopy(rest, 0, all, n + 1, rest.length);
    return all;
  }

  private Object read(InputStream in) throws IOException {
    // an uncompressed body is read in place; anything else is copied out of the stream first
    ByteBuffer view = in instanceof InMemoryInput body ? body.remaining() : null;
    byte[] bytes = view == null ? readBody(in) : null;
    int size = view != null ? view.remaining() : bytes.length;
    try {
      MemoryBuffer buf = view != null ? MemoryBuffer.fromByteBuffer(view)
          : MemoryBuffer.fromByteArray(bytes);
      Object value = fory.deserialize(buf);
      if (buf.readerIndex() != size) {
        // bytes Fory did not read mean the payload is not what it claims (a negative count, say)
        throw new SerializationException("malformed fory payload: " + (size - buf.readerIndex())
            + " of " + size + " bytes left unread");
      }
      return value;
    } catch (StackOverflowError e) {
      throw new SerializationException("value nested too deeply");
    } catch (OutOfMemoryError e) {
      throw new SerializationException("a declared size in the payload exceeds what can be"
          + " allocated (" + size + " bytes received)");
    } catch (RuntimeException e) {
      throw failure(e);
    }
  }


  private static IOException failure(RuntimeException e) {
    Guards.Rejected r = rejected(e);
    if (r != null) {
      return new ClassRejectedException(r.className);
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof Guards.TooLarge large) {
        return new SerializationException(large.getMessage());
      }
    }
    return new SerializationException("malformed fory payload: " + e.getMessage(), e);
  }

  private static Guards.Rejected rejected(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof Guards.Rejected r) {
        return r;
      }
    }
    return null;
  }

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p && p.getRawType() instanceof Class<?> c) {
      return c;
    }
    return null;
  }

  private static Class<?> box(Class<?> c) {
    if (!c.isPrimitive()) {
      return c; // the common case, without MethodType's allocation on every call
    }
    return MethodType.methodType(c).wrap().returnType();
  }

  private static String signature(Type[] types) {
    StringJoiner j = new StringJoiner(", ", "(", ")");
    for (Type t : types) {
      j.add(t instanceof Class<?> c ? c.getSimpleName() : t.getTypeName());
    }
    return j.toString();
  }
}
