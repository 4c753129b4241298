package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Many calls in flight on one connection, answered out of order, each matched to its own. */
class ConcurrencyTest {

  @Test
  void thousandsOfAsyncCallsInFlightOnOneConnection() throws Exception {
    // each call briefly takes a pool thread to start its timer: let them all queue, so that a
    // loaded machine's slow pool does not turn the test into one about OVERLOADED
    try (CourierServer s = CourierServer.builder().host("127.0.0.1").queueCapacity(10_000)
        .service(Calculator.class, new CalculatorImpl()).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calculator k = c.stub(Calculator.class);
      Random random = new Random(42);
      int n = 5_000;
      List<CompletableFuture<String>> futures = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        futures.add(k.delayedEcho("call-" + i, random.nextInt(50)));
      }
      for (int i = 0; i < n; i++) {
        assertThat(futures.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("call-" + i);
      }
      assertThat(s.counters().connectionsAccepted()).isEqualTo(1);
    }
  }

  @Test
  void manyThreadsCallingSynchronouslyWithRandomServiceDelays() throws Exception {
    try (CourierServer s = CourierServer.builder().host("127.0.0.1")
        .service(Calculator.class, new CalculatorImpl()).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port()).build()) {
      Calculator k = c.stub(Calculator.class);
      ExecutorService pool = Executors.newFixedThreadPool(64);
      try {
        List<Future<?>> tasks = new ArrayList<>();
        for (int t = 0; t < 64; t++) {
          int thread = t;
          tasks.add(pool.submit(() -> {
            Random random = new Random(thread);
            for (int i = 0; i < 50; i++) {
              int a = random.nextInt(1_000_000);
              int b = random.nextInt(1_000_000);
              if (i % 10 == 0) {
                assertThat(k.sleep(random.nextInt(20))).startsWith("slept");
              }
              assertThat(k.add(a, b)).isEqualTo(a + b);
              String tag = thread + "/" + i;
              assertThat(k.echo(tag)).isEqualTo(tag);
            }
            return null;
          }));
        }
        for (Future<?> f : tasks) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(s.counters().connectionsAccepted()).isEqualTo(1);
    }
  }
}
