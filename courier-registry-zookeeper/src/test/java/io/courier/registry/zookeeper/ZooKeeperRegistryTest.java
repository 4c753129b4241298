package io.courier.registry.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.courier.internal.registry.InstanceCodec;
import io.courier.registry.Registry;
import io.courier.registry.RegistryContract;
import io.courier.registry.ServiceInstance;
import io.courier.registry.embedded.EmbeddedZooKeeper;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real ZooKeeper server (embedded in this JVM, on loopback). */
class ZooKeeperRegistryTest extends RegistryContract {

  @TempDir
  static Path data;

  static EmbeddedZooKeeper zk;
  static CuratorFramework raw;

  @BeforeAll
  static void start() {
    zk = EmbeddedZooKeeper.start("127.0.0.1", 0, data.resolve("shared"));
    raw = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryNTimes(3, 100));
    raw.start();
  }

  @AfterAll
  static void stop() {
    raw.close();
    zk.close();
  }

  @Override
  protected Registry open() {
    return open("");
  }

  /** Closes the registry's session on the server, from another connection: it is gone there. */
  @Override
  protected void loseLiveness(Registry registry) throws Exception {
    ZooKeeper handle = ((ZooKeeperRegistry) registry).curator().getZookeeperClient()
        .getZooKeeper();
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper intruder = new ZooKeeper(zk.connectString(), 10_000, e -> {
      if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
        connected.countDown();
      }
    }, handle.getSessionId(), handle.getSessionPasswd());
    try {
      assertThat(connected.await(10, TimeUnit.SECONDS)).as("joined the session").isTrue();
    } finally {
      intruder.close();
    }
  }

  @Override
  protected void storeRaw(String service, String name, byte[] data) throws Exception {
    raw.create().creatingParentsIfNeeded()
        .forPath("/courier/" + service + "/providers/" + name, data);
  }

  private static Registry open(String options) {
    return new ZooKeeperRegistryProvider().open(URI.create(zk.uri() + options));
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void subscribersSeeProvidersComeAndGo() throws Exception {
    Recorder seen = new Recorder();
    try (Registry consumer = open("");
        Registry.Subscription s = consumer.subscribe("demo.Sub", seen)) {
      await(() -> seen.size() > 0, "the initial list");
      assertThat(seen.last()).isEmpty();
      ServiceInstance a = instance("demo.Sub", 9001);
      ServiceInstance b = instance("demo.Sub", 9002);
      try (Registry p1 = open(""); Registry p2 = open("")) {
        p1.register(a);
        p2.register(b);
        await(() -> seen.last().size() == 2, "two providers");
        assertThat(seen.last()).containsExactly(a, b);
        p1.close(); // a provider stops: its session ends, its node goes
        await(() -> seen.last().equals(List.of(b)), "one provider left");
      }
      await(() -> seen.last().isEmpty(), "no provider left");
    }
  }

  @Test
  void aProviderIsRegisteredAgainAfterItsSessionExpires() throws Exception {
    Recorder seen = new Recorder();
    ServiceInstance a = instance("demo.Expiry", 9001);
    try (Registry consumer = open("");
        Registry.Subscription s = consumer.subscribe("demo.Expiry", seen);
        Registry provider = open("?sessionTimeout=4000")) {
      provider.register(a);
      await(() -> seen.size() > 0 && seen.last().equals(List.of(a)), "registration");
      int before = seen.size();
      long expiredAt = System.nanoTime();
      ((ZooKeeperRegistry) provider).curator().getZookeeperClient().getZooKeeper().getTestable()
          .injectSessionExpiration();
      seen.awaitSince(before, List::isEmpty, "the ephemeral node to vanish");
      seen.awaitLast(a);
      long gapMillis = (System.nanoTime() - expiredAt) / 1_000_000;
      System.out.println("re-registered " + gapMillis + " ms after the session expired");
      assertThat(consumer.lookup("demo.Expiry")).containsExactly(a);
    }
  }

  @Test
  void hostileNodeDataIsSkippedNotTrusted() throws Exception {
    try (Registry provider = open("")) {
      storeRaw("demo.Hostile", "evil:1", "\u0000garbage=%n".getBytes());
      provider.register(instance("demo.Hostile", 9001));
      await(() -> provider.lookup("demo.Hostile").size() == 1, "the good one");
      assertThat(provider.lookup("demo.Hostile")).extracting(ServiceInstance::port)
          .containsExactly(9001);
    }
  }

  @Test
  void stoppingAProviderWhileZooKeeperIsDownIsBounded() throws Exception {
    EmbeddedZooKeeper own = EmbeddedZooKeeper.start("127.0.0.1", 0, data.resolve("stop"));
    ServiceInstance a = instance("demo.Stop", 9001);
    Registry provider = new ZooKeeperRegistryProvider().open(URI.create(own.uri()));
    try {
      provider.register(a);
      assertThat(provider.lookup("demo.Stop")).containsExactly(a);
    } finally {
      own.close();
    }
    long start = System.nanoTime();
    provider.unregister(a);
    long unregistered = (System.nanoTime() - start) / 1_000_000;
    provider.close();
    long closed = (System.nanoTime() - start) / 1_000_000;
    System.out.println("with ZooKeeper down: unregister took " + unregistered
        + " ms, unregister and close " + closed + " ms");
    assertThat(closed).as("unregister + close with ZooKeeper down, ms").isLessThan(5_000);
  }

  @Test
  void lookupWhileZooKeeperIsDownFailsFast() throws Exception {
    EmbeddedZooKeeper own = EmbeddedZooKeeper.start("127.0.0.1", 0, data.resolve("lookup"));
    String uri = own.uri();
    try (Registry consumer = new ZooKeeperRegistryProvider().open(URI.create(uri))) {
      assertThat(consumer.lookup("demo.Down")).isEmpty();
      own.close();
      long start = System.nanoTime();
      Throwable t = catchThrowable(() -> consumer.lookup("demo.Down"));
      long millis = (System.nanoTime() - start) / 1_000_000;
      System.out.println("lookup with ZooKeeper down failed after " + millis + " ms: " + t);
      assertThat(t).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("demo.Down").hasMessageContaining(own.connectString());
      assertThat(millis).as("lookup with ZooKeeper down, ms").isLessThan(5_000);
    }
    // never reachable at all: a consumer starting while the registry is down
    String nobody = "zookeeper://127.0.0.1:" + freePort() + "/courier";
    try (Registry consumer = new ZooKeeperRegistryProvider().open(URI.create(nobody))) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> consumer.lookup("demo.Down"))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("not connected");
      long millis = (System.nanoTime() - start) / 1_000_000;
      System.out.println("lookup with ZooKeeper never reachable failed after " + millis + " ms");
      assertThat(millis).as("lookup with ZooKeeper unreachable, ms").isLessThan(5_000);
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
