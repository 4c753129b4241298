package io.courier.registry.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.internal.registry.InstanceCodec;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import io.courier.registry.embedded.EmbeddedZooKeeper;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real ZooKeeper server (embedded in this JVM, on loopback). */
class ZooKeeperRegistryTest {

  @TempDir
  static Path data;

  static EmbeddedZooKeeper zk;

  @BeforeAll
  static void start() {
    zk = EmbeddedZooKeeper.start("127.0.0.1", 0, data);
  }

  @AfterAll
  static void stop() {
    zk.close();
  }

  private static Registry open(String options) {
    return new ZooKeeperRegistryProvider().open(URI.create(zk.uri() + options));
  }

  private static ServiceInstance instance(String service, int port) {
    return ServiceInstance.builder(service, "127.0.0.1", port).serializers(List.of("fory", "json"))
        .weight(50).tag("gray").version("1.2.0").metadata("zone", "a").build();
  }

  private static void await(Supplier<Boolean> condition, String what) throws InterruptedException {
    long end = System.nanoTime() + 15_000_000_000L;
    while (!condition.get()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void registeredInstancesCanBeLookedUpWithEveryField() throws Exception {
    try (Registry provider = open(""); Registry consumer = open("")) {
      ServiceInstance a = instance("demo.Lookup", 9001);
      provider.register(a);
      await(() -> !consumer.lookup("demo.Lookup").isEmpty(), "registration");
      assertThat(consumer.lookup("demo.Lookup")).containsExactly(a);
      assertThat(consumer.lookup("demo.Nothing")).isEmpty();
      provider.unregister(a);
      await(() -> consumer.lookup("demo.Lookup").isEmpty(), "unregistration");
    }
  }

  @Test
  void subscribersSeeProvidersComeAndGo() throws Exception {
    List<List<ServiceInstance>> seen = new CopyOnWriteArrayList<>();
    try (Registry consumer = open("");
        Registry.Subscription s = consumer.subscribe("demo.Sub", seen::add)) {
      await(() -> !seen.isEmpty(), "the initial list");
      assertThat(seen.get(seen.size() - 1)).isEmpty();
      ServiceInstance a = instance("demo.Sub", 9001);
      ServiceInstance b = instance("demo.Sub", 9002);
      try (Registry p1 = open(""); Registry p2 = open("")) {
        p1.register(a);
        p2.register(b);
        await(() -> seen.get(seen.size() - 1).size() == 2, "two providers");
        assertThat(seen.get(seen.size() - 1)).containsExactly(a, b);
        p1.close(); // a provider stops: its session ends, its node goes
        await(() -> seen.get(seen.size() - 1).equals(List.of(b)), "one provider left");
      }
      await(() -> seen.get(seen.size() - 1).isEmpty(), "no provider left");
    }
  }

  @Test
  void aProviderIsRegisteredAgainAfterItsSessionExpires() throws Exception {
    List<List<ServiceInstance>> seen = new CopyOnWriteArrayList<>();
    ServiceInstance a = instance("demo.Expiry", 9001);
    try (Registry consumer = open("");
        Registry.Subscription s = consumer.subscribe("demo.Expiry", seen::add);
        Registry provider = open("?sessionTimeout=4000")) {
      provider.register(a);
      await(() -> !seen.isEmpty() && seen.get(seen.size() - 1).equals(List.of(a)),
          "registration");
      int before = seen.size();
      long expiredAt = System.nanoTime();
      ((ZooKeeperRegistry) provider).curator().getZookeeperClient().getZooKeeper().getTestable()
          .injectSessionExpiration();
      await(() -> seen.size() > before && seen.subList(before, seen.size()).stream()
          .anyMatch(List::isEmpty), "the ephemeral node to vanish");
      await(() -> seen.get(seen.size() - 1).equals(List.of(a)), "re-registration");
      long gapMillis = (System.nanoTime() - expiredAt) / 1_000_000;
      System.out.println("re-registered " + gapMillis + " ms after the session expired");
      assertThat(consumer.lookup("demo.Expiry")).containsExactly(a);
    }
  }

  @Test
  void hostileNodeDataIsSkippedNotTrusted() throws Exception {
    try (Registry provider = open("")) {
      ((ZooKeeperRegistry) provider).curator().create().creatingParentsIfNeeded()
          .forPath("/courier/demo.Hostile/providers/evil:1", "\u0000garbage=%n".getBytes());
      provider.register(instance("demo.Hostile", 9001));
      await(() -> provider.lookup("demo.Hostile").size() == 1, "the good one");
      assertThat(provider.lookup("demo.Hostile")).extracting(ServiceInstance::port)
          .containsExactly(9001);
    }
  }

  @Test
  void badUrisAreRefusedWithTheExpectedForm() {
    ZooKeeperRegistryProvider p = new ZooKeeperRegistryProvider();
    assertThatThrownBy(() -> p.open(URI.create("zookeeper:///courier")))
        .hasMessageContaining("expected: zookeeper://host:port");
    assertThatThrownBy(() -> p.open(URI.create("zookeeper://h:1/courier?bogus=1")))
        .hasMessageContaining("unknown option 'bogus=1'");
  }

  @Test
  void instanceDataRoundTrips() {
    ServiceInstance a = instance("demo.Codec", 9001);
    assertThat(InstanceCodec.decode(InstanceCodec.encode(a))).isEqualTo(a);
    assertThat(InstanceCodec.decode("port=x".getBytes())).isNull();
    assertThat(InstanceCodec.decode(new byte[0])).isNull();
  }
}
