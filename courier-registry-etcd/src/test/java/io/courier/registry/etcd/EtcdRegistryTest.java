package io.courier.registry.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.courier.internal.registry.InstanceCodec;
import io.courier.registry.Registry;
import io.courier.registry.RegistryContract;
import io.courier.registry.RegistryProvider;
import io.courier.registry.ServiceInstance;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.LeaseOption;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real etcd server, run as a child process on loopback. */
class EtcdRegistryTest extends RegistryContract {

  @TempDir
  static Path dir;

  /** Long enough for gRPC's reconnect back-off to grow past 15 s. */
  private static final long LONG_OUTAGE_MILLIS = 35_000;
  /** Generous: the registry retries at least every 2 s. */
  private static final long RECOVERY_BOUND_MILLIS = 10_000;

  static EtcdServer etcd;
  static Client raw;

  @BeforeAll
  static void start() {
    etcd = EtcdServer.start(dir.resolve("shared"));
    raw = Client.builder().endpoints("http://" + etcd.endpoint()).build();
  }

  @AfterAll
  static void stop() {
    if (raw != null) {
      raw.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  /** A short TTL, so that lost leases are noticed within about a second. */
  @Override
  protected Registry open() {
    return open(etcd, "?ttl=3");
  }

  private static Registry open(EtcdServer server, String options) {
    return new EtcdRegistryProvider().open(URI.create(server.uri() + options));
  }

  /** Revokes the registry's lease from another client: its keys go at once. */
  @Override
  protected void loseLiveness(Registry registry) throws Exception {
    long lease = ((EtcdRegistry) registry).leaseId();
    assertThat(lease).as("lease").isNotZero();
    raw.getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);
  }

  @Override
  protected void storeRaw(String service, String name, byte[] data) throws Exception {
    raw.getKVClient().put(bytes("/courier/" + service + "/providers/" + name),
        ByteSequence.from(data)).get(5, TimeUnit.SECONDS);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  @Test
  void aRevokedLeaseIsReplacedAndEveryRegistrationStoredAgain() throws Exception {
    String service = service("Revoke");
    ServiceInstance a = instance(service, 9001);
    ServiceInstance b = instance(service, 9002);
    try (Registry provider = open(); Registry consumer = open()) {
      Recorder seen = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen)) {
        provider.register(a);
        provider.register(b);
        seen.awaitLast(a, b);
        long old = ((EtcdRegistry) provider).leaseId();
        int mark = seen.size();
        long revokedAt = System.nanoTime();
        loseLiveness(provider);
        seen.awaitSince(mark, List::isEmpty, "both registrations to go with the lease");
        seen.awaitLast(a, b);
        System.out.println("etcd: lease revoked, both registrations back under a new lease after "
            + millisSince(revokedAt) + " ms (ttl 3 s)");
        assertThat(((EtcdRegistry) provider).leaseId()).isNotEqualTo(old).isNotZero();
        assertThat(raw.getKVClient().get(bytes("/courier/" + service + "/providers/"
            + a.address())).get(5, TimeUnit.SECONDS).getKvs().get(0).getLease())
            .isEqualTo(((EtcdRegistry) provider).leaseId());
      }
    }
  }

  /**
   * The audit that stores deleted or overwritten registrations again leaves an unchanged one
   * alone: its key is not rewritten (every watcher would see a change at every audit).
   */
  @Test
  void anUnchangedRegistrationIsNotStoredAgain() throws Exception {
    String service = service("Unchanged");
    ServiceInstance a = instance(service, 9001);
    ByteSequence key = bytes("/courier/" + service + "/providers/" + a.address());
    try (Registry provider = open()) {
      provider.register(a);
      long stored = raw.getKVClient().get(key).get(5, TimeUnit.SECONDS).getKvs().get(0)
          .getModRevision();
      Thread.sleep(3_500); // the audit runs every second with a 3 s TTL
      assertThat(raw.getKVClient().get(key).get(5, TimeUnit.SECONDS).getKvs().get(0)
          .getModRevision()).as("revision of the unchanged key").isEqualTo(stored);
    }
  }

  @Test
  void aDeletedRegistrationIsStoredAgain() throws Exception {
    String service = service("Deleted");
    ServiceInstance a = instance(service, 9001);
    try (Registry provider = open(); Registry consumer = open()) {
      Recorder seen = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen)) {
        provider.register(a);
        seen.awaitLast(a);
        int mark = seen.size();
        long deletedAt = System.nanoTime();
        raw.getKVClient().delete(bytes("/courier/" + service + "/providers/" + a.address()))
            .get(5, TimeUnit.SECONDS);
        seen.awaitSince(mark, List::isEmpty, "the deletion");
        seen.awaitLast(a);
        System.out.println("etcd: deleted registration stored again after "
            + millisSince(deletedAt) + " ms (ttl 3 s)");
      }
    }
  }

  @Test
  void registrationsAndSubscriptionsRecoverWhenEtcdRestarts() throws Exception {
    String service = service("Restart");
    ServiceInstance a = instance(service, 9001);
    ServiceInstance b = instance(service, 9002);
    try (EtcdServer own = EtcdServer.start(dir.resolve("restart"));
        Registry provider = open(own, "");
        Registry consumer = open(own, "")) {
      Recorder seen = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen)) {
        provider.register(a);
        seen.awaitLast(a);
        own.stop();
        Thread.sleep(2_000); // an outage: keep-alives and watches fail meanwhile
        long restartedAt = System.nanoTime();
        own.start();
        await(() -> {
          try {
            return consumer.lookup(service).equals(List.of(a));
          } catch (IllegalStateException stillDown) {
            return false;
          }
        }, "the registration after the restart");
        provider.register(b);
        seen.awaitLast(a, b);
        System.out.println("etcd: after a restart, the subscription saw a new provider "
            + millisSince(restartedAt) + " ms after etcd was back");
      }
    }
  }

  @Test
  void aRegistrationMadeWhileEtcdIsDownAppearsWhenItStarts() throws Exception {
    String service = service("RegisterDown");
    ServiceInstance a = instance(service, 9001);
    try (EtcdServer own = EtcdServer.start(dir.resolve("register-down"));
        Registry provider = open(own, "")) {
      own.stop();
      long start = System.nanoTime();
      provider.register(a);
      long millis = millisSince(start);
      System.out.println("etcd down: register returned after " + millis + " ms");
      assertThat(millis).as("register with etcd down, ms").isLessThan(5_000);
      own.start();
      try (Registry consumer = open(own, "")) {
        await(() -> consumer.lookup(service).equals(List.of(a)), "the late registration");
      }
    }
  }

  @Test
  void lookupWhileEtcdIsDownFailsFastWithAClearMessage() throws Exception {
    String service = service("LookupDown");
    try (EtcdServer own = EtcdServer.start(dir.resolve("lookup-down"));
        Registry consumer = open(own, "")) {
      assertThat(consumer.lookup(service)).isEmpty();
      own.stop();
      long start = System.nanoTime();
      Throwable t = catchThrowable(() -> consumer.lookup(service));
      long millis = millisSince(start);
      System.out.println("etcd down: lookup failed after " + millis + " ms: " + t);
      assertThat(t).isInstanceOf(IllegalStateException.class).hasMessageContaining(service)
          .hasMessageContaining("etcd " + own.endpoint());
      assertThat(millis).as("lookup with etcd down, ms").isLessThan(5_000);
    }
  }

  @Test
  void closeWhileEtcdIsDownReturnsAndTheLeaseExpiresLater() throws Exception {
    String service = service("CloseDown");
    ServiceInstance a = instance(service, 9001);
    try (EtcdServer own = EtcdServer.start(dir.resolve("close-down"))) {
      Registry provider = open(own, "?ttl=3");
      provider.register(a);
      own.stop();
      long start = System.nanoTime();
      provider.unregister(a);
      provider.close();
      long millis = millisSince(start);
      System.out.println("etcd down: unregister and close returned after " + millis + " ms");
      assertThat(millis).as("unregister + close with etcd down, ms").isLessThan(5_000);
      own.start();
      try (Registry consumer = open(own, "")) {
        await(() -> consumer.lookup(service).isEmpty(), "the orphaned lease to expire");
      }
    }
  }

  @Test
  void theProviderIsFoundByItsScheme() {
    assertThat(ServiceLoader.load(RegistryProvider.class).stream()
        .map(p -> p.get().scheme())).contains("etcd");
  }

  @Test
  void badUrisAreRefusedWithTheExpectedForm() {
    EtcdRegistryProvider p = new EtcdRegistryProvider();
    assertThatThrownBy(() -> p.open(URI.create("etcd:///courier")))
        .hasMessageContaining("expected: etcd://host:port");
    assertThatThrownBy(() -> p.open(URI.create("etcd://h1:2379,h2/courier")))
        .hasMessageContaining("endpoint 'h2' has no valid port");
    assertThatThrownBy(() -> p.open(URI.create("etcd://h:2379/courier?bogus=1")))
        .hasMessageContaining("unknown option 'bogus=1'");
    assertThatThrownBy(() -> p.open(URI.create("etcd://h:2379/courier?ttl=0")))
        .hasMessageContaining("ttl: 0").hasMessageContaining("expected: 2 to 3600 seconds");
  }

  /**
   * While etcd is down, gRPC waits longer and longer between attempts to reconnect (over 15 s
   * after half a minute, up to two minutes), so a client kept through a long outage notices
   * etcd is back only after that wait. The registry replaces its client while its calls keep
   * failing: however long the outage, its subscriptions and its registrations are back within
   * seconds of etcd, a registry closed in the middle of it closes in bounded time, and no thread
   * of a replaced client is left behind.
   */
  @Test
  @Tag("slow")
  void afterALongOutageSubscriptionsAndRegistrationsAreBackWithinSeconds() throws Exception {
    String service = service("LongOutage");
    String other = service("LongOutageOther");
    ServiceInstance a = instance(service, 9001);
    ServiceInstance b = instance(service, 9002);
    ServiceInstance c = instance(service, 9003);
    ServiceInstance d = instance(other, 9004);
    long threadsBefore = clientThreads();
    try (EtcdServer own = EtcdServer.start(dir.resolve("long-outage"));
        Registry provider = open(own, "?ttl=3");
        Registry consumer = open(own, "")) {
      Registry closing = open(own, "?ttl=3");
      Recorder seen = new Recorder();
      Recorder seenOther = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen);
          Registry.Subscription o = consumer.subscribe(other, seenOther)) {
        provider.register(a);
        closing.register(instance(other, 9005));
        seen.awaitLast(a);
        seenOther.awaitLast(instance(other, 9005));

        own.stop();
        Thread.sleep(LONG_OUTAGE_MILLIS);
        for (Registry r : List.of(provider, consumer, closing)) {
          assertThat(((EtcdRegistry) r).reconnects()).as("new clients during the outage")
              .isPositive();
        }
        long closeStart = System.nanoTime();
        closing.close();
        long closeMillis = millisSince(closeStart);
        assertThat(closeMillis).as("close after reconnecting with etcd down, ms")
            .isLessThan(5_000);

        own.start();
        long back = System.nanoTime();
        try (Client fresh = Client.builder().endpoints("http://" + own.endpoint()).build()) {
          // providers that appear right after the outage, stored by a client that never saw it
          putRaw(fresh, c);
          putRaw(fresh, d);
          provider.register(b);
          seen.awaitSince(0, list -> list.contains(c), "the new provider " + c);
          long seenMillis = millisSince(back);
          seenOther.awaitSince(0, list -> list.contains(d), "the new provider " + d);
          long seenOtherMillis = millisSince(back);
          EtcdRegistry registry = (EtcdRegistry) provider;
          await(() -> storedUnderALiveLease(fresh, registry.leaseId(), a, b),
              "the provider's registrations under a live lease");
          long storedMillis = millisSince(back);
          System.out.println("etcd: after a " + LONG_OUTAGE_MILLIS / 1_000 + " s outage, the"
              + " subscriptions saw new providers " + seenMillis + " and " + seenOtherMillis
              + " ms, the provider's registrations were stored under a live lease "
              + storedMillis + " ms after etcd was back (new clients during the outage: provider "
              + registry.reconnects() + ", consumer " + ((EtcdRegistry) consumer).reconnects()
              + "); close with etcd down took " + closeMillis + " ms");
          assertThat(seenMillis).as("first subscription back, ms after etcd")
              .isLessThan(RECOVERY_BOUND_MILLIS);
          assertThat(seenOtherMillis).as("second subscription back, ms after etcd")
              .isLessThan(RECOVERY_BOUND_MILLIS);
          assertThat(storedMillis).as("registrations back, ms after etcd")
              .isLessThan(RECOVERY_BOUND_MILLIS);

          // the keep-alive works again: the lease outlives its TTL
          long lease = registry.leaseId();
          Thread.sleep(4_000);
          assertThat(storedUnderALiveLease(fresh, lease, a, b)).as("still under lease %s",
              Long.toHexString(lease)).isTrue();
          assertThat(registry.leaseId()).isEqualTo(lease);
          seen.awaitLast(a, b, c);
        }
      } finally {
        closing.close(); // done already unless the test failed before
      }
    }
    await(() -> clientThreads() <= threadsBefore,
        "the threads of every client, the replaced ones too, to end");
  }

  private static void putRaw(Client client, ServiceInstance instance) throws Exception {
    client.getKVClient().put(bytes("/courier/" + instance.service() + "/providers/"
        + instance.address()), ByteSequence.from(InstanceCodec.encode(instance)))
        .get(5, TimeUnit.SECONDS);
  }

  /** True when every instance is stored under {@code lease} and etcd still has that lease. */
  private static boolean storedUnderALiveLease(Client client, long lease,
      ServiceInstance... instances) {
    try {
      for (ServiceInstance i : instances) {
        List<KeyValue> kvs = client.getKVClient().get(bytes("/courier/" + i.service()
            + "/providers/" + i.address())).get(5, TimeUnit.SECONDS).getKvs();
        if (kvs.isEmpty() || kvs.get(0).getLease() != lease) {
          return false;
        }
      }
      return client.getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT)
          .get(5, TimeUnit.SECONDS).getTTL() > 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** Live threads of jetcd clients (their executors and event loops). */
  private static long clientThreads() {
    return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
        .filter(n -> n.startsWith("jetcd-") || n.startsWith("vert.x-")).count();
  }
}
