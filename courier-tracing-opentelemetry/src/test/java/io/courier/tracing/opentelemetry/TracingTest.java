package io.courier.tracing.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.courier.CallContext;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.annotation.Idempotent;
import io.courier.annotation.OneWay;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.client.GrpcClient;
import io.courier.cluster.ClusterPolicy;
import io.courier.server.CourierServer;
import io.courier.stream.StreamObserver;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tracing end to end with the real OpenTelemetry SDK: traced servers and clients on loopback, on
 * the Courier protocol, gRPC and HTTP/JSON, spans collected in memory and checked for their trace,
 * parents, kinds, names, attributes and status.
 */
class TracingTest {

  @ServiceName("test.Greeter")
  public interface Greeter {
    String greet(String name);

    CompletableFuture<String> greetLater(String name);

    /** Throws {@code IllegalStateException} with {@code message}. */
    String fail(String message);

    /** Sends {@code n} greetings. */
    void count(int n, StreamObserver<String> out);

    /** Records {@code line} in {@link GreeterImpl#notes}. */
    @OneWay
    void note(String line);

    /** Returns after {@code millis}. */
    String slow(long millis);
  }

  /** Calls {@link Greeter} on another server. */
  @ServiceName("test.Front")
  public interface Front {
    String relay(String name);

    CompletableFuture<String> relayLater(String name);

    /** Greets each name through {@link Greeter#greet}, from the request observer. */
    StreamObserver<String> relayEach(StreamObserver<String> out);
  }

  /** Protobuf types: served over gRPC too. */
  @ServiceName("test.Echo")
  public interface Echo {
    StringValue echo(StringValue in);

    /** Throws NOT_FOUND. */
    StringValue missing(StringValue in);

    /** Sends {@code in} back three times. */
    void thrice(StringValue in, StreamObserver<StringValue> out);
  }

  /** Answers once both of a call's copies have arrived (on either server). */
  @ServiceName("test.Pair")
  public interface Pair {
    @Idempotent
    String who();
  }

  static final class GreeterImpl implements Greeter {
    static final java.util.concurrent.BlockingQueue<String> notes =
        new java.util.concurrent.LinkedBlockingQueue<>();

    @Override
    public void note(String line) {
      notes.add(line);
    }

    @Override
    public String slow(long millis) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "slept";
    }

    @Override
    public String greet(String name) {
      return "hello " + name;
    }

    @Override
    public CompletableFuture<String> greetLater(String name) {
      return CompletableFuture.supplyAsync(() -> "later " + name);
    }

    @Override
    public String fail(String message) {
      throw new IllegalStateException(message);
    }

    @Override
    public void count(int n, StreamObserver<String> out) {
      for (int i = 1; i <= n; i++) {
        out.onNext("greeting " + i);
      }
      out.onCompleted();
    }
  }

  static final class EchoImpl implements Echo {
    @Override
    public StringValue echo(StringValue in) {
      return StringValue.of("echo " + in.getValue());
    }

    @Override
    public StringValue missing(StringValue in) {
      throw new RpcException(io.courier.Status.NOT_FOUND.withDescription("no " + in.getValue()),
          ErrorReason.APPLICATION_ERROR, null, null, null, 0, null, null);
    }

    @Override
    public void thrice(StringValue in, StreamObserver<StringValue> out) {
      for (int i = 0; i < 3; i++) {
        out.onNext(in);
      }
      out.onCompleted();
    }
  }

  static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("rpc.system");
  static final AttributeKey<String> SERVICE = AttributeKey.stringKey("rpc.service");
  static final AttributeKey<String> METHOD = AttributeKey.stringKey("rpc.method");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> PEER_ADDRESS = AttributeKey.stringKey("network.peer.address");
  static final AttributeKey<Long> PEER_PORT = AttributeKey.longKey("network.peer.port");
  static final AttributeKey<Long> GRPC_STATUS = AttributeKey.longKey("rpc.grpc.status_code");
  static final AttributeKey<Long> COURIER_STATUS = AttributeKey.longKey("rpc.courier.status_code");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  static InMemorySpanExporter exporter;
  static OpenTelemetrySdk otel;
  static OpenTelemetryTracing tracing;
  static CourierServer back;
  static CourierServer front;
  static CourierClient backClient;

  @BeforeAll
  static void start() {
    exporter = InMemorySpanExporter.create();
    otel = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
    tracing = OpenTelemetryTracing.create(otel);
    back = CourierServer.builder().host("127.0.0.1").port(0).serializers("fory", "json")
        .tracing(tracing)
        .service(Greeter.class, new GreeterImpl())
        .service(Echo.class, new EchoImpl())
        .build().start();
    backClient = CourierClient.builder().address("127.0.0.1:" + back.port()).tracing(tracing)
        .build();
    Greeter greeter = backClient.stub(Greeter.class);
    front = CourierServer.builder().host("127.0.0.1").port(0).tracing(tracing)
        .service(Front.class, new Front() {
          @Override
          public String relay(String name) {
            return greeter.greet(name);
          }

          @Override
          public CompletableFuture<String> relayLater(String name) {
            return greeter.greetLater(name);
          }

          @Override
          public StreamObserver<String> relayEach(StreamObserver<String> out) {
            return new StreamObserver<>() {
              @Override
              public void onNext(String name) {
                out.onNext(greeter.greet(name));
              }

              @Override
              public void onError(Throwable error) {
                out.onError(error);
              }

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            };
          }
        })
        .build().start();
  }

  @AfterAll
  static void stop() {
    backClient.close();
    front.close();
    back.close();
    otel.close();
  }

  @BeforeEach
  void clear() throws Exception {
    // spans of an earlier test may still be ending on another thread
    Thread.sleep(50);
    exporter.reset();
  }

  /** Waits until {@code n} spans have ended (bounded), then returns them. */
  static List<SpanData> awaitSpans(int n) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (exporter.getFinishedSpanItems().size() < n && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    List<SpanData> spans = exporter.getFinishedSpanItems();
    assertThat(spans).hasSize(n);
    return spans;
  }

  static SpanData only(List<SpanData> spans, SpanKind kind, String name) {
    List<SpanData> found = spans.stream()
        .filter(s -> s.getKind() == kind && s.getName().equals(name)).toList();
    assertThat(found).as("%s spans named %s in %s", kind, name, spans).hasSize(1);
    return found.get(0);
  }

  @Test
  void courierCallHasClientAndServerSpansOfOneTrace() throws Exception {
    Greeter g = backClient.stub(Greeter.class);
    Span root = otel.getTracer("test").spanBuilder("root").startSpan();
    try (Scope ignored = root.makeCurrent()) {
      assertThat(g.greet("ann")).isEqualTo("hello ann");
    } finally {
      root.end();
    }
    List<SpanData> spans = awaitSpans(3);
    SpanData c = only(spans, SpanKind.CLIENT, "test.Greeter/greet");
    SpanData s = only(spans, SpanKind.SERVER, "test.Greeter/greet");
    assertThat(c.getTraceId()).isEqualTo(root.getSpanContext().getTraceId())
        .isEqualTo(s.getTraceId());
    assertThat(c.getParentSpanId()).isEqualTo(root.getSpanContext().getSpanId());
    assertThat(s.getParentSpanId()).isEqualTo(c.getSpanId());
    assertThat(s.getParentSpanContext().isRemote()).isTrue();
    for (SpanData d : List.of(c, s)) {
      assertThat(d.getAttributes().get(SYSTEM)).isEqualTo("courier");
      assertThat(d.getAttributes().get(SERVICE)).isEqualTo("test.Greeter");
      assertThat(d.getAttributes().get(METHOD)).isEqualTo("greet");
      assertThat(d.getAttributes().get(SERVER_ADDRESS)).isEqualTo("127.0.0.1");
      assertThat(d.getAttributes().get(SERVER_PORT)).isEqualTo((long) back.port());
      assertThat(d.getAttributes().get(COURIER_STATUS)).isZero();
      assertThat(d.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }
    assertThat(s.getAttributes().get(PEER_ADDRESS)).isEqualTo("127.0.0.1");
    assertThat(s.getAttributes().get(PEER_PORT)).isPositive();
  }

  @Test
  void asyncCourierCallEndsItsSpansWhenTheFutureCompletes() throws Exception {
    Greeter g = backClient.stub(Greeter.class);
    assertThat(g.greetLater("bo").get(5, TimeUnit.SECONDS)).isEqualTo("later bo");
    List<SpanData> spans = awaitSpans(2);
    SpanData c = only(spans, SpanKind.CLIENT, "test.Greeter/greetLater");
    SpanData s = only(spans, SpanKind.SERVER, "test.Greeter/greetLater");
    assertThat(s.getTraceId()).isEqualTo(c.getTraceId());
    assertThat(s.getParentSpanId()).isEqualTo(c.getSpanId());
    assertThat(c.getParentSpanContext().isValid()).isFalse(); // no span was current: a new trace
  }

  @Test
  void oneWayCallEndsBothSpansOk() throws Exception {
    backClient.stub(Greeter.class).note("n1");
    assertThat(GreeterImpl.notes.poll(5, TimeUnit.SECONDS)).isEqualTo("n1");
    List<SpanData> spans = awaitSpans(2);
    SpanData c = only(spans, SpanKind.CLIENT, "test.Greeter/note");
    SpanData s = only(spans, SpanKind.SERVER, "test.Greeter/note");
    assertThat(s.getParentSpanId()).isEqualTo(c.getSpanId());
    assertThat(List.of(c, s)).allMatch(d -> d.getAttributes().get(COURIER_STATUS) == 0L
        && d.getStatus().getStatusCode() == StatusCode.UNSET);
  }

  @Test
  void deadlineExceededIsAnErrorOnBothSides() throws Exception {
    Greeter g = backClient.stub(Greeter.class);
    try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(50))) {
      assertThatThrownBy(() -> g.slow(300)).isInstanceOfSatisfying(RpcException.class,
          e -> assertThat(e.reason()).isEqualTo(ErrorReason.DEADLINE_EXCEEDED));
    }
    List<SpanData> spans = awaitSpans(2);
    for (SpanKind kind : List.of(SpanKind.CLIENT, SpanKind.SERVER)) {
      SpanData d = only(spans, kind, "test.Greeter/slow");
      assertThat(d.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
      assertThat(d.getAttributes().get(COURIER_STATUS)).isEqualTo(4L);
      assertThat(d.getAttributes().get(ERROR_TYPE)).isEqualTo("DEADLINE_EXCEEDED");
    }
  }

  @Test
  void failedCallSetsErrorStatusOnBothSides() throws Exception {
    Greeter g = backClient.stub(Greeter.class);
    assertThatThrownBy(() -> g.fail("broken")).isInstanceOf(RpcException.class);
    List<SpanData> spans = awaitSpans(2);
    SpanData c = only(spans, SpanKind.CLIENT, "test.Greeter/fail");
    SpanData s = only(spans, SpanKind.SERVER, "test.Greeter/fail");
    for (SpanData d : List.of(c, s)) {
      assertThat(d.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
      assertThat(d.getAttributes().get(COURIER_STATUS)).isEqualTo(2L); // UNKNOWN
      assertThat(d.getAttributes().get(ERROR_TYPE)).isEqualTo("java.lang.IllegalStateException");
      assertThat(d.getEvents()).anyMatch(e -> e.getName().equals("exception"));
    }
    assertThat(s.getEvents().get(0).getAttributes()
        .get(AttributeKey.stringKey("exception.message"))).isEqualTo("broken");
  }

  @Test
  void aFailsafeCallsSwallowedFailureIsInItsSpan() throws Exception {
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + back.port())
        .clusterPolicy(Greeter.class, "fail", ClusterPolicy.failsafe())
        .tracing(tracing).build()) {
      assertThat(c.stub(Greeter.class).fail("quiet")).isNull();
      SpanData client = only(awaitSpans(2), SpanKind.CLIENT, "test.Greeter/fail");
      assertThat(client.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
      assertThat(client.getAttributes().get(ERROR_TYPE))
          .isEqualTo("java.lang.IllegalStateException");
    }
  }

  @Test
  void nestedCallsMakeOneTraceOfFourSpans() throws Exception {
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + front.port())
        .tracing(tracing).build()) {
      assertThat(c.stub(Front.class).relay("cy")).isEqualTo("hello cy");
      assertTree(awaitSpans(4), "relay", "greet");
    }
  }

  @Test
  void nestedAsyncCallsMakeOneTraceOfFourSpans() throws Exception {
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + front.port())
        .tracing(tracing).build()) {
      assertThat(c.stub(Front.class).relayLater("di").get(5, TimeUnit.SECONDS))
          .isEqualTo("later di");
      List<SpanData> spans = awaitSpans(4);
      assertTree(spans, "relayLater", "greetLater");
      // the server span of an async method ends when its future completes, after its child
      SpanData frontServer = only(spans, SpanKind.SERVER, "test.Front/relayLater");
      SpanData backClientSpan = only(spans, SpanKind.CLIENT, "test.Greeter/greetLater");
      assertThat(frontServer.getEndEpochNanos())
          .isGreaterThanOrEqualTo(backClientSpan.getEndEpochNanos());
    }
  }

  @Test
  void aHedgedCopySentFromTheTimerCarriesTheCallsContext() throws Exception {
    CountDownLatch bothArrived = new CountDownLatch(2);
    CourierServer[] pair = new CourierServer[2];
    for (int i = 0; i < 2; i++) {
      String name = "server " + i;
      pair[i] = CourierServer.builder().host("127.0.0.1").port(0).tracing(tracing)
          .service(Pair.class, () -> {
            bothArrived.countDown();
            try {
              bothArrived.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return name;
          }).build().start();
    }
    try (CourierClient c = CourierClient.builder()
        .addresses("127.0.0.1:" + pair[0].port(), "127.0.0.1:" + pair[1].port())
        .clusterPolicy(ClusterPolicy.hedged(Duration.ofMillis(20), 2))
        .tracing(tracing).build()) {
      assertThat(c.stub(Pair.class).who()).startsWith("server ");
      // the second copy left from the hedging timer, once the first had waited 20 ms
      List<SpanData> spans = awaitSpans(3);
      SpanData client = only(spans, SpanKind.CLIENT, "test.Pair/who");
      List<SpanData> servers = spans.stream().filter(d -> d.getKind() == SpanKind.SERVER)
          .toList();
      assertThat(servers).hasSize(2)
          .allMatch(d -> d.getParentSpanId().equals(client.getSpanId()))
          .extracting(d -> d.getAttributes().get(SERVER_PORT))
          .containsExactlyInAnyOrder((long) pair[0].port(), (long) pair[1].port());
    } finally {
      pair[0].close();
      pair[1].close();
    }
  }

  private static void assertTree(List<SpanData> spans, String frontMethod, String backMethod) {
    SpanData c1 = only(spans, SpanKind.CLIENT, "test.Front/" + frontMethod);
    SpanData s1 = only(spans, SpanKind.SERVER, "test.Front/" + frontMethod);
    SpanData c2 = only(spans, SpanKind.CLIENT, "test.Greeter/" + backMethod);
    SpanData s2 = only(spans, SpanKind.SERVER, "test.Greeter/" + backMethod);
    assertThat(List.of(s1, c2, s2)).allMatch(s -> s.getTraceId().equals(c1.getTraceId()));
    assertThat(s1.getParentSpanId()).isEqualTo(c1.getSpanId());
    assertThat(c2.getParentSpanId()).isEqualTo(s1.getSpanId());
    assertThat(s2.getParentSpanId()).isEqualTo(c2.getSpanId());
    assertThat(c2.getAttributes().get(SERVER_PORT)).isEqualTo((long) back.port());
  }

  /** Collects a stream's messages and its end. */
  static final class Collector<T> implements StreamObserver<T> {
    final List<T> items = new java.util.concurrent.CopyOnWriteArrayList<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();

    @Override
    public void onNext(T value) {
      items.add(value);
    }

    @Override
    public void onError(Throwable error) {
      done.completeExceptionally(error);
    }

    @Override
    public void onCompleted() {
      done.complete(null);
    }
  }

  @Test
  void courierServerStreamIsOneSpanEachSide() throws Exception {
    Collector<String> out = new Collector<>();
    backClient.stub(Greeter.class).count(3, out);
    out.done.get(5, TimeUnit.SECONDS);
    assertThat(out.items).hasSize(3);
    List<SpanData> spans = awaitSpans(2);
    SpanData c = only(spans, SpanKind.CLIENT, "test.Greeter/count");
    SpanData s = only(spans, SpanKind.SERVER, "test.Greeter/count");
    assertThat(s.getTraceId()).isEqualTo(c.getTraceId());
    assertThat(s.getParentSpanId()).isEqualTo(c.getSpanId());
    assertThat(c.getAttributes().get(COURIER_STATUS)).isZero();
    assertThat(s.getAttributes().get(COURIER_STATUS)).isZero();
  }

  @Test
  void callsFromAStreamsRequestObserverAreChildrenOfTheStream() throws Exception {
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + front.port())
        .tracing(tracing).build()) {
      Collector<String> out = new Collector<>();
      StreamObserver<String> in = c.stub(Front.class).relayEach(out);
      in.onNext("gus");
      in.onNext("hal");
      in.onCompleted();
      out.done.get(5, TimeUnit.SECONDS);
      assertThat(out.items).containsExactly("hello gus", "hello hal");
      List<SpanData> spans = awaitSpans(6);
      SpanData c1 = only(spans, SpanKind.CLIENT, "test.Front/relayEach");
      SpanData s1 = only(spans, SpanKind.SERVER, "test.Front/relayEach");
      assertThat(s1.getParentSpanId()).isEqualTo(c1.getSpanId());
      List<SpanData> greets = spans.stream()
          .filter(d -> d.getName().equals("test.Greeter/greet")).toList();
      assertThat(greets).hasSize(4).allMatch(d -> d.getTraceId().equals(c1.getTraceId()));
      assertThat(greets.stream().filter(d -> d.getKind() == SpanKind.CLIENT))
          .hasSize(2).allMatch(d -> d.getParentSpanId().equals(s1.getSpanId()));
    }
  }

  @Test
  void grpcServerStreamIsOneSpanEachSide() throws Exception {
    try (GrpcClient g = GrpcClient.builder().address("127.0.0.1:" + back.port())
        .tracing(tracing).build()) {
      Collector<StringValue> out = new Collector<>();
      g.stub(Echo.class).thrice(StringValue.of("z"), out);
      out.done.get(5, TimeUnit.SECONDS);
      assertThat(out.items).hasSize(3);
      List<SpanData> spans = awaitSpans(2);
      SpanData c = only(spans, SpanKind.CLIENT, "test.Echo/Thrice");
      SpanData s = only(spans, SpanKind.SERVER, "test.Echo/Thrice");
      assertThat(s.getParentSpanId()).isEqualTo(c.getSpanId());
      assertThat(s.getAttributes().get(GRPC_STATUS)).isZero();
    }
  }

  @Test
  void grpcCallHasClientAndServerSpans() throws Exception {
    try (GrpcClient g = GrpcClient.builder().address("127.0.0.1:" + back.port())
        .tracing(tracing).build()) {
      Echo echo = g.stub(Echo.class);
      assertThat(echo.echo(StringValue.of("x")).getValue()).isEqualTo("echo x");
      List<SpanData> spans = awaitSpans(2);
      SpanData c = only(spans, SpanKind.CLIENT, "test.Echo/Echo");
      SpanData s = only(spans, SpanKind.SERVER, "test.Echo/Echo");
      assertThat(s.getTraceId()).isEqualTo(c.getTraceId());
      assertThat(s.getParentSpanId()).isEqualTo(c.getSpanId());
      for (SpanData d : List.of(c, s)) {
        assertThat(d.getAttributes().get(SYSTEM)).isEqualTo("grpc");
        assertThat(d.getAttributes().get(SERVICE)).isEqualTo("test.Echo");
        assertThat(d.getAttributes().get(METHOD)).isEqualTo("Echo");
        assertThat(d.getAttributes().get(GRPC_STATUS)).isZero();
        assertThat(d.getAttributes().get(SERVER_PORT)).isEqualTo((long) back.port());
      }
    }
  }

  @Test
  void grpcNotFoundIsAnErrorForTheClientOnly() throws Exception {
    try (GrpcClient g = GrpcClient.builder().address("127.0.0.1:" + back.port())
        .tracing(tracing).build()) {
      Echo echo = g.stub(Echo.class);
      assertThatThrownBy(() -> echo.missing(StringValue.of("y")))
          .isInstanceOfSatisfying(RpcException.class, e ->
              assertThat(e.status().code()).isEqualTo(io.courier.Status.Code.NOT_FOUND));
      List<SpanData> spans = awaitSpans(2);
      SpanData c = only(spans, SpanKind.CLIENT, "test.Echo/Missing");
      SpanData s = only(spans, SpanKind.SERVER, "test.Echo/Missing");
      assertThat(c.getAttributes().get(GRPC_STATUS)).isEqualTo(5L);
      assertThat(s.getAttributes().get(GRPC_STATUS)).isEqualTo(5L);
      assertThat(c.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
      assertThat(c.getAttributes().get(ERROR_TYPE)).isEqualTo("NOT_FOUND");
      // the conventions: NOT_FOUND is the caller's problem, not the server's
      assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }
  }

  @Test
  void httpJsonContinuesAnIncomingTraceparent() throws Exception {
    String traceId = "0af7651916cd43dd8448eb211c80319c";
    String parentId = "b7ad6b7169203331";
    String body = "[\"eve\"]";
    String request = "POST /test.Greeter/greet HTTP/1.1\r\nHost: localhost\r\n"
        + "content-type: application/json\r\ntraceparent: 00-" + traceId + "-" + parentId
        + "-01\r\ncontent-length: " + body.length() + "\r\n\r\n" + body;
    String answer;
    try (Socket s = new Socket("127.0.0.1", back.port())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      answer = readUntil(s.getInputStream(), "\"hello eve\"");
    }
    assertThat(answer).startsWith("HTTP/1.1 200").contains("\"hello eve\"");
    List<SpanData> spans = awaitSpans(1);
    SpanData s = only(spans, SpanKind.SERVER, "test.Greeter/greet");
    assertThat(s.getTraceId()).isEqualTo(traceId);
    assertThat(s.getParentSpanId()).isEqualTo(parentId);
    assertThat(s.getParentSpanContext().isRemote()).isTrue();
    assertThat(s.getAttributes().get(SYSTEM)).isEqualTo("courier_http");
    assertThat(s.getAttributes().get(METHOD)).isEqualTo("greet");
    assertThat(s.getAttributes().get(COURIER_STATUS)).isZero();
  }

  @Test
  void malformedTraceparentIsIgnored() throws Exception {
    String body = "[\"ida\"]";
    String request = "POST /test.Greeter/greet HTTP/1.1\r\nHost: localhost\r\n"
        + "content-type: application/json\r\ntraceparent: 00-not-a-trace-01\r\n"
        + "content-length: " + body.length() + "\r\n\r\n" + body;
    String answer;
    try (Socket s = new Socket("127.0.0.1", back.port())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      answer = readUntil(s.getInputStream(), "\"hello ida\"");
    }
    assertThat(answer).startsWith("HTTP/1.1 200");
    SpanData s = only(awaitSpans(1), SpanKind.SERVER, "test.Greeter/greet");
    assertThat(s.getParentSpanContext().isValid()).isFalse();
    assertThat(s.getSpanContext().isValid()).isTrue();
  }

  @Test
  void httpJsonWithoutTraceparentStartsANewTrace() throws Exception {
    String body = "[\"fay\"]";
    String request = "POST /test.Greeter/fail HTTP/1.1\r\nHost: localhost\r\n"
        + "content-type: application/json\r\ncontent-length: " + body.length() + "\r\n\r\n"
        + body;
    String answer;
    try (Socket s = new Socket("127.0.0.1", back.port())) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      answer = readUntil(s.getInputStream(), "}");
    }
    assertThat(answer).startsWith("HTTP/1.1 500");
    SpanData s = only(awaitSpans(1), SpanKind.SERVER, "test.Greeter/fail");
    assertThat(s.getParentSpanContext().isValid()).isFalse();
    assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(s.getAttributes().get(ERROR_TYPE)).isEqualTo("java.lang.IllegalStateException");
  }

  @Test
  void withoutTracingTheFrameCarriesNoMetadata() throws Exception {
    byte[] header = firstFrameHeader(false);
    assertThat(header[20] << 8 | header[21] & 0xFF).isZero();
  }

  @Test
  void withTracingTheFrameCarriesTraceparent() throws Exception {
    byte[] frame = firstFrameHeader(true);
    int metadataLength = (frame[20] & 0xFF) << 8 | frame[21] & 0xFF;
    assertThat(metadataLength).isPositive();
    String metadata = new String(frame, 26, metadataLength, StandardCharsets.ISO_8859_1);
    SpanData c = only(awaitSpans(1), SpanKind.CLIENT, "test.Greeter/greetLater");
    // one entry: key length, key, value length, value (protocol.md, "Metadata block")
    String value = "00-" + c.getTraceId() + "-" + c.getSpanId() + "-" + c.getSpanContext()
        .getTraceFlags().asHex();
    assertThat(metadataLength).isEqualTo(1 + "traceparent".length() + 2 + value.length());
    assertThat(metadata).isEqualTo((char) 11 + "traceparent" + (char) 0 + (char) value.length()
        + value);
    assertThat(c.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
  }

  /**
   * Reads the first frame a client sends to a plain socket (its 26-byte header and metadata
   * block); the call itself fails when the socket closes.
   */
  private static byte[] firstFrameHeader(boolean traced) throws Exception {
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CourierClient.Builder b = CourierClient.builder().address("127.0.0.1:" + ss.getLocalPort())
          .timeout(Duration.ofSeconds(5));
      if (traced) {
        b.tracing(tracing);
      }
      try (CourierClient c = b.build()) {
        CompletableFuture<String> f = c.stub(Greeter.class).greetLater("raw");
        try (Socket s = ss.accept()) {
          s.setSoTimeout(5000);
          InputStream in = s.getInputStream();
          byte[] header = in.readNBytes(26);
          int metadataLength = (header[20] & 0xFF) << 8 | header[21] & 0xFF;
          byte[] all = new byte[26 + metadataLength];
          System.arraycopy(header, 0, all, 0, 26);
          System.arraycopy(in.readNBytes(metadataLength), 0, all, 26, metadataLength);
          s.close();
          assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(
              RpcException.class);
          return all;
        }
      }
    }
  }

  static String readUntil(InputStream in, String end) throws Exception {
    StringBuilder sb = new StringBuilder();
    byte[] buf = new byte[4096];
    while (sb.indexOf(end) < 0) {
      int n = in.read(buf);
      if (n < 0) {
        break;
      }
      sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
    }
    return sb.toString();
  }
}
