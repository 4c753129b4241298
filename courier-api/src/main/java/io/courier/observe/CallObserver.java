package io.courier.observe;

import io.courier.ErrorReason;
import io.courier.Status;
import java.net.SocketAddress;

/**
 * What servers, clients and registries report about their work: calls per method, connections,
 * retries, ejections and registry events. (SPI, thread-safe.) Configure one with
 * {@code CourierServer.Builder.observer(...)} and {@code CourierClient.Builder.observer(...)};
 * without one nothing is reported and the call path costs one null check.
 *
 * <p>Per-method handles are asked for once, when the server starts or a stub is made, so that an
 * implementation can resolve its meters (or log settings) ahead of the calls; the per-call
 * callbacks then carry only primitives and objects that already exist. Every callback may run on
 * an event loop: it must be quick and must not block or throw.
 *
 * <pre>{@code
 * CourierServer.builder().observer(CourierMetrics.of(meterRegistry))...
 * }</pre>
 *
 * @since 0.1
 */
public interface CallObserver {

  /** The Courier binary protocol, as the {@code protocol} of a server method. */
  String COURIER = "courier";
  /** gRPC over HTTP/2. */
  String GRPC = "grpc";
  /** HTTP/1.1 with JSON bodies. */
  String HTTP = "http";

  /** Which end of a connection reports it. */
  enum Side {
    SERVER, CLIENT;

    /** {@code server} or {@code client}, for tags and log lines. */
    public String label() {
      return this == SERVER ? "server" : "client";
    }
  }

  /**
   * The handle for the calls of one server method over one protocol, asked for once when the
   * server starts; null when this observer does not watch them.
   *
   * @param protocol {@link #COURIER}, {@link #GRPC} or {@link #HTTP}
   * @param service the service name
   * @param method the method name
   */
  default ServerMethodObserver serverMethod(String protocol, String service, String method) {
    return null;
  }

  /**
   * The handle for the calls of one client method, asked for once when a stub is made; null when
   * this observer does not watch them.
   */
  default ClientMethodObserver clientMethod(String service, String method) {
    return null;
  }

  /** A connection was opened (accepted by a server, or connected by a client). */
  default void connectionOpened(Side side) {}

  /** A connection that {@link #connectionOpened} reported was closed. */
  default void connectionClosed(Side side) {}

  /** A server refused a connection at once: it was at its connection limit. */
  default void connectionRejected() {}

  /** A client left an endpoint out of its pick set after consecutive failures. */
  default void endpointEjected(String endpoint) {}

  /**
   * Something happened between this process and a registry.
   *
   * @param registry the registry's scheme ({@code zookeeper}, {@code etcd})
   * @param kind what happened: {@code register}, {@code unregister}, {@code subscribe},
   *     {@code update} (a subscription got a new provider list)
   */
  default void registryEvent(String registry, String kind) {}

  /**
   * Reports each event to both observers, in order; null stands for none.
   *
   * @return {@code a}, {@code b}, or an observer that reports to both
   */
  static CallObserver both(CallObserver a, CallObserver b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return new BothObservers(a, b);
  }

  /** One server method over one protocol. Thread-safe; quick; never throws. */
  interface ServerMethodObserver {

    /** A call was admitted to run (after its method, credentials and limits were checked). */
    void started();

    /**
     * A call ended: answered, refused after its method was known, or abandoned. A call that was
     * {@link #started()} ends exactly once; a refused one may end without starting.
     *
     * @param peer the caller's address
     * @param code the status it was answered with ({@code CANCELLED} when nobody waits for it)
     * @param reason the reason of a failure, or null
     * @param started whether {@link #started()} was reported for it
     * @param durationNanos from its arrival to its answer
     * @param bytesIn request bytes received (frame or message bytes, as they came)
     * @param bytesOut answer bytes sent
     */
    void ended(SocketAddress peer, Status.Code code, ErrorReason reason, boolean started,
        long durationNanos, long bytesIn, long bytesOut);
  }

  /** One client method. Thread-safe; quick; never throws. */
  interface ClientMethodObserver {

    /** A call was issued by the application. */
    void started();

    /**
     * The call that {@link #started()} ended, after all its attempts.
     *
     * @param endpoint the address of the last attempt's endpoint, or null when none was picked
     * @param code the outcome ({@code UNKNOWN} for a declared exception of the method)
     * @param reason the reason of a failure, or null
     * @param durationNanos from the call to its outcome
     * @param attempts how many attempts it took (1 without retries)
     */
    void ended(String endpoint, Status.Code code, ErrorReason reason, long durationNanos,
        int attempts);
  }
}
