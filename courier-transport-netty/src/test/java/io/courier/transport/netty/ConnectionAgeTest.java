package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Maximum connection age: connections are retired with GOAWAY, then cut after the grace. */
class ConnectionAgeTest {

  private static CourierServer.Builder server() {
    return CourierServer.builder().host("127.0.0.1")
        .service(Calculator.class, new CalculatorImpl());
  }

  @Test
  void agedConnectionsAreReplacedWithoutFailingACall() throws Exception {
    try (CourierServer s = server().maxConnectionAge(Duration.ofMillis(300)).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calculator k = c.stub(Calculator.class);
      AtomicInteger ok = new AtomicInteger();
      Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      List<Thread> callers = new ArrayList<>();
      for (int t = 0; t < 2; t++) { // synchronous callers, back to back
        int base = t * 1_000_000;
        callers.add(new Thread(() -> {
          for (int i = base; System.nanoTime() < end; i++) {
            try {
              assertThat(k.add(i, 1)).isEqualTo(i + 1);
              ok.incrementAndGet();
            } catch (Throwable e) {
              failures.add(e);
            }
          }
        }, "sync-caller-" + t));
      }
      callers.add(new Thread(() -> { // asynchronous callers: several calls in flight at once,
        int i = 0; //                     some of them still running when a GOAWAY comes
        while (System.nanoTime() < end) {
          List<CompletableFuture<?>> batch = new ArrayList<>();
          for (int j = 0; j < 8; j++, i++) {
            String word = "w" + i;
            batch.add(k.addAsync(i, 2).thenAccept(v -> assertThat(v).isGreaterThan(1)));
            batch.add(k.delayedEcho(word, 5 + j * 5).thenAccept(
                v -> assertThat(v).isEqualTo(word)));
          }
          for (CompletableFuture<?> f : batch) {
            try {
              f.get(10, TimeUnit.SECONDS);
              ok.incrementAndGet();
            } catch (ExecutionException e) {
              failures.add(e.getCause());
            } catch (Throwable e) {
              failures.add(e);
            }
          }
        }
      }, "async-caller"));
      callers.forEach(Thread::start);
      for (Thread t : callers) {
        t.join(TimeUnit.SECONDS.toMillis(30));
      }
      assertThat(failures).isEmpty();
      assertThat(ok.get()).isPositive();
      NettyServer.Counters counters = s.counters();
      // about one connection per 300 ms: the client really moved to new connections
      assertThat(counters.connectionsAged()).isGreaterThanOrEqualTo(4);
      assertThat(counters.connectionsAccepted()).isGreaterThanOrEqualTo(5);
      assertThat(counters.agedConnectionsClosed()).isZero(); // every aged one drained in time
    }
  }

  @Test
  void aCallOutlivingTheGraceFailsAndTheServerStaysUp() throws Exception {
    try (CourierServer s = server().maxConnectionAge(Duration.ofMillis(200))
        .maxConnectionAgeGrace(Duration.ofMillis(200)).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
            .timeout(Duration.ofSeconds(20)).build()) {
      Calculator k = c.stub(Calculator.class);
      CompletableFuture<String> longCall = k.delayedEcho("too late", 10_000);
      RpcException e = (RpcException) catchThrowableOfType(
          () -> longCall.get(5, TimeUnit.SECONDS), ExecutionException.class).getCause();
      assertThat(e.reason()).isEqualTo(ErrorReason.CONNECTION_CLOSED);
      assertThat(e.isRetryable()).isFalse(); // it may have run
      assertThat(e.getMessage()).contains("maximum connection age");
      assertThat(k.add(1, 2)).isEqualTo(3); // on a new connection
      assertThat(s.counters().agedConnectionsClosed()).isEqualTo(1);
      assertThat(s.counters().connectionsAccepted()).isEqualTo(2);
    }
  }

  @Test
  void withoutAMaximumAgeConnectionsAreKept() throws Exception {
    try (CourierServer s = server().build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calculator k = c.stub(Calculator.class);
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
      while (System.nanoTime() < end) {
        assertThat(k.add(1, 2)).isEqualTo(3);
        Thread.sleep(20);
      }
      assertThat(s.counters().connectionsAccepted()).isEqualTo(1);
      assertThat(s.counters().connectionsAged()).isZero();
    }
  }

  @Test
  void theAgeLimitIsJitteredByTenPercent() {
    assertThat(ServerConnectionHandler.jittered(1_000, 0.0)).isEqualTo(900);
    assertThat(ServerConnectionHandler.jittered(1_000, 0.5)).isEqualTo(1_000);
    assertThat(ServerConnectionHandler.jittered(1_000, Math.nextDown(1.0))).isEqualTo(1_100);
    assertThat(ServerConnectionHandler.jittered(1, 0.0)).isEqualTo(1);
  }

  @Test
  void settingsAreValidated() {
    assertThatThrownBy(() -> CourierServer.builder().maxConnectionAge(Duration.ofMillis(-1)))
        .hasMessage("maxConnectionAge: PT-0.001S (expected: zero to disable, or at least 100 ms)");
    assertThatThrownBy(() -> CourierServer.builder().maxConnectionAge(Duration.ofMillis(99)))
        .hasMessage("maxConnectionAge: PT0.099S (expected: zero to disable, or at least 100 ms)");
    assertThatThrownBy(() -> CourierServer.builder().maxConnectionAge(null))
        .isInstanceOf(NullPointerException.class).hasMessage("maxConnectionAge");
    assertThatThrownBy(() -> CourierServer.builder().maxConnectionAgeGrace(Duration.ofSeconds(-1)))
        .hasMessage("maxConnectionAgeGrace: PT-1S (expected: >= 0)");
    CourierServer.builder().maxConnectionAge(Duration.ZERO)
        .maxConnectionAge(Duration.ofMillis(100)).maxConnectionAgeGrace(Duration.ZERO);
  }
}
