package io.courier.core;

import io.courier.annotation.ServiceName;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A service interface's method table: every remotely callable method with its call ID, built once.
 * Static and default methods are not remote. Immutable.
 *
 * <pre>{@code
 * ServiceDescriptor.of(Calculator.class).methods().forEach(System.out::println);
 * }</pre>
 */
public final class ServiceDescriptor {

  private static final ClassValue<ServiceDescriptor> CACHE = new ClassValue<>() {
    @Override
    protected ServiceDescriptor computeValue(Class<?> type) {
      return new ServiceDescriptor(type);
    }
  };

  private final Class<?> type;
  private final String name;
  private final List<MethodDescriptor> methods;
  private final Map<Method, MethodDescriptor> byMethod;

  private ServiceDescriptor(Class<?> type) {
    if (!type.isInterface()) {
      throw new IllegalArgumentException(
          "service type: " + type.getName() + " (expected: an interface)");
    }
    this.type = type;
    ServiceName sn = type.getAnnotation(ServiceName.class);
    this.name = sn != null ? sn.value() : type.getName();
    if (name.isEmpty() || name.indexOf('/') >= 0) {
      throw new IllegalArgumentException("service name: '" + name + "' (expected: non-empty, no '/')");
    }
    List<MethodDescriptor> list = new ArrayList<>();
    Map<Method, MethodDescriptor> map = new HashMap<>();
    Map<Integer, MethodDescriptor> ids = new HashMap<>();
    for (Method m : type.getMethods()) {
      if (Modifier.isStatic(m.getModifiers()) || m.isDefault()) {
        continue;
      }
      MethodDescriptor md = new MethodDescriptor(name, m);
      MethodDescriptor clash = ids.putIfAbsent(md.callId(), md);
      if (clash != null) {
        throw new IllegalArgumentException("call ID collision in " + name + ": "
            + clash.signature() + " and " + md.signature() + " both hash to "
            + CallIds.toHex(md.callId()) + "; rename one of the methods");
      }
      list.add(md);
      map.put(m, md);
    }
    if (list.isEmpty()) {
      throw new IllegalArgumentException("service " + name + " has no remote methods");
    }
    list.sort(Comparator.comparing(MethodDescriptor::signature));
    this.methods = List.copyOf(list);
    this.byMethod = Map.copyOf(map);
  }

  /** The descriptor of a service interface (computed once per class). */
  public static ServiceDescriptor of(Class<?> serviceInterface) {
    Objects.requireNonNull(serviceInterface, "serviceInterface");
    return CACHE.get(serviceInterface);
  }

  /** The service interface. */
  public Class<?> type() {
    return type;
  }

  /** The service name: {@link ServiceName} or the interface's fully qualified name. */
  public String name() {
    return name;
  }

  /** The remote methods, sorted by signature. */
  public List<MethodDescriptor> methods() {
    return methods;
  }

  /** The descriptor of an interface method, or {@code null} if it is not remote. */
  public MethodDescriptor method(Method method) {
    return byMethod.get(method);
  }

  /** The method table as text, one method a line. */
  public String describe() {
    StringBuilder sb = new StringBuilder("service ").append(name).append('\n');
    for (MethodDescriptor m : methods) {
      sb.append("  ").append(m).append('\n');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return "ServiceDescriptor[" + name + ", " + methods.size() + " methods]";
  }
}
