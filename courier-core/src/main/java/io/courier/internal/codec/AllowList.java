package io.courier.internal.codec;

import io.courier.core.MethodDescriptor;
import io.courier.core.ServiceDescriptor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Computes the application classes a service's payloads may contain: every class reachable from
 * the interface's parameter and result types through generic arguments, array components, record
 * components and non-static, non-transient fields, plus the classes the user allows explicitly.
 * JDK classes ({@code java.*}, {@code javax.*}) are not listed: serializers have their own fixed
 * set of safe JDK value types.
 */
public final class AllowList {

  private AllowList() {}

  /** The allow-list for the given services and extra classes, sorted by class name. */
  public static Set<Class<?>> reachable(List<ServiceDescriptor> services, Set<Class<?>> extra) {
    Set<Class<?>> out = new TreeSet<>(Comparator.comparing(Class::getName));
    Set<Type> seen = new HashSet<>();
    Deque<Type> work = new ArrayDeque<>();
    for (ServiceDescriptor s : services) {
      for (MethodDescriptor m : s.methods()) {
        for (Type t : m.parameterTypes()) {
          work.add(t);
        }
        work.add(m.resultType());
        if (m.requestType() != null) {
          work.add(m.requestType()); // a bidirectional method's request messages
        }
      }
    }
    work.addAll(extra);
    while (!work.isEmpty()) {
      Type t = work.poll();
      if (!seen.add(t)) {
        continue;
      }
      if (t instanceof Class<?> c) {
        if (c.isArray()) {
          work.add(c.getComponentType());
          continue;
        }
        if (c.isPrimitive() || isJdk(c)) {
          continue;
        }
        out.add(c);
        if (c.isRecord()) {
          for (RecordComponent rc : c.getRecordComponents()) {
            work.add(rc.getGenericType());
          }
        }
        for (Class<?> k = c; k != null && !isJdk(k); k = k.getSuperclass()) {
          if (k != c) {
            work.add(k);
          }
          for (Field f : k.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isStatic(mod) && !Modifier.isTransient(mod)) {
              work.add(f.getGenericType());
            }
          }
        }
      } else if (t instanceof ParameterizedType p) {
        work.add(p.getRawType());
        for (Type a : p.getActualTypeArguments()) {
          work.add(a);
        }
      } else if (t instanceof GenericArrayType g) {
        work.add(g.getGenericComponentType());
      } else if (t instanceof WildcardType w) {
        for (Type b : w.getUpperBounds()) {
          work.add(b);
        }
      } else if (t instanceof TypeVariable<?> v) {
        for (Type b : v.getBounds()) {
          work.add(b);
        }
      }
    }
    return out;
  }

  static boolean isJdk(Class<?> c) {
    String n = c.getName();
    return n.startsWith("java.") || n.startsWith("javax.") || n.startsWith("jdk.")
        || n.startsWith("sun.") || n.startsWith("com.sun.");
  }
}
