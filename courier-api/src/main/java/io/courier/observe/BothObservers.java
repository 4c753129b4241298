package io.courier.observe;

import io.courier.ErrorReason;
import io.courier.Status;
import java.net.SocketAddress;

/** Two observers as one: see {@link CallObserver#both}. Immutable. */
final class BothObservers implements CallObserver {

  private final CallObserver a;
  private final CallObserver b;

  BothObservers(CallObserver a, CallObserver b) {
    this.a = a;
    this.b = b;
  }

  @Override
  public ServerMethodObserver serverMethod(String protocol, String service, String method) {
    ServerMethodObserver x = a.serverMethod(protocol, service, method);
    ServerMethodObserver y = b.serverMethod(protocol, service, method);
    if (x == null || y == null) {
      return x == null ? y : x;
    }
    return new ServerMethodObserver() {
      @Override
      public void started() {
        x.started();
        y.started();
      }

      @Override
      public void ended(SocketAddress peer, Status.Code code, ErrorReason reason,
          boolean started, long durationNanos, long bytesIn, long bytesOut) {
        x.ended(peer, code, reason, started, durationNanos, bytesIn, bytesOut);
        y.ended(peer, code, reason, started, durationNanos, bytesIn, bytesOut);
      }
    };
  }

  @Override
  public ClientMethodObserver clientMethod(String service, String method) {
    ClientMethodObserver x = a.clientMethod(service, method);
    ClientMethodObserver y = b.clientMethod(service, method);
    if (x == null || y == null) {
      return x == null ? y : x;
    }
    return new ClientMethodObserver() {
      @Override
      public void started() {
        x.started();
        y.started();
      }

      @Override
      public void ended(String endpoint, Status.Code code, ErrorReason reason,
          long durationNanos, int attempts) {
        x.ended(endpoint, code, reason, durationNanos, attempts);
        y.ended(endpoint, code, reason, durationNanos, attempts);
      }
    };
  }

  @Override
  public void connectionOpened(Side side) {
    a.connectionOpened(side);
    b.connectionOpened(side);
  }

  @Override
  public void connectionClosed(Side side) {
    a.connectionClosed(side);
    b.connectionClosed(side);
  }

  @Override
  public void connectionRejected() {
    a.connectionRejected();
    b.connectionRejected();
  }

  @Override
  public void endpointEjected(String endpoint) {
    a.endpointEjected(endpoint);
    b.endpointEjected(endpoint);
  }

  @Override
  public void registryEvent(String registry, String kind) {
    a.registryEvent(registry, kind);
    b.registryEvent(registry, kind);
  }
}
