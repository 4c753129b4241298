package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.StringValue;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.MaxConcurrentCalls;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.server.CourierServer;
import io.courier.testing.LeakDetectionExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Overload protection with real servers and clients on loopback: per-method limits on the three
 * protocols, the adaptive limit's refusals, and the client's answer to them (failover within the
 * retry budget, a typed error without it, and a refused call that never ran).
 */
@ExtendWith(LeakDetectionExtension.class)
class OverloadTest {

  /** Methods that block until the test opens the valve, and count their runs by call name. */
  @ServiceName("test.Valve")
  public interface Valve {
    String hold(String name);

    @MaxConcurrentCalls(1)
    String annotated(String name);

    StringValue holdProto(StringValue name);

    String free(String name);
  }

  static final class ValveImpl implements Valve {
    final CountDownLatch open = new CountDownLatch(1);
    final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

    private String pass(String name) {
      runs.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
      try {
        open.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return name;
    }

    int runs(String name) {
      AtomicInteger n = runs.get(name);
      return n == null ? 0 : n.get();
    }

    @Override
    public String hold(String name) {
      return pass(name);
    }

    @Override
    public String annotated(String name) {
      return pass(name);
    }

    @Override
    public StringValue holdProto(StringValue name) {
      return StringValue.of(pass(name.getValue()));
    }

    @Override
    public String free(String name) {
      return name;
    }
  }

  private final ExecutorService callers = Executors.newCachedThreadPool();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    callers.shutdownNow();
  }

  private <T extends AutoCloseable> T closeLater(T c) {
    closing.add(c);
    return c;
  }

  private CourierServer start(CourierServer.Builder b) {
    CourierServer s = b.build().start();
    closing.add(s::close);
    return s;
  }

  private static CourierServer.Builder server(ValveImpl impl) {
    return CourierServer.builder().host("127.0.0.1").service(Valve.class, impl);
  }

  private Valve stub(CourierServer s) {
    return closeLater(CourierClient.builder().address("127.0.0.1:" + s.port()).build())
        .stub(Valve.class);
  }

  private CompletableFuture<String> inBackground(java.util.function.Supplier<String> call) {
    return CompletableFuture.supplyAsync(call, callers);
  }

  private static void awaitInFlight(CourierServer s, int calls) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (s.inFlightCalls() != calls && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(s.inFlightCalls()).isEqualTo(calls);
  }

  private static void assertShed(RpcException e, String... inMessage) {
    assertThat(e.status().code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.reason()).isEqualTo(ErrorReason.OVERLOADED);
    assertThat(e.isRetryable()).isTrue();
    assertThat(e.status().description()).contains(inMessage);
  }

  @Test
  void aMethodLimitShedsTheExcessAndOtherMethodsServeOn() throws Exception {
    ValveImpl impl = new ValveImpl();
    CourierServer s = start(server(impl).maxConcurrentCalls(Valve.class, "hold", 2));
    Valve v = stub(s);
    CompletableFuture<String> first = inBackground(() -> v.hold("first"));
    CompletableFuture<String> second = inBackground(() -> v.hold("second"));
    awaitInFlight(s, 2);

    RpcException e = catchThrowableOfType(() -> v.hold("third"), RpcException.class);
    assertShed(e, "too many calls of Valve.hold(String) in flight (limit 2 per server");
    assertThat(impl.runs("third")).isZero(); // refused before its arguments were decoded
    assertThat(v.free("other")).isEqualTo("other"); // the limit is the method's alone
    assertThat(s.callsShedByMethodLimits()).isEqualTo(1);

    impl.open.countDown();
    assertThat(first.get(5, TimeUnit.SECONDS)).isEqualTo("first");
    assertThat(second.get(5, TimeUnit.SECONDS)).isEqualTo("second");
    assertThat(v.hold("fourth")).isEqualTo("fourth"); // the places were given back
    awaitInFlight(s, 0);
  }

  @Test
  void theAnnotationSetsALimitAndTheBuilderOverridesIt() throws Exception {
    ValveImpl impl = new ValveImpl();
    CourierServer s = start(server(impl));
    Valve v = stub(s);
    CompletableFuture<String> held = inBackground(() -> v.annotated("held"));
    awaitInFlight(s, 1);
    assertShed(catchThrowableOfType(() -> v.annotated("refused"), RpcException.class),
        "Valve.annotated(String)", "limit 1 ");
    impl.open.countDown();
    assertThat(held.get(5, TimeUnit.SECONDS)).isEqualTo("held");

    ValveImpl impl2 = new ValveImpl();
    CourierServer s2 = start(server(impl2).maxConcurrentCalls(Valve.class, "annotated", 2));
    Valve v2 = stub(s2);
    CompletableFuture<String> a = inBackground(() -> v2.annotated("a"));
    CompletableFuture<String> b = inBackground(() -> v2.annotated("b"));
    awaitInFlight(s2, 2);
    assertShed(catchThrowableOfType(() -> v2.annotated("c"), RpcException.class), "limit 2 ");
    impl2.open.countDown();
    assertThat(a.get(5, TimeUnit.SECONDS)).isEqualTo("a");
    assertThat(b.get(5, TimeUnit.SECONDS)).isEqualTo("b");
  }

  @Test
  void aMethodLimitHoldsOnGrpcAndHttpJsonToo() throws Exception {
    ValveImpl impl = new ValveImpl();
    CourierServer s = start(server(impl).httpPort(0)
        .maxConcurrentCalls(Valve.class, "holdProto", 1)
        .maxConcurrentCalls(Valve.class, "hold", 1));
    String path = "/test.Valve/HoldProto";
    try (H2TestClient grpc = new H2TestClient(s.port())) {
      H2TestClient.Call held = grpc.start(H2TestClient.grpcHeaders(path), false)
          .data(H2TestClient.frame(StringValue.of("held").toByteArray(), false), true);
      awaitInFlight(s, 1);
      H2TestClient.Answer refused = grpc.unary(path, StringValue.of("refused").toByteArray());
      assertThat(refused.grpcStatus()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
      assertThat(refused.grpcMessage())
          .contains("too many calls of Valve.holdProto(StringValue) in flight (limit 1 ");

      // the HTTP/JSON call is refused by the limit of hold, held by a Courier-protocol call
      Valve v = stub(s);
      CompletableFuture<String> courier = inBackground(() -> v.hold("courier"));
      awaitInFlight(s, 2);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + s.httpPort() + "/test.Valve/hold"))
          .header("content-type", "application/json")
          .POST(BodyPublishers.ofString("[\"http\"]")).build(), BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.body()).contains("\"RESOURCE_EXHAUSTED\"", "\"OVERLOADED\"",
          "too many calls of Valve.hold(String) in flight (limit 1 ");
      assertThat(impl.runs("refused") + impl.runs("http")).isZero();

      impl.open.countDown();
      assertThat(held.await().grpcStatus()).isZero();
      assertThat(courier.get(5, TimeUnit.SECONDS)).isEqualTo("courier");
      // both places are back: the same calls now pass on both protocols
      assertThat(grpc.unary(path, StringValue.of("again").toByteArray()).grpcStatus()).isZero();
      HttpResponse<String> ok = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + s.httpPort() + "/test.Valve/hold"))
          .header("content-type", "application/json")
          .POST(BodyPublishers.ofString("[\"http\"]")).build(), BodyHandlers.ofString());
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(s.callsShedByMethodLimits()).isEqualTo(2);
      awaitInFlight(s, 0); // an HTTP call leaves the count when its answer is written
    }
  }

  @Test
  void theAdaptiveLimitRefusesCallsBeyondItBeforeTheyRun() throws Exception {
    ValveImpl impl = new ValveImpl();
    CourierServer s = start(server(impl).adaptiveConcurrencyLimit(2, 2));
    assertThat(s.adaptiveConcurrencyLimit()).isEqualTo(2);
    Valve v = stub(s);
    CompletableFuture<String> a = inBackground(() -> v.hold("a"));
    CompletableFuture<String> b = inBackground(() -> v.hold("b"));
    awaitInFlight(s, 2);
    RpcException e = catchThrowableOfType(() -> v.free("c"), RpcException.class);
    assertShed(e, "server overloaded: adaptive concurrency limit of 2 calls in flight reached");
    assertThat(s.callsShedByAdaptiveLimit()).isEqualTo(1);
    impl.open.countDown();
    assertThat(a.get(5, TimeUnit.SECONDS)).isEqualTo("a");
    assertThat(b.get(5, TimeUnit.SECONDS)).isEqualTo("b");
    assertThat(v.free("d")).isEqualTo("d");
  }

  @Test
  void openStreamsCountAgainstTheirMethodsLimitButNotTheAdaptiveOne() throws Exception {
    StreamService.Impl impl = new StreamService.Impl();
    CourierServer s = start(CourierServer.builder().host("127.0.0.1")
        .service(StreamService.class, impl)
        .maxConcurrentCalls(StreamService.class, "finishLater", 1)
        .adaptiveConcurrencyLimit(1, 1));
    StreamService k = closeLater(CourierClient.builder().address("127.0.0.1:" + s.port())
        .build()).stub(StreamService.class);
    StreamingTest.Recorder<String> first = new StreamingTest.Recorder<>();
    k.finishLater("first", first);
    awaitInFlight(s, 1);
    StreamingTest.Recorder<String> second = new StreamingTest.Recorder<>();
    k.finishLater("second", second);
    assertShed(second.awaitError(), "StreamService.finishLater(String,StreamObserver)",
        "limit 1 ");
    assertThat(impl.open).doesNotContainKey("second");
    assertThat(k.ping(7)).isEqualTo(8); // the open stream takes no place under the adaptive limit

    impl.open.get("first").onCompleted();
    assertThat(first.done.await(5, TimeUnit.SECONDS)).isTrue();
    awaitInFlight(s, 0);
    StreamingTest.Recorder<String> third = new StreamingTest.Recorder<>();
    k.finishLater("third", third); // the first stream gave its place back when it ended
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!impl.open.containsKey("third") && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    impl.open.get("third").onCompleted();
    assertThat(third.done.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(third.error).isNull();
    assertThat(third.values).containsExactly("started");
  }

  @Test
  void withoutTheAdaptiveLimitTheServerHasNone() {
    CourierServer s = start(server(new ValveImpl()));
    assertThat(s.adaptiveConcurrencyLimit()).isZero();
  }

  /** Provider A is saturated (its only place for hold is taken); provider B is free. */
  private record Pair(ValveImpl a, CourierServer serverA, ValveImpl b, CourierServer serverB,
      CompletableFuture<String> occupant) {
    /** Lets the occupant finish, so that nothing is in flight when the test closes up. */
    void finish() throws Exception {
      a.open.countDown();
      assertThat(occupant.get(5, TimeUnit.SECONDS)).isEqualTo("occupant");
    }
  }

  private Pair saturatedAndFree() throws Exception {
    ValveImpl a = new ValveImpl();
    CourierServer sa = start(server(a).maxConcurrentCalls(Valve.class, "hold", 1));
    ValveImpl b = new ValveImpl();
    b.open.countDown();
    CourierServer sb = start(server(b));
    Valve other = stub(sa);
    CompletableFuture<String> occupant = inBackground(() -> other.hold("occupant"));
    awaitInFlight(sa, 1);
    return new Pair(a, sa, b, sb, occupant);
  }

  @Test
  void aShedCallFailsOverToAnotherProviderWithinTheBudgetAndRunsOnce() throws Exception {
    Pair p = saturatedAndFree();
    CourierClient client = closeLater(CourierClient.builder()
        .addresses("127.0.0.1:" + p.serverA.port(), "127.0.0.1:" + p.serverB.port())
        .loadBalancer(LoadBalancers.roundRobin()).warmup(Duration.ZERO)
        .retryBudget(0.5, 50).build());
    Valve v = client.stub(Valve.class); // hold is not idempotent
    for (int i = 0; i < 20; i++) {
      assertThat(v.hold("call-" + i)).isEqualTo("call-" + i);
    }
    assertThat(p.serverA.callsShedByMethodLimits()).isGreaterThanOrEqualTo(5);
    for (int i = 0; i < 20; i++) {
      assertThat(p.a.runs("call-" + i)).as("runs of call-%d on the saturated provider", i)
          .isZero();
      assertThat(p.b.runs("call-" + i)).as("runs of call-%d on the free provider", i)
          .isEqualTo(1);
    }
    p.finish();
  }

  @Test
  void theDefaultBalancerSendsLittleToAProviderThatSheds() throws Exception {
    Pair p = saturatedAndFree();
    CourierClient client = closeLater(CourierClient.builder()
        .addresses("127.0.0.1:" + p.serverA.port(), "127.0.0.1:" + p.serverB.port())
        .warmup(Duration.ZERO).retryBudget(0.5, 50).build());
    Valve v = client.stub(Valve.class);
    for (int i = 0; i < 50; i++) {
      assertThat(v.hold("call-" + i)).isEqualTo("call-" + i);
    }
    // A refusal comes back faster than any answer; were its latency taken as it is, the
    // saturated provider would look the fastest and get nearly every first attempt
    assertThat(p.serverA.callsShedByMethodLimits()).isLessThanOrEqualTo(3);
    p.finish();
  }

  @Test
  void withTheBudgetSpentAShedCallFailsWithTheTypedErrorAndRanNowhere() throws Exception {
    Pair p = saturatedAndFree();
    CourierClient client = closeLater(CourierClient.builder()
        .addresses("127.0.0.1:" + p.serverA.port(), "127.0.0.1:" + p.serverB.port())
        .loadBalancer(LoadBalancers.roundRobin()).warmup(Duration.ZERO)
        .retryBudget(0, 0).build());
    Valve v = client.stub(Valve.class);
    List<String> shed = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String name = "call-" + i;
      try {
        assertThat(v.hold(name)).isEqualTo(name);
        assertThat(p.b.runs(name)).isEqualTo(1);
      } catch (RpcException e) {
        assertShed(e, "limit 1 ");
        assertThat(e.endpoint()).isEqualTo("127.0.0.1:" + p.serverA.port());
        shed.add(name);
      }
    }
    assertThat(shed).hasSizeGreaterThanOrEqualTo(2); // round robin sends every other call to A
    for (String name : shed) {
      assertThat(p.a.runs(name) + p.b.runs(name)).as("runs of %s", name).isZero();
    }
    p.finish();
  }

  @Test
  void builderRefusesLimitsItCannotApply() {
    assertThatThrownBy(() -> server(new ValveImpl()).maxConcurrentCalls(Valve.class, "hold", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("max: 0 (expected: > 0)");
    assertThatThrownBy(() -> server(new ValveImpl())
        .maxConcurrentCalls(Valve.class, "nope", 3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxConcurrentCalls: test.Valve has no method nope (methods: annotated,"
            + " free, hold, holdProto)");
    assertThatThrownBy(() -> server(new ValveImpl())
        .maxConcurrentCalls(Runnable.class, "run", 3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.lang.Runnable is not a registered service");
    assertThatThrownBy(() -> server(new ValveImpl()).adaptiveConcurrencyLimit(0, 10))
        .hasMessage("min: 0 (expected: > 0)");
    assertThatThrownBy(() -> server(new ValveImpl()).adaptiveConcurrencyLimit(10, 5))
        .hasMessage("max: 5 (expected: >= min 10)");
  }
}
