package io.courier.transport.netty;

import io.courier.CallContext;
import io.courier.Deadline;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.annotation.MaxConcurrentCalls;
import io.courier.core.MethodDescriptor;
import io.courier.core.reflect.MethodInfo;
import io.courier.core.reflect.ServerReflection;
import io.courier.core.reflect.ServiceInfo;
import io.courier.internal.server.ServerMethod;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The server's {@link ServerReflection}: the description is computed once; a call by name is
 * resolved on the event loop and run through {@link JsonInvoker} on the target method's own
 * executor, under the deadline of the reflection call. Thread-safe.
 */
final class ReflectionService implements ServerReflection {

  private final ServiceIndex index;
  private final List<ServiceInfo> services;
  private final AccessControl access;

  ReflectionService(ServiceIndex index, AccessControl access) {
    this.index = index;
    this.access = access;
    List<ServiceInfo> list = new ArrayList<>();
    for (Map.Entry<String, Map<String, List<ServerMethod>>> s : index.services().entrySet()) {
      List<MethodInfo> methods = new ArrayList<>();
      for (List<ServerMethod> overloads : s.getValue().values()) {
        for (ServerMethod m : overloads) {
          methods.add(describe(m));
        }
      }
      methods.sort(Comparator.comparing(MethodInfo::signature));
      list.add(new ServiceInfo(s.getKey(), methods));
    }
    this.services = List.copyOf(list);
  }

  private static MethodInfo describe(ServerMethod m) {
    MethodDescriptor d = m.descriptor();
    return new MethodInfo(d.name(), d.callId(), d.signature(), d.kind().name(),
        Arrays.stream(m.parameterTypes()).map(Type::getTypeName).toList(),
        List.of(m.parameterNames()), d.resultType().getTypeName(), annotations(d));
  }

  /** The annotations that change how the method is called, as written in source. */
  private static List<String> annotations(MethodDescriptor d) {
    List<String> out = new ArrayList<>();
    if (d.isIdempotent()) {
      out.add("@Idempotent");
    }
    if (d.isNonBlocking()) {
      out.add("@NonBlocking");
    }
    if (d.timeoutMillis() > 0) {
      out.add("@Timeout(millis = " + d.timeoutMillis() + ")");
    }
    MaxConcurrentCalls max = d.method().getAnnotation(MaxConcurrentCalls.class);
    if (max != null) {
      out.add("@MaxConcurrentCalls(" + max.value() + ")");
    }
    return out;
  }

  @Override
  public List<ServiceInfo> services() {
    return services;
  }

  @Override
  public CompletableFuture<String> invoke(String service, String method, String arguments) {
    if (service == null || method == null) {
      return CompletableFuture.failedFuture(new RpcException(ErrorReason.BAD_ARGUMENTS,
          "service and method are required (got " + service + ", " + method + ")"));
    }
    ByteBuf body = Unpooled.wrappedBuffer(
        arguments == null ? new byte[0] : arguments.getBytes(StandardCharsets.UTF_8));
    ServerMethod m;
    JsonShape shape = JsonShape.of(body);
    try {
      if (shape.kind() == JsonShape.Kind.OTHER) {
        throw new RpcException(ErrorReason.BAD_ARGUMENTS, "invalid JSON arguments for "
            + service + "/" + method + " (expected: a JSON array of arguments, or an object of"
            + " named arguments)");
      }
      m = index.resolve(service, method, shape.count());
      if (m.descriptor().kind().isStreaming()) {
        throw new RpcException(ErrorReason.UNKNOWN_METHOD, m.displayName() + " is a streaming"
            + " method; calls by name serve unary and one-way methods only");
      }
      if (access != null && access.enabled()) {
        // the caller may call invoke; it must also be allowed to call the method it names
        try {
          access.authorize(m, CallContext.identity());
        } catch (AccessControl.Refused r) {
          throw new RpcException(r.reason, r.getMessage());
        }
      }
    } catch (RpcException e) {
      body.release();
      return CompletableFuture.failedFuture(e);
    }
    Deadline d = CallContext.currentDeadline();
    return JsonInvoker.run(m, body, shape.kind() == JsonShape.Kind.OBJECT,
            d == null ? 0 : d.nanoTime(), () -> false, CallContext.identity(), null)
        .thenApply(json -> json == null ? "null" : new String(json, StandardCharsets.UTF_8));
  }
}
