package io.courier.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Serializer} must do with hostile bytes (the serialization rows of the bad-input
 * catalogue in docs/reliability.md). An implementation's test extends this and crafts, in its own
 * format, payloads that name a class in each {@link Place}, nest deeply, or declare huge lengths.
 *
 * <p>Every rejection is checked the same way: a {@link ClassRejectedException} naming the class;
 * the class loader the serializer was configured with (and the thread's context loader) never
 * asked for it; no canary's static initializer ran.
 */
public abstract class SerializerSafetyContract {

  /** Gadget class names from published deserialization exploits, plus Courier's canaries. */
  public static final List<String> GADGETS = List.of(
      "org.apache.commons.collections.functors.InvokerTransformer",
      "org.apache.commons.collections.functors.ChainedTransformer",
      "org.apache.commons.collections.map.LazyMap",
      "org.apache.commons.collections4.functors.InvokerTransformer",
      "org.apache.commons.collections4.comparators.TransformingComparator",
      "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
      "com.sun.rowset.JdbcRowSetImpl",
      "org.springframework.beans.factory.ObjectFactory",
      "org.springframework.aop.framework.JdkDynamicAopProxy",
      "java.rmi.server.UnicastRemoteObject",
      "javax.management.BadAttributeValueExpException",
      "java.util.PriorityQueue",
      "groovy.util.Expando",
      "org.codehaus.groovy.runtime.MethodClosure",
      "com.mchange.v2.c3p0.WrapperConnectionPoolDataSource",
      "org.hibernate.engine.spi.TypedValue",
      "com.rometools.rome.feed.impl.EqualsBean",
      "java.lang.ProcessBuilder",
      "java.lang.Runtime",
      "javax.script.ScriptEngineManager",
      "java.net.URLClassLoader",
      "io.courier.spi.SafetyCanary",
      "io.courier.spi.SafetyCanaryInvokerTransformer",
      "io.courier.spi.SafetyCanaryInvokerTransformer4");

  /** Where in a payload the hostile class is named. */
  public enum Place {
    TOP_LEVEL, FIELD, LIST_ELEMENT, SET_ELEMENT, MAP_KEY, MAP_VALUE, OBJECT_ARRAY,
    INTERFACE_FIELD
  }

  /**
   * Crafted call arguments: the bytes, the declared parameter types, and the classes the reading
   * side allows (the holder types, never the gadget).
   */
  public record Payload(byte[] bytes, Type[] types, List<Class<?>> allowed) {}

  protected abstract SerializerProvider provider();

  /**
   * Arguments whose bytes name {@code className} at {@code place}, or null where this format
   * cannot name a class there (the test then checks the format at the places it can).
   */
  protected abstract Payload naming(String className, Place place) throws Exception;

  /**
   * Whether this format's payloads can name a class at all. A format that cannot (protobuf: a
   * message is decoded into the declared type and names nothing) still gets the payloads of
   * {@link #naming}, carrying the gadget names as data, and must decode or refuse them without
   * loading anything.
   */
  protected boolean namesClasses() {
    return true;
  }

  /** Arguments nested {@code depth} levels deep (lists in lists, objects in objects, arrays). */
  protected abstract List<Payload> nested(int depth) throws Exception;

  /** Small payloads declaring a length (string, array, list, map) far above what they hold. */
  protected abstract List<Payload> hugeDeclaredLengths() throws Exception;

  /** Records every class name the serializer asks it for. */
  private static final class Watching extends ClassLoader {
    final Set<String> asked = ConcurrentHashMap.newKeySet();

    Watching(ClassLoader parent) {
      super(parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      asked.add(name);
      return super.loadClass(name, resolve);
    }
  }

  private static Throwable decode(Serializer s, Payload p, ClassLoader context) {
    Thread t = Thread.currentThread();
    ClassLoader before = t.getContextClassLoader();
    t.setContextClassLoader(context);
    try {
      s.readArguments(p.types(), new ByteArrayInputStream(p.bytes()));
      return null;
    } catch (Throwable e) {
      return e;
    } finally {
      t.setContextClassLoader(before);
    }
  }

  @Test
  void everyGadgetIsRejectedByNameWhereverThePayloadPutsIt() throws Exception {
    int tried = 0;
    List<String> failures = new ArrayList<>();
    for (String gadget : GADGETS) {
      for (Place place : Place.values()) {
        Payload p = naming(gadget, place);
        if (p == null) {
          continue;
        }
        tried++;
        Watching loader = new Watching(getClass().getClassLoader());
        Serializer strict = provider().create(SerializerConfig.builder().allow(p.allowed())
            .classLoader(loader).build());
        Throwable e = decode(strict, p, loader);
        String where = gadget + " at " + place + ": ";
        if (!namesClasses()) {
          if (e != null && !(e instanceof SerializationException)) {
            failures.add(where + "got " + e);
          }
        } else if (!(e instanceof ClassRejectedException r)) {
          failures.add(where + "got " + e);
        } else if (!r.className().equals(gadget)) {
          failures.add(where + "rejected " + r.className() + " instead");
        } else if (!r.getMessage().contains(gadget)) {
          failures.add(where + "message does not name it: " + r.getMessage());
        }
        if (loader.asked.contains(gadget)) {
          failures.add(where + "the serializer asked its class loader for it");
        }
        if (SafetyCanaryFlag.ran) {
          failures.add(where + "a canary's static initializer ran");
          SafetyCanaryFlag.ran = false;
        }
      }
    }
    assertThat(failures).isEmpty();
    assertThat(tried).as("payloads this format can craft").isGreaterThanOrEqualTo(
        namesClasses() ? GADGETS.size() : 1);
  }

  /** Runs {@code decode} on a thread with a 256 KiB stack and returns what it threw. */
  private static Throwable onSmallStack(Serializer s, Payload p) throws InterruptedException {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread t = new Thread(null, () -> thrown.set(decode(s, p, s.getClass().getClassLoader())),
        "small-stack-decoder", 256 << 10);
    t.start();
    t.join();
    return thrown.get();
  }

  @Test
  void tenThousandLevelsOfNestingAreASerializationErrorEvenOnASmallStack() throws Exception {
    List<Payload> deep = nested(10_000);
    assertThat(deep).isNotEmpty();
    for (Payload p : deep) {
      Serializer s = provider().create(SerializerConfig.builder().allow(p.allowed()).build());
      Throwable e = onSmallStack(s, p);
      assertThat(e).as("decoding %s", p.types()[0])
          .isInstanceOf(SerializationException.class)
          .isNotInstanceOf(ClassRejectedException.class);
    }
  }

  @Test
  void nestingWithinTheLimitStillDecodesOnASmallStack() throws Exception {
    for (Payload p : nested(SerializerConfig.DEFAULT_MAX_DEPTH / 2)) {
      Serializer s = provider().create(SerializerConfig.builder().allow(p.allowed()).build());
      assertThat(onSmallStack(s, p)).as("decoding %s", p.types()[0]).isNull();
    }
  }

  @Test
  void hugeDeclaredLengthsFailFastWithoutAllocatingThem() throws Exception {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    List<Payload> payloads = hugeDeclaredLengths();
    Assumptions.assumeFalse(payloads.isEmpty(), "this format declares no lengths");
    for (Payload p : payloads) {
      Serializer s = provider().create(SerializerConfig.builder().allow(p.allowed()).build());
      decode(s, p, getClass().getClassLoader()); // warm up: class loading and code generation
      long before = threads.getCurrentThreadAllocatedBytes();
      Throwable e = decode(s, p, getClass().getClassLoader());
      long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      assertThat(e).as("a %d-byte payload", p.bytes().length)
          .isInstanceOf(SerializationException.class);
      assertThat(allocated).as("bytes allocated decoding a %d-byte payload declaring a huge"
          + " length: %s", p.bytes().length, e).isLessThan(4L << 20);
    }
  }
}
