package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.server.DispatchTable;
import io.courier.internal.server.ServerMethod;
import io.courier.observe.CallObserver;
import io.courier.spi.CallTracer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Netty side of a {@code CourierServer}: the acceptor, the per-connection pipeline
 * (with TLS a {@link TlsGate} first; then {@link ProtocolDetector}, {@link FrameDecoder}, an idle
 * timer, {@link ServerConnectionHandler}) and the drain. Internal; use
 * {@code io.courier.server.CourierServer}.
 */
public final class NettyServer {

  private final String host;
  private final int requestedPort;
  private final int ioThreads;
  private final ServerDispatcher dispatcher;
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private Channel serverChannel;
  private volatile int port = -1;
  private boolean terminated;
  private int requestedHttpPort = -1;
  private java.nio.file.Path unixSocket;
  private Channel httpChannel;
  private volatile int httpPort = -1;
  private ServerTls tls;

  public NettyServer(String host, int port, int ioThreads, DispatchTable table, ServerConfig config,
      String serviceNames) {
    this.host = host;
    this.requestedPort = port;
    this.ioThreads = ioThreads;
    this.dispatcher = new ServerDispatcher(table, config, serviceNames);
  }

  /** Who is told of calls and connections (null: nobody); before {@link #start}. */
  public void observer(CallObserver observer) {
    dispatcher.observers = observer == null ? null
        : new ServerObservers(observer, dispatcher.table.methods());
  }

  /** Authentication and access rules, bound to the methods served; before {@link #start}. */
  public void accessControl(AccessControl access) {
    dispatcher.access = access != null && access.enabled() ? access : null;
  }

  /** Traces the calls served; null for none. Before {@link #start}. */
  public void tracer(CallTracer tracer) {
    dispatcher.tracer = tracer;
  }

  public synchronized void start() {
    if (serverChannel != null) {
      throw new IllegalStateException("server already started on port " + port);
    }
    if (unixSocket != null) {
      Transports.requireDomainSockets();
    }
    boss = Transports.newGroup(1, "courier-accept");
    workers = Transports.newGroup(ioThreads, "courier-server-io");
    ServerConfig c = dispatcher.config;
    ServerBootstrap b = new ServerBootstrap()
        .group(boss, workers)
        .option(ChannelOption.SO_BACKLOG, 1024);
    if (unixSocket != null) {
      b.channel(Transports.serverDomainChannel());
    } else {
      b.channel(Transports.serverChannel())
          .option(ChannelOption.SO_REUSEADDR, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.SO_KEEPALIVE, true);
    }
    b.childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            dispatcher.connectionsAccepted.increment();
            if (channels.size() >= c.maxConnections()) {
              dispatcher.rejectedConnections.increment();
              ServerObservers.rejected(dispatcher);
              ch.writeAndFlush(FrameCodec.error(ch.alloc(), Frame.FLAG_GOAWAY, 0,
                  ErrorReason.OVERLOADED, "too many connections (limit " + c.maxConnections()
                      + ")")).addListener(ChannelFutureListener.CLOSE);
              return;
            }
            channels.add(ch);
            ServerObservers.opened(dispatcher, ch);
            if (tls != null) {
              // plaintext is refused; a ClientHello puts the SslHandler first, for good
              ch.pipeline().addLast("tls-gate", new TlsGate(tls, false, dispatcher));
            }
            // looks at the first bytes once: Courier stays as set up below, gRPC and HTTP/1.1
            // replace the Courier handlers
            ch.pipeline().addLast("detect", new ProtocolDetector(dispatcher));
            ch.pipeline().addLast("frames", new FrameDecoder(c.limits(), c.frameTimeoutMillis()));
            if (c.idleTimeoutMillis() > 0) {
              ch.pipeline().addLast("idle",
                  new IdleStateHandler(c.idleTimeoutMillis(), 0, 0, TimeUnit.MILLISECONDS));
            }
            ServerConnectionHandler h = new ServerConnectionHandler(dispatcher);
            ch.pipeline().addLast("calls", h);
            if (dispatcher.draining) {
              ch.eventLoop().execute(h::drain);
            }
          }
        });
    try {
      if (unixSocket != null) {
        UnixSockets.clearStale(unixSocket);
        serverChannel = b.bind(new DomainSocketAddress(unixSocket.toString()))
            .syncUninterruptibly().channel();
      } else {
        serverChannel = b.bind(host, requestedPort).syncUninterruptibly().channel();
      }
    } catch (RuntimeException e) {
      boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw new IllegalStateException("cannot bind " + (unixSocket != null
          ? "unix://" + unixSocket : host + ":" + requestedPort) + ": " + e, e);
    }
    if (unixSocket == null) {
      port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }
    if (requestedHttpPort >= 0) {
      try {
        httpChannel = HttpPort.bind(boss, workers, host, requestedHttpPort, dispatcher, channels,
            tls);
      } catch (RuntimeException e) {
        serverChannel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        throw new IllegalStateException("cannot bind the HTTP port " + host + ":"
            + requestedHttpPort + ": " + e, e);
      }
      httpPort = ((InetSocketAddress) httpChannel.localAddress()).getPort();
    }
    if (tls != null) {
      tls.startWatching(boss);
    }
  }

  public int port() {
    return port;
  }

  /** The open connections (for tests: their pipelines). */
  ChannelGroup connections() {
    return channels;
  }

  /** Serves the Courier protocol on this Unix domain socket instead of TCP; call before start. */
  public synchronized void unixSocket(java.nio.file.Path path) {
    this.unixSocket = path;
  }

  /** Serves TLS only, on the port and the HTTP port; call before start. */
  public synchronized void tls(ServerTls tls) {
    this.tls = tls;
  }

  /** Also serves HTTP/JSON on a port of its own (0: any free port); call before start. */
  public synchronized void httpPort(int port) {
    this.requestedHttpPort = port;
  }

  /** The HTTP/JSON port bound, or -1 when there is none. */
  public int httpPort() {
    return httpPort;
  }

  /** Largest gRPC message accepted (before and after decompression); set before start. */
  public void grpcMaxMessageBytes(int bytes) {
    dispatcher.grpcMaxMessageBytes = bytes;
  }

  /**
   * Sets the overload limits: the most calls of a method in flight at once (server-wide), and
   * the adaptive limit's bounds ({@code adaptiveMin} 0 for none). Call before start.
   */
  public void overloadLimits(Map<ServerMethod, Integer> methodLimits, int adaptiveMin,
      int adaptiveMax, int adaptiveInitial) {
    dispatcher.admission = new Admission(methodLimits, adaptiveMin <= 0 ? null
        : new AdaptiveLimit(adaptiveMin, adaptiveMax, adaptiveInitial));
  }

  /** The adaptive concurrency limit now, or 0 when the server has none. */
  public int adaptiveLimit() {
    return dispatcher.admission.adaptiveLimit();
  }

  /** The calls the overload limits refused: by per-method limits, by the adaptive limit. */
  public long[] shedCalls() {
    Admission a = dispatcher.admission;
    return new long[] {a.shedByMethodLimit.sum(), a.shedByAdaptiveLimit.sum()};
  }

  public int inFlight() {
    return dispatcher.inFlight.get();
  }

  /** Whether {@link #shutdown()} was called: the server drains and takes no new calls. */
  public boolean draining() {
    return dispatcher.draining;
  }

  /** Stops accepting, sends GOAWAY everywhere, refuses new calls. */
  public synchronized void shutdown() {
    if (terminated) {
      return;
    }
    dispatcher.draining = true;
    if (serverChannel != null) {
      serverChannel.close().syncUninterruptibly();
      if (unixSocket != null) {
        UnixSockets.remove(unixSocket);
      }
    }
    if (httpChannel != null) {
      httpChannel.close().syncUninterruptibly();
    }
    for (Channel ch : channels) {
      ServerConnectionHandler h = ch.pipeline().get(ServerConnectionHandler.class);
      if (h != null) {
        ch.eventLoop().execute(h::drain);
      }
      GrpcConnectionHandler g = ch.pipeline().get(GrpcConnectionHandler.class);
      if (g != null) {
        ch.eventLoop().execute(g::drain);
      }
    }
  }

  /** Waits until no call is in flight, or the timeout passes. */
  public boolean awaitDrained(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (dispatcher.inFlight.get() > 0) {
      if (System.nanoTime() - end >= 0) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }

  /** Closes every connection and releases the event loops. */
  public synchronized void closeAll() {
    terminated = true;
    if (tls != null) {
      tls.stopWatching();
    }
    channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    if (boss != null) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      boss = null;
    }
  }

  /** Counters of connections and refused input, for tests and (later) metrics. */
  public Counters counters() {
    return new Counters(dispatcher.connectionsAccepted.sum(),
        dispatcher.rejectedConnections.sum(), channels.size(),
        dispatcher.protocolErrors.sum(), dispatcher.unsolicitedFrames.sum(),
        dispatcher.duplicateRequests.sum(), dispatcher.rejectedCalls.sum(),
        dispatcher.connectionsAged.sum(), dispatcher.agedConnectionsClosed.sum());
  }

  /**
   * A snapshot of the server's counters.
   *
   * @param connectionsAccepted connections accepted since start
   * @param connectionsRefused connections closed at once because the server was at its limit
   * @param openConnections connections open now
   * @param protocolErrors connections closed for broken framing, timeouts or ping floods
   * @param unsolicitedFrames response frames a client sent to the server (dropped)
   * @param duplicateRequests requests reusing the id of a call still in flight (dropped)
   * @param rejectedCalls calls refused with an error before running
   * @param connectionsAged connections sent a graceful GOAWAY because they reached the maximum
   *     connection age
   * @param agedConnectionsClosed aged connections the server closed itself when the grace period
   *     ended (calls still in flight, or a peer that did not close)
   */
  public record Counters(long connectionsAccepted, long connectionsRefused, int openConnections,
      long protocolErrors, long unsolicitedFrames, long duplicateRequests, long rejectedCalls,
      long connectionsAged, long agedConnectionsClosed) {}
}
