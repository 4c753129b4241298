package io.courier.spi;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;

/**
 * A class loader for writing hostile payloads without touching the test's own classes: it defines
 * the canary classes and commons-collections afresh from the parent's class files (so their
 * static initializers run here, not in the loader the reader uses), and makes up a small stand-in
 * class for any other gadget name outside {@code java.*}: public, {@link java.io.Serializable},
 * with one {@code int} field. A payload written with such an instance names the gadget exactly as
 * one written with the real class would.
 */
public final class GadgetLoader extends ClassLoader {

  private static final String[] FROM_CLASS_FILES = {
      "io.courier.spi.SafetyCanary",
      "org.apache.commons.collections.", "org.apache.commons.collections4."};

  private final java.util.Set<String> madeUp;

  /** Loads everything else from {@code parent}; makes up classes for {@code madeUp} names. */
  public GadgetLoader(ClassLoader parent, java.util.Collection<String> madeUp) {
    super(parent);
    this.madeUp = java.util.Set.copyOf(madeUp);
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c != null) {
        return c;
      }
      for (String p : FROM_CLASS_FILES) {
        if (name.startsWith(p)) {
          byte[] b = classFile(name);
          if (b != null) {
            return defineClass(name, b, 0, b.length);
          }
        }
      }
      if (madeUp.contains(name) && !name.startsWith("java.")) {
        byte[] b = standIn(name);
        return defineClass(name, b, 0, b.length);
      }
      return super.loadClass(name, resolve);
    }
  }

  private byte[] classFile(String name) {
    try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
      return in == null ? null : in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An instance of the named class, made without running any of its constructors' code. */
  public Object instance(String name) throws Exception {
    Class<?> c = loadClass(name);
    try {
      Constructor<?> k = c.getDeclaredConstructor();
      k.setAccessible(true);
      return k.newInstance();
    } catch (ReflectiveOperationException | RuntimeException e) {
      Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
      f.setAccessible(true);
      Object unsafe = f.get(null);
      return unsafe.getClass().getMethod("allocateInstance", Class.class).invoke(unsafe, c);
    }
  }

  /** The bytes of {@code public class name implements Serializable { public int value; }}. */
  static byte[] standIn(String name) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(0xCAFEBABE);
      out.writeShort(0);
      out.writeShort(52);
      out.writeShort(14); // constant pool entries 1..13
      utf8(out, name.replace('.', '/')); // 1
      classRef(out, 1); // 2
      utf8(out, "java/lang/Object"); // 3
      classRef(out, 3); // 4
      utf8(out, "java/io/Serializable"); // 5
      classRef(out, 5); // 6
      utf8(out, "<init>"); // 7
      utf8(out, "()V"); // 8
      out.writeByte(12); // 9: NameAndType <init> ()V
      out.writeShort(7);
      out.writeShort(8);
      out.writeByte(10); // 10: Methodref Object.<init>
      out.writeShort(4);
      out.writeShort(9);
      utf8(out, "Code"); // 11
      utf8(out, "value"); // 12
      utf8(out, "I"); // 13
      out.writeShort(0x0021); // public super
      out.writeShort(2);
      out.writeShort(4);
      out.writeShort(1);
      out.writeShort(6);
      out.writeShort(1); // fields: public int value
      out.writeShort(0x0001);
      out.writeShort(12);
      out.writeShort(13);
      out.writeShort(0);
      out.writeShort(1); // methods: public <init>() { super(); }
      out.writeShort(0x0001);
      out.writeShort(7);
      out.writeShort(8);
      out.writeShort(1);
      out.writeShort(11);
      out.writeInt(17);
      out.writeShort(1); // max stack
      out.writeShort(1); // max locals
      out.writeInt(5);
      out.write(new byte[] {0x2A, (byte) 0xB7, 0x00, 0x0A, (byte) 0xB1});
      out.writeShort(0); // exception table
      out.writeShort(0); // code attributes
      out.writeShort(0); // class attributes
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void utf8(DataOutputStream out, String s) throws IOException {
    out.writeByte(1);
    out.writeUTF(s);
  }

  private static void classRef(DataOutputStream out, int nameIndex) throws IOException {
    out.writeByte(7);
    out.writeShort(nameIndex);
  }
}
