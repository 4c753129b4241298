package io.courier.metrics.micrometer;

import io.courier.ErrorReason;
import io.courier.Status;
import io.courier.observe.CallObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Courier's meters on a Micrometer {@link MeterRegistry}: a {@link CallObserver} for servers,
 * clients and their registries. Every meter and its tags are listed in the operations guide
 * (docs/operations.md); in short:
 *
 * <ul>
 *   <li>server, tags {@code protocol}, {@code service}, {@code method} (and {@code status}):
 *       {@code courier.server.calls}, {@code courier.server.call.duration},
 *       {@code courier.server.calls.active}, {@code courier.server.calls.shed},
 *       {@code courier.server.bytes.received}, {@code courier.server.bytes.sent};
 *       {@code courier.server.connections}, {@code courier.server.connections.accepted},
 *       {@code courier.server.connections.rejected}
 *   <li>client, tags {@code service}, {@code method} (and {@code endpoint}, {@code status}):
 *       {@code courier.client.calls}, {@code courier.client.call.duration},
 *       {@code courier.client.calls.active}, {@code courier.client.attempts},
 *       {@code courier.client.retries}; {@code courier.client.ejections} (tag
 *       {@code endpoint}), {@code courier.client.connections}
 *   <li>{@code courier.registry.events}, tags {@code registry}, {@code kind}
 * </ul>
 *
 * <p>The meters of a method are made when the server starts or the stub is made, and those of a
 * status (or endpoint) at its first call; a call then costs a few array reads and the meters'
 * own updates, with no allocation. Use one instance per {@link MeterRegistry} and share it
 * between the servers and clients of a process: their gauges then add up. Thread-safe.
 *
 * <pre>{@code
 * PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * CourierMetrics metrics = CourierMetrics.of(prometheus);
 * CourierServer server = CourierServer.builder().observer(metrics)...build().start();
 * CourierClient client = CourierClient.builder().observer(metrics)...build();
 * }</pre>
 *
 * @since 0.1
 */
public final class CourierMetrics implements CallObserver {

  private static final Status.Code[] CODES = Status.Code.values();

  private final MeterRegistry registry;
  private final boolean histograms;
  private final Map<String, ServerMeters> servers = new ConcurrentHashMap<>();
  private final Map<String, ClientMeters> clients = new ConcurrentHashMap<>();
  private final AtomicInteger serverConnections = new AtomicInteger();
  private final AtomicInteger clientConnections = new AtomicInteger();
  private final Counter accepted;
  private final Counter rejected;

  private CourierMetrics(MeterRegistry registry, boolean histograms) {
    this.registry = registry;
    this.histograms = histograms;
    Gauge.builder("courier.server.connections", serverConnections, AtomicInteger::get)
        .description("Connections open on Courier servers").strongReference(true)
        .register(registry);
    Gauge.builder("courier.client.connections", clientConnections, AtomicInteger::get)
        .description("Connections open from Courier clients").strongReference(true)
        .register(registry);
    accepted = Counter.builder("courier.server.connections.accepted")
        .description("Connections accepted by Courier servers").register(registry);
    rejected = Counter.builder("courier.server.connections.rejected")
        .description("Connections closed at once: the server was at its connection limit")
        .register(registry);
  }

  /** Meters on {@code registry}, call durations with percentile histograms. */
  public static CourierMetrics of(MeterRegistry registry) {
    return builder(registry).build();
  }

  /** A builder of meters on {@code registry}. */
  public static Builder builder(MeterRegistry registry) {
    return new Builder(Objects.requireNonNull(registry, "registry"));
  }

  @Override
  public ServerMethodObserver serverMethod(String protocol, String service, String method) {
    return servers.computeIfAbsent(protocol + '/' + service + '/' + method,
        k -> new ServerMeters(protocol, service, method));
  }

  @Override
  public ClientMethodObserver clientMethod(String service, String method) {
    return clients.computeIfAbsent(service + '/' + method,
        k -> new ClientMeters(service, method));
  }

  @Override
  public void connectionOpened(Side side) {
    if (side == Side.SERVER) {
      accepted.increment();
      serverConnections.incrementAndGet();
    } else {
      clientConnections.incrementAndGet();
    }
  }

  @Override
  public void connectionClosed(Side side) {
    (side == Side.SERVER ? serverConnections : clientConnections).decrementAndGet();
  }

  @Override
  public void connectionRejected() {
    rejected.increment();
  }

  @Override
  public void endpointEjected(String endpoint) {
    Counter.builder("courier.client.ejections").tag("endpoint", endpoint)
        .description("Endpoints left out of a client's pick set after consecutive failures")
        .register(registry).increment();
  }

  @Override
  public void registryEvent(String registryName, String kind) {
    Counter.builder("courier.registry.events").tag("registry", registryName).tag("kind", kind)
        .description("Registrations, subscriptions and provider-list updates")
        .register(registry).increment();
  }

  private Timer timer(String name, String description, Tags tags) {
    Timer.Builder b = Timer.builder(name).description(description).tags(tags);
    if (histograms) {
      b.publishPercentileHistogram();
    }
    return b.register(registry);
  }

  /** A counter and a timer of one status. */
  private record ByStatus(Counter calls, Timer duration) {}

  /** The meters of one server method over one protocol. */
  private final class ServerMeters implements ServerMethodObserver {
    private final Tags tags;
    private final AtomicInteger active = new AtomicInteger();
    private final Counter received;
    private final Counter sent;
    private final Counter shed;
    private final AtomicReferenceArray<ByStatus> byStatus =
        new AtomicReferenceArray<>(CODES.length);

    ServerMeters(String protocol, String service, String method) {
      tags = Tags.of("protocol", protocol, "service", service, "method", method);
      Gauge.builder("courier.server.calls.active", active, AtomicInteger::get).tags(tags)
          .description("Calls running on the server").strongReference(true).register(registry);
      received = Counter.builder("courier.server.bytes.received").tags(tags)
          .description("Request bytes received").register(registry);
      sent = Counter.builder("courier.server.bytes.sent").tags(tags)
          .description("Answer bytes sent").register(registry);
      shed = Counter.builder("courier.server.calls.shed").tags(tags)
          .description("Calls refused by the overload limits (RESOURCE_EXHAUSTED, OVERLOADED)")
          .register(registry);
    }

    private ByStatus of(Status.Code code) {
      int i = code.ordinal();
      ByStatus m = byStatus.get(i);
      if (m == null) {
        Tags t = tags.and("status", code.name());
        m = new ByStatus(Counter.builder("courier.server.calls").tags(t)
            .description("Calls answered, by status").register(registry),
            timer("courier.server.call.duration", "From a call's arrival to its answer", t));
        byStatus.set(i, m);
      }
      return m;
    }

    @Override
    public void started() {
      active.incrementAndGet();
    }

    @Override
    public void ended(SocketAddress peer, Status.Code code, ErrorReason reason,
        boolean started, long durationNanos, long bytesIn, long bytesOut) {
      if (started) {
        active.decrementAndGet();
      }
      ByStatus m = of(code);
      m.calls.increment();
      m.duration.record(durationNanos, TimeUnit.NANOSECONDS);
      if (bytesIn > 0) {
        received.increment(bytesIn);
      }
      if (bytesOut > 0) {
        sent.increment(bytesOut);
      }
      if (reason == ErrorReason.OVERLOADED) {
        shed.increment();
      }
    }
  }

  /** The meters of one client method. */
  private final class ClientMeters implements ClientMethodObserver {
    private final Tags tags;
    private final AtomicInteger active = new AtomicInteger();
    private final Counter attempts;
    private final Counter retries;
    /** Per endpoint, the meters by status. */
    private final Map<String, AtomicReferenceArray<ByStatus>> byEndpoint =
        new ConcurrentHashMap<>();

    ClientMeters(String service, String method) {
      tags = Tags.of("service", service, "method", method);
      Gauge.builder("courier.client.calls.active", active, AtomicInteger::get).tags(tags)
          .description("Calls waiting for their outcome").strongReference(true)
          .register(registry);
      attempts = Counter.builder("courier.client.attempts").tags(tags)
          .description("Attempts sent (first tries and retries)").register(registry);
      retries = Counter.builder("courier.client.retries").tags(tags)
          .description("Attempts after the first").register(registry);
    }

    @Override
    public void started() {
      active.incrementAndGet();
    }

    @Override
    public void ended(String endpoint, Status.Code code, ErrorReason reason, long durationNanos,
        int attempts) {
      active.decrementAndGet();
      String e = endpoint == null ? "none" : endpoint;
      AtomicReferenceArray<ByStatus> a = byEndpoint.get(e);
      if (a == null) {
        a = byEndpoint.computeIfAbsent(e, k -> new AtomicReferenceArray<>(CODES.length));
      }
      int i = code.ordinal();
      ByStatus m = a.get(i);
      if (m == null) {
        Tags t = tags.and("endpoint", e, "status", code.name());
        m = new ByStatus(Counter.builder("courier.client.calls").tags(t)
            .description("Calls ended, by outcome").register(registry),
            timer("courier.client.call.duration", "From a call to its outcome, retries included",
                t));
        a.set(i, m);
      }
      m.calls.increment();
      m.duration.record(durationNanos, TimeUnit.NANOSECONDS);
      this.attempts.increment(attempts);
      if (attempts > 1) {
        retries.increment(attempts - 1);
      }
    }
  }

  /** Builds {@link CourierMetrics}. Not thread-safe. */
  public static final class Builder {
    private final MeterRegistry registry;
    private boolean histograms = true;

    private Builder(MeterRegistry registry) {
      this.registry = registry;
    }

    /**
     * Whether call durations publish percentile histograms (buckets that Prometheus can
     * aggregate across instances); default true.
     *
     * @return this
     */
    public Builder histograms(boolean publish) {
      this.histograms = publish;
      return this;
    }

    /** The meters. */
    public CourierMetrics build() {
      return new CourierMetrics(registry, histograms);
    }
  }
}
