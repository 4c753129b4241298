package io.courier.transport.netty;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.courier.core.MethodDescriptor;
import io.courier.internal.server.ServerMethod;
import io.netty.util.AsciiString;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The methods a server offers over gRPC, by path ({@code /package.Service/Method}): every method
 * whose request and response types are protobuf messages, with the request parser looked up once.
 * Immutable; safe from any thread.
 */
final class GrpcServices {

  private static final Logger log = LoggerFactory.getLogger(GrpcServices.class);

  /** Largest gRPC message accepted unless configured: 16 MiB. */
  static final int DEFAULT_MAX_MESSAGE_BYTES = 16 << 20;

  /**
   * One servable method.
   *
   * @param path {@code /service/Method}
   * @param method the Courier method behind it
   * @param parser parses one request message
   * @param fullName the path without its leading slash ({@code service/Method})
   */
  record GrpcMethod(String path, ServerMethod method, Parser<?> parser, String fullName) {
    GrpcMethod(String path, ServerMethod method, Parser<?> parser) {
      this(path, method, parser, path.substring(1));
    }

    MethodDescriptor.Kind kind() {
      return method.descriptor().kind();
    }

    /** Unary and server streaming take exactly one request message. */
    boolean singleRequest() {
      return kind() != MethodDescriptor.Kind.BIDI_STREAMING;
    }
  }

  private final Map<String, GrpcMethod> byPath = new HashMap<>();
  /** The same methods keyed the way request headers carry the path (no String per lookup). */
  private final Map<AsciiString, GrpcMethod> byAsciiPath = new HashMap<>();
  private final Set<String> serviceNames = new HashSet<>();

  GrpcServices(List<ServerMethod> methods) {
    Set<String> clashes = new HashSet<>();
    for (ServerMethod m : methods) {
      MethodDescriptor d = m.descriptor();
      serviceNames.add(d.serviceName());
      Class<?> request = requestClass(d);
      Class<?> response = d.resultType() instanceof Class<?> c ? c : null;
      if (request == null || response == null || !Message.class.isAssignableFrom(request)
          || !Message.class.isAssignableFrom(response)) {
        continue;
      }
      Parser<?> parser;
      try {
        Message prototype = (Message) request.getMethod("getDefaultInstance").invoke(null);
        parser = prototype.getParserForType();
      } catch (ReflectiveOperationException | RuntimeException e) {
        log.warn("[COURIER-G01] {} is not served over gRPC: no parser for {}: {}",
            d.displayName(), request.getName(), e.toString());
        continue;
      }
      String path = path(d.serviceName(), d.name());
      if (byPath.putIfAbsent(path, new GrpcMethod(path, m, parser)) != null) {
        clashes.add(path);
      }
    }
    for (String path : clashes) {
      byPath.remove(path);
      log.warn("[COURIER-G02] {} is not served over gRPC: overloaded methods share the path",
          path);
    }
    byPath.forEach((path, m) -> byAsciiPath.put(new AsciiString(path), m));
  }

  private static Class<?> requestClass(MethodDescriptor d) {
    switch (d.kind()) {
      case SYNC:
      case ASYNC:
        return d.parameterCount() == 1 ? d.parameterClasses()[0] : null;
      case SERVER_STREAMING:
      case BIDI_STREAMING:
        return d.requestType() instanceof Class<?> c ? c : null;
      default:
        return null;
    }
  }

  /** The gRPC path of a method: {@code /service/Name}, the Java name's first letter upper-cased. */
  static String path(String serviceName, String javaMethodName) {
    return "/" + serviceName + "/" + Character.toUpperCase(javaMethodName.charAt(0))
        + javaMethodName.substring(1);
  }

  /** The method at {@code path}, or null. */
  GrpcMethod get(String path) {
    return byPath.get(path);
  }

  /** The method at {@code path} as a request header gives it, or null. */
  GrpcMethod get(CharSequence path) {
    return path instanceof AsciiString a ? byAsciiPath.get(a) : byPath.get(path.toString());
  }

  /** Whether the server has a service of that name (served over gRPC or not). */
  boolean hasService(String name) {
    return serviceNames.contains(name);
  }
}
