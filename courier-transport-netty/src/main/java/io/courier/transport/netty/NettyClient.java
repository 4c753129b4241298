package io.courier.transport.netty;

import io.courier.CallContext;
import io.courier.CallMetadata;
import io.courier.Deadline;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.auth.CallCredentials;
import io.courier.observe.CallObserver;
import io.courier.core.CallIds;
import io.courier.core.MethodDescriptor;
import io.courier.core.ServiceDescriptor;
import io.courier.internal.codec.AllowList;
import io.courier.internal.codec.Bodies;
import io.courier.internal.codec.Compressors;
import io.courier.internal.codec.Serializers;
import io.courier.internal.protocol.ErrorBody;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.FrameLimits;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.protocol.Metadata;
import io.courier.cluster.LoadBalancer;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import io.courier.spi.CallTracer;
import io.courier.spi.Compressor;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;
import io.courier.TlsConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.InputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The Netty side of a {@code CourierClient}: the event loops, the endpoints and their connections,
 * stubs, and the call path (encode on the caller's thread, write on the event loop, decode on the
 * caller's thread for synchronous calls or on the callback executor for asynchronous ones).
 * Internal; use {@code io.courier.client.CourierClient}. Thread-safe.
 */
public final class NettyClient implements AutoCloseable {

  private static final Object[] NO_ARGS = new Object[0];
  /** The address prefix of a Unix domain socket: {@code unix:///path/to.sock}. */
  static final String UNIX_SCHEME = "unix://";
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(NettyClient.class);

  private final ClientConfig config;
  private final EventLoopGroup group;
  private final ExecutorService ownedCallbackExecutor;
  private final Executor callbackExecutor;
  private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();
  private final Map<Class<?>, Object> stubs = new ConcurrentHashMap<>();
  private final List<Registry.Subscription> subscriptions =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final FrameLimits limits;
  private final CopyingCalls copies = new CopyingCalls(this);
  private final Failbacks failbacks = new Failbacks(this);
  private volatile boolean closed;
  private final CallCredentials credentials;
  /** Traces calls; null when this client traces nothing. */
  private volatile CallTracer tracer;
  /** The span of the call being made on this thread; read only when a tracer is set. */
  private static final ThreadLocal<CallTracer.ClientSpan> SPAN = new ThreadLocal<>();
  private volatile TlsConfig tls;
  private volatile SslContext sslContext;
  /** Told of calls, connections and ejections; null (the default) when nobody is. */
  private volatile CallObserver observer;

  public NettyClient(ClientConfig config) {
    this(config, null);
  }

  /**
   * @param credentials attached to every call and stream as request metadata; null for none
   */
  public NettyClient(ClientConfig config, CallCredentials credentials) {
    Serializers.byName(config.serializer()); // fail before any thread is started
    this.credentials = credentials;
    if (config.compressor() != null) {
      Compressors.byName(config.compressor());
    }
    this.config = config;
    this.group = Transports.newGroup(config.ioThreads(), "courier-client-io");
    if (config.callbackExecutor() == null) {
      int n = Math.max(2, Runtime.getRuntime().availableProcessors());
      ownedCallbackExecutor = Executors2.newBoundedPool("courier-callback", n, Integer.MAX_VALUE);
      callbackExecutor = ownedCallbackExecutor;
    } else {
      ownedCallbackExecutor = null;
      callbackExecutor = config.callbackExecutor();
    }
    this.limits = new FrameLimits(config.maxFrameBytes(), FrameLimits.DEFAULT.maxMetadataBytes());
  }

  ClientConfig config() {
    return config;
  }

  /** Reports calls, connections and ejections to {@code observer} (null: to nobody). */
  public void observer(CallObserver observer) {
    this.observer = observer;
  }

  /** The observer, or null. */
  CallObserver observer() {
    return observer;
  }

  /** The TLS settings, or null for plaintext. */
  TlsConfig tlsConfig() {
    return tls;
  }

  /**
   * Connects over TLS from now on (call before the first call): the files of {@code tls} are
   * read here.
   *
   * @throws IllegalStateException naming a file that does not load
   */
  public void tls(TlsConfig tls) {
    this.sslContext = TlsContexts.client(tls);
    this.tls = tls;
  }

  /**
   * Traces calls from now on (call before the first call): a client span per call, its context
   * sent in the frame's metadata block.
   */
  public void tracer(CallTracer tracer) {
    this.tracer = tracer;
  }

  /** The tracer, or null. */
  CallTracer tracer() {
    return tracer;
  }

  /** The span of the call being made on this thread, or null (always null without a tracer). */
  CallTracer.ClientSpan currentSpan() {
    return tracer == null ? null : SPAN.get();
  }

  EventLoopGroup group() {
    return group;
  }

  boolean isClosed() {
    return closed;
  }

  Executor callbackExecutor() {
    return callbackExecutor;
  }

  Bootstrap bootstrap(Endpoint endpoint) {
    Bootstrap b = new Bootstrap().group(group);
    if (endpoint.socketPath != null) {
      b.channel(Transports.clientDomainChannel());
    } else {
      b.channel(Transports.clientChannel())
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.SO_KEEPALIVE, true);
    }
    return b
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeoutMillis())
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            SslContext ssl = sslContext;
            if (ssl != null) {
              // the expected host name and SNI: the address's host unless one is configured
              SslHandler h = ssl.newHandler(ch.alloc(), tls.serverName().orElse(endpoint.host),
                  endpoint.port);
              h.setHandshakeTimeoutMillis(config.connectTimeoutMillis());
              ch.pipeline().addLast("tls", h);
            }
            ch.pipeline().addLast("frames", new FrameDecoder(limits, 0));
            long hb = config.heartbeatMillis();
            if (hb > 0) {
              // reads only: a handler that also watches writes turns every write's void
              // promise into a real one with a listener (8% of a small call's allocation)
              ch.pipeline().addLast("idle", new IdleStateHandler(hb, 0, 0,
                  TimeUnit.MILLISECONDS));
            }
            ch.pipeline().addLast("calls", new ClientConnectionHandler(endpoint, hb));
          }
        });
  }

  /** The endpoint for {@code host:port}, or {@code unix:///path} for a Unix domain socket. */
  public Endpoint endpoint(String hostPort) {
    return endpoints.computeIfAbsent(hostPort, hp -> {
      if (hp.startsWith(UNIX_SCHEME)) {
        String path = hp.substring(UNIX_SCHEME.length());
        if (!path.startsWith("/") || path.length() == 1) {
          throw new IllegalArgumentException("address: " + hp
              + " (expected: unix:///absolute/path/to.sock)");
        }
        Transports.requireDomainSockets();
        if (sslContext != null) {
          throw new IllegalArgumentException("address: " + hp + " (TLS is for TCP addresses;"
              + " a Unix domain socket is protected by its file permissions: use a client"
              + " without tls(...))");
        }
        return new Endpoint(this, path, config.connectionsPerEndpoint());
      }
      int colon = hp.lastIndexOf(':');
      if (colon <= 0 || colon == hp.length() - 1) {
        throw new IllegalArgumentException("address: " + hp + " (expected: host:port)");
      }
      int port;
      try {
        port = Integer.parseInt(hp.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("address: " + hp + " (expected: host:port)");
      }
      if (port <= 0 || port > 65535) {
        throw new IllegalArgumentException("address: " + hp + " (expected: port 1 to 65535)");
      }
      String host = hp.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return new Endpoint(this, host, port, config.connectionsPerEndpoint());
    });
  }

  /**
   * The cluster of the given addresses: calls are spread by {@code balancer}; a call that
   * provably did not run on one endpoint is sent to another, up to {@code maxAttempts} in all and
   * within a retry budget of {@code retryRatio} retries per call (at least
   * {@code minRetriesPerSecond}); an endpoint failing {@code ejectAfterFailures} times in a row
   * is ejected for a while.
   */
  public Object cluster(List<String> addresses, LoadBalancer balancer, int maxAttempts,
      int ejectAfterFailures, double retryRatio, int minRetriesPerSecond) {
    List<Endpoint> list = new ArrayList<>();
    for (String a : addresses) {
      list.add(endpoint(a));
    }
    return new Cluster("the service", list, balancer, maxAttempts, ejectAfterFailures,
        new RetryBudget(retryRatio, minRetriesPerSecond));
  }

  /**
   * The cluster of a service's providers as {@code registry} lists them, kept current by a
   * subscription. Providers that do not accept this client's serializer are left out. An empty
   * list pushed while providers were known is not applied (the registry may be partitioned or
   * restarting); the last known providers stay in use.
   */
  public Object discover(Registry registry, String service, LoadBalancer balancer,
      int maxAttempts, int ejectAfterFailures, double retryRatio, int minRetriesPerSecond,
      java.nio.file.Path cacheDir) {
    Cluster cluster = new Cluster(service, List.of(), balancer, maxAttempts, ejectAfterFailures,
        new RetryBudget(retryRatio, minRetriesPerSecond));
    RegistryCache cache = cacheDir == null ? null : new RegistryCache(cacheDir);
    String registryName = registryName(registry);
    Registry.Listener listener = instances -> {
      List<Endpoint> list = new ArrayList<>();
      List<Endpoint> before = cluster.endpoints;
      long now = System.currentTimeMillis();
      for (ServiceInstance i : instances) {
        if (i.serializers().isEmpty() || i.serializers().contains(config.serializer())) {
          Endpoint e = endpoint(i.address());
          e.weight(i.weight());
          list.add(e);
          String at = i.metadata().get("registered-at-ms");
          if (at != null && !before.contains(e) && !before.isEmpty()) {
            try {
              cluster.lastPropagationMillis = Math.max(0, now - Long.parseLong(at));
            } catch (NumberFormatException ignored) {
              // not a number: nothing to measure
            }
          }
        }
      }
      if (list.isEmpty() && !cluster.endpoints.isEmpty()) {
        log.warn("[COURIER-C03] the registry lists no provider of {}; keeping the last {} known",
            service, cluster.endpoints.size());
        registryEvent(registryName, "empty_ignored");
        return;
      }
      cluster.update(list);
      registryEvent(registryName, "update");
      if (cache != null && !instances.isEmpty()) {
        cache.save(service, instances);
      }
    };
    List<ServiceInstance> initial;
    try {
      initial = registry.lookup(service);
    } catch (RuntimeException e) {
      // the registry is unreachable: start from what was last seen, if anything
      initial = cache == null ? List.of() : cache.load(service);
      log.warn("[COURIER-C04] cannot look up {} in the registry ({}); starting from {} cached"
          + " providers", service, e.toString(), initial.size());
      registryEvent(registryName, "lookup_failed");
    }
    registryEvent(registryName, "subscribe");
    listener.onInstances(initial);
    subscriptions.add(registry.subscribe(service, debounced(listener)));
    return cluster;
  }

  private void registryEvent(String registry, String kind) {
    CallObserver o = observer;
    if (o != null) {
      o.registryEvent(registry, kind);
    }
  }

  /**
   * A registry's short name for metrics: its class name without "Registry", in lower case
   * ({@code zookeeper}, {@code etcd}).
   */
  public static String registryName(Registry registry) {
    String n = registry.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    return n.endsWith("registry") && n.length() > 8 ? n.substring(0, n.length() - 8) : n;
  }

  /** Registry notifications closer together than this are applied as one (the last). */
  static final long DEBOUNCE_MILLIS = 50;

  /**
   * Coalesces bursts of notifications (a provider flapping, a rolling restart): the newest list
   * is applied {@link #DEBOUNCE_MILLIS} after the first of a burst, so a burst costs one update
   * of the pick set, not one per change.
   */
  private Registry.Listener debounced(Registry.Listener target) {
    java.util.concurrent.atomic.AtomicReference<List<ServiceInstance>> pending =
        new java.util.concurrent.atomic.AtomicReference<>();
    return instances -> {
      if (pending.getAndSet(instances) == null && !closed) {
        group.schedule(() -> {
          List<ServiceInstance> latest = pending.getAndSet(null);
          if (latest != null) {
            target.onInstances(latest);
          }
        }, DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS);
      }
    };
  }

  /**
   * How long the newest provider of a discovered cluster took from registering to being in this
   * consumer's pick set (wall clocks of both hosts, so skew counts), or -1.
   */
  public long lastPropagationMillis(Object cluster) {
    return ((Cluster) cluster).lastPropagationMillis;
  }

  /**
   * A stub of {@code type} calling {@code cluster} with the policies of {@code policies}; cached
   * per interface.
   *
   * @throws IllegalArgumentException when a policy set for one method does not fit it
   */
  @SuppressWarnings("unchecked")
  public <T> T stub(Class<T> type, Object cluster, PolicyTable policies) {
    return (T) stubs.computeIfAbsent(type, t -> newStub(t, (Cluster) cluster, policies));
  }

  /** A new stub of {@code type} calling {@code cluster}, not cached (one per cluster). */
  public <T> T uncachedStub(Class<T> type, Object cluster, PolicyTable policies) {
    return type.cast(newStub(type, (Cluster) cluster, policies));
  }

  private Object newStub(Class<?> type, Cluster endpoint, PolicyTable policies) {
    ServiceDescriptor sd = ServiceDescriptor.of(type);
    SerializerProvider provider = Serializers.byName(config.serializer());
    ClassLoader cl = type.getClassLoader() != null ? type.getClassLoader()
        : ClassLoader.getSystemClassLoader();
    Serializer serializer = provider.create(SerializerConfig.builder()
        .allow(AllowList.reachable(List.of(sd), config.allowedTypes()))
        .classLoader(cl)
        .build());
    Compressor compressor = config.compressor() == null ? null
        : Compressors.byName(config.compressor());
    Map<Method, ClientMethod> methods = new HashMap<>();
    CallObserver o = observer;
    for (MethodDescriptor md : sd.methods()) {
      ClientMethod cm = new ClientMethod(md, serializer, provider.id(), compressor,
          config.timeoutNanos(), policies.resolve(type, md));
      if (o != null) {
        cm.observer = o.clientMethod(md.serviceName(), md.name());
      }
      methods.put(md.method(), cm);
    }
    return Proxy.newProxyInstance(cl, new Class<?>[] {type}, new StubHandler(type, methods,
        endpoint));
  }

  private final class StubHandler implements InvocationHandler {
    private final Class<?> type;
    private final Map<Method, ClientMethod> methods;
    private final Cluster endpoint;

    StubHandler(Class<?> type, Map<Method, ClientMethod> methods, Cluster endpoint) {
      this.type = type;
      this.methods = methods;
      this.endpoint = endpoint;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      ClientMethod m = methods.get(method);
      if (m == null) {
        if (method.isDefault()) {
          return InvocationHandler.invokeDefault(proxy, method, args);
        }
        switch (method.getName()) {
          case "toString":
            return "CourierStub[" + type.getName() + " -> " + endpoint + "]";
          case "hashCode":
            return System.identityHashCode(proxy);
          case "equals":
            return proxy == args[0];
          default:
            throw new UnsupportedOperationException(method.toString());
        }
      }
      Object[] a = args == null ? NO_ARGS : args;
      CallTracer t = tracer;
      if (t != null && !m.descriptor.kind().isStreaming()) {
        return traced(t, m, a);
      }
      return dispatch(method, m, a);
    }

    /** Runs the call inside a client span, ended when its outcome is known. */
    private Object traced(CallTracer t, ClientMethod m, Object[] a) throws Throwable {
      CallTracer.ClientSpan span = t.startClient(CallTracer.Protocol.COURIER,
          m.descriptor.serviceName(), m.descriptor.name());
      CallTracer.ClientSpan outer = SPAN.get();
      Object result;
      try (CallTracer.Scope ignored = span.makeCurrent()) {
        SPAN.set(span);
        result = dispatch(m.descriptor.method(), m, a);
      } catch (Throwable e) {
        span.end(codeOf(e), e);
        throw e;
      } finally {
        SPAN.set(outer);
      }
      if (result instanceof CallFuture f && f.span == span && f.endsSpan) {
        return f; // it ends the span itself, before the caller's callbacks run
      }
      if (result instanceof CompletionStage<?> f) {
        f.whenComplete((v, e) -> {
          Throwable cause = e == null ? null : unwrap(e);
          span.end(cause == null ? Status.Code.OK : codeOf(cause), cause);
        });
      } else {
        span.end(Status.Code.OK, null);
      }
      return result;
    }

    private Object dispatch(Method method, ClientMethod m, Object[] a) throws Exception {
      if (m.descriptor.kind().isStreaming()) {
        ClientStream s = ClientStream.start(NettyClient.this, m, endpoint, a);
        return method.getReturnType() == void.class ? null : s;
      }
      if (!m.plain) {
        return withPolicy(m, a, endpoint);
      }
      if (m.async) {
        return callAsync(m, a, endpoint);
      }
      if (m.oneWay) {
        callOneWay(m, a, endpoint);
        return null;
      }
      return callSync(m, a, endpoint);
    }
  }

  /** The status a failed call reports: an RpcException's, CANCELLED, or UNKNOWN. */
  static Status.Code codeOf(Throwable t) {
    if (t instanceof RpcException r) {
      return r.status().code();
    }
    return t instanceof CancellationException ? Status.Code.CANCELLED : Status.Code.UNKNOWN;
  }

  /** A call under failsafe, failback, forking, hedged or broadcast. */
  private Object withPolicy(ClientMethod m, Object[] args, Cluster cluster) throws Exception {
    switch (m.policy.kind()) {
      case FAILSAFE:
        return failsafe(m, args, cluster);
      case FAILBACK:
        return failback(m, args, cluster);
      default:
        CompletableFuture<Object> f = copies.call(m, args, cluster);
        return m.async ? f : awaitCopies(f);
    }
  }

  private Object failsafe(ClientMethod m, Object[] args, Cluster cluster) {
    if (m.async) {
      CompletableFuture<Object> inner = callAsync(m, args, cluster);
      CompletableFuture<Object> result = new CompletableFuture<>();
      inner.whenComplete((v, t) -> {
        if (t != null) {
          swallowed(m, t);
        }
        result.complete(t == null ? v : null);
      });
      result.whenComplete((v, t) -> {
        if (t instanceof CancellationException) {
          inner.cancel(false);
        }
      });
      return result;
    }
    try {
      if (m.oneWay) {
        callOneWay(m, args, cluster);
        return null;
      }
      return callSync(m, args, cluster);
    } catch (Exception e) {
      failedQuietly(e);
      swallowed(m, e);
      return m.defaultValue;
    }
  }

  /**
   * A call that fails without the caller seeing it (failsafe, failback) still fails in its span,
   * as an asynchronous one's does when its inner future fails.
   */
  private void failedQuietly(Exception e) {
    CallTracer.ClientSpan s = currentSpan();
    if (s != null) {
      s.end(codeOf(e), e);
    }
  }

  private static void swallowed(ClientMethod m, Throwable t) {
    if (log.isDebugEnabled()) {
      log.debug("failsafe: {} failed; returning {}: {}", m.displayName, m.defaultValue,
          unwrap(t).toString());
    }
  }

  private Object failback(ClientMethod m, Object[] args, Cluster cluster) {
    if (m.async) {
      callAsync(m, args, cluster).whenComplete((v, t) -> {
        if (t != null) {
          failbacks.failed(m, args, cluster, unwrap(t), 1);
        }
      });
      return CompletableFuture.completedFuture(null);
    }
    try {
      if (m.oneWay) {
        callOneWay(m, args, cluster);
      } else {
        callSync(m, args, cluster);
      }
    } catch (Exception e) {
      failedQuietly(e);
      failbacks.failed(m, args, cluster, e, 1);
    }
    return null;
  }

  /** Waits for the outcome of a copying policy on the caller's thread. */
  private static Object awaitCopies(CompletableFuture<Object> f) throws Exception {
    try {
      return f.get();
    } catch (InterruptedException e) {
      f.cancel(false);
      Thread.currentThread().interrupt();
      throw new RpcException(ErrorReason.CANCELLED, "interrupted");
    } catch (ExecutionException e) {
      Throwable t = unwrap(e);
      if (t instanceof Exception x) {
        throw x;
      }
      throw (Error) t;
    }
  }

  long deadlineFor(ClientMethod m, long start) {
    Deadline inherited = CallContext.currentDeadline();
    long own = m.timeoutNanos > 0 ? start + m.timeoutNanos : 0;
    if (inherited == null) {
      return own;
    }
    long d = inherited.nanoTime();
    return own == 0 || d - own < 0 ? (d == 0 ? 1 : d) : own;
  }

  private ClientCall newCall(ClientMethod m, int attempt, long start, long deadline) {
    ClientCall c = new ClientCall(m, attempt, start, deadline, deadline != 0);
    c.span = currentSpan();
    return c;
  }

  /** Encodes the request into a pooled direct buffer on the calling thread. */
  private void encode(ClientCall c, Object[] args) {
    long now = System.nanoTime();
    c.encodeStartNanos = now;
    long timeoutMillis = 0;
    if (c.hasDeadline) {
      long remaining = c.deadlineNanos - now;
      if (remaining <= 0) {
        throw new RpcException(ErrorReason.DEADLINE_EXCEEDED,
            "deadline passed before " + c.method.displayName + " was sent");
      }
      timeoutMillis = Math.min(0xFFFFFFFFL, (remaining + 999_999) / 1_000_000);
    }
    ClientMethod m = c.method;
    ByteBuf buf = FrameCodec.start(PooledByteBufAllocator.DEFAULT, 256,
        m.oneWay ? Frame.FLAG_ONE_WAY : 0, m.serializerId, 0, 0, 0, m.descriptor.callId(),
        (int) timeoutMillis);
    CallTracer.ClientSpan span = c.span;
    if (credentials != null || span != null) {
      writeMetadata(buf, m.displayName, span);
    }
    OutboundBodies.finish(buf, out -> m.serializer.writeArguments(args, m.parameterTypes, out),
        m.compressor, config.compressionThresholdBytes(), config.maxFrameBytes(),
        m.displayName, "request to ", ErrorReason.BAD_ARGUMENTS, "cannot encode the arguments of ");
    c.request = buf;
    c.requestBytes = buf.readableBytes();
    c.encodeEndNanos = System.nanoTime();
  }

  /** Whether calls carry credentials. */
  boolean hasCredentials() {
    return credentials != null;
  }

  /**
   * Writes the call credentials' metadata after the frame's header, and its length into the
   * header; on failure releases {@code buf} and throws. The credential never appears in the
   * exception.
   */
  void writeCredentials(ByteBuf buf, String displayName) {
    writeMetadata(buf, displayName, null);
  }

  /**
   * Writes the request metadata after the frame's header: the credentials' entries (if any),
   * then the trace context of {@code span} (if not null); on failure releases {@code buf} and
   * throws.
   */
  void writeMetadata(ByteBuf buf, String displayName, CallTracer.ClientSpan span) {
    CallMetadata md = new CallMetadata();
    try {
      if (credentials != null) {
        credentials.applyTo(md);
      }
      if (span != null) {
        span.inject(md::put);
      }
    } catch (RpcException e) {
      buf.release();
      throw e;
    } catch (RuntimeException e) {
      buf.release();
      // not chained: its message may hold the credential
      throw new RpcException(ErrorReason.UNAUTHENTICATED, "the call credentials failed ("
          + e.getClass().getName() + "); " + displayName + " was not sent");
    }
    int length;
    try {
      length = Metadata.write(buf, md);
    } catch (RuntimeException e) {
      buf.release();
      throw new RpcException(ErrorReason.BAD_ARGUMENTS, "the call credentials' metadata cannot"
          + " be sent: " + e.getMessage());
    }
    if (length > limits.maxMetadataBytes()) {
      buf.release();
      throw new RpcException(ErrorReason.PAYLOAD_TOO_LARGE, "the call credentials' metadata is "
          + length + " bytes, above the limit of " + limits.maxMetadataBytes() + " bytes; "
          + displayName + " was not sent");
    }
    buf.setShort(Frame.OFF_METADATA_LENGTH, length);
  }

  private void send(ClientConnectionHandler h, ClientCall c) {
    if (h.pendingBytes() > config.maxPendingBytes()) {
      c.request.release();
      c.request = null;
      throw new RpcException(ErrorReason.OVERLOADED, h.pendingBytes()
          + " bytes already wait to be written to " + c.method.displayName + "'s server (limit "
          + config.maxPendingBytes() + "); the connection is slower than the calls");
    }
    h.send(c);
  }

  private ClientConnectionHandler awaitConnection(Endpoint e, ClientCall c) {
    return awaitConnection(e.pick(), e, c);
  }

  private ClientConnectionHandler awaitConnection(Endpoint.Slot slot, Endpoint e, ClientCall c) {
    ClientConnectionHandler h = slot.ready();
    if (h != null) {
      return h;
    }
    CompletableFuture<ClientConnectionHandler> f = slot.get();
    try {
      if (c.hasDeadline) {
        long wait = c.deadlineNanos - System.nanoTime();
        return f.get(Math.max(0, wait), TimeUnit.NANOSECONDS);
      }
      return f.get();
    } catch (java.util.concurrent.TimeoutException ex) {
      throw new RpcException(ErrorReason.DEADLINE_EXCEEDED,
          "deadline passed while connecting to " + e);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new RpcException(ErrorReason.CANCELLED, "interrupted while connecting to " + e);
    } catch (ExecutionException ex) {
      throw (RpcException) ex.getCause();
    }
  }

  /** Whether an encoded request is large enough for the endpoint's bulk lane. */
  private boolean bulk(ClientCall c) {
    int threshold = config.bulkLaneBytes();
    return threshold > 0 && c.requestBytes >= threshold;
  }

  /**
   * The connection for an encoded request: {@code h}, or for a large one the endpoint's bulk
   * lane, so that writing it does not hold up the small calls on {@code h}. Releases the request
   * when no lane connection can be had.
   */
  private ClientConnectionHandler lane(Endpoint e, ClientCall c, ClientConnectionHandler h) {
    if (!bulk(c)) {
      return h;
    }
    try {
      return awaitConnection(e.bulk(), e, c);
    } catch (RpcException r) {
      dropRequest(c);
      throw r;
    }
  }

  private static void dropRequest(ClientCall c) {
    if (c.request != null) {
      c.request.release();
      c.request = null;
    }
  }

  /**
   * Whether a failed attempt may be sent again: it provably did not run (or it may have, but the
   * method is idempotent), attempts and time are left, and there is somewhere to send it: an
   * endpoint not tried yet, or, for a call that was never written, met a draining server or lost
   * its connection, a new connection to the same one.
   */
  private static boolean mayRetry(RpcException r, ClientCall c, Cluster cluster,
      List<Endpoint> tried) {
    ClientMethod m = c.method;
    boolean lost = r.reason() == ErrorReason.CONNECTION_CLOSED;
    int max = m.maxAttempts > 0 ? m.maxAttempts : cluster.maxAttempts;
    if (!(r.isRetryable() || lost && m.idempotent) || c.attempt >= max
        || c.expired(System.nanoTime())) {
      return false;
    }
    boolean untried = cluster.endpoints.size() - (tried == null ? 0 : tried.size()) > 1;
    boolean somewhere = untried || lost || r.reason() == ErrorReason.NOT_SENT
        || r.reason() == ErrorReason.SHUTTING_DOWN;
    return somewhere && cluster.retryBudget.tryWithdraw();
  }

  /** Feeds outlier ejection: failures for want of an answer count against the endpoint. */
  private static void health(Endpoint e, RpcException r, Cluster cluster) {
    switch (r.reason()) {
      case CONNECT_FAILED, TLS_HANDSHAKE_FAILED, CONNECTION_CLOSED, DEADLINE_EXCEEDED, NOT_SENT ->
          e.failed(cluster.ejectAfterFailures);
      default -> {
        // the endpoint answered, or the failure was the caller's own
      }
    }
  }

  private static List<Endpoint> tried(List<Endpoint> tried, Endpoint e) {
    List<Endpoint> t = tried == null ? new ArrayList<>(2) : tried;
    t.add(e);
    return t;
  }

  /** Feeds the balancer: a latency sample when the call was written and got an outcome. */
  private static void sample(Endpoint e, ClientCall c) {
    long flushed = c.flushedNanos;
    if (flushed != 0) {
      long end = c.responseNanos != 0 ? c.responseNanos : System.nanoTime();
      e.recordLatency(Math.max(0, end - flushed));
    }
  }

  Object callSync(ClientMethod m, Object[] args, Cluster cluster) throws Exception {
    if (m.observer == null) {
      return callSync(m, args, cluster, null);
    }
    ClientTrace trace = new ClientTrace(m.observer);
    Throwable failure = null;
    try {
      return callSync(m, args, cluster, trace);
    } catch (Throwable t) {
      failure = t;
      throw t;
    } finally {
      trace.end(failure);
    }
  }

  private Object callSync(ClientMethod m, Object[] args, Cluster cluster, ClientTrace trace)
      throws Exception {
    long start = System.nanoTime();
    long deadline = deadlineFor(m, start);
    cluster.retryBudget.deposit();
    List<Endpoint> tried = null;
    for (int attempt = 1; ; attempt++) {
      Endpoint e = cluster.pick(args, tried);
      if (trace != null) {
        trace.at(e, attempt);
      }
      ClientCall c = newCall(m, attempt, start, deadline);
      if (c.span != null) {
        c.span.server(e.host, e.port);
      }
      InboundFrame answer;
      try {
        ClientConnectionHandler h = awaitConnection(e, c);
        encode(c, args);
        h = lane(e, c, h);
        e.callStarted();
        try {
          send(h, c);
          answer = await(c);
        } finally {
          e.callEnded();
          sample(e, c);
        }
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        if (c.connection != null) {
          c.connection.cancel(c);
        }
        throw finish(c, e, new RpcException(ErrorReason.CANCELLED, "interrupted"));
      } catch (ExecutionException ex) {
        RpcException r = (RpcException) ex.getCause();
        health(e, r, cluster);
        if (mayRetry(r, c, cluster, tried)) {
          tried = tried(tried, e);
          continue; // never ran: safe to send again, to another endpoint when there is one
        }
        throw finish(c, e, r);
      } catch (RpcException r) {
        health(e, r, cluster);
        if (mayRetry(r, c, cluster, tried)) {
          tried = tried(tried, e);
          continue;
        }
        throw finish(c, e, r);
      }
      e.succeeded();
      Object result = decode(c, answer, e);
      if (result instanceof Failure f) {
        if (f.exception instanceof RpcException r && mayRetry(r, c, cluster, tried)) {
          tried = tried(tried, e); // refused before running (draining, overloaded)
          continue;
        }
        throw f.exception;
      }
      return result;
    }
  }

  /**
   * Waits for the answer. The event loop's timer enforces the deadline once the request is
   * written; this wait is the backstop for a request stuck behind a connection that stopped
   * taking writes.
   */
  private static InboundFrame await(ClientCall c) throws InterruptedException, ExecutionException {
    if (!c.hasDeadline) {
      return c.outcome.get();
    }
    long grace = TimeUnit.MILLISECONDS.toNanos(50);
    try {
      return c.outcome.get(Math.max(0, c.deadlineNanos - System.nanoTime()) + grace,
          TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException ex) {
      RpcException dl = new RpcException(ErrorReason.DEADLINE_EXCEEDED,
          "deadline exceeded before " + c.method.displayName + " could be written");
      if (c.outcome.completeExceptionally(dl) && c.connection != null) {
        c.connection.cancel(c);
      }
      return c.outcome.get();
    }
  }

  void callOneWay(ClientMethod m, Object[] args, Cluster cluster) {
    if (m.observer == null) {
      callOneWay(m, args, cluster, null);
      return;
    }
    ClientTrace trace = new ClientTrace(m.observer);
    Throwable failure = null;
    try {
      callOneWay(m, args, cluster, trace);
    } catch (RuntimeException | Error t) {
      failure = t;
      throw t;
    } finally {
      trace.end(failure);
    }
  }

  private void callOneWay(ClientMethod m, Object[] args, Cluster cluster, ClientTrace trace) {
    long start = System.nanoTime();
    long deadline = deadlineFor(m, start);
    cluster.retryBudget.deposit();
    List<Endpoint> tried = null;
    for (int attempt = 1; ; attempt++) {
      Endpoint e = cluster.pick(args, tried);
      if (trace != null) {
        trace.at(e, attempt);
      }
      ClientCall c = newCall(m, attempt, start, deadline);
      if (c.span != null) {
        c.span.server(e.host, e.port);
      }
      try {
        ClientConnectionHandler h = awaitConnection(e, c);
        encode(c, args);
        send(lane(e, c, h), c);
        return;
      } catch (RpcException r) {
        health(e, r, cluster);
        if (mayRetry(r, c, cluster, tried)) {
          tried = tried(tried, e);
          continue;
        }
        throw finish(c, e, r);
      }
    }
  }

  CompletableFuture<Object> callAsync(ClientMethod m, Object[] args, Cluster cluster) {
    CallFuture result = new CallFuture();
    result.span = currentSpan();
    result.endsSpan = true;
    if (m.observer != null) {
      result.trace = new ClientTrace(m.observer);
      result.whenComplete(result.trace);
    }
    long start = System.nanoTime();
    cluster.retryBudget.deposit();
    attemptAsync(m, args, cluster, null, result, 1, start, deadlineFor(m, start), null);
    return result;
  }

  /**
   * One copy of a call, on {@code e}, for the copying policies: completes with the decoded result
   * or the failure; cancelling it cancels the call.
   *
   * @param span the call's span, whose context the copy carries (it does not end it); or null
   */
  CompletableFuture<Object> copy(ClientMethod m, Object[] args, Cluster cluster, Endpoint e,
      int attempt, long start, long deadline, CallTracer.ClientSpan span) {
    CallFuture result = new CallFuture();
    result.span = span;
    attemptAsync(m, args, cluster, null, result, attempt, start, deadline, e);
    return result;
  }

  /** @param first the endpoint of this attempt, or null to let the balancer pick */
  private void attemptAsync(ClientMethod m, Object[] args, Cluster cluster, List<Endpoint> tried,
      CallFuture result, int attempt, long start, long deadline, Endpoint first) {
    Endpoint e = first;
    if (e == null) {
      try {
        e = cluster.pick(args, tried);
      } catch (RpcException r) {
        result.completeExceptionally(r);
        return;
      }
    }
    if (result.trace != null) {
      result.trace.at(e, attempt);
    }
    AsyncCall c = new AsyncCall(m, attempt, start, deadline, deadline != 0, args, e, cluster,
        tried, result, this, callbackExecutor);
    Endpoint.Slot slot = e.pick();
    ClientConnectionHandler ready = slot.ready();
    if (ready != null) {
      sendAsync(c, ready);
      return;
    }
    slot.get().whenComplete((h, t) -> {
      if (t != null) {
        RpcException r = (RpcException) unwrap(t);
        health(c.endpoint, r, cluster);
        if (mayRetry(r, c, cluster, tried) && !result.isDone()) {
          attemptAsync(m, args, cluster, tried(tried, c.endpoint), result, attempt + 1, start,
              deadline, null);
        } else {
          result.completeExceptionally(finish(c, c.endpoint, r));
        }
      } else {
        sendAsync(c, h);
      }
    });
  }

  private void sendAsync(AsyncCall c, ClientConnectionHandler h) {
    CallFuture result = c.result;
    if (result.isDone()) {
      return; // cancelled while connecting
    }
    result.current = c;
    c.span = result.span;
    if (c.span != null) {
      c.span.server(c.endpoint.host, c.endpoint.port);
    }
    try {
      encode(c, c.args);
    } catch (RpcException r) {
      result.completeExceptionally(finish(c, c.endpoint, r));
      return;
    }
    c.endpoint.callStarted();
    if (bulk(c)) {
      Endpoint.Slot lane = c.endpoint.bulk();
      ClientConnectionHandler ready = lane.ready();
      if (ready == null) {
        lane.get().whenComplete((bh, t) -> {
          if (t != null) {
            dropRequest(c);
            c.fail(unwrap(t)); // as if the attempt failed: retried or reported as usual
          } else {
            sendEncoded(c, bh);
          }
        });
        return;
      }
      h = ready;
    }
    sendEncoded(c, h);
  }

  private void sendEncoded(AsyncCall c, ClientConnectionHandler h) {
    try {
      send(h, c);
    } catch (RpcException r) { // refused by the write queue
      c.endpoint.callEnded();
      c.result.completeExceptionally(finish(c, c.endpoint, r));
    }
  }

  /** An asynchronous attempt ended: decode, and complete the caller's future or try again. */
  void onAsyncOutcome(AsyncCall c) {
    Endpoint e = c.endpoint;
    Cluster cluster = c.cluster;
    CallFuture result = c.result;
    e.callEnded();
    sample(e, c);
    Throwable t = c.failure;
    RpcException r = null;
    Object v = null;
    if (t != null) {
      r = (RpcException) unwrap(t);
      health(e, r, cluster);
    } else {
      e.succeeded();
      v = decode(c, c.answer, e);
      if (v instanceof Failure f) {
        if (!(f.exception instanceof RpcException re)) {
          result.completeExceptionally(f.exception);
          return;
        }
        r = re;
      }
    }
    if (r == null) {
      result.complete(v);
    } else if (mayRetry(r, c, cluster, c.tried) && !result.isDone()) {
      attemptAsync(c.method, c.args, cluster, tried(c.tried, e), result, c.attempt + 1,
          c.startNanos, c.deadlineNanos, null);
    } else {
      result.completeExceptionally(t != null ? finish(c, e, r) : r);
    }
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof java.util.concurrent.CompletionException
        || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** A failed answer, returned (not thrown) so both call paths handle it alike. */
  private record Failure(Exception exception) {}

  private Object decode(ClientCall c, InboundFrame f, Endpoint e) {
    c.decodeStartNanos = System.nanoTime();
    ClientMethod m = c.method;
    try {
      c.serverQueuedMicros = f.wordA;
      c.serverExecMicros = f.wordB;
      if (f.status != 0) {
        ErrorBody.Info info = ErrorBody.read(f.body());
        if (info.reason() == ErrorReason.OVERLOADED) {
          e.shed(); // a quick refusal must not make a saturated endpoint look fast
        }
        return new Failure(remoteFailure(c, e, Status.Code.of(f.status), info));
      }
      if (f.serializerId != m.serializerId) {
        return new Failure(finish(c, e, new RpcException(ErrorReason.BAD_RESULT,
            "answer to " + m.displayName + " uses serializer id " + f.serializerId
                + ", the request used " + m.serializerId)));
      }
      try (InputStream in = Bodies.open(f.body(), f.compressorId, config.maxFrameBytes())) {
        return m.serializer.readValue(m.resultType, in);
      } catch (Throwable t) {
        return new Failure(finish(c, e, Bodies.readFailure(t, ErrorReason.BAD_RESULT,
            "cannot decode the result of " + m.displayName)));
      }
    } finally {
      f.release();
    }
  }

  private Exception remoteFailure(ClientCall c, Endpoint e, Status.Code code,
      ErrorBody.Info info) {
    ClientMethod m = c.method;
    if (info.reason() == ErrorReason.APPLICATION_ERROR) {
      Exception checked = m.checkedException(info.remoteClass(), info.description());
      if (checked != null) {
        return checked;
      }
    }
    String description = info.description();
    if (info.reason() == ErrorReason.UNKNOWN_METHOD && description != null
        && description.startsWith("no method with call ID")) {
      description = m.displayName + " [call ID " + CallIds.toHex(m.descriptor.callId())
          + ", " + m.descriptor.signature() + "] is not served by " + e + ": " + description;
    }
    long now = System.nanoTime();
    return new RpcException(code.toStatus().withDescription(description), info.reason(),
        info.remoteClass(), info.remoteStack(), e.toString(), c.attempt, c.timings(now, now),
        null);
  }

  /** Adds the endpoint, attempt and timings to a failure. */
  private RpcException finish(ClientCall c, Endpoint e, RpcException r) {
    long now = System.nanoTime();
    String description = r.status().description();
    if (r.reason() != ErrorReason.DEADLINE_EXCEEDED && r.reason() != ErrorReason.CANCELLED
        && description != null && !description.contains(c.method.displayName)) {
      description = c.method.displayName + ": " + description;
    }
    return new RpcException(r.status().withDescription(description), r.reason(),
        r.remoteClassName(), r.remoteStack(), e.toString(), c.attempt,
        c.timings(now, c.decodeStartNanos == 0 ? 0 : now), r.getCause());
  }

  @Override
  public void close() {
    closed = true;
    failbacks.close();
    subscriptions.forEach(Registry.Subscription::close);
    endpoints.values().forEach(Endpoint::close);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    if (ownedCallbackExecutor != null) {
      ownedCallbackExecutor.shutdown();
    }
  }
}
