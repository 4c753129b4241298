package io.courier.transport.netty;

import io.courier.core.MethodDescriptor;
import io.courier.core.ServiceDescriptor;
import io.courier.core.reflect.ServerReflection;
import io.courier.internal.codec.AllowList;
import io.courier.internal.codec.Serializers;
import io.courier.internal.server.ServerMethod;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The services every server carries beside the application's: {@link ServerReflection}. They
 * accept every serializer on the class path (their payloads are strings and small records of
 * strings), and run on the event loop. Internal; used by {@code CourierServer}.
 */
public final class BuiltInServices {

  private BuiltInServices() {}

  /** The built-in methods of a server that serves {@code served}. */
  public static List<ServerMethod> methods(List<ServerMethod> served) {
    return methods(served, null);
  }

  /**
   * The built-in methods of a server that serves {@code served}, with its access control (which
   * {@code courier.Reflection/invoke} applies to the method it is asked to call).
   */
  public static List<ServerMethod> methods(List<ServerMethod> served, AccessControl access) {
    ServiceDescriptor sd = ServiceDescriptor.of(ServerReflection.class);
    ClassLoader cl = ServerReflection.class.getClassLoader() != null
        ? ServerReflection.class.getClassLoader() : ClassLoader.getSystemClassLoader();
    SerializerConfig config = SerializerConfig.builder()
        .allow(AllowList.reachable(List.of(sd), Set.of()))
        .classLoader(cl)
        .build();
    List<SerializerProvider> providers = new ArrayList<>();
    List<Serializer> serializers = new ArrayList<>();
    Serializer json = null;
    for (String name : Serializers.names()) {
      SerializerProvider p = Serializers.byName(name);
      Serializer s = p.create(config);
      providers.add(p);
      serializers.add(s);
      if (name.equals("json")) {
        json = s;
      }
    }
    ReflectionService impl = new ReflectionService(new ServiceIndex(served), access);
    List<ServerMethod> out = new ArrayList<>();
    for (MethodDescriptor md : sd.methods()) {
      out.add(new ServerMethod(md, impl, providers, serializers, null, json));
    }
    return out;
  }
}
