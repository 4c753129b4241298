package io.courier.serialization.fory;

import io.courier.spi.ClassRejectedException;
import io.courier.spi.InMemoryInput;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.lang.invoke.MethodType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Set;
import java.util.StringJoiner;
import java.util.stream.Collectors;
import org.apache.fory.Fory;
import org.apache.fory.ThreadSafeFory;
import org.apache.fory.config.Language;
import org.apache.fory.logging.LogLevel;
import org.apache.fory.logging.LoggerFactory;

/**
 * Fory in Java mode behind a class checker: every class a payload names is judged by name against
 * the allow-list (plus {@link SafeTypes}) before Fory loads it, so a rejected class is never
 * loaded and its static initializer never runs. Depth is capped by Fory's own max depth.
 * Thread-safe.
 */
final class ForySerializer implements Serializer {

  /** Thrown by the checker to carry the rejected name out of Fory. */
  private static final class Rejected extends RuntimeException {
    final String className;

    Rejected(String className) {
      super("rejected " + className, null, false, false);
      this.className = className;
    }
  }

  static {
    LoggerFactory.useSlf4jLogging(true); // Fory's messages go where the application's logs go
  }

  private final ThreadSafeFory fory;
  private final Set<String> allowed;

  ForySerializer(SerializerConfig config) {
    this.allowed = config.allowedTypes().stream().map(Class::getName)
        .collect(Collectors.toUnmodifiableSet());
    this.fory = build(config);
    fory.setClassChecker((resolver, className) -> {
      if (allowed.contains(SafeTypes.elementName(className)) || SafeTypes.isSafe(className)) {
        return true;
      }
      throw new Rejected(className);
    });
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
    try {
      fory.serialize(out, value);
    } catch (StackOverflowError e) {
      throw new SerializationException("value nested too deeply to encode");
    } catch (RuntimeException e) {
      Rejected r = rejected(e);
      if (r != null) {
        throw new ClassRejectedException(r.className);
      }
      throw new SerializationException("cannot encode with fory: " + e, e);
    }
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
      return view != null ? fory.deserialize(view) : fory.deserialize(bytes);
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
    Rejected r = rejected(e);
    if (r != null) {
      return new ClassRejectedException(r.className);
    }
    return new SerializationException("malformed fory payload: " + e.getMessage(), e);
  }

  private static Rejected rejected(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof Rejected r) {
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
