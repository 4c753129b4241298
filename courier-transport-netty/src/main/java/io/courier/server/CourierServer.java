package io.courier.server;

import io.courier.TlsConfig;
import io.courier.annotation.MaxConcurrentCalls;
import io.courier.auth.AccessRules;
import io.courier.auth.Authenticator;
import io.courier.core.MethodDescriptor;
import io.courier.core.Registries;
import io.courier.core.ServiceDescriptor;
import io.courier.internal.codec.AllowList;
import io.courier.internal.codec.Serializers;
import io.courier.internal.protocol.FrameLimits;
import io.courier.internal.server.DispatchTable;
import io.courier.internal.server.ServerMethod;
import io.courier.observe.CallObserver;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import io.courier.spi.CallTracer;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import io.courier.spi.SerializerProvider;
import io.courier.transport.netty.AccessControl;
import io.courier.transport.netty.BuiltInServices;
import io.courier.transport.netty.Executors2;
import io.courier.transport.netty.NettyClient;
import io.courier.transport.netty.NettyServer;
import io.courier.transport.netty.ServerConfig;
import io.courier.transport.netty.ServerTls;
import io.courier.transport.netty.Transports;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.stream.Collectors;

/**
 * Serves implementations of service interfaces over Courier's binary protocol on TCP. The same
 * port also speaks gRPC (HTTP/2 with prior knowledge, or with ALPN {@code h2} under TLS) for
 * methods that take and return protobuf messages, and HTTP/1.1 JSON; the first bytes of a
 * connection tell the protocols apart. With {@link Builder#tls(TlsConfig)} every protocol runs
 * over TLS.
 *
 * <pre>{@code
 * CourierServer server = CourierServer.builder()
 *     .port(9000)
 *     .service(Calculator.class, new CalculatorImpl())
 *     .build()
 *     .start();
 * ...
 * server.close();   // GOAWAY, drain in-flight calls, then close
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class CourierServer implements AutoCloseable {

  /**
   * Registry metadata key: when the provider registered (epoch milliseconds), from which
   * consumers measure how long the change took to reach them.
   */
  public static final String REGISTERED_AT = "registered-at-ms";

  private final Builder config;
  private final List<ServiceDescriptor> services;
  private final Map<String, List<String>> serializersByService = new LinkedHashMap<>();
  private Registry registry;
  private final List<ServiceInstance> registered = new ArrayList<>();
  private final NettyServer server;
  private final ServerTls tls;
  private final ExecutorService ownedExecutor;
  private volatile boolean started;

  private CourierServer(Builder b) {
    this.config = b;
    // the certificate files are read now, so that a bad file fails build(), not start()
    this.tls = b.tls == null ? null : new ServerTls(b.tls, b.frameTimeout.toMillis());
    ExecutorService owned = null;
    Executor executor = b.executor;
    if (executor == null) {
      owned = b.virtualThreads ? Executors2.newVirtualThreadExecutor()
          : Executors2.newBoundedPool("courier-server", b.maxThreads, b.queueCapacity);
      executor = owned;
    }
    this.ownedExecutor = owned;
    List<ServiceDescriptor> descriptors = new ArrayList<>();
    List<ServerMethod> methods = new ArrayList<>();
    Map<ServerMethod, Integer> methodLimits = new LinkedHashMap<>();
    for (Map.Entry<Class<?>, Registration> e : b.services.entrySet()) {
      ServiceDescriptor sd = ServiceDescriptor.of(e.getKey());
      descriptors.add(sd);
      Registration r = e.getValue();
      SerializerConfig sc = SerializerConfig.builder()
          .allow(AllowList.reachable(List.of(sd), b.allowedTypes))
          .classLoader(e.getKey().getClassLoader() != null ? e.getKey().getClassLoader()
              : ClassLoader.getSystemClassLoader())
          .build();
      List<SerializerProvider> providers = new ArrayList<>();
      List<Serializer> serializers = new ArrayList<>();
      List<String> names = r.serializers != null ? r.serializers : b.serializers;
      serializersByService.put(sd.name(), names);
      for (String name : names) {
        SerializerProvider p = Serializers.byName(name);
        providers.add(p);
        serializers.add(p.create(sc));
      }
      Serializer json = jsonSerializer(providers, serializers, sc);
      Map<String, Integer> limits = b.methodLimits.getOrDefault(e.getKey(), Map.of());
      for (var md : sd.methods()) {
        ServerMethod m = new ServerMethod(md, r.implementation, providers, serializers,
            md.isNonBlocking() ? null : executor, json);
        methods.add(m);
        MaxConcurrentCalls annotated = md.method().getAnnotation(MaxConcurrentCalls.class);
        Integer limit = limits.get(md.name());
        if (limit == null && annotated != null) {
          limit = annotated.value();
        }
        if (limit != null) {
          methodLimits.put(m, limit);
        }
      }
    }
    AccessControl access = AccessControl.create(b.authenticator, b.accessRules);
    methods.addAll(BuiltInServices.methods(List.copyOf(methods), access));
    DispatchTable table = new DispatchTable(methods);
    try {
      access.bind(table.methods());
    } catch (RuntimeException e) {
      if (owned != null) {
        owned.shutdownNow();
      }
      throw e;
    }
    this.services = List.copyOf(descriptors);
    ServerConfig sc = new ServerConfig(new FrameLimits(b.maxFrameBytes, b.maxMetadataBytes),
        b.maxConcurrentCallsPerConnection, b.frameTimeout.toMillis(), b.idleTimeout.toMillis(),
        b.maxTimeout.toMillis(), b.sendRemoteStack, b.compressionThreshold, b.maxPingsPerSecond,
        b.maxCancelsPerSecond, b.maxConnections, b.maxConnectionAge.toMillis(),
        (b.maxConnectionAgeGrace != null ? b.maxConnectionAgeGrace : b.drainTimeout).toMillis());
    String names = descriptors.stream().map(ServiceDescriptor::name)
        .collect(Collectors.joining(", "));
    this.server = new NettyServer(b.host, b.port, b.ioThreads, table, sc, names);
    server.grpcMaxMessageBytes(b.grpcMaxMessageBytes);
    server.accessControl(access);
    server.tracer(b.tracer);
    server.observer(b.observer);
    server.overloadLimits(methodLimits, b.adaptiveMin, b.adaptiveMax,
        Math.max(b.adaptiveMin, Math.min(b.adaptiveMax, ADAPTIVE_INITIAL)));
    if (b.httpPort >= 0) {
      server.httpPort(b.httpPort);
    }
    if (b.unixSocket != null) {
      server.unixSocket(b.unixSocket);
    }
    if (tls != null) {
      server.tls(tls);
    }
  }

  /**
   * The JSON serializer of a service for HTTP/JSON and generic calls: the service's own when it
   * enabled JSON, else one made under the same allow-list; null without the JSON module.
   */
  private static Serializer jsonSerializer(List<SerializerProvider> providers,
      List<Serializer> serializers, SerializerConfig config) {
    for (int i = 0; i < providers.size(); i++) {
      if (providers.get(i).name().equals("json")) {
        return serializers.get(i);
      }
    }
    return Serializers.names().contains("json") ? Serializers.byName("json").create(config) : null;
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the port and starts serving.
   *
   * @return this
   * @throws IllegalStateException when the port cannot be bound
   */
  public CourierServer start() {
    server.start();
    started = true;
    if (config.registryUri != null) {
      register();
    }
    return this;
  }

  /** Registers every service, now that the port accepts calls. */
  private void register() {
    String host = config.advertisedHost;
    if (host == null) {
      host = config.host.equals("0.0.0.0") || config.host.equals("::") ? localAddress()
          : config.host;
    }
    try {
      registry = Registries.open(config.registryUri);
      for (ServiceDescriptor sd : services) {
        ServiceInstance instance = ServiceInstance.builder(sd.name(), host, port())
            .serializers(serializersByService.get(sd.name()))
            .weight(config.weight)
            .metadata(REGISTERED_AT, Long.toString(System.currentTimeMillis()))
            .build();
        registry.register(instance);
        registered.add(instance);
        registryEvent("register");
      }
    } catch (RuntimeException e) {
      server.shutdown();
      server.closeAll();
      throw e;
    }
  }

  private void registryEvent(String kind) {
    if (config.observer != null) {
      config.observer.registryEvent(NettyClient.registryName(registry), kind);
    }
  }

  private static String localAddress() {
    try {
      return InetAddress.getLocalHost().getHostAddress();
    } catch (UnknownHostException e) {
      return "127.0.0.1";
    }
  }

  /** Removes this server's services from the registry (first step of a graceful stop). */
  private synchronized void unregister() {
    if (registry != null) {
      for (ServiceInstance i : registered) {
        registry.unregister(i);
        registryEvent("unregister");
      }
      registered.clear();
    }
  }

  /**
   * The port bound (useful with {@code port(0)}); -1 before {@link #start()} and for a server on
   * a {@link Builder#unixSocket(Path) Unix domain socket}.
   */
  public int port() {
    return server.port();
  }

  /** The HTTP/JSON port bound (see {@link Builder#httpPort(int)}), or -1 when there is none. */
  public int httpPort() {
    return server.httpPort();
  }

  /**
   * Reads the TLS certificate chain, key and trust certificates again (after they were renewed)
   * and serves new connections with them; open connections keep the certificate they began
   * with. When the files do not load (missing, unreadable, a key that does not match), the
   * certificate in force stays and this throws.
   *
   * @throws IllegalStateException when the server has no {@link Builder#tls(TlsConfig) TLS}, or
   *     naming the files and the cause when they do not load
   */
  public void reloadTls() {
    if (tls == null) {
      throw new IllegalStateException("the server has no TLS to reload: see Builder.tls(...)");
    }
    tls.reload();
  }

  /** The services served, with their method tables. */
  public List<ServiceDescriptor> services() {
    return services;
  }

  /** Every served method with its call ID and types, as text. */
  public String describe() {
    return services.stream().map(ServiceDescriptor::describe).collect(Collectors.joining());
  }

  /** Counters of connections and refused input. */
  public NettyServer.Counters counters() {
    return server.counters();
  }

  /**
   * The adaptive concurrency limit now (see {@link Builder#adaptiveConcurrencyLimit()}), or 0 when
   * the server has none.
   */
  public int adaptiveConcurrencyLimit() {
    return server.adaptiveLimit();
  }

  /** Calls refused by per-method limits ({@link Builder#maxConcurrentCalls}) since start. */
  public long callsShedByMethodLimits() {
    return server.shedCalls()[0];
  }

  /** Calls refused by the adaptive concurrency limit since start. */
  public long callsShedByAdaptiveLimit() {
    return server.shedCalls()[1];
  }

  /**
   * Whether the server is serving: started and not shutting down. {@code false} once
   * {@link #shutdown()} or {@link #close()} began (it drains then), and before {@link #start()}.
   */
  public boolean isServing() {
    return started && !server.draining();
  }

  /**
   * Whether the server is shutting down: {@link #shutdown()} or {@link #close()} began; calls in
   * flight drain, new ones are refused.
   */
  public boolean isDraining() {
    return server.draining();
  }

  /** Calls in flight right now, on all connections. */
  public int inFlightCalls() {
    return server.inFlight();
  }

  /**
   * Begins a graceful shutdown: stops accepting connections, sends GOAWAY on every connection and
   * refuses new calls with UNAVAILABLE (SHUTTING_DOWN, retryable). Calls in flight go on. Returns
   * at once; see {@link #awaitTermination(Duration)}.
   */
  public void shutdown() {
    unregister();
    server.shutdown();
  }

  /**
   * Waits up to {@code timeout} for calls in flight to finish after {@link #shutdown()}, then
   * closes every connection and releases the threads.
   *
   * @return whether every call finished in time
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    boolean drained = server.awaitDrained(timeout);
    server.closeAll();
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
    if (registry != null) {
      registry.close();
    }
    return drained;
  }

  /** {@link #shutdown()}, then {@link #awaitTermination} with the configured drain timeout. */
  @Override
  public void close() {
    if (registry != null && !registered.isEmpty()) {
      unregister(); // consumers stop picking this server before it refuses calls
      try {
        Thread.sleep(config.unregisterDelay.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    shutdown();
    try {
      awaitTermination(config.drainTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.closeAll();
    }
  }

  private record Registration(Object implementation, List<String> serializers) {}

  private static final int DEFAULT_ADAPTIVE_MIN = 8;
  private static final int DEFAULT_ADAPTIVE_MAX = 1000;
  private static final int ADAPTIVE_INITIAL = 64;

  /** Builds a {@link CourierServer}. Not thread-safe. */
  public static final class Builder {
    /** Shorter ages would have clients spend their time reconnecting. */
    private static final Duration MIN_CONNECTION_AGE = Duration.ofMillis(100);

    private String host = "0.0.0.0";
    private int port = 0;
    private int httpPort = -1;
    private Path unixSocket;
    private TlsConfig tls;
    private final Map<Class<?>, Registration> services = new LinkedHashMap<>();
    private List<String> serializers;
    private final Set<Class<?>> allowedTypes = new LinkedHashSet<>();
    private Executor executor;
    private boolean virtualThreads;
    private int maxThreads = 200;
    private int queueCapacity = 1024;
    private int ioThreads = 0;
    private int maxFrameBytes = FrameLimits.DEFAULT.maxBodyBytes();
    private int maxMetadataBytes = FrameLimits.DEFAULT.maxMetadataBytes();
    private int maxConcurrentCallsPerConnection = 10_000;
    private Duration frameTimeout = Duration.ofSeconds(10);
    private Duration idleTimeout = Duration.ofSeconds(60);
    private Duration maxTimeout = Duration.ZERO;
    private Duration drainTimeout = Duration.ofSeconds(10);
    private boolean sendRemoteStack;
    private int compressionThreshold = 1024;
    private int maxPingsPerSecond = 10;
    private Authenticator authenticator;
    private AccessRules accessRules;
    private CallTracer tracer;
    private CallObserver observer;
    private String registryUri;
    private String advertisedHost;
    private int weight = 100;
    private Duration unregisterDelay = Duration.ofSeconds(1);
    private int maxCancelsPerSecond = 1000;
    private int maxConnections = 10_000;
    private Duration maxConnectionAge = Duration.ZERO;
    private Duration maxConnectionAgeGrace; // null: the drain timeout
    private int grpcMaxMessageBytes = 16 << 20;
    private final Map<Class<?>, Map<String, Integer>> methodLimits = new LinkedHashMap<>();
    private int adaptiveMin; // 0: no adaptive limit
    private int adaptiveMax;

    private Builder() {}

    /** The address to bind; default {@code 0.0.0.0} (all interfaces). */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /** The port to bind; default 0 (any free port, see {@link CourierServer#port()}). */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0 to 65535)");
      }
      this.port = port;
      return this;
    }

    /**
     * Also serves every service as HTTP/1.1 JSON on this port of its own ({@code 0}: any free
     * port, see {@link CourierServer#httpPort()}), on the same host, event loops and executors:
     * {@code POST /<service>/<method>} with a JSON array of arguments. Needs
     * {@code courier-serialization-json} on the class path. Default: no HTTP port.
     */
    public Builder httpPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("httpPort: " + port + " (expected: 0 to 65535)");
      }
      this.httpPort = port;
      return this;
    }

    /**
     * Serves the Courier protocol on this Unix domain socket instead of a TCP port, for clients
     * on the same host ({@code CourierClient.builder().address("unix:///path/to.sock")}). A
     * socket file left at the path by a server that died is removed at start; a path that is in
     * use, or is not a socket, fails {@link CourierServer#start()} with a message saying so. The
     * file is removed when the server stops accepting. Cannot be combined with a registry.
     *
     * @throws UnsupportedOperationException where Netty's native epoll transport is not in use
     *     (it is on Linux x86_64 unless {@code -Dcourier.transport.nio=true})
     */
    public Builder unixSocket(Path path) {
      Objects.requireNonNull(path, "path");
      Transports.requireDomainSockets();
      this.unixSocket = path.toAbsolutePath();
      return this;
    }

    /**
     * Serves TLS only, on the port (every protocol: the Courier protocol, gRPC with ALPN
     * {@code h2}, HTTP/1.1) and on the {@link #httpPort(int) HTTP port}; plaintext connections
     * are answered with an error saying so and closed. {@code tls} needs a certificate chain and
     * key; with {@link TlsConfig.ClientAuth#REQUIRE} clients must show a certificate issued by
     * its trust certificates. The files are read by {@link #build()} (which fails naming a file
     * that does not load) and again by {@link CourierServer#reloadTls()} or every
     * {@link TlsConfig#reloadInterval()}. Not for a {@link #unixSocket(Path) Unix domain socket},
     * which its file permissions protect. Default: plaintext.
     */
    public Builder tls(TlsConfig tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /** Serves {@code implementation} as {@code type}, with the server's serializers. */
    public <T> Builder service(Class<T> type, T implementation) {
      return register(type, implementation, null);
    }

    /**
     * Serves {@code implementation} as {@code type}, accepting only the named serializers (for
     * example {@code "fory", "json"}). A request in any other format is refused before its body
     * is read.
     */
    public <T> Builder service(Class<T> type, T implementation, String... serializers) {
      if (serializers.length == 0) {
        throw new IllegalArgumentException("serializers: none (expected: at least one)");
      }
      return register(type, implementation, List.of(serializers));
    }

    private Builder register(Class<?> type, Object implementation, List<String> names) {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(implementation, "implementation");
      if (!type.isInstance(implementation)) {
        throw new IllegalArgumentException("implementation: " + implementation.getClass().getName()
            + " (expected: an instance of " + type.getName() + ")");
      }
      ServiceDescriptor.of(type); // validates now, with a clear message
      if (names != null) {
        names.forEach(Serializers::byName);
      }
      if (services.putIfAbsent(type, new Registration(implementation, names)) != null) {
        throw new IllegalArgumentException("service " + type.getName() + " is already registered");
      }
      return this;
    }

    /**
     * Authenticates every call, on every protocol, before its body is decoded: calls without
     * valid credentials are answered {@code UNAUTHENTICATED} (HTTP 401), except to methods the
     * {@link #accessRules access rules} make public. Without access rules, any authenticated
     * caller may call any method. Default: none (calls are not authenticated).
     *
     * <pre>{@code
     * .authenticator(Authenticator.bearer(Map.of(token, Identity.of("shop", "writer"))))
     * }</pre>
     *
     * @return this
     */
    public Builder authenticator(Authenticator authenticator) {
      this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
      return this;
    }

    /**
     * Who may call which service and method (see {@link AccessRules}); needs an
     * {@link #authenticator}. Authenticated calls a rule does not permit are answered
     * {@code PERMISSION_DENIED} (HTTP 403). {@link #build()} refuses rules that name a service or
     * method this server does not serve. Default: any authenticated caller may call any method.
     *
     * @return this
     */
    public Builder accessRules(AccessRules rules) {
      this.accessRules = Objects.requireNonNull(rules, "rules");
      return this;
    }

    /**
     * Traces every call served, on every protocol: a server span per call (the caller's trace
     * continued from the {@code traceparent} metadata or header), current while the method runs,
     * so calls the method makes through a traced client are its children. Use
     * {@code OpenTelemetryTracing.create(openTelemetry)} from
     * {@code courier-tracing-opentelemetry}.
     * Default: none (nothing is traced and nothing is read for it).
     *
     * @return this
     */
    public Builder tracing(CallTracer tracer) {
      this.tracer = Objects.requireNonNull(tracer, "tracer");
      return this;
    }

    /**
     * Reports this server's calls (per protocol, service and method, with their status, duration
     * and bytes), its connections and registry events to {@code observer}, for example Micrometer
     * meters from {@code courier-metrics-micrometer}:
     *
     * <pre>{@code
     * .observer(CourierMetrics.of(meterRegistry))
     * }</pre>
     *
     * <p>Unary and one-way calls and streams are observed on every protocol. Default:
     * none (nothing is measured, and a call costs one null check). Called again (or with
     * {@link #accessLog}), reports to each.
     *
     * @return this
     * @since 0.1
     */
    public Builder observer(CallObserver observer) {
      this.observer = CallObserver.both(this.observer, Objects.requireNonNull(observer,
          "observer"));
      return this;
    }

    /**
     * Writes one line per call to the SLF4J logger {@code courier.access}, as {@code log}
     * says (see {@link AccessLog}). Default: no access log.
     *
     * <pre>{@code
     * .accessLog(AccessLog.builder().sampleRate(0.1).build())
     * }</pre>
     *
     * @return this
     * @since 0.1
     */
    public Builder accessLog(AccessLog log) {
      return observer(Objects.requireNonNull(log, "log"));
    }

    /** The serializers services accept unless they say otherwise; default {@code fory}. */
    public Builder serializers(String... names) {
      for (String n : names) {
        Serializers.byName(n);
      }
      this.serializers = List.of(names);
      return this;
    }

    /**
     * Allows classes that are not reachable from the service interfaces' declared types (for
     * example implementations of an interface-typed field) to be decoded.
     */
    public Builder allowTypes(Class<?>... types) {
      for (Class<?> t : types) {
        allowedTypes.add(Objects.requireNonNull(t, "type"));
      }
      return this;
    }

    /**
     * Runs service methods on the given executor (the server does not shut it down). Default: a
     * bounded pool of {@link #maxThreads} threads.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Runs each call on its own virtual thread.
     *
     * @throws UnsupportedOperationException on a runtime without virtual threads (before Java 21)
     */
    public Builder virtualThreads() {
      if (!Executors2.virtualThreadsAvailable()) {
        throw new UnsupportedOperationException(
            "virtual threads need Java 21 or later; this is " + Runtime.version());
      }
      this.virtualThreads = true;
      return this;
    }

    /**
     * Most threads of the default pool; default 200. Threads start as calls need them (a call
     * gets an idle thread, else a new one, and waits in the queue only when all are busy) and end
     * after 60 s idle.
     */
    public Builder maxThreads(int maxThreads) {
      this.maxThreads = positive("maxThreads", maxThreads);
      return this;
    }

    /** Calls that may wait for a thread of the default pool; default 1024. */
    public Builder queueCapacity(int queueCapacity) {
      this.queueCapacity = positive("queueCapacity", queueCapacity);
      return this;
    }

    /**
     * At most {@code max} calls of {@code service}'s method {@code method} run at once on this
     * server (over all connections and protocols; every overload of the name gets this limit);
     * more are refused before their arguments are decoded with {@code RESOURCE_EXHAUSTED}, reason
     * {@code OVERLOADED}, which clients retry on another provider within their retry budget.
     * Overrides a {@link MaxConcurrentCalls} annotation on the method. Default: no limit.
     *
     * <pre>{@code
     * CourierServer.builder()
     *     .service(Reports.class, new ReportsImpl())
     *     .maxConcurrentCalls(Reports.class, "render", 4)
     * }</pre>
     *
     * @throws IllegalArgumentException when {@code max < 1}, or (at {@link #build()}) when the
     *     service has no such method or is not registered
     */
    public Builder maxConcurrentCalls(Class<?> service, String method, int max) {
      Objects.requireNonNull(service, "service");
      Objects.requireNonNull(method, "method");
      methodLimits.computeIfAbsent(service, k -> new LinkedHashMap<>())
          .put(method, positive("max", max));
      return this;
    }

    /**
     * Turns on the adaptive concurrency limit with its default bounds, 8 to 1000 calls in flight
     * (see {@link #adaptiveConcurrencyLimit(int, int)}).
     */
    public Builder adaptiveConcurrencyLimit() {
      return adaptiveConcurrencyLimit(DEFAULT_ADAPTIVE_MIN, DEFAULT_ADAPTIVE_MAX);
    }

    /**
     * Turns on the adaptive concurrency limit: the server learns its latency when it is not the
     * bottleneck and limits the unary calls in flight (over all connections and protocols) to as
     * many as keep their latency within twice that; beyond the limit a call is refused at once,
     * before its arguments are decoded or it waits in the queue, with {@code RESOURCE_EXHAUSTED},
     * reason {@code OVERLOADED} (retryable: it did not run). The limit starts at 64 (within the
     * bounds), grows while latency stays flat and the limit is used, and is cut when latency
     * rises. Off by default: see the guide's "Overload protection" for when to turn it on.
     *
     * @param min the lowest the limit goes, at least 1
     * @param max the highest the limit goes, at least {@code min}
     */
    public Builder adaptiveConcurrencyLimit(int min, int max) {
      positive("min", min);
      if (max < min) {
        throw new IllegalArgumentException("max: " + max + " (expected: >= min " + min + ")");
      }
      this.adaptiveMin = min;
      this.adaptiveMax = max;
      return this;
    }

    /** Event loop threads; default 0, meaning twice the number of cores. */
    public Builder ioThreads(int ioThreads) {
      if (ioThreads < 0) {
        throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: >= 0)");
      }
      this.ioThreads = ioThreads;
      return this;
    }

    /** Largest frame body accepted; default 16 MiB. */
    public Builder maxFrameBytes(int maxFrameBytes) {
      this.maxFrameBytes = positive("maxFrameBytes", maxFrameBytes);
      return this;
    }

    /**
     * Largest gRPC request message accepted, before and after decompression; a larger one fails
     * its call with RESOURCE_EXHAUSTED and the connection stays open. Default 16 MiB.
     */
    public Builder grpcMaxMessageBytes(int maxMessageBytes) {
      this.grpcMaxMessageBytes = positive("grpcMaxMessageBytes", maxMessageBytes);
      return this;
    }

    /** Largest metadata block accepted; default 8 KiB, at most 65535. */
    public Builder maxMetadataBytes(int maxMetadataBytes) {
      if (maxMetadataBytes < 0 || maxMetadataBytes > 0xFFFF) {
        throw new IllegalArgumentException(
            "maxMetadataBytes: " + maxMetadataBytes + " (expected: 0 to 65535)");
      }
      this.maxMetadataBytes = maxMetadataBytes;
      return this;
    }

    /** Calls in flight on one connection before more are refused (OVERLOADED); default 10000. */
    public Builder maxConcurrentCallsPerConnection(int max) {
      this.maxConcurrentCallsPerConnection = positive("maxConcurrentCallsPerConnection", max);
      return this;
    }

    /**
     * Closes a connection that sends no complete frame within this time of connecting, or leaves
     * a frame unfinished this long (slow-loris); default 10 s; zero disables.
     */
    public Builder frameTimeout(Duration timeout) {
      this.frameTimeout = nonNegative("frameTimeout", timeout);
      return this;
    }

    /** Closes a connection that sends nothing, not even heartbeats, this long; default 60 s. */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = nonNegative("idleTimeout", timeout);
      return this;
    }

    /** Longest deadline a call may ask for (longer ones are clamped); default zero, no limit. */
    public Builder maxTimeout(Duration timeout) {
      this.maxTimeout = nonNegative("maxTimeout", timeout);
      return this;
    }

    /** How long {@link CourierServer#close()} lets calls in flight finish; default 10 s. */
    public Builder drainTimeout(Duration timeout) {
      this.drainTimeout = nonNegative("drainTimeout", timeout);
      return this;
    }

    /** Whether error answers carry the server's stack trace; default false. */
    public Builder sendRemoteStack(boolean send) {
      this.sendRemoteStack = send;
      return this;
    }

    /**
     * Answers at least this large are compressed, with the compressor the request used;
     * default 1024 bytes.
     */
    public Builder compressionThreshold(int bytes) {
      this.compressionThreshold = positive("compressionThreshold", bytes);
      return this;
    }

    /** Heartbeats a client may send per second before it is disconnected; default 10. */
    public Builder maxPingsPerSecond(int max) {
      this.maxPingsPerSecond = positive("maxPingsPerSecond", max);
      return this;
    }

    /**
     * Cancels a client may send per second before it is disconnected (a request-and-cancel flood
     * costs the server work the client never waits for); default 1000.
     */
    public Builder maxCancelsPerSecond(int max) {
      this.maxCancelsPerSecond = positive("maxCancelsPerSecond", max);
      return this;
    }

    /**
     * Connections open at once; a connection above the limit receives a GOAWAY error saying so
     * and is closed; default 10000.
     */
    public Builder maxConnections(int max) {
      this.maxConnections = positive("maxConnections", max);
      return this;
    }

    /**
     * Retires connections older than this, so that long-lived clients that reach providers
     * through one address (a TCP load balancer, a DNS name) spread again over the providers
     * added since they connected. A connection that reaches its age is sent a graceful GOAWAY:
     * the client opens a new connection for its next calls (which may reach another provider),
     * calls in flight finish, and calls that crossed the GOAWAY are refused as during shutdown
     * ({@code SHUTTING_DOWN}, sent again by the client on the new connection). Each
     * connection's limit is moved at random by up to 10% either way, so that connections
     * opened together are not retired together. Default zero: connections live as long as their
     * peers keep them.
     *
     * <pre>{@code
     * CourierServer.builder().maxConnectionAge(Duration.ofMinutes(30))
     * }</pre>
     *
     * @param age zero to disable, or at least 100 ms
     * @see #maxConnectionAgeGrace(Duration)
     */
    public Builder maxConnectionAge(Duration age) {
      Objects.requireNonNull(age, "maxConnectionAge");
      if (age.isNegative() || !age.isZero() && age.compareTo(MIN_CONNECTION_AGE) < 0) {
        throw new IllegalArgumentException("maxConnectionAge: " + age
            + " (expected: zero to disable, or at least 100 ms)");
      }
      this.maxConnectionAge = age;
      return this;
    }

    /**
     * How long a connection retired by {@link #maxConnectionAge(Duration)} may finish its calls
     * in flight; when it ends the server closes the connection, and calls still running fail on
     * the client with {@code CONNECTION_CLOSED} (not sent again: they may have run). Zero closes
     * the connection as soon as the GOAWAY is written. Default: the
     * {@link #drainTimeout(Duration) drain timeout} (10 s unless set).
     */
    public Builder maxConnectionAgeGrace(Duration grace) {
      this.maxConnectionAgeGrace = nonNegative("maxConnectionAgeGrace", grace);
      return this;
    }

    /**
     * Registers the services in this registry once the port accepts calls, for example
     * {@code zookeeper://127.0.0.1:2181/courier}; on {@link CourierServer#close()} they are
     * unregistered first, then calls drain.
     */
    public Builder registry(String uri) {
      this.registryUri = Objects.requireNonNull(uri, "uri");
      return this;
    }

    /**
     * The host consumers should connect to; default: the bound host, or this machine's address
     * when bound to all interfaces.
     */
    public Builder advertisedHost(String host) {
      this.advertisedHost = Objects.requireNonNull(host, "host");
      return this;
    }

    /** The load-balancing weight announced in the registry, 1 to 10000; default 100. */
    public Builder weight(int weight) {
      if (weight < 1 || weight > 10_000) {
        throw new IllegalArgumentException("weight: " + weight + " (expected: 1 to 10000)");
      }
      this.weight = weight;
      return this;
    }

    /**
     * How long {@link CourierServer#close()} waits between unregistering and refusing calls, so
     * that consumers notice and stop picking this server; default 1 s.
     */
    public Builder unregisterDelay(Duration delay) {
      this.unregisterDelay = nonNegative("unregisterDelay", delay);
      return this;
    }

    /**
     * Builds the server (not started).
     *
     * @throws IllegalArgumentException when an access rule names a service or method not served
     * @throws IllegalStateException when no service is registered, or access rules are set
     *     without an authenticator
     */
    public CourierServer build() {
      if (services.isEmpty()) {
        throw new IllegalStateException("no service registered: call service(type, impl) first");
      }
      if (serializers == null) {
        serializers = List.of(Serializers.defaultName());
      }
      if (accessRules != null && authenticator == null) {
        throw new IllegalStateException("accessRules without an authenticator: rules need to"
            + " know who calls (set authenticator(...) too)");
      }
      checkMethodLimits();
      if (unixSocket != null && registryUri != null) {
        throw new IllegalStateException("unixSocket and registry cannot be combined: a registry"
            + " advertises host:port");
      }
      if (unixSocket != null && tls != null) {
        throw new IllegalStateException("unixSocket and tls cannot be combined: TLS is for TCP"
            + " ports; a Unix domain socket is protected by its file permissions");
      }
      if (tls != null && tls.certChain().isEmpty()) {
        throw new IllegalStateException("a TLS server needs its certificate chain and key:"
            + " TlsConfig.builder().keyCertChain(chainPem, keyPem)");
      }
      return new CourierServer(this);
    }

    private void checkMethodLimits() {
      for (Map.Entry<Class<?>, Map<String, Integer>> e : methodLimits.entrySet()) {
        if (!services.containsKey(e.getKey())) {
          throw new IllegalArgumentException("maxConcurrentCalls: " + e.getKey().getName()
              + " is not a registered service (register it with service(type, impl))");
        }
        ServiceDescriptor sd = ServiceDescriptor.of(e.getKey());
        Set<String> names = sd.methods().stream().map(MethodDescriptor::name)
            .collect(Collectors.toCollection(LinkedHashSet::new));
        for (String name : e.getValue().keySet()) {
          if (!names.contains(name)) {
            throw new IllegalArgumentException("maxConcurrentCalls: " + sd.name()
                + " has no method " + name + " (methods: " + String.join(", ", names) + ")");
          }
        }
      }
      for (Class<?> type : services.keySet()) {
        for (var md : ServiceDescriptor.of(type).methods()) {
          MaxConcurrentCalls a = md.method().getAnnotation(MaxConcurrentCalls.class);
          if (a != null && a.value() < 1) {
            throw new IllegalArgumentException("@MaxConcurrentCalls on " + md.displayName()
                + ": " + a.value() + " (expected: > 0)");
          }
        }
      }
    }

    private static int positive(String name, int v) {
      if (v <= 0) {
        throw new IllegalArgumentException(name + ": " + v + " (expected: > 0)");
      }
      return v;
    }

    private static Duration nonNegative(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + ": " + d + " (expected: >= 0)");
      }
      return d;
    }
  }
}
