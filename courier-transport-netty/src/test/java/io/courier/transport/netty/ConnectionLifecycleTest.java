package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.courier.CallContext;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Connections over time: shutdown, reconnect, heartbeats, queues, limits. */
class ConnectionLifecycleTest {

  private static CourierServer.Builder server(CalculatorImpl impl) {
    return CourierServer.builder().host("127.0.0.1").service(Calculator.class, impl);
  }

  private static void awaitInFlight(CourierServer s, int calls) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (s.inFlightCalls() < calls && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(s.inFlightCalls()).isEqualTo(calls);
  }

  @Test
  void gracefulShutdownFinishesCallsInFlightAndRefusesNewOnes() throws Exception {
    CalculatorImpl impl = new CalculatorImpl();
    CourierServer s = server(impl).build().start();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
        .reconnectBackoff(Duration.ofSeconds(5), Duration.ofSeconds(5)).build()) {
      Calculator k = c.stub(Calculator.class);
      List<CompletableFuture<String>> slow = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        slow.add(k.delayedEcho("slow-" + i, 300));
      }
      awaitInFlight(s, 20); // the requests are on the server
      s.shutdown();
      RpcException refused = catchThrowableOfType(() -> k.add(1, 2), RpcException.class);
      assertThat(refused.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(refused.isRetryable()).isTrue();
      for (int i = 0; i < 20; i++) {
        assertThat(slow.get(i).get(5, TimeUnit.SECONDS)).isEqualTo("slow-" + i);
      }
      assertThat(s.awaitTermination(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void drainTimeoutBoundsTheWait() throws Exception {
    CourierServer s = server(new CalculatorImpl()).build().start();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      CompletableFuture<String> stuck = c.stub(Calculator.class).delayedEcho("x", 3_000);
      awaitInFlight(s, 1);
      s.shutdown();
      long start = System.nanoTime();
      assertThat(s.awaitTermination(Duration.ofMillis(200))).isFalse();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
      RpcException e = (RpcException) catchThrowableOfType(() -> stuck.get(5, TimeUnit.SECONDS),
          java.util.concurrent.ExecutionException.class).getCause();
      assertThat(e.reason()).isEqualTo(ErrorReason.CONNECTION_CLOSED);
      assertThat(e.isRetryable()).isFalse(); // it may have run
    }
  }

  @Test
  void clientReconnectsAfterTheServerComesBack() throws Exception {
    CourierServer s = server(new CalculatorImpl()).build().start();
    int port = s.port();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + port)
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200)).build()) {
      Calculator k = c.stub(Calculator.class);
      assertThat(k.add(1, 2)).isEqualTo(3);
      s.close();
      RpcException down = catchThrowableOfType(() -> k.add(1, 2), RpcException.class);
      assertThat(down.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(down.reason()).isEqualTo(ErrorReason.CONNECT_FAILED);
      assertThat(down.getMessage()).contains("127.0.0.1:" + port);
      s = CourierServer.builder().host("127.0.0.1").port(port)
          .service(Calculator.class, new CalculatorImpl()).build().start();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      Integer result = null;
      while (result == null && System.nanoTime() < end) {
        try {
          result = k.add(2, 2);
        } catch (RpcException e) {
          assertThat(e.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
          Thread.sleep(20);
        }
      }
      assertThat(result).isEqualTo(4);
    } finally {
      s.close();
    }
  }

  @Test
  void connectionRefusedIsUnavailableNamingTheAddress() throws Exception {
    int port;
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = ss.getLocalPort();
    }
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + port).build()) {
      RpcException e = catchThrowableOfType(() -> c.stub(Calculator.class).add(1, 2),
          RpcException.class);
      assertThat(e.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.reason()).isEqualTo(ErrorReason.CONNECT_FAILED);
      assertThat(e.isRetryable()).isTrue();
      assertThat(e.getMessage()).contains("cannot connect to 127.0.0.1:" + port);
    }
  }

  @Test
  void heartbeatsKeepAnIdleConnectionOpen() throws Exception {
    try (CourierServer s = server(new CalculatorImpl()).idleTimeout(Duration.ofMillis(400))
        .build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
            .heartbeatInterval(Duration.ofMillis(100)).build()) {
      Calculator k = c.stub(Calculator.class);
      assertThat(k.add(1, 2)).isEqualTo(3);
      Thread.sleep(1_200);
      assertThat(k.add(1, 2)).isEqualTo(3);
      assertThat(s.counters().connectionsAccepted()).isEqualTo(1);
    }
  }

  @Test
  void withoutHeartbeatsTheServerClosesIdleConnections() throws Exception {
    try (CourierServer s = server(new CalculatorImpl()).idleTimeout(Duration.ofMillis(200))
        .build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
            .heartbeatInterval(Duration.ZERO).build()) {
      Calculator k = c.stub(Calculator.class);
      assertThat(k.add(1, 2)).isEqualTo(3);
      Thread.sleep(800);
      assertThat(s.counters().openConnections()).isZero();
      assertThat(k.add(1, 2)).isEqualTo(3); // a new connection
      assertThat(s.counters().connectionsAccepted()).isEqualTo(2);
    }
  }

  @Test
  void missedHeartbeatsCloseTheConnectionBeforeTheDeadline() throws Exception {
    // A peer that accepts and then never says a word (a stopped process, a black hole).
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        List<Socket> held = new ArrayList<>();
        try {
          while (true) {
            held.add(silent.accept());
          }
        } catch (Exception ignored) {
          // closed
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      try (CourierClient c = CourierClient.builder()
          .address("127.0.0.1:" + silent.getLocalPort())
          .heartbeatInterval(Duration.ofMillis(100)).timeout(Duration.ofSeconds(10)).build()) {
        long start = System.nanoTime();
        RpcException e = catchThrowableOfType(() -> c.stub(Calculator.class).add(1, 2),
            RpcException.class);
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(e.reason()).isEqualTo(ErrorReason.CONNECTION_CLOSED);
        assertThat(e.getMessage()).contains("3 heartbeats missed");
        assertThat(took).isLessThan(3_000);
      }
    }
  }

  @Test
  void serverSkipsCallsWhoseDeadlinePassedWhileQueued() throws Exception {
    CalculatorImpl impl = new CalculatorImpl();
    try (CourierServer s = server(impl).maxThreads(1).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calculator k = c.stub(Calculator.class);
      CompletableFuture<Void> blocker = CompletableFuture.runAsync(() -> k.sleep(400));
      awaitInFlight(s, 1); // the only thread is busy now
      try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(100))) {
        assertThatThrownBy(() -> k.sleep(1)).isInstanceOf(RpcException.class)
            .hasMessageContaining("DEADLINE_EXCEEDED");
      }
      blocker.get(5, TimeUnit.SECONDS);
      Thread.sleep(100);
      assertThat(impl.sleeps.get()).isEqualTo(1); // the queued call never ran
    }
  }

  @Test
  void fullExecutorAnswersOverloaded() throws Exception {
    try (CourierServer s = server(new CalculatorImpl()).maxThreads(1).queueCapacity(1)
        .build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calculator k = c.stub(Calculator.class);
      List<CompletableFuture<String>> busy = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        busy.add(CompletableFuture.supplyAsync(() -> k.sleep(300)));
      }
      awaitInFlight(s, 2); // one running, one queued
      RpcException e = catchThrowableOfType(() -> k.sleep(1), RpcException.class);
      assertThat(e.status().code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(e.reason()).isEqualTo(ErrorReason.OVERLOADED);
      assertThat(e.isRetryable()).isTrue();
      for (CompletableFuture<String> f : busy) {
        assertThat(f.get(5, TimeUnit.SECONDS)).isEqualTo("slept 300");
      }
    }
  }

  @Test
  void virtualThreadsAreOfferedOnlyWhereTheRuntimeHasThem() {
    if (Executors2.virtualThreadsAvailable()) {
      CalculatorImpl impl = new CalculatorImpl();
      try (CourierServer s = server(impl).virtualThreads().build().start();
          CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
        assertThat(c.stub(Calculator.class).add(1, 2)).isEqualTo(3);
      }
    } else {
      assertThatThrownBy(() -> CourierServer.builder().virtualThreads())
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("Java 21");
    }
  }

  @Test
  void severalConnectionsPerEndpointShareTheCalls() throws Exception {
    try (CourierServer s = server(new CalculatorImpl()).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
            .connectionsPerEndpoint(3).build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 30; i++) {
        assertThat(k.add(i, 1)).isEqualTo(i + 1);
      }
      assertThat(s.counters().connectionsAccepted()).isEqualTo(3);
    }
  }

  @Test
  void builderErrorsSayWhatIsExpected() {
    assertThatThrownBy(() -> CourierServer.builder().port(70000))
        .hasMessage("port: 70000 (expected: 0 to 65535)");
    assertThatThrownBy(() -> CourierServer.builder().build())
        .hasMessageContaining("no service registered");
    assertThatThrownBy(() -> CourierClient.builder().build())
        .hasMessageContaining("address is required");
    assertThatThrownBy(() -> CourierClient.builder().address("nohost").build())
        .hasMessage("address: nohost (expected: host:port)");
    assertThatThrownBy(() -> CourierClient.builder().serializer("java"))
        .hasMessageContaining("serializer: java (expected one of");
    assertThatThrownBy(() -> CourierServer.builder().service(Calculator.class, new CalculatorImpl(),
        "java")).hasMessageContaining("serializer: java");
  }
}
