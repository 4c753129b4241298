package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One client, several servers of the same service: spreading calls and failing over. */
class ClusterTest {

  private final List<CourierServer> servers = new ArrayList<>();
  private final List<CalculatorImpl> impls = new ArrayList<>();

  private String[] start(int n) {
    String[] addresses = new String[n];
    for (int i = 0; i < n; i++) {
      start(new CalculatorImpl());
      addresses[i] = "127.0.0.1:" + servers.get(i).port();
    }
    return addresses;
  }

  private void start(CalculatorImpl impl) {
    impls.add(impl);
    servers.add(CourierServer.builder().host("127.0.0.1").service(Calculator.class, impl)
        .build().start());
  }

  @AfterEach
  void stop() {
    servers.forEach(CourierServer::close);
  }

  @Test
  void roundRobinSpreadsCallsEvenly() {
    try (CourierClient c = CourierClient.builder().addresses(start(3))
        .loadBalancer(LoadBalancers.roundRobin()).warmup(Duration.ZERO).build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 300; i++) {
        assertThat(k.add(i, 1)).isEqualTo(i + 1);
      }
    }
    assertThat(impls).allSatisfy(impl -> assertThat(impl.calls.get()).isEqualTo(100));
  }

  @Test
  void theDefaultBalancerUsesEveryServer() {
    try (CourierClient c = CourierClient.builder().addresses(start(3)).build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 300; i++) {
        k.add(i, 1);
      }
    }
    assertThat(impls).allSatisfy(impl -> assertThat(impl.calls.get()).isPositive());
  }

  @Test
  void aServerThatIsDownIsSkippedWithoutFailingCalls() {
    String[] addresses = start(3);
    servers.get(1).close();
    try (CourierClient c = CourierClient.builder().addresses(addresses)
        .loadBalancer(LoadBalancers.roundRobin()).warmup(Duration.ZERO).build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 90; i++) {
        assertThat(k.add(i, 1)).isEqualTo(i + 1); // none fails: never sent to the dead one
      }
    }
    assertThat(impls.get(1).calls.get()).isZero();
    assertThat(impls.get(0).calls.get() + impls.get(2).calls.get()).isEqualTo(90);
  }

  @Test
  void aDrainingServerHandsItsNewCallsToTheOthers() throws Exception {
    String[] addresses = start(2);
    try (CourierClient c = CourierClient.builder().addresses(addresses)
        .loadBalancer(LoadBalancers.roundRobin()).warmup(Duration.ZERO).build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 10; i++) {
        k.add(i, 1); // both connections open
      }
      CompletableFuture<String> inFlight = k.delayedEcho("finishes", 300);
      servers.get(0).shutdown();
      for (int i = 0; i < 50; i++) {
        assertThat(k.add(i, 2)).isEqualTo(i + 2);
      }
      assertThat(inFlight.get(5, TimeUnit.SECONDS)).isEqualTo("finishes");
    }
    assertThat(impls.get(1).calls.get()).isGreaterThanOrEqualTo(50);
  }

  @Test
  void consistentHashSendsAnArgumentToOneServer() {
    try (CourierClient c = CourierClient.builder().addresses(start(3))
        .loadBalancer(LoadBalancers.consistentHash(0)).warmup(Duration.ZERO).build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 60; i++) {
        k.add(7, i);
      }
    }
    assertThat(impls).filteredOn(impl -> impl.calls.get() > 0).singleElement()
        .satisfies(impl -> assertThat(impl.calls.get()).isEqualTo(60));
  }

  /** Answers add after a delay. */
  static final class SlowCalculator extends CalculatorImpl {
    private final long millis;

    SlowCalculator(long millis) {
      this.millis = millis;
    }

    @Override
    public int add(int a, int b) {
      sleep(millis);
      return super.add(a, b);
    }
  }

  @Test
  void peakEwmaSendsLittleToASlowServer() {
    start(new CalculatorImpl());
    start(new SlowCalculator(100)); // slower than a loaded machine's hiccups on the fast one
    String[] addresses = {"127.0.0.1:" + servers.get(0).port(),
        "127.0.0.1:" + servers.get(1).port()};
    // Warm both servers first: a cold server's first answers can be slower than the slow one's,
    // and peak-EWMA rightly remembers such a peak for seconds (it decays with time, not calls).
    try (CourierClient warm = CourierClient.builder().addresses(addresses)
        .loadBalancer(LoadBalancers.roundRobin()).build()) {
      Calculator k = warm.stub(Calculator.class);
      for (int i = 0; i < 200; i++) {
        k.add(i, 1);
      }
    }
    int fastBefore = impls.get(0).calls.get();
    int slowBefore = impls.get(1).calls.get();
    try (CourierClient c = CourierClient.builder().addresses(addresses).warmup(Duration.ZERO)
        .build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 300; i++) {
        k.add(i, 1);
      }
    }
    assertThat(impls.get(1).calls.get() - slowBefore).isLessThan(30);
    assertThat(impls.get(0).calls.get() - fastBefore).isGreaterThan(270);
  }

  @Test
  void aServerThatKeepsTimingOutIsEjected() {
    start(new CalculatorImpl());
    start(new SlowCalculator(300));
    String[] addresses = {"127.0.0.1:" + servers.get(0).port(),
        "127.0.0.1:" + servers.get(1).port()};
    int failures = 0;
    try (CourierClient c = CourierClient.builder().addresses(addresses)
        .loadBalancer(LoadBalancers.roundRobin()).warmup(Duration.ZERO)
        .timeout(Duration.ofMillis(100)).ejectAfterFailures(3).maxAttempts(1).build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 20; i++) {
        try {
          assertThat(k.add(i, 1)).isEqualTo(i + 1);
        } catch (io.courier.RpcException e) {
          assertThat(e.status().code()).isEqualTo(io.courier.Status.Code.DEADLINE_EXCEEDED);
          failures++;
        }
      }
    }
    assertThat(failures).isEqualTo(3); // then the slow server was out of the picks
    assertThat(impls.get(0).calls.get()).isEqualTo(17);
  }
}
