package io.courier.metrics.micrometer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.courier.core.MethodDescriptor;
import io.courier.core.ServiceDescriptor;
import io.courier.server.CourierServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP server for operators, on a port of its own, bound to the loopback address unless
 * told otherwise: another address must be asked for with {@link Builder#bindAddress(String)}.
 * It serves
 *
 * <ul>
 *   <li>{@code GET /metrics}: the Prometheus text format of a {@link PrometheusMeterRegistry};
 *   <li>{@code GET /health}: {@code 200 {"status":"SERVING"}}, or {@code 503} with
 *       {@code DRAINING} once the server is shutting down (or {@code NOT_SERVING} before it
 *       started);
 *   <li>{@code GET /admin/services}: the services and methods of the server, as JSON.
 * </ul>
 *
 * Other methods are answered 405, other paths 404. It takes no input and runs nothing; put a
 * proxy with authentication in front of it to open it beyond the host. Usable by clients too
 * (without a server, {@code /health} is always {@code SERVING}). Thread-safe.
 *
 * <pre>{@code
 * AdminServer admin = AdminServer.builder().port(9464).prometheus(prometheus).server(server)
 *     .build().start();
 * }</pre>
 *
 * @since 0.1
 */
public final class AdminServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String JSON = "application/json";

  private final Builder config;
  private HttpServer http;
  private ExecutorService executor;

  private AdminServer(Builder b) {
    this.config = b;
  }

  /** A new builder: loopback, a free port, nothing served but {@code /health}. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the port and starts answering.
   *
   * @return this
   * @throws IllegalStateException when the address cannot be bound, or it runs already
   */
  public synchronized AdminServer start() {
    if (http != null) {
      throw new IllegalStateException("admin server already started on port " + port());
    }
    InetSocketAddress at = new InetSocketAddress(config.address, config.port);
    try {
      http = HttpServer.create(at, 16);
    } catch (IOException e) {
      throw new IllegalStateException("cannot bind the admin port " + at + ": " + e, e);
    }
    executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "courier-admin");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(executor);
    http.createContext("/", this::handle);
    http.start();
    log.info("admin port on {}", http.getAddress());
    return this;
  }

  /** The port bound (useful with port 0); -1 before {@link #start()}. */
  public synchronized int port() {
    return http == null ? -1 : http.getAddress().getPort();
  }

  /** The address bound. */
  public InetAddress address() {
    return config.address;
  }

  /** Stops answering and frees the port. */
  @Override
  public synchronized void close() {
    if (http != null) {
      http.stop(0);
      executor.shutdownNow();
      http = null;
    }
  }

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      String path = x.getRequestURI().getPath();
      String method = x.getRequestMethod();
      boolean known = path.equals("/metrics") || path.equals("/health")
          || path.equals("/admin/services");
      if (!known) {
        send(x, 404, JSON, "{\"error\":\"no such path (expected: /metrics, /health,"
            + " /admin/services)\"}");
        return;
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        x.getResponseHeaders().set("Allow", "GET, HEAD");
        send(x, 405, JSON, "{\"error\":\"" + method + " is not served (expected: GET)\"}");
        return;
      }
      switch (path) {
        case "/metrics" -> {
          if (config.prometheus == null) {
            send(x, 404, JSON, "{\"error\":\"no Prometheus registry configured\"}");
          } else {
            send(x, 200, PROMETHEUS_TEXT, config.prometheus.scrape());
          }
        }
        case "/health" -> {
          String status = health();
          send(x, status.equals("SERVING") ? 200 : 503, JSON,
              "{\"status\":\"" + status + "\"}");
        }
        default -> send(x, 200, JSON, services());
      }
    } catch (RuntimeException e) {
      log.warn("[COURIER-M01] admin request {} failed", x.getRequestURI().getPath(), e);
    }
  }

  private String health() {
    if (config.server != null) {
      return config.server.isServing() ? "SERVING"
          : config.server.isDraining() ? "DRAINING" : "NOT_SERVING";
    }
    return config.health == null || config.health.getAsBoolean() ? "SERVING" : "NOT_SERVING";
  }

  private String services() {
    StringBuilder sb = new StringBuilder("{\"services\":[");
    if (config.server != null) {
      boolean first = true;
      for (ServiceDescriptor sd : config.server.services()) {
        sb.append(first ? "" : ",").append("{\"name\":");
        quote(sb, sd.name());
        sb.append(",\"methods\":[");
        boolean firstMethod = true;
        for (MethodDescriptor md : sd.methods()) {
          sb.append(firstMethod ? "" : ",").append("{\"name\":");
          quote(sb, md.name());
          sb.append(",\"kind\":");
          quote(sb, md.kind().name());
          sb.append(",\"signature\":");
          quote(sb, md.signature());
          sb.append('}');
          firstMethod = false;
        }
        sb.append("]}");
        first = false;
      }
    }
    return sb.append("]}").toString();
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
  }

  private static void send(HttpExchange x, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", type);
    boolean head = x.getRequestMethod().equals("HEAD");
    x.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = x.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Builds an {@link AdminServer}. Not thread-safe. */
  public static final class Builder {
    private InetAddress address = InetAddress.getLoopbackAddress();
    private int port;
    private PrometheusMeterRegistry prometheus;
    private CourierServer server;
    private BooleanSupplier health;

    private Builder() {}

    /**
     * The port; default 0 (a free one, see {@link AdminServer#port()}).
     *
     * @return this
     */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0 to 65535)");
      }
      this.port = port;
      return this;
    }

    /**
     * Binds another address than the loopback one (the default), for example
     * {@code "0.0.0.0"} for every interface. The admin port has no authentication: open it
     * beyond the host only behind a network boundary or an authenticating proxy.
     *
     * @return this
     * @throws IllegalArgumentException when the address does not resolve
     */
    public Builder bindAddress(String address) {
      Objects.requireNonNull(address, "address");
      try {
        this.address = InetAddress.getByName(address);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("bindAddress: " + address
            + " (expected: an IP address or a resolvable host name)", e);
      }
      return this;
    }

    /**
     * The registry whose meters {@code GET /metrics} serves.
     *
     * @return this
     */
    public Builder prometheus(PrometheusMeterRegistry registry) {
      this.prometheus = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * The server whose state {@code /health} and services {@code /admin/services} report.
     *
     * @return this
     */
    public Builder server(CourierServer server) {
      this.server = Objects.requireNonNull(server, "server");
      return this;
    }

    /**
     * Without a {@link #server}: whether {@code /health} answers {@code SERVING}; default
     * always.
     *
     * @return this
     */
    public Builder health(BooleanSupplier serving) {
      this.health = Objects.requireNonNull(serving, "serving");
      return this;
    }

    /** The admin server, not started. */
    public AdminServer build() {
      return new AdminServer(this);
    }
  }
}
