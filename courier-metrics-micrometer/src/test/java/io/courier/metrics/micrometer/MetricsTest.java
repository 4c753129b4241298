package io.courier.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.client.GrpcClient;
import io.courier.registry.embedded.EmbeddedZooKeeper;
import io.courier.server.CourierServer;
import io.courier.stream.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Courier's meters after real calls: real servers and clients on loopback, each protocol on the
 * shared port, read from a real {@link SimpleMeterRegistry}.
 */
class MetricsTest {

  @ServiceName("test.Calc")
  public interface Calc {
    int add(int a, int b);

    String fail(String why);

    int await(int token);

    CompletableFuture<Integer> awaitAsync(int token);

    /** Sends 1 to n, or fails at once when n is negative. */
    void count(int n, StreamObserver<Integer> out);
  }

  /** gRPC methods take and return protobuf messages. */
  @ServiceName("test.Echo")
  public interface Echo {
    StringValue echo(StringValue in);

    StringValue missing(StringValue in);
  }

  static final class CalcImpl implements Calc {
    volatile CountDownLatch gate = new CountDownLatch(0);

    @Override
    public int add(int a, int b) {
      return a + b;
    }

    @Override
    public String fail(String why) {
      throw new IllegalStateException(why);
    }

    @Override
    public int await(int token) {
      try {
        gate.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return token;
    }

    @Override
    public CompletableFuture<Integer> awaitAsync(int token) {
      return CompletableFuture.supplyAsync(() -> await(token));
    }

    @Override
    public void count(int n, StreamObserver<Integer> out) {
      if (n < 0) {
        out.onError(new RpcException(Status.INVALID_ARGUMENT.withDescription("n: " + n)));
        return;
      }
      for (int i = 1; i <= n; i++) {
        out.onNext(i);
      }
      out.onCompleted();
    }
  }

  static final class EchoImpl implements Echo {
    @Override
    public StringValue echo(StringValue in) {
      return StringValue.of("echo:" + in.getValue());
    }

    @Override
    public StringValue missing(StringValue in) {
      throw new RpcException(Status.NOT_FOUND.withDescription("no " + in.getValue()));
    }
  }

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final CourierMetrics metrics = CourierMetrics.of(registry);
  final List<AutoCloseable> closing = new ArrayList<>();
  final CalcImpl calc = new CalcImpl();

  @TempDir
  Path data;

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T t) {
    closing.add(t);
    return t;
  }

  private CourierServer server() {
    return closing(CourierServer.builder().host("127.0.0.1").port(0)
        .service(Calc.class, calc)
        .service(Echo.class, new EchoImpl(), "protobuf")
        .observer(metrics)
        .build().start());
  }

  private double serverCalls(String protocol, String service, String method, String status) {
    Counter c = registry.find("courier.server.calls").tag("protocol", protocol)
        .tag("service", service).tag("method", method).tag("status", status).counter();
    return c == null ? 0 : c.count();
  }

  private double gauge(String name, String... tags) {
    Gauge g = registry.find(name).tags(tags).gauge();
    assertThat(g).as(name).isNotNull();
    return g.value();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("not reached in 10 s: " + what);
      }
      Thread.sleep(10);
    }
  }

  static HttpResponse<String> post(int port, String path, String json) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json").POST(BodyPublishers.ofString(json))
        .build(), BodyHandlers.ofString());
  }

  @Test
  void eachProtocolsCallsAreCountedByMethodAndStatus() throws Exception {
    CourierServer s = server();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calc k = c.stub(Calc.class);
      for (int i = 0; i < 3; i++) {
        assertThat(k.add(i, 1)).isEqualTo(i + 1);
      }
      assertThatThrownBy(() -> k.fail("boom")).isInstanceOf(RpcException.class);
    }
    assertThat(post(s.port(), "/test.Calc/add", "[40, 2]").body()).isEqualTo("42");
    assertThat(post(s.port(), "/test.Calc/add", "[1, 1]").statusCode()).isEqualTo(200);
    assertThat(post(s.port(), "/test.Calc/add", "[1, \"x\"]").statusCode()).isEqualTo(400);
    try (GrpcClient g = GrpcClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Echo e = g.stub(Echo.class);
      assertThat(e.echo(StringValue.of("a")).getValue()).isEqualTo("echo:a");
      assertThat(e.echo(StringValue.of("b")).getValue()).isEqualTo("echo:b");
      assertThatThrownBy(() -> e.missing(StringValue.of("x")))
          .isInstanceOfSatisfying(RpcException.class,
              r -> assertThat(r.status().code()).isEqualTo(Status.Code.NOT_FOUND));
    }

    assertThat(serverCalls("courier", "test.Calc", "add", "OK")).isEqualTo(3);
    assertThat(serverCalls("courier", "test.Calc", "fail", "UNKNOWN")).isEqualTo(1);
    assertThat(serverCalls("http", "test.Calc", "add", "OK")).isEqualTo(2);
    assertThat(serverCalls("http", "test.Calc", "add", "INVALID_ARGUMENT")).isEqualTo(1);
    assertThat(serverCalls("grpc", "test.Echo", "echo", "OK")).isEqualTo(2);
    assertThat(serverCalls("grpc", "test.Echo", "missing", "NOT_FOUND")).isEqualTo(1);
    assertThat(serverCalls("courier", "test.Calc", "add", "UNKNOWN")).isZero();

    Timer t = registry.find("courier.server.call.duration").tags("protocol", "courier",
        "service", "test.Calc", "method", "add", "status", "OK").timer();
    assertThat(t).isNotNull();
    assertThat(t.count()).isEqualTo(3);
    assertThat(t.totalTime(TimeUnit.NANOSECONDS)).isPositive();
    assertThat(registry.find("courier.server.call.duration").tags("protocol", "grpc",
        "method", "echo").timer().count()).isEqualTo(2);

    for (String protocol : List.of("courier", "http", "grpc")) {
      String service = protocol.equals("grpc") ? "test.Echo" : "test.Calc";
      String method = protocol.equals("grpc") ? "echo" : "add";
      assertThat(registry.find("courier.server.bytes.received").tags("protocol", protocol,
          "service", service, "method", method).counter().count()).as(protocol).isPositive();
      assertThat(registry.find("courier.server.bytes.sent").tags("protocol", protocol,
          "service", service, "method", method).counter().count()).as(protocol).isPositive();
      assertThat(gauge("courier.server.calls.active", "protocol", protocol, "service", service,
          "method", method)).isZero();
    }
  }

  @Test
  void courierStreamsAreCountedWhenTheyEnd() throws Exception {
    CourierServer s = server();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calc k = c.stub(Calc.class);
      List<Integer> got = new java.util.concurrent.CopyOnWriteArrayList<>();
      CompletableFuture<Throwable> done = new CompletableFuture<>();
      StreamObserver<Integer> collect = new StreamObserver<>() {
        @Override
        public void onNext(Integer value) {
          got.add(value);
        }

        @Override
        public void onError(Throwable t) {
          done.complete(t);
        }

        @Override
        public void onCompleted() {
          done.complete(null);
        }
      };
      k.count(3, collect);
      assertThat(done.get(10, TimeUnit.SECONDS)).isNull();
      assertThat(got).containsExactly(1, 2, 3);
      CompletableFuture<Throwable> failed = new CompletableFuture<>();
      k.count(-1, new StreamObserver<>() {
        @Override
        public void onNext(Integer value) {}

        @Override
        public void onError(Throwable t) {
          failed.complete(t);
        }

        @Override
        public void onCompleted() {
          failed.complete(null);
        }
      });
      assertThat(failed.get(10, TimeUnit.SECONDS)).isInstanceOf(RpcException.class);
    }
    await(() -> serverCalls("courier", "test.Calc", "count", "INVALID_ARGUMENT") == 1,
        "the failed stream counted");
    assertThat(serverCalls("courier", "test.Calc", "count", "OK")).isEqualTo(1);
    assertThat(gauge("courier.server.calls.active", "protocol", "courier", "method", "count"))
        .isZero();
  }

  @Test
  void theActiveGaugeCountsRunningCallsAndReturnsToZero() throws Exception {
    CourierServer s = server();
    calc.gate = new CountDownLatch(1);
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
        .observer(metrics).build()) {
      Calc k = c.stub(Calc.class);
      CompletableFuture<Integer> a = k.awaitAsync(1);
      CompletableFuture<Integer> b = k.awaitAsync(2);
      await(() -> gauge("courier.server.calls.active", "protocol", "courier", "method",
          "awaitAsync") == 2, "two calls running on the server");
      assertThat(gauge("courier.client.calls.active", "service", "test.Calc", "method",
          "awaitAsync")).isEqualTo(2);
      calc.gate.countDown();
      assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo(1);
      assertThat(b.get(10, TimeUnit.SECONDS)).isEqualTo(2);
      await(() -> gauge("courier.client.calls.active", "service", "test.Calc", "method",
          "awaitAsync") == 0, "the client's calls ended");
      assertThat(gauge("courier.server.calls.active", "protocol", "courier", "method",
          "awaitAsync")).isZero();
    }
  }

  @Test
  void callsShedByAMethodLimitAreCountedOnEachProtocol() throws Exception {
    CourierServer s = closing(CourierServer.builder().host("127.0.0.1").port(0)
        .service(Calc.class, calc).maxConcurrentCalls(Calc.class, "awaitAsync", 1)
        .observer(metrics).build().start());
    calc.gate = new CountDownLatch(1);
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calc k = c.stub(Calc.class);
      CompletableFuture<Integer> running = k.awaitAsync(1);
      await(() -> gauge("courier.server.calls.active", "protocol", "courier", "method",
          "awaitAsync") == 1, "the first call running");
      assertThatThrownBy(() -> k.awaitAsync(2).get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(RpcException.class)
          .satisfies(e -> assertThat(((RpcException) e.getCause()).status().code())
              .isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
      assertThat(post(s.port(), "/test.Calc/awaitAsync", "[3]").statusCode()).isEqualTo(429);
      calc.gate.countDown();
      assertThat(running.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    }
    for (String protocol : List.of("courier", "http")) {
      assertThat(registry.find("courier.server.calls.shed").tags("protocol", protocol,
          "method", "awaitAsync").counter().count()).as(protocol).isEqualTo(1);
      assertThat(serverCalls(protocol, "test.Calc", "awaitAsync", "RESOURCE_EXHAUSTED"))
          .as(protocol).isEqualTo(1);
    }
    assertThat(serverCalls("courier", "test.Calc", "awaitAsync", "OK")).isEqualTo(1);
    assertThat(gauge("courier.server.calls.active", "protocol", "http", "method", "awaitAsync"))
        .as("a refused call never started").isZero();
  }

  @Test
  void connectionsAreCountedOpenAcceptedAndRejected() throws Exception {
    CourierServer s = closing(CourierServer.builder().host("127.0.0.1").port(0)
        .service(Calc.class, calc).maxConnections(1).observer(metrics).build().start());
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
        .observer(metrics).build()) {
      assertThat(c.stub(Calc.class).add(1, 2)).isEqualTo(3);
      assertThat(gauge("courier.server.connections")).isEqualTo(1);
      assertThat(gauge("courier.client.connections")).isEqualTo(1);
      try (Socket extra = new Socket("127.0.0.1", s.port())) {
        OutputStream out = extra.getOutputStream();
        out.flush();
        assertThat(extra.getInputStream().readAllBytes()).isNotEmpty(); // GOAWAY, then closed
      }
      await(() -> registry.find("courier.server.connections.rejected").counter().count() == 1,
          "the second connection refused");
    }
    await(() -> gauge("courier.server.connections") == 0, "the server saw the close");
    assertThat(gauge("courier.client.connections")).isZero();
    assertThat(registry.find("courier.server.connections.accepted").counter().count())
        .isEqualTo(1);
  }

  @Test
  void clientMetersCarryTheEndpointAndStatus() throws Exception {
    CourierServer s = server();
    String endpoint = "127.0.0.1:" + s.port();
    try (CourierClient c = CourierClient.builder().address(endpoint).observer(metrics).build()) {
      Calc k = c.stub(Calc.class);
      k.add(1, 2);
      k.add(3, 4);
      assertThatThrownBy(() -> k.fail("no")).isInstanceOf(RpcException.class);
      assertThat(k.awaitAsync(5).get(10, TimeUnit.SECONDS)).isEqualTo(5);
    }
    assertThat(registry.find("courier.client.calls").tags("service", "test.Calc", "method", "add",
        "endpoint", endpoint, "status", "OK").counter().count()).isEqualTo(2);
    assertThat(registry.find("courier.client.calls").tags("method", "fail", "endpoint", endpoint,
        "status", "UNKNOWN").counter().count()).isEqualTo(1);
    assertThat(registry.find("courier.client.call.duration").tags("method", "awaitAsync",
        "endpoint", endpoint, "status", "OK").timer().count()).isEqualTo(1);
    assertThat(registry.find("courier.client.attempts").tags("method", "add").counter().count())
        .isEqualTo(2);
    assertThat(registry.find("courier.client.retries").tags("method", "add").counter().count())
        .isZero();
    assertThat(gauge("courier.client.calls.active", "method", "add")).isZero();
  }

  @Test
  void anEndpointThatCannotBeReachedIsEjectedAndCounted() throws Exception {
    int dead;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      dead = free.getLocalPort(); // nothing listens here once it is closed
    }
    String endpoint = "127.0.0.1:" + dead;
    try (CourierClient c = CourierClient.builder().address(endpoint).ejectAfterFailures(1)
        .maxAttempts(1).observer(metrics).build()) {
      assertThatThrownBy(() -> c.stub(Calc.class).add(1, 2))
          .isInstanceOfSatisfying(RpcException.class,
              r -> assertThat(r.status().code()).isEqualTo(Status.Code.UNAVAILABLE));
    }
    assertThat(registry.find("courier.client.ejections").tag("endpoint", endpoint).counter()
        .count()).isEqualTo(1);
    assertThat(registry.find("courier.client.calls").tags("method", "add", "endpoint", endpoint,
        "status", "UNAVAILABLE").counter().count()).isEqualTo(1);
  }

  @Test
  void registryEventsAreCountedWithTheEmbeddedRegistry() throws Exception {
    EmbeddedZooKeeper zk = closing(EmbeddedZooKeeper.start("127.0.0.1", 0, data.resolve("zk")));
    CourierServer s = CourierServer.builder().host("127.0.0.1").port(0).registry(zk.uri())
        .unregisterDelay(Duration.ZERO).service(Calc.class, calc).observer(metrics).build()
        .start();
    try {
      assertThat(events("register")).isEqualTo(1);
      try (CourierClient c = CourierClient.builder().registry(zk.uri())
          .registryCacheDir(data.resolve("cache")).observer(metrics).build()) {
        assertThat(c.stub(Calc.class).add(2, 2)).isEqualTo(4);
        assertThat(events("subscribe")).isEqualTo(1);
        assertThat(events("update")).isGreaterThanOrEqualTo(1);
      }
    } finally {
      s.close();
    }
    assertThat(events("unregister")).isEqualTo(1);
  }

  private double events(String kind) {
    Counter c = registry.find("courier.registry.events").tags("registry", "zookeeper", "kind",
        kind).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void withoutAnObserverNothingIsMeasured() throws Exception {
    int before = registry.getMeters().size(); // the connection meters, made up front
    CourierServer s = closing(CourierServer.builder().host("127.0.0.1").port(0)
        .service(Calc.class, calc).build().start());
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      assertThat(c.stub(Calc.class).add(1, 2)).isEqualTo(3);
    }
    assertThat(registry.getMeters()).hasSize(before);
    assertThat(gauge("courier.server.connections")).isZero();
  }
}
