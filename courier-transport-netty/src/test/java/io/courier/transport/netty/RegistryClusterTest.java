package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.core.Registries;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import io.courier.core.cluster.LoadBalancers;
import io.courier.registry.embedded.EmbeddedZooKeeper;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Providers register in a real ZooKeeper (embedded, loopback); the consumer follows them. */
class RegistryClusterTest {

  @TempDir
  Path data;

  EmbeddedZooKeeper zk;
  final List<CourierServer> servers = new ArrayList<>();
  final List<CalculatorImpl> impls = new ArrayList<>();

  @BeforeEach
  void startRegistry() {
    zk = EmbeddedZooKeeper.start("127.0.0.1", 0, data);
  }

  @AfterEach
  void stop() {
    servers.forEach(CourierServer::close);
    if (zk != null) {
      zk.close();
    }
  }

  private CourierServer provider() {
    return provider(100);
  }

  private CourierServer provider(int weight) {
    CalculatorImpl impl = new CalculatorImpl();
    CourierServer s = CourierServer.builder().host("127.0.0.1").registry(zk.uri()).weight(weight)
        .unregisterDelay(Duration.ofMillis(300)).service(Calculator.class, impl).build().start();
    impls.add(impl);
    servers.add(s);
    return s;
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + 15_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  private static int callsUntil(Calculator k, BooleanSupplier done) throws InterruptedException {
    long end = System.nanoTime() + 15_000_000_000L;
    int n = 0;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out");
      }
      assertThat(k.add(n, 1)).isEqualTo(n + 1);
      n++;
    }
    return n;
  }

  @Test
  void providersComeAndGoWithoutAFailedCall() throws Exception {
    provider();
    provider();
    // round robin: this is about discovery; the default balancer may rightly shun a provider
    // whose first calls were slow (a cold JVM)
    try (CourierClient c = CourierClient.builder().registry(zk.uri())
        .registryCacheDir(data.resolve("cache")).loadBalancer(LoadBalancers.roundRobin())
        .warmup(Duration.ZERO).build()) {
      Calculator k = c.stub(Calculator.class);
      callsUntil(k, () -> impls.get(0).calls.get() > 10 && impls.get(1).calls.get() > 10);

      assertThat(c.lastPropagationDelay(Calculator.class)).isEmpty(); // none joined since
      provider(); // joins: the consumer starts sending to it
      callsUntil(k, () -> impls.get(2).calls.get() > 10);
      Duration propagation = c.lastPropagationDelay(Calculator.class).orElseThrow();
      System.out.println("registry propagation: " + propagation.toMillis() + " ms");
      assertThat(propagation).isBetween(Duration.ZERO, Duration.ofSeconds(15));

      // a provider leaves gracefully while calls go on: none of them fails
      Thread stopper = new Thread(() -> servers.get(0).close());
      stopper.start();
      int before = impls.get(0).calls.get();
      for (int i = 0; i < 500; i++) {
        assertThat(k.add(i, 1)).isEqualTo(i + 1);
      }
      stopper.join();
      int after = impls.get(0).calls.get();
      for (int i = 0; i < 200; i++) {
        assertThat(k.add(i, 2)).isEqualTo(i + 2);
      }
      assertThat(impls.get(0).calls.get()).isEqualTo(after); // no more calls to the stopped one
      assertThat(after).isGreaterThanOrEqualTo(before);
    }
  }

  @Test
  void weightsAnnouncedInTheRegistrySteerTheShares() throws Exception {
    provider(300);
    provider(100);
    try (CourierClient c = CourierClient.builder().registry(zk.uri())
        .registryCacheDir(data.resolve("cache")).loadBalancer(LoadBalancers.roundRobin())
        .warmup(Duration.ZERO).build()) {
      Calculator k = c.stub(Calculator.class);
      for (int i = 0; i < 400; i++) {
        k.add(i, 1);
      }
    }
    assertThat(impls.get(0).calls.get()).isEqualTo(300);
    assertThat(impls.get(1).calls.get()).isEqualTo(100);
  }

  @Test
  void callsGoOnWhileTheRegistryIsDown() throws Exception {
    provider();
    try (CourierClient c = CourierClient.builder().registry(zk.uri())
        .registryCacheDir(data.resolve("cache")).build()) {
      Calculator k = c.stub(Calculator.class);
      assertThat(k.add(1, 2)).isEqualTo(3);
      zk.close();
      zk = null;
      for (int i = 0; i < 200; i++) {
        assertThat(k.add(i, 1)).isEqualTo(i + 1); // the last known providers stay in use
      }
    }
  }

  @Test
  void noRegisteredProviderIsAClearError() throws Exception {
    try (CourierClient c = CourierClient.builder().registry(zk.uri())
        .registryCacheDir(data.resolve("cache")).build()) {
      RpcException e = catchThrowableOfType(() -> c.stub(Calculator.class).add(1, 2),
          RpcException.class);
      assertThat(e.reason()).isEqualTo(ErrorReason.NO_PROVIDER);
      assertThat(e.isRetryable()).isTrue();
      assertThat(e.getMessage()).contains("no provider of test.Calculator is registered");
      provider();
      await(() -> {
        try {
          return c.stub(Calculator.class).add(1, 2) == 3;
        } catch (RpcException notYet) {
          return false;
        }
      }, "the provider to be discovered");
    }
  }

  @Test
  void aConsumerStartsFromItsCacheWhileTheRegistryIsDown() throws Exception {
    provider();
    String uri = zk.uri();
    try (CourierClient first = CourierClient.builder().registry(uri)
        .registryCacheDir(data.resolve("cache")).build()) {
      assertThat(first.stub(Calculator.class).add(1, 2)).isEqualTo(3); // sees it, caches it
    }
    zk.close();
    zk = null;
    try (CourierClient later = CourierClient.builder().registry(uri)
        .registryCacheDir(data.resolve("cache")).build()) {
      assertThat(later.stub(Calculator.class).add(2, 3)).isEqualTo(5);
    }
  }

  @Test
  void burstsOfRegistryChangesAreAppliedAsOne() throws Exception {
    provider(); // a stable provider
    ClientConfig config = new ClientConfig("fory", null, 1024, 0, 3_000, 0, 1, 100, 1_000,
        16 << 20, 64 << 20, java.util.Set.of(), 1, null);
    try (Registry consumer = Registries.open(zk.uri());
        Registry flapper = Registries.open(zk.uri());
        NettyClient client = new NettyClient(config)) {
      Cluster cluster = (Cluster) client.discover(consumer, "test.Calculator",
          LoadBalancers.roundRobin(), 3, 5, 0.2, 10, null);
      await(() -> cluster.endpoints.size() == 1, "the stable provider");
      Thread.sleep(200);
      int before = cluster.updates.get();
      ServiceInstance flap = ServiceInstance.builder("test.Calculator", "127.0.0.1", 1)
          .serializers(List.of("fory")).build();
      for (int i = 0; i < 20; i++) { // 40 changes
        flapper.register(flap);
        flapper.unregister(flap);
      }
      Thread.sleep(500);
      int applied = cluster.updates.get() - before;
      System.out.println("40 registry changes applied as " + applied + " updates");
      assertThat(applied).isBetween(1, 19);
      assertThat(cluster.endpoints).hasSize(1); // the flapping one is gone again
    }
  }
}
