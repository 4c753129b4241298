package io.courier.serialization.json;

import com.fasterxml.jackson.databind.type.TypeFactory;
import com.fasterxml.jackson.databind.type.TypeModifier;
import com.fasterxml.jackson.databind.type.TypeParser;
import com.fasterxml.jackson.databind.util.ArrayBuilders;
import com.fasterxml.jackson.databind.util.LRUMap;
import java.util.Set;

/**
 * Jackson's type factory with one change: a class named by a payload (a polymorphic type id and
 * its type parameters, a {@code Class} value or map key) is judged against the allow-list by name
 * before it is loaded. Jackson loads such classes with their static initializers run, and checks
 * only the outer name of a generic type id with its {@code PolymorphicTypeValidator}. Thread-safe.
 */
final class CheckedTypeFactory extends TypeFactory {

  private static final long serialVersionUID = 1L;

  /** Carries a rejected name out of Jackson, which wraps or passes on runtime exceptions. */
  static final class Rejected extends RuntimeException {
    final String className;

    Rejected(String className) {
      super("rejected " + className, null, false, false);
      this.className = className;
    }
  }

  private final Set<String> allowed;

  CheckedTypeFactory(Set<String> allowed) {
    this(allowed, null, null);
  }

  private CheckedTypeFactory(Set<String> allowed, TypeModifier[] modifiers, ClassLoader loader) {
    super(new LRUMap<>(16, 200), new TypeParser(TypeFactory.defaultInstance()), modifiers, loader);
    this.allowed = allowed;
  }

  /** Modules add modifiers through this; the result must stay checked. */
  @Override
  public TypeFactory withModifier(TypeModifier modifier) {
    if (modifier == null) {
      return new CheckedTypeFactory(allowed, null, _classLoader);
    }
    TypeModifier[] mods = _modifiers == null ? new TypeModifier[] {modifier}
        : ArrayBuilders.insertInListNoDup(_modifiers, modifier);
    return new CheckedTypeFactory(allowed, mods, _classLoader);
  }

  @Override
  public TypeFactory withClassLoader(ClassLoader loader) {
    return new CheckedTypeFactory(allowed, _modifiers, loader);
  }

  /**
   * The first name rejected during the current read on this thread. Jackson turns some failures
   * (a {@code Class} map key) into a message without the cause, so the name is kept here too.
   */
  private static final ThreadLocal<String> REJECTED = new ThreadLocal<>();

  /** Records a rejection and returns the exception to throw. */
  static Rejected reject(String className) {
    if (REJECTED.get() == null) {
      REJECTED.set(className);
    }
    return new Rejected(className);
  }

  /** The first name rejected since the last call, or null; clears it. */
  static String takeRejected() {
    String name = REJECTED.get();
    if (name != null) {
      REJECTED.remove();
    }
    return name;
  }

  @Override
  public Class<?> findClass(String className) throws ClassNotFoundException {
    if (className.indexOf('.') >= 0 && !allowed.contains(className)) {
      throw reject(className);
    }
    return super.findClass(className); // allowed, or a primitive's name
  }
}
