package io.courier.registry;

import java.net.URI;

/**
 * Opens registries of one URI scheme; found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.courier.registry.RegistryProvider}).
 */
public interface RegistryProvider {

  /** The URI scheme, for example {@code zookeeper}. */
  String scheme();

  /** Opens a registry; connecting may continue in the background. */
  Registry open(URI uri);
}
