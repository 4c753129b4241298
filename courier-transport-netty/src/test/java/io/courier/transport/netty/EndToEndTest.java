package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.courier.CallContext;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorException;
import io.courier.testing.fixtures.CalculatorImpl;
import io.courier.testing.fixtures.Point;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Calls over real loopback sockets: every call shape, errors, deadlines. */
class EndToEndTest {

  static CalculatorImpl impl;
  static CourierServer server;
  static CourierClient client;
  static Calculator calc;

  @BeforeAll
  static void start() {
    impl = new CalculatorImpl();
    server = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Calculator.class, impl)
        .build().start();
    client = CourierClient.builder().address("127.0.0.1:" + server.port()).build();
    calc = client.stub(Calculator.class);
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void synchronousCall() {
    assertThat(calc.add(1, 2)).isEqualTo(3);
    assertThat(calc.echo("héllo")).isEqualTo("héllo");
    assertThat(calc.move(new Point(1, 2), 10, 20)).isEqualTo(new Point(11, 22));
    assertThat(calc.points(3)).containsExactly(new Point(0, 0), new Point(1, -1),
        new Point(2, -2));
    assertThat(calc.echo(null)).isNull();
  }

  @Test
  void asynchronousCall() throws Exception {
    CompletableFuture<Integer> f = calc.addAsync(20, 22);
    assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo(42);
    assertThat(calc.delayedEcho("later", 50).get(5, TimeUnit.SECONDS)).isEqualTo("later");
  }

  /** A service whose method refuses with a status of its own choosing. */
  @io.courier.annotation.ServiceName("test.Vault")
  public interface Vault {
    String open(String who);
  }

  @Test
  void aStatusThrownByTheMethodReachesTheCallerAsItIs() {
    CourierServer vaultServer = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Vault.class, who -> {
          throw new io.courier.RpcException(io.courier.Status.Code.PERMISSION_DENIED.toStatus()
              .withDescription(who + " may not open the vault"));
        })
        .build().start();
    try (CourierClient c = CourierClient.builder()
        .address("127.0.0.1:" + vaultServer.port()).build()) {
      assertThatThrownBy(() -> c.stub(Vault.class).open("mallory"))
          .isInstanceOfSatisfying(io.courier.RpcException.class, e -> {
            assertThat(e.status().code()).isEqualTo(io.courier.Status.Code.PERMISSION_DENIED);
            assertThat(e.status().description()).isEqualTo("mallory may not open the vault");
          });
    } finally {
      vaultServer.close();
    }
  }

  @Test
  void oneWayCallRunsWithoutAnswer() throws Exception {
    calc.record("fire-and-forget");
    assertThat(impl.events.poll(5, TimeUnit.SECONDS)).isEqualTo("fire-and-forget");
  }

  @Test
  void largePayloadRoundTrips() {
    byte[] big = new byte[3 << 20];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    assertThat(calc.echoBytes(big)).isEqualTo(big);
  }

  @Test
  void declaredCheckedExceptionIsRethrownAsItself() {
    assertThatThrownBy(() -> calc.divide(1, 0))
        .isInstanceOf(CalculatorException.class)
        .hasMessage("division by zero: 1 / 0");
  }

  @Test
  void remoteExceptionCarriesClassAndMessage() {
    RpcException e = catchThrowableOfType(() -> calc.fail("broken on purpose"),
        RpcException.class);
    assertThat(e.status().code()).isEqualTo(Status.Code.UNKNOWN);
    assertThat(e.reason()).isEqualTo(ErrorReason.APPLICATION_ERROR);
    assertThat(e.remoteClassName()).isEqualTo(IllegalStateException.class.getName());
    assertThat(e.status().description()).contains("broken on purpose");
    assertThat(e.endpoint()).isEqualTo("127.0.0.1:" + server.port());
    assertThat(e.attempt()).isEqualTo(1);
    assertThat(e.timings()).isNotNull();
    assertThat(e.timings().serverExecMicros()).isGreaterThanOrEqualTo(0);
    assertThat(e.remoteStack()).isNull();
  }

  @Test
  void remoteStackIsSentOnlyWhenEnabled() {
    try (CourierServer s = CourierServer.builder().host("127.0.0.1").sendRemoteStack(true)
        .service(Calculator.class, new CalculatorImpl()).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      RpcException e = catchThrowableOfType(() -> c.stub(Calculator.class).fail("x"),
          RpcException.class);
      assertThat(e.remoteStack()).contains("CalculatorImpl.fail");
    }
  }

  @Test
  void asyncDeadlineCompletesTheFutureExceptionally() {
    CompletableFuture<String> f;
    try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(100))) {
      f = calc.delayedEcho("x", 2_000);
    }
    ExecutionException e = catchThrowableOfType(() -> f.get(5, TimeUnit.SECONDS),
        ExecutionException.class);
    assertThat(e.getCause()).isInstanceOf(RpcException.class);
    assertThat(((RpcException) e.getCause()).status().code())
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
  }

  @Test
  void cancellingAnAsyncCallTellsTheServer() throws Exception {
    CompletableFuture<String> f = calc.delayedEcho("never", 1_000);
    assertThat(f.cancel(true)).isTrue();
    assertThat(calc.add(1, 1)).isEqualTo(2); // the connection is fine afterwards
  }

  @Test
  void deadlineExceededSaysWhereTheTimeWent() {
    long start = System.nanoTime();
    RpcException e;
    try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(150))) {
      e = catchThrowableOfType(() -> calc.sleep(1_000), RpcException.class);
    }
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(e.status().code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(tookMillis).isLessThan(900);
    assertThat(e.getMessage()).containsPattern("deadline of 1[45]\\d ms exceeded");
    assertThat(e.getMessage()).contains("Calculator.sleep(long)",
        "time spent", "encode", "wait for answer", "endpoint 127.0.0.1:");
    assertThat(e.timings().encodeMicros()).isGreaterThanOrEqualTo(0);
    assertThat(e.timings().waitMicros()).isEqualTo(-1); // no answer came
  }

  @Test
  void deadlineTravelsIntoTheServiceMethod() {
    long remaining;
    try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(2_000))) {
      remaining = calc.remainingMillis();
    }
    assertThat(remaining).isBetween(1_000L, 2_000L);
    // without a scope, the client's default timeout (5 s) is sent
    assertThat(calc.remainingMillis()).isBetween(3_000L, 5_000L);
  }

  @Test
  void callsWithoutTimeoutSendNoDeadline() {
    try (CourierClient noTimeout = CourierClient.builder()
        .address("127.0.0.1:" + server.port()).timeout(Duration.ZERO).build()) {
      assertThat(noTimeout.stub(Calculator.class).remainingMillis()).isEqualTo(-1);
    }
  }

  /** A newer client's view of the service, with a method the server does not have. */
  @ServiceName("test.Calculator")
  public interface CalculatorV2 {
    int add(int a, int b);

    int multiply(int a, int b);
  }

  @Test
  void unknownMethodIsUnimplementedNamingTheMethod() {
    CalculatorV2 v2 = client.stub(CalculatorV2.class);
    assertThat(v2.add(2, 3)).isEqualTo(5); // same call ID as Calculator.add
    RpcException e = catchThrowableOfType(() -> v2.multiply(2, 3), RpcException.class);
    assertThat(e.status().code()).isEqualTo(Status.Code.UNIMPLEMENTED);
    assertThat(e.reason()).isEqualTo(ErrorReason.UNKNOWN_METHOD);
    assertThat(e.getMessage()).contains("CalculatorV2.multiply(int,int)",
        "test.Calculator/multiply(int,int)", "is not served by", "services: test.Calculator");
  }

  @Test
  void serializerTheServiceDidNotEnableIsRefused() {
    try (CourierClient json = CourierClient.builder().address("127.0.0.1:" + server.port())
        .serializer("json").build()) {
      RpcException e = catchThrowableOfType(() -> json.stub(Calculator.class).add(1, 2),
          RpcException.class);
      assertThat(e.status().code()).isEqualTo(Status.Code.UNIMPLEMENTED);
      assertThat(e.reason()).isEqualTo(ErrorReason.SERIALIZER_UNSUPPORTED);
      assertThat(e.getMessage()).contains("serializer id 3", "enabled: fory=1");
    }
    assertThat(calc.add(1, 1)).isEqualTo(2);
  }

  @Test
  void aServiceMayAcceptSeveralSerializers() {
    CalculatorImpl other = new CalculatorImpl();
    try (CourierServer s = CourierServer.builder().host("127.0.0.1")
        .service(Calculator.class, other, "json", "fory").build().start()) {
      for (String ser : List.of("json", "fory")) {
        try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
            .serializer(ser).build()) {
          Calculator k = c.stub(Calculator.class);
          assertThat(k.move(new Point(1, 1), 1, 1)).as(ser).isEqualTo(new Point(2, 2));
          assertThat(k.points(2)).as(ser).containsExactly(new Point(0, 0), new Point(1, -1));
          assertThat(k.add(40, 2)).as(ser).isEqualTo(42);
        }
      }
    }
  }

  @Test
  void everyCompressorRoundTripsLargeBodies() {
    String text = "courier ".repeat(20_000);
    for (String comp : List.of("gzip", "lz4", "zstd")) {
      try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + server.port())
          .compression(comp).build()) {
        assertThat(c.stub(Calculator.class).echo(text)).as(comp).isEqualTo(text);
      }
    }
  }

  @Test
  void tooLargeRequestFailsFastOnTheClient() {
    try (CourierClient small = CourierClient.builder().address("127.0.0.1:" + server.port())
        .maxFrameBytes(1024).build()) {
      RpcException e = catchThrowableOfType(
          () -> small.stub(Calculator.class).echoBytes(new byte[4096]), RpcException.class);
      assertThat(e.status().code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(e.reason()).isEqualTo(ErrorReason.PAYLOAD_TOO_LARGE);
      assertThat(e.getMessage()).contains("above the frame limit of 1024 bytes");
    }
  }

  @Test
  void tooLargeAnswerIsRefusedByTheClientAndTheConnectionSurvives() {
    try (CourierClient small = CourierClient.builder().address("127.0.0.1:" + server.port())
        .maxFrameBytes(64 * 1024).build()) {
      Calculator k = small.stub(Calculator.class);
      RpcException e = catchThrowableOfType(() -> k.points(20_000), RpcException.class);
      assertThat(e.reason()).isEqualTo(ErrorReason.PAYLOAD_TOO_LARGE);
      assertThat(k.add(1, 2)).isEqualTo(3);
    }
  }

  @Test
  void tooLargeRequestIsRefusedByTheServerOnItsId() {
    try (CourierServer s = CourierServer.builder().host("127.0.0.1").maxFrameBytes(1024)
        .service(Calculator.class, new CalculatorImpl()).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calculator k = c.stub(Calculator.class);
      RpcException e = catchThrowableOfType(() -> k.echoBytes(new byte[4096]),
          RpcException.class);
      assertThat(e.status().code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(e.getMessage()).contains("exceeds the limit of 1024 bytes");
      assertThat(k.add(2, 2)).isEqualTo(4); // same connection, still good
      assertThat(s.counters().connectionsAccepted()).isEqualTo(1);
    }
  }

  @Test
  void disallowedClassIsRefusedByTheServer() {
    try (CourierClient lax = CourierClient.builder().address("127.0.0.1:" + server.port())
        .allowTypes(Canary.class).build()) {
      RpcException e = catchThrowableOfType(() -> lax.stub(Calculator.class).describe(
          new Canary()), RpcException.class);
      assertThat(e.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.reason()).as(e.getMessage()).isEqualTo(ErrorReason.SERIALIZATION_REJECTED);
      assertThat(e.getMessage()).contains(Canary.class.getName(), "not on the serialization");
      assertThat(e.timings().serverExecMicros()).isGreaterThanOrEqualTo(0); // the server said it
    }
    assertThat(calc.describe("a string")).isEqualTo("java.lang.String");
  }

  @Test
  void disallowedClassIsNotEvenSentByTheClient() {
    RpcException e = catchThrowableOfType(() -> calc.describe(new Canary()), RpcException.class);
    assertThat(e.reason()).isEqualTo(ErrorReason.SERIALIZATION_REJECTED);
    assertThat(e.getMessage()).contains("cannot encode the arguments of Calculator.describe");
    assertThat(e.timings().waitMicros()).isEqualTo(-1); // never sent
  }

  @Test
  void aResultOfADisallowedClassIsRefusedByTheClient() {
    // the default server will not even encode it
    RpcException e = catchThrowableOfType(() -> calc.surprise(), RpcException.class);
    assertThat(e.reason()).isEqualTo(ErrorReason.BAD_RESULT);
    assertThat(e.getMessage()).contains("cannot encode the result of Calculator.surprise()",
        CalculatorImpl.Surprise.class.getName());
    // a server that allows it sends it; the client refuses to decode it
    try (CourierServer lax = CourierServer.builder().host("127.0.0.1")
        .allowTypes(CalculatorImpl.Surprise.class)
        .service(Calculator.class, new CalculatorImpl()).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + lax.port()).build()) {
      RpcException r = catchThrowableOfType(() -> c.stub(Calculator.class).surprise(),
          RpcException.class);
      assertThat(r.status().code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(r.reason()).isEqualTo(ErrorReason.SERIALIZATION_REJECTED);
      assertThat(r.getMessage()).contains("cannot decode the result of Calculator.surprise()",
          CalculatorImpl.Surprise.class.getName());
    }
  }

  @Test
  void theServerClampsDeadlinesToItsMaximum() {
    try (CourierServer s = CourierServer.builder().host("127.0.0.1")
        .maxTimeout(Duration.ofMillis(300))
        .service(Calculator.class, new CalculatorImpl()).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
            .timeout(Duration.ofSeconds(30)).build()) {
      Calculator k = c.stub(Calculator.class);
      assertThat(k.remainingMillis()).isBetween(0L, 300L);
      long start = System.nanoTime();
      RpcException e = catchThrowableOfType(() -> k.sleep(1_000), RpcException.class);
      assertThat(e.status().code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(e.getMessage()).contains("exceeded the server's maximum timeout");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
    }
  }

  /** Not reachable from Calculator's signatures, so never allowed on the server. */
  public static final class Canary {
    public int value = 7;
  }

  @Test
  void methodsRunOnTheExecutorOrOnTheEventLoopWhenNonBlocking() {
    assertThat(calc.threadName()).startsWith("courier-server-");
    assertThat(calc.threadName()).doesNotStartWith("courier-server-io");
    assertThat(calc.eventLoopThreadName()).startsWith("courier-server-io");
  }

  @Test
  void methodTableIsListed() {
    assertThat(server.services()).hasSize(1);
    assertThat(server.describe()).contains("service test.Calculator",
        "test.Calculator/add(int,int) -> int [SYNC]",
        "test.Calculator/record(java.lang.String) -> void [ONE_WAY]",
        "test.Calculator/addAsync(int,int) -> java.lang.Integer [ASYNC]");
  }
}
