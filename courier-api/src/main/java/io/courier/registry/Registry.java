package io.courier.registry;

import java.util.List;

/**
 * Where providers announce themselves and consumers find them. (SPI; thread-safe.) Opened from a
 * URI such as {@code zookeeper://h1:2181,h2:2181/courier} by the {@link RegistryProvider} for its
 * scheme.
 *
 * <p>A registered instance stays registered until {@link #unregister} or {@link #close}, across
 * lost connections and expired sessions: the implementation registers it again. An instance whose
 * process dies disappears within the registry's liveness timeout.
 */
public interface Registry extends AutoCloseable {

  /** Receives a service's full list of instances each time it changes. */
  @FunctionalInterface
  interface Listener {
    /** The current instances; called from the registry's own thread, never concurrently. */
    void onInstances(List<ServiceInstance> instances);
  }

  /** Stops a subscription. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Registers an instance and keeps it registered. Returns once the registry has it, or, when
   * the registry cannot be reached within a short wait, at once: registration then completes in
   * the background when the registry is back.
   */
  void register(ServiceInstance instance);

  /** Removes an instance. */
  void unregister(ServiceInstance instance);

  /**
   * Subscribes to a service's instances; the listener is called with the current list soon after
   * this returns, then after each change.
   */
  Subscription subscribe(String service, Listener listener);

  /** The service's instances now. */
  List<ServiceInstance> lookup(String service);

  /**
   * The names of the services that have at least one registered instance now, sorted: for
   * tools that list what a registry holds ({@code courier list}).
   *
   * @throws UnsupportedOperationException when this registry cannot list its services (the
   *     default)
   * @since 0.1.0
   */
  default List<String> services() {
    throw new UnsupportedOperationException(getClass().getSimpleName()
        + " cannot list its services");
  }

  /** Unregisters what this registry registered, stops subscriptions, disconnects. */
  @Override
  void close();
}
