package io.courier.internal.server;

import io.courier.core.CallIds;
import io.courier.core.MethodDescriptor;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerProvider;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.Executor;

/**
 * A registered method, ready to dispatch: the precomputed invoker (a {@link MethodHandle} bound to
 * the implementation and spread over an {@code Object[]}), the serializers the service enabled by
 * wire id, and where it runs. Built once at registration; immutable.
 */
public final class ServerMethod {

  private final MethodDescriptor descriptor;
  private final MethodHandle invoker;
  private final Serializer[] serializersById;
  private final String enabledSerializers;
  private final Type[] parameterTypes;
  private final Class<?>[] parameterClasses;
  private final Class<?>[] boxedParameterClasses;
  private final Executor executor;
  private final String displayName;
  private final Serializer json;
  private final String[] parameterNames;

  public ServerMethod(MethodDescriptor descriptor, Object implementation,
      List<SerializerProvider> providers, List<Serializer> serializers, Executor executor) {
    this(descriptor, implementation, providers, serializers, executor, null);
  }

  /**
   * @param json the JSON serializer of the service (under the service's allow-list) for the
   *     HTTP/JSON bridge and generic invocation, whether or not the service enabled JSON for the
   *     Courier protocol; null when none is on the class path
   */
  public ServerMethod(MethodDescriptor descriptor, Object implementation,
      List<SerializerProvider> providers, List<Serializer> serializers, Executor executor,
      Serializer json) {
    this.json = json;
    java.lang.reflect.Parameter[] params = descriptor.method().getParameters();
    this.parameterNames = new String[params.length];
    for (int i = 0; i < params.length; i++) {
      parameterNames[i] = params[i].getName(); // arg0, arg1.. unless compiled with -parameters
    }
    this.descriptor = descriptor;
    this.invoker = invokerFor(descriptor.method(), implementation);
    this.serializersById = new Serializer[256];
    StringJoiner names = new StringJoiner(", ");
    for (int i = 0; i < providers.size(); i++) {
      serializersById[providers.get(i).id()] = serializers.get(i);
      names.add(providers.get(i).name() + "=" + providers.get(i).id());
    }
    this.enabledSerializers = names.toString();
    this.parameterTypes = descriptor.parameterTypes();
    this.parameterClasses = descriptor.parameterClasses();
    this.boxedParameterClasses = new Class<?>[parameterClasses.length];
    for (int i = 0; i < parameterClasses.length; i++) {
      boxedParameterClasses[i] = box(parameterClasses[i]);
    }
    this.executor = executor;
    this.displayName = descriptor.displayName();
  }

  private static MethodHandle invokerFor(Method method, Object implementation) {
    try {
      MethodHandle mh;
      try {
        mh = MethodHandles.publicLookup().unreflect(method);
      } catch (IllegalAccessException e) {
        method.setAccessible(true);
        mh = MethodHandles.lookup().unreflect(method);
      }
      int n = method.getParameterCount();
      return mh.bindTo(implementation)
          .asSpreader(Object[].class, n)
          .asType(MethodType.methodType(Object.class, Object[].class));
    } catch (IllegalAccessException | RuntimeException e) {
      throw new IllegalArgumentException("cannot invoke " + method + " on "
          + implementation.getClass().getName() + ": " + e.getMessage(), e);
    }
  }

  /** Runs the method with decoded arguments. Throws whatever the implementation throws. */
  public Object invoke(Object[] args) throws Throwable {
    return (Object) invoker.invokeExact(args);
  }

  public MethodDescriptor descriptor() {
    return descriptor;
  }

  public int callId() {
    return descriptor.callId();
  }

  /** The serializer for a wire id if the service enabled it, else null. */
  public Serializer serializer(int id) {
    return serializersById[id & 0xFF];
  }

  /** The enabled serializers as {@code name=id, ...}, for error messages. */
  public String enabledSerializers() {
    return enabledSerializers;
  }

  public Type[] parameterTypes() {
    return parameterTypes;
  }

  /**
   * The parameter names: the source names when the interface was compiled with
   * {@code -parameters}, else {@code arg0}, {@code arg1}, ...
   */
  public String[] parameterNames() {
    return parameterNames.clone();
  }

  /** The JSON serializer for the HTTP/JSON bridge and generic invocation, or null. */
  public Serializer jsonSerializer() {
    return json;
  }

  /** Where the method runs; null means directly on the event loop. */
  public Executor executor() {
    return executor;
  }

  public String displayName() {
    return displayName;
  }

  /**
   * Checks decoded arguments against the parameter types; returns null when they fit, else a
   * message such as {@code argument 2 of Calculator.add(int,int): expected int, got null}.
   */
  public String checkArguments(Object[] args) {
    if (args.length != parameterClasses.length) {
      return displayName + " expects " + parameterClasses.length + " arguments, got " + args.length;
    }
    for (int i = 0; i < args.length; i++) {
      Class<?> p = parameterClasses[i];
      Object a = args[i];
      if (a == null) {
        if (p.isPrimitive()) {
          return "argument " + (i + 1) + " of " + displayName + ": expected " + p.getName()
              + ", got null";
        }
      } else if (!boxedParameterClasses[i].isInstance(a)) {
        return "argument " + (i + 1) + " of " + displayName + ": expected " + p.getTypeName()
            + ", got " + a.getClass().getTypeName();
      }
    }
    return null;
  }

  private static Class<?> box(Class<?> c) {
    return MethodType.methodType(c).wrap().returnType();
  }

  @Override
  public String toString() {
    return CallIds.toHex(callId()) + " " + descriptor.signature();
  }
}
