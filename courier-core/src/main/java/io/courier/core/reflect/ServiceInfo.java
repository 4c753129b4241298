package io.courier.core.reflect;

import java.util.List;

/**
 * A served service, as {@link ServerReflection#services()} describes it. Immutable.
 *
 * @param name the service name
 * @param methods its methods, sorted by signature
 */
public record ServiceInfo(String name, List<MethodInfo> methods) {

  public ServiceInfo {
    methods = List.copyOf(methods);
  }
}
