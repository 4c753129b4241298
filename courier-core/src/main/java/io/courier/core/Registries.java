package io.courier.core;

import io.courier.registry.Registry;
import io.courier.registry.RegistryProvider;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Opens a {@link Registry} from its URI with the provider for its scheme. */
public final class Registries {

  private Registries() {}

  /**
   * Opens the registry at {@code uri}, for example {@code zookeeper://127.0.0.1:2181/courier}.
   *
   * @throws IllegalArgumentException for a malformed URI or a scheme no module on the class path
   *     provides
   */
  public static Registry open(String uri) {
    URI u;
    try {
      u = URI.create(uri);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("registry: " + uri + " (expected: scheme://...)", e);
    }
    List<String> schemes = new ArrayList<>();
    for (RegistryProvider p : ServiceLoader.load(RegistryProvider.class,
        Registries.class.getClassLoader())) {
      if (p.scheme().equals(u.getScheme())) {
        return p.open(u);
      }
      schemes.add(p.scheme());
    }
    throw new IllegalArgumentException("registry: " + uri + " (no provider for scheme '"
        + u.getScheme() + "'; available: " + schemes + "; add io.courier:courier-registry-"
        + u.getScheme() + " to the class path)");
  }
}
