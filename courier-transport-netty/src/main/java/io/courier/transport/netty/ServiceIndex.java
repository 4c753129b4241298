package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.internal.server.ServerMethod;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The served methods by service name and method name, for callers that name a method instead
 * of sending its call ID: the HTTP/JSON bridge and generic invocation. Overloads are told apart
 * by their number of arguments. Built once per server; immutable.
 */
final class ServiceIndex {

  private final Map<String, Map<String, List<ServerMethod>>> services;

  ServiceIndex(Collection<ServerMethod> methods) {
    Map<String, Map<String, List<ServerMethod>>> map = new LinkedHashMap<>();
    for (ServerMethod m : methods) {
      map.computeIfAbsent(m.descriptor().serviceName(), k -> new LinkedHashMap<>())
          .computeIfAbsent(m.descriptor().name(), k -> new ArrayList<>())
          .add(m);
    }
    map.replaceAll((k, v) -> Collections.unmodifiableMap(v));
    this.services = Collections.unmodifiableMap(map);
  }

  /** The services and their methods by name, in registration order. */
  Map<String, Map<String, List<ServerMethod>>> services() {
    return services;
  }

  /** The methods of a service by name, or null when there is no such service. */
  Map<String, List<ServerMethod>> service(String name) {
    return services.get(name);
  }

  /**
   * The method a call by name means.
   *
   * @param argumentCount the number of arguments given, or -1 when not known
   * @throws RpcException {@link ErrorReason#UNKNOWN_METHOD} naming what exists when the service
   *     or method does not; {@link ErrorReason#BAD_ARGUMENTS} listing the overloads when none or
   *     several of them take {@code argumentCount} arguments
   */
  ServerMethod resolve(String service, String method, int argumentCount) {
    Map<String, List<ServerMethod>> s = services.get(service);
    if (s == null) {
      throw new RpcException(ErrorReason.UNKNOWN_METHOD, "no service '" + service
          + "' on this server (services: " + String.join(", ", services.keySet()) + ")");
    }
    List<ServerMethod> overloads = s.get(method);
    if (overloads == null) {
      throw new RpcException(ErrorReason.UNKNOWN_METHOD, "service " + service
          + " has no method '" + method + "' (methods: " + String.join(", ", s.keySet()) + ")");
    }
    if (overloads.size() == 1) {
      return overloads.get(0); // a wrong count is reported by the decoder, with the types
    }
    List<ServerMethod> fit = new ArrayList<>(2);
    for (ServerMethod m : overloads) {
      if (m.descriptor().parameterCount() == argumentCount) {
        fit.add(m);
      }
    }
    if (fit.size() == 1) {
      return fit.get(0);
    }
    throw new RpcException(ErrorReason.BAD_ARGUMENTS, service + "/" + method + " is overloaded"
        + (fit.isEmpty()
            ? " and no overload takes " + arguments(argumentCount)
            : " and " + fit.size() + " overloads take " + arguments(argumentCount)
                + ", so the call is ambiguous; call it through the Courier protocol"
                + " or give the overloads distinct names")
        + " (candidates: " + candidates(fit.isEmpty() ? overloads : fit) + ")");
  }

  private static String arguments(int n) {
    return n == 1 ? "1 argument" : n + " arguments";
  }

  private static String candidates(List<ServerMethod> methods) {
    StringJoiner j = new StringJoiner("; ");
    for (ServerMethod m : methods) {
      j.add(m.descriptor().signature());
    }
    return j.toString();
  }
}
