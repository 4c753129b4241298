package io.courier.client;

import io.courier.TlsConfig;
import io.courier.auth.CallCredentials;
import io.courier.spi.CallTracer;
import io.courier.transport.netty.GrpcClientTransport;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Calls a gRPC server (any implementation: grpc-java, grpc-go, a Courier server) through a plain
 * Java interface whose methods take and return protobuf messages; no generated gRPC stubs.
 *
 * <pre>{@code
 * try (GrpcClient client = GrpcClient.builder().address("127.0.0.1:50051").build()) {
 *   Greeter greeter = client.stub(Greeter.class);   // @ServiceName("demo.Greeter")
 *   HelloReply reply = greeter.sayHello(HelloRequest.newBuilder().setName("Ada").build());
 * }
 * }</pre>
 *
 * <p>The path of a method is {@code /<service name>/<Method>} as on a Courier server. Unary
 * methods ({@code R m(Q)}, {@code CompletableFuture<R> m(Q)}), server-streaming ones
 * ({@code void m(Q, StreamObserver<R>)}) and client or bidirectional streaming ones
 * ({@code StreamObserver<Q> m(StreamObserver<R>)}: the returned request stream is a
 * {@link GrpcRequestObserver}, with flow control ({@code isReady()} and an on-ready handler that
 * follow the server's HTTP/2 window), and {@code onError} on it cancels the call) are supported;
 * a method with other types throws {@code UnsupportedOperationException}. Deadlines come from
 * {@code CallContext}, {@code @Timeout} and {@link Builder#timeout(Duration)} (the earliest wins)
 * and travel as {@code grpc-timeout}; failures are {@code RpcException}s with the server's status
 * code and message.
 *
 * <p>Request metadata, gzip compression of requests and the capture of response headers and
 * trailers are options of a stub ({@link #stub(Class, GrpcCallOptions)}):
 *
 * <pre>{@code
 * MetadataCapture capture = new MetadataCapture();
 * Greeter greeter = client.stub(Greeter.class, GrpcCallOptions.defaults()
 *     .withMetadata(new CallMetadata().put("x-tenant", "acme"))
 *     .withCompression("gzip")
 *     .withCapture(capture));
 * greeter.sayHello(request);
 * String region = capture.trailers().get("x-region");
 * }</pre>
 *
 * <p>Thread-safe. One HTTP/2 connection, opened on the first call and again after the server
 * closes it or sends GOAWAY.
 */
public final class GrpcClient implements AutoCloseable {

  private final GrpcClientTransport transport;
  private final ExecutorService ownedCallbacks;

  private GrpcClient(Builder b) {
    Executor callbacks = b.callbackExecutor;
    ExecutorService owned = null;
    if (callbacks == null) {
      AtomicInteger n = new AtomicInteger();
      ThreadFactory tf = r -> {
        Thread t = new Thread(r, "courier-grpc-callback-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      };
      owned = Executors.newCachedThreadPool(tf);
      callbacks = owned;
    }
    this.ownedCallbacks = owned;
    int colon = b.address.lastIndexOf(':');
    String host = b.address.substring(0, colon);
    int port = Integer.parseInt(b.address.substring(colon + 1));
    this.transport = new GrpcClientTransport(host, port, b.timeout.toNanos(),
        b.connectTimeout.toMillis(), b.maxMessageBytes, callbacks, 1);
    transport.credentials(b.credentials);
    transport.tracer(b.tracer);
    if (b.tls != null) {
      try {
        transport.tls(b.tls);
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A stub of {@code type}, cached per interface.
   *
   * @throws IllegalArgumentException when {@code type} is not a valid service interface
   */
  public <T> T stub(Class<T> type) {
    return transport.stub(Objects.requireNonNull(type, "type"));
  }

  /**
   * A new stub of {@code type} whose calls carry {@code options}: request metadata, request
   * compression, and where response headers and trailers are captured. Stubs are cheap; make one
   * per set of options.
   *
   * @throws IllegalArgumentException when {@code type} is not a valid service interface
   * @since 0.1.0
   */
  public <T> T stub(Class<T> type, GrpcCallOptions options) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(options, "options");
    MetadataCapture capture = options.capture();
    return transport.stub(type, new GrpcClientTransport.CallSettings(options.metadata(),
        options.compression().equals("gzip"), capture == null ? null : capture::headers,
        capture == null ? null : capture::trailers));
  }

  /** Closes the connection; calls in flight fail with UNAVAILABLE. */
  @Override
  public void close() {
    transport.close();
    if (ownedCallbacks != null) {
      ownedCallbacks.shutdown();
    }
  }

  /** Builds a {@link GrpcClient}. Not thread-safe. */
  public static final class Builder {
    private String address;
    private Duration timeout = Duration.ofSeconds(5);
    private Duration connectTimeout = Duration.ofSeconds(3);
    private int maxMessageBytes = 16 << 20;
    private Executor callbackExecutor;
    private CallCredentials credentials;
    private CallTracer tracer;
    private TlsConfig tls;

    private Builder() {}

    /**
     * Connects over TLS, with ALPN {@code h2} as gRPC requires: the server's certificate must be
     * issued by {@code tls}'s trust certificates (or the JDK's trust store) and, unless turned
     * off, name the host (or {@link TlsConfig#serverName()}); {@code tls}'s certificate chain is
     * shown to servers that ask for one. A failed handshake fails calls with
     * {@code UNAVAILABLE} / {@code TLS_HANDSHAKE_FAILED} naming the cause. Default: plaintext
     * HTTP/2 with prior knowledge.
     */
    public Builder tls(TlsConfig tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /** The server, {@code host:port}. Required. */
    public Builder address(String hostPort) {
      Objects.requireNonNull(hostPort, "hostPort");
      int colon = hostPort.lastIndexOf(':');
      int port = -1;
      try {
        port = colon > 0 ? Integer.parseInt(hostPort.substring(colon + 1)) : -1;
      } catch (NumberFormatException ignored) {
        // reported below
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("address: '" + hostPort + "' (expected: host:port)");
      }
      this.address = hostPort;
      return this;
    }

    /** The deadline of calls that have none from the context or {@code @Timeout}; default 5 s. */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("timeout: " + timeout + " (expected: >= 0)");
      }
      this.timeout = timeout;
      return this;
    }

    /** How long to wait for the connection; default 3 s. */
    public Builder connectTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "connectTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("connectTimeout: " + timeout + " (expected: > 0)");
      }
      this.connectTimeout = timeout;
      return this;
    }

    /** Largest response message accepted (after decompression); default 16 MiB. */
    public Builder maxMessageBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxMessageBytes: " + bytes + " (expected: > 0)");
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /**
     * Where futures complete and stream observers are called (the client does not shut it
     * down); default: a cached pool of daemon threads.
     */
    public Builder callbackExecutor(Executor executor) {
      this.callbackExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Credentials attached to every call as request headers, for example
     * {@link CallCredentials#bearer(String)} ({@code authorization: Bearer ...}). Default: none.
     *
     * @return this
     */
    public Builder credentials(CallCredentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Traces every call: a client span per call or stream, a child of the context current on the
     * calling thread, its context sent as request headers ({@code traceparent},
     * {@code tracestate}). Use {@code OpenTelemetryTracing.create(openTelemetry)} from
     * {@code courier-tracing-opentelemetry}. Default: none.
     *
     * @return this
     */
    public Builder tracing(CallTracer tracer) {
      this.tracer = Objects.requireNonNull(tracer, "tracer");
      return this;
    }

    /** Builds the client (it connects on the first call). */
    public GrpcClient build() {
      if (address == null) {
        throw new IllegalStateException("no address: call address(host:port) first");
      }
      return new GrpcClient(this);
    }
  }
}
