package io.courier.transport.netty;

import io.courier.observe.CallObserver;
import io.courier.observe.CallObserver.ServerMethodObserver;
import io.courier.internal.server.ServerMethod;
import io.netty.channel.Channel;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A server's {@link CallObserver} with its per-method handles, one per protocol, asked for once
 * when the server is built; a call then finds its handle by an identity lookup. Immutable.
 */
final class ServerObservers {

  final CallObserver observer;
  private final Map<ServerMethod, ServerMethodObserver[]> handles;

  private static final int COURIER = 0;
  private static final int GRPC = 1;
  private static final int HTTP = 2;

  ServerObservers(CallObserver observer, List<ServerMethod> methods) {
    this.observer = observer;
    IdentityHashMap<ServerMethod, ServerMethodObserver[]> h = new IdentityHashMap<>();
    for (ServerMethod m : methods) {
      String service = m.descriptor().serviceName();
      String name = m.descriptor().name();
      h.put(m, new ServerMethodObserver[] {
          observer.serverMethod(CallObserver.COURIER, service, name),
          observer.serverMethod(CallObserver.GRPC, service, name),
          observer.serverMethod(CallObserver.HTTP, service, name)});
    }
    this.handles = h;
  }

  /** Reports an accepted connection, and its close when it comes. Any thread. */
  static void opened(ServerDispatcher dispatcher, Channel ch) {
    ServerObservers o = dispatcher.observers;
    if (o != null) {
      o.observer.connectionOpened(CallObserver.Side.SERVER);
      ch.closeFuture().addListener(f -> o.observer.connectionClosed(CallObserver.Side.SERVER));
    }
  }

  /** Reports a connection refused at the connection limit. Any thread. */
  static void rejected(ServerDispatcher dispatcher) {
    ServerObservers o = dispatcher.observers;
    if (o != null) {
      o.observer.connectionRejected();
    }
  }

  ServerMethodObserver courier(ServerMethod m) {
    return of(m, COURIER);
  }

  ServerMethodObserver grpc(ServerMethod m) {
    return of(m, GRPC);
  }

  ServerMethodObserver http(ServerMethod m) {
    return of(m, HTTP);
  }

  private ServerMethodObserver of(ServerMethod m, int protocol) {
    ServerMethodObserver[] a = handles.get(m);
    return a == null ? null : a[protocol];
  }
}
