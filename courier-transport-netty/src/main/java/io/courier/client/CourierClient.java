package io.courier.client;

import io.courier.TlsConfig;
import io.courier.auth.CallCredentials;
import io.courier.cluster.ClusterPolicy;
import io.courier.cluster.LoadBalancer;
import io.courier.core.Registries;
import io.courier.core.ServiceDescriptor;
import io.courier.core.cluster.LoadBalancers;
import io.courier.core.reflect.ServerReflection;
import io.courier.internal.codec.Serializers;
import io.courier.internal.protocol.FrameLimits;
import io.courier.observe.CallObserver;
import io.courier.registry.Registry;
import io.courier.spi.CallTracer;
import io.courier.transport.netty.ClientConfig;
import io.courier.transport.netty.NettyClient;
import io.courier.transport.netty.PolicyTable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Calls services over Courier's binary protocol: {@link #stub(Class)} returns an implementation of
 * a service interface whose methods run on the server.
 *
 * <pre>{@code
 * try (CourierClient client = CourierClient.builder().address("127.0.0.1:9000").build()) {
 *   Calculator calc = client.stub(Calculator.class);
 *   int three = calc.add(1, 2);                             // synchronous
 *   CompletableFuture<Integer> f = calc.addAsync(1, 2);     // a method returning a future is async
 * }
 * }</pre>
 *
 * <p>A method returning {@code CompletableFuture<T>} (or {@code CompletionStage<T>}) is
 * asynchronous; a {@code void} method marked {@link io.courier.annotation.OneWay} returns once
 * the request is queued on the connection; every other method waits for its result. A failure
 * throws {@link io.courier.RpcException}; a declared checked exception thrown by the service is
 * rethrown as itself.
 *
 * <p>All calls to one address share one multiplexed connection by default. Thread-safe; close it
 * when done.
 */
public final class CourierClient implements AutoCloseable {

  private final NettyClient client;
  private final Object cluster;
  private final Registry registry;
  private final Builder config;
  private final Map<String, Object> discovered = new ConcurrentHashMap<>();
  private final Map<String, GenericService> generics = new ConcurrentHashMap<>();

  private CourierClient(Builder b) {
    this.client = new NettyClient(new ClientConfig(b.serializer, b.compressor,
        b.compressionThreshold, b.timeout.toNanos(), b.connectTimeout.toMillis(),
        b.heartbeatInterval.toMillis(), b.connectionsPerEndpoint, b.backoffInitial.toMillis(),
        b.backoffMax.toMillis(), b.maxFrameBytes, b.maxPendingBytes, Set.copyOf(b.allowedTypes),
        b.ioThreads, b.callbackExecutor, b.bulkLaneBytes), b.credentials);
    this.config = b;
    client.tracer(b.tracer);
    client.observer(b.observer);
    if (b.tls != null) {
      try {
        client.tls(b.tls);
      } catch (RuntimeException ex) {
        client.close();
        throw ex;
      }
    }
    Object c = null;
    Registry r = null;
    try {
      if (b.registryUri != null) {
        r = Registries.open(b.registryUri);
      } else {
        c = client.cluster(b.addresses, balancer(), b.maxAttempts, b.ejectAfterFailures,
            b.retryRatio, b.minRetriesPerSecond);
      }
    } catch (RuntimeException ex) {
      client.close();
      throw ex;
    }
    this.cluster = c;
    this.registry = r;
  }

  private LoadBalancer balancer() {
    return LoadBalancers.withWarmup(
        config.loadBalancer != null ? config.loadBalancer : LoadBalancers.peakEwma(),
        config.warmup);
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A stub of the service interface {@code type}. Stubs are cached: each call with the same
   * interface returns the same stub.
   *
   * @throws IllegalArgumentException when {@code type} is not a valid service interface
   */
  public <T> T stub(Class<T> type) {
    Objects.requireNonNull(type, "type");
    if (registry == null) {
      return client.stub(type, cluster, config.policies);
    }
    String service = ServiceDescriptor.of(type).name();
    Object c = discovered.computeIfAbsent(service, name -> client.discover(registry, name,
        balancer(), config.maxAttempts, config.ejectAfterFailures, config.retryRatio,
        config.minRetriesPerSecond, config.registryCacheDir));
    return client.stub(type, c, config.policies);
  }

  /**
   * Calls the methods of {@code service} by name, without its interface on the class path (see
   * {@link GenericService}). Cached: each call with the same name returns the same object.
   *
   * <pre>{@code
   * Object three = client.generic("demo.Shop").call("add", List.of(1, 2));
   * }</pre>
   */
  public GenericService generic(String service) {
    Objects.requireNonNull(service, "service");
    return generics.computeIfAbsent(service, name -> {
      if (registry == null) {
        return new GenericService(name,
            client.stub(ServerReflection.class, cluster, config.policies));
      }
      Object c = discovered.computeIfAbsent(name, n -> client.discover(registry, n, balancer(),
          config.maxAttempts, config.ejectAfterFailures, config.retryRatio,
          config.minRetriesPerSecond, config.registryCacheDir));
      return new GenericService(name,
          client.uncachedStub(ServerReflection.class, c, config.policies));
    });
  }

  /**
   * For a client on a registry: how long the newest provider of the service took from
   * registering to being picked from by this client (registry propagation, measured with both
   * hosts' wall clocks), or empty when no provider joined since this client first looked.
   */
  public Optional<Duration> lastPropagationDelay(Class<?> serviceType) {
    Object c = registry == null ? null : discovered.get(ServiceDescriptor.of(serviceType).name());
    long ms = c == null ? -1 : client.lastPropagationMillis(c);
    return ms < 0 ? Optional.empty() : Optional.of(Duration.ofMillis(ms));
  }

  /** Closes the connections and releases the threads. Calls in flight fail with UNAVAILABLE. */
  @Override
  public void close() {
    client.close();
    if (registry != null) {
      registry.close();
    }
  }

  /** Builds a {@link CourierClient}. Not thread-safe. */
  public static final class Builder {
    private final List<String> addresses = new ArrayList<>();
    private String registryUri;
    private Path registryCacheDir = Path.of(System.getProperty("user.home"), ".courier",
        "registry-cache");
    private LoadBalancer loadBalancer;
    private Duration warmup = LoadBalancers.DEFAULT_WARMUP;
    private int maxAttempts = 3;
    private int ejectAfterFailures = 5;
    private double retryRatio = 0.2;
    private int minRetriesPerSecond = 10;
    private String serializer;
    private String compressor;
    private int compressionThreshold = 1024;
    private Duration timeout = Duration.ofSeconds(5);
    private Duration connectTimeout = Duration.ofSeconds(3);
    private Duration heartbeatInterval = Duration.ofSeconds(15);
    private int connectionsPerEndpoint = 1;
    private Duration backoffInitial = Duration.ofMillis(100);
    private Duration backoffMax = Duration.ofSeconds(10);
    private int maxFrameBytes = FrameLimits.DEFAULT.maxBodyBytes();
    private long maxPendingBytes = 64L << 20;
    private final Set<Class<?>> allowedTypes = new LinkedHashSet<>();
    private int ioThreads = 0;
    private Executor callbackExecutor;
    private CallCredentials credentials;
    private CallTracer tracer;
    private int bulkLaneBytes = ClientConfig.DEFAULT_BULK_LANE_BYTES;
    private final PolicyTable policies = new PolicyTable();
    private TlsConfig tls;
    private CallObserver observer;

    private Builder() {}

    /**
     * A server's address, {@code host:port}, or {@code unix:///path/to.sock} for a server on a
     * Unix domain socket of this host (which needs Netty's native epoll transport; the client's
     * build fails with UnsupportedOperationException without it). At least one address is
     * required.
     */
    public Builder address(String hostPort) {
      addresses.add(Objects.requireNonNull(hostPort, "hostPort"));
      return this;
    }

    /**
     * Finds each service's providers in this registry, for example
     * {@code zookeeper://127.0.0.1:2181/courier}, and follows them as they come and go; instead
     * of {@link #address}.
     */
    public Builder registry(String uri) {
      this.registryUri = Objects.requireNonNull(uri, "uri");
      return this;
    }

    /**
     * Where the last provider list of each service is kept, so that a consumer can start while
     * the registry is down; default {@code ~/.courier/registry-cache}; null disables.
     */
    public Builder registryCacheDir(Path dir) {
      this.registryCacheDir = dir;
      return this;
    }

    /**
     * Several servers of the same services, {@code host:port} each: calls are spread over them by
     * the {@link #loadBalancer load balancer}.
     */
    public Builder addresses(String... hostPorts) {
      for (String a : hostPorts) {
        address(a);
      }
      return this;
    }

    /**
     * How calls are spread over the addresses; default
     * {@link LoadBalancers#peakEwma() peak-EWMA power of two choices}.
     */
    public Builder loadBalancer(LoadBalancer balancer) {
      this.loadBalancer = Objects.requireNonNull(balancer, "balancer");
      return this;
    }

    /**
     * An endpoint's share of calls ramps up over this long after it connects (or reconnects);
     * default 10 s; {@link Duration#ZERO} disables.
     */
    public Builder warmup(Duration warmup) {
      this.warmup = nonNegative("warmup", warmup);
      return this;
    }

    /**
     * Attempts per call under failover, the first included. A call is tried again, on another
     * endpoint where there is one, only when it provably did not run: it was never written, no
     * connection could be made, or the server refused it before running it (draining,
     * overloaded); a method marked {@link io.courier.annotation.Idempotent} also when its
     * connection was lost after it was sent. Default 3.
     */
    public Builder maxAttempts(int attempts) {
      if (attempts <= 0) {
        throw new IllegalArgumentException("maxAttempts: " + attempts + " (expected: > 0)");
      }
      this.maxAttempts = attempts;
      return this;
    }

    /**
     * What every method does on failure unless a service or method has its own policy; default
     * {@link ClusterPolicy#failover() failover}. Policies that copy calls (forking, hedged) apply
     * only to methods marked {@link io.courier.annotation.Idempotent}, failback only to methods
     * that return nothing; the other methods keep failover.
     */
    public Builder clusterPolicy(ClusterPolicy policy) {
      policies.setDefault(policy);
      return this;
    }

    /** The policy of a service's methods, with the same reach as {@link #clusterPolicy}. */
    public Builder clusterPolicy(Class<?> service, ClusterPolicy policy) {
      policies.set(service, policy);
      return this;
    }

    /**
     * The policy of one method of a service (every overload of that name). Unlike a client's or
     * service's policy it must fit the method: the stub refuses, for example, a hedged policy on
     * a method that is not {@link io.courier.annotation.Idempotent}.
     *
     * @throws IllegalArgumentException when the service has no such method
     */
    public Builder clusterPolicy(Class<?> service, String method, ClusterPolicy policy) {
      policies.set(service, method, policy);
      return this;
    }

    /**
     * Connects to every server over TLS: the server's certificate must be issued by
     * {@code tls}'s trust certificates (or the JDK's trust store when it has none) and, unless
     * turned off, name the host of the address (or {@link TlsConfig#serverName()}); the
     * client shows {@code tls}'s certificate chain to servers that ask for one. A failed
     * handshake fails calls with {@code UNAVAILABLE} / {@code TLS_HANDSHAKE_FAILED} naming the
     * cause. The files are read by {@link #build()}. Not for {@code unix://} addresses. Default:
     * plaintext.
     *
     * <pre>{@code
     * CourierClient.builder().address("shop.example.com:9000")
     *     .tls(TlsConfig.builder().trustCertificates(Path.of("ca.pem")).build())
     * }</pre>
     */
    public Builder tls(TlsConfig tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /** The serializer: {@code fory} (default), {@code json} or {@code protobuf}. */
    public Builder serializer(String name) {
      Serializers.byName(Objects.requireNonNull(name, "name"));
      this.serializer = name;
      return this;
    }

    /**
     * Compresses requests of at least {@link #compressionThreshold} bytes with {@code gzip},
     * {@code lz4} or {@code zstd}; the server answers large results with the same. Default: none.
     */
    public Builder compression(String name) {
      this.compressor = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Requests at least this large are compressed; default 1024 bytes. */
    public Builder compressionThreshold(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("compressionThreshold: " + bytes + " (expected: > 0)");
      }
      this.compressionThreshold = bytes;
      return this;
    }

    /**
     * The default timeout of every call; default 5 s; {@link Duration#ZERO} for none. A method's
     * {@link io.courier.annotation.Timeout} overrides it, and a deadline in force on the calling
     * thread ({@link io.courier.CallContext}) wins when it is earlier.
     */
    public Builder timeout(Duration timeout) {
      this.timeout = nonNegative("timeout", timeout);
      return this;
    }

    /** How long one connection attempt may take; default 3 s. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive("connectTimeout", timeout);
      return this;
    }

    /**
     * A heartbeat is sent after each interval this long without data from the server; a
     * connection that receives nothing for three intervals is closed and reconnected. Default
     * 15 s; {@link Duration#ZERO} disables.
     */
    public Builder heartbeatInterval(Duration interval) {
      this.heartbeatInterval = nonNegative("heartbeatInterval", interval);
      return this;
    }

    /** Connections per server; default 1 (one multiplexed connection). */
    public Builder connectionsPerEndpoint(int n) {
      if (n <= 0) {
        throw new IllegalArgumentException("connectionsPerEndpoint: " + n + " (expected: > 0)");
      }
      this.connectionsPerEndpoint = n;
      return this;
    }

    /** Reconnect back-off: starts at {@code initial}, doubles to {@code max}, with ±20% jitter. */
    public Builder reconnectBackoff(Duration initial, Duration max) {
      this.backoffInitial = positive("initial", initial);
      this.backoffMax = positive("max", max);
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("max: " + max + " (expected: >= initial " + initial
            + ")");
      }
      return this;
    }

    /**
     * Requests of at least this many bytes go to their server over a connection of their own
     * (one more per server, opened on first use), so that writing a large body does not delay the
     * small calls behind it; the answer comes back on the same connection. Default 256 KiB; 0
     * sends everything over the usual connections.
     */
    public Builder bulkLaneThreshold(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("bulkLaneThreshold: " + bytes + " (expected: >= 0)");
      }
      this.bulkLaneBytes = bytes;
      return this;
    }

    /** Largest frame body sent or accepted; default 16 MiB. */
    public Builder maxFrameBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxFrameBytes: " + bytes + " (expected: > 0)");
      }
      this.maxFrameBytes = bytes;
      return this;
    }

    /**
     * Request bytes that may wait for a connection that cannot keep up before new calls fail
     * fast with RESOURCE_EXHAUSTED (OVERLOADED); default 64 MiB.
     */
    public Builder maxPendingBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxPendingBytes: " + bytes + " (expected: > 0)");
      }
      this.maxPendingBytes = bytes;
      return this;
    }

    /** Allows classes not reachable from the service interfaces' declared types in results. */
    public Builder allowTypes(Class<?>... types) {
      for (Class<?> t : types) {
        allowedTypes.add(Objects.requireNonNull(t, "type"));
      }
      return this;
    }

    /**
     * Retries may be at most {@code ratio} of calls (plus {@code minPerSecond} a second), so that
     * retries cannot multiply the load on a failing cluster; default 0.2 and 10.
     */
    public Builder retryBudget(double ratio, int minPerSecond) {
      if (!(ratio >= 0 && ratio <= 1)) {
        throw new IllegalArgumentException("ratio: " + ratio + " (expected: 0 to 1)");
      }
      if (minPerSecond < 0) {
        throw new IllegalArgumentException(
            "minPerSecond: " + minPerSecond + " (expected: >= 0)");
      }
      this.retryRatio = ratio;
      this.minRetriesPerSecond = minPerSecond;
      return this;
    }

    /**
     * An endpoint whose calls fail this many times in a row for want of an answer (no
     * connection, connection lost, deadline passed) is left out of the picks for 1 s, doubling
     * with each ejection up to 30 s; default 5; 0 disables.
     */
    public Builder ejectAfterFailures(int failures) {
      if (failures < 0) {
        throw new IllegalArgumentException("failures: " + failures + " (expected: >= 0)");
      }
      this.ejectAfterFailures = failures;
      return this;
    }

    /** Event loop threads; default 0, meaning twice the number of cores. */
    public Builder ioThreads(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("ioThreads: " + n + " (expected: >= 0)");
      }
      this.ioThreads = n;
      return this;
    }

    /**
     * Where asynchronous answers are decoded and their futures completed (so callbacks never run
     * on an event loop). Default: a pool of one thread per core, at least two.
     */
    public Builder callbackExecutor(Executor executor) {
      this.callbackExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Credentials attached to every call and stream of this client (stubs and generic calls),
     * for example {@link CallCredentials#bearer(String)}. They travel in the frame's metadata
     * block, under {@code authorization}. Default: none.
     *
     * @return this
     */
    public Builder credentials(CallCredentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Traces every unary and one-way call of this client's stubs: a client span per call (over
     * all its attempts), a child of the context current on the calling thread (inside a traced
     * server's method, the server span), whose context travels in the frame's metadata block
     * ({@code traceparent}, {@code tracestate}). Use
     * {@code OpenTelemetryTracing.create(openTelemetry)} from
     * {@code courier-tracing-opentelemetry}.
     * Default: none (nothing is traced and frames carry nothing for it).
     *
     * @return this
     */
    public Builder tracing(CallTracer tracer) {
      this.tracer = Objects.requireNonNull(tracer, "tracer");
      return this;
    }

    /**
     * Reports this client's calls (per service, method and endpoint, with their status, duration
     * and attempts), its connections, ejections and registry events to {@code observer}, for
     * example Micrometer meters from {@code courier-metrics-micrometer}:
     *
     * <pre>{@code
     * .observer(CourierMetrics.of(meterRegistry))
     * }</pre>
     *
     * <p>Calls of the copying policies (forking, hedged, broadcast) and streams are not observed
     * yet. Default: none (nothing is measured). Called again, reports to both.
     *
     * @return this
     * @since 0.1
     */
    public Builder observer(CallObserver observer) {
      this.observer = CallObserver.both(this.observer, Objects.requireNonNull(observer,
          "observer"));
      return this;
    }

    /** Builds the client. No connection is made until the first call. */
    public CourierClient build() {
      if (addresses.isEmpty() == (registryUri == null)) {
        throw new IllegalStateException(registryUri == null
            ? "address is required: call address(\"host:port\") or registry(uri)"
            : "give either addresses or a registry, not both");
      }
      if (serializer == null) {
        serializer = Serializers.defaultName();
      }
      return new CourierClient(this);
    }

    private static Duration nonNegative(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + ": " + d + " (expected: >= 0)");
      }
      return d;
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
      }
      return d;
    }
  }
}
