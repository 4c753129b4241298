package io.courier.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.internal.registry.InstanceCodec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Registry} must do, checked against a real server. An implementation's test
 * extends this, starts the server (typically in {@code @BeforeAll}) and supplies how to open a
 * client, how to make a client's registrations lose their liveness, and how to store raw bytes
 * where providers are listed.
 *
 * <p>Each test uses services of its own, so the tests may share one server.
 */
public abstract class RegistryContract {

  /** How long any one expected change may take before a test fails. */
  protected static final long WAIT_MILLIS = 20_000;

  private static final AtomicInteger SERVICES = new AtomicInteger();

  /** Opens a new client of the registry under test, connected to the running server. */
  protected abstract Registry open() throws Exception;

  /**
   * Makes {@code registry}'s registrations lose their liveness on the server, as a long pause or
   * an outage would: for ZooKeeper its session expires, for etcd its lease is lost. The registry
   * itself stays open and is expected to register its instances again on its own.
   */
  protected abstract void loseLiveness(Registry registry) throws Exception;

  /**
   * Stores {@code data} as the entry named {@code name} among {@code service}'s providers,
   * bypassing Courier, as a broken or hostile writer would.
   */
  protected abstract void storeRaw(String service, String name, byte[] data) throws Exception;

  /** A service name no other test uses. */
  protected static String service(String name) {
    return "contract." + name + "." + SERVICES.incrementAndGet();
  }

  /** An instance with every field set. */
  protected static ServiceInstance instance(String service, int port) {
    return ServiceInstance.builder(service, "127.0.0.1", port).protocol("courier")
        .serializers(List.of("fory", "json")).weight(50).tag("gray").tag("zone-a")
        .version("1.2.0").metadata("zone", "a").metadata("startedAt", "1700000000000").build();
  }

  /** Waits for {@code condition}, failing after {@link #WAIT_MILLIS}. */
  protected static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + WAIT_MILLIS * 1_000_000;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + WAIT_MILLIS + " ms waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  /** A listener that records every list it is given. */
  public static final class Recorder implements Registry.Listener {
    private final List<List<ServiceInstance>> lists = new CopyOnWriteArrayList<>();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    @Override
    public void onInstances(List<ServiceInstance> instances) {
      threads.add(Thread.currentThread());
      lists.add(instances);
    }

    /** Every list so far. */
    public List<List<ServiceInstance>> lists() {
      return List.copyOf(lists);
    }

    public int size() {
      return lists.size();
    }

    /** The newest list, or null before the first. */
    public List<ServiceInstance> last() {
      return lists.isEmpty() ? null : lists.get(lists.size() - 1);
    }

    /** Waits until the newest list holds exactly {@code expected}, in any order. */
    public void awaitLast(ServiceInstance... expected) throws InterruptedException {
      Set<ServiceInstance> want = Set.of(expected);
      await(() -> {
        List<ServiceInstance> last = last();
        return last != null && last.size() == want.size() && new HashSet<>(last).equals(want);
      }, "the list " + want + " (last seen: " + last() + ")");
    }

    /** Waits for a list delivered after the first {@code mark} ones to satisfy a condition. */
    public void awaitSince(int mark, Predicate<List<ServiceInstance>> test,
        String what) throws InterruptedException {
      await(() -> lists.subList(mark, lists.size()).stream().anyMatch(test), what);
    }
  }

  @Test
  void registerThenLookupReturnsEveryField() throws Exception {
    String service = service("Lookup");
    ServiceInstance a = instance(service, 9001);
    ServiceInstance bare = ServiceInstance.builder(service, "127.0.0.1", 9002).build();
    try (Registry provider = open(); Registry consumer = open()) {
      provider.register(a);
      provider.register(bare);
      // register returns once the registry has the instance: no waiting here
      List<ServiceInstance> found = consumer.lookup(service);
      assertThat(found).containsExactlyInAnyOrder(a, bare);
      ServiceInstance got = found.stream().filter(i -> i.port() == 9001).findFirst().orElseThrow();
      assertThat(got.protocol()).isEqualTo("courier");
      assertThat(got.serializers()).containsExactly("fory", "json");
      assertThat(got.weight()).isEqualTo(50);
      assertThat(got.tags()).containsExactlyInAnyOrder("gray", "zone-a");
      assertThat(got.version()).isEqualTo("1.2.0");
      assertThat(got.metadata()).containsEntry("zone", "a")
          .containsEntry("startedAt", "1700000000000").hasSize(2);
      provider.unregister(a);
      await(() -> consumer.lookup(service).equals(List.of(bare)), "the unregistration");
    }
  }

  @Test
  void servicesAreThoseWithProvidersNowSorted() throws Exception {
    String b = service("ListedB");
    String a = service("ListedA");
    try (Registry provider = open(); Registry consumer = open()) {
      provider.register(instance(b, 9002));
      provider.register(instance(a, 9001));
      provider.register(instance(a, 9003));
      List<String> names = consumer.services();
      assertThat(names).contains(a, b).doesNotHaveDuplicates().isSorted();
      provider.unregister(instance(b, 9002));
      await(() -> !consumer.services().contains(b), "a service without providers to leave");
      assertThat(consumer.services()).contains(a);
    }
  }

  @Test
  void lookupOfAnUnknownServiceIsEmpty() throws Exception {
    try (Registry consumer = open()) {
      assertThat(consumer.lookup(service("Nothing"))).isEmpty();
    }
  }

  @Test
  void subscribersGetTheWholeCurrentListThenEveryChange() throws Exception {
    String service = service("Subscribe");
    ServiceInstance a = instance(service, 9001);
    ServiceInstance b = instance(service, 9002);
    ServiceInstance c = instance(service, 9003);
    try (Registry provider = open(); Registry consumer = open()) {
      provider.register(a);
      provider.register(b);
      Recorder seen = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen)) {
        await(() -> seen.size() > 0, "the first list");
        // the first list is the whole current one, never a part of it
        assertThat(seen.lists().get(0)).containsExactlyInAnyOrder(a, b);
        provider.register(c);
        seen.awaitLast(a, b, c);
        provider.unregister(a);
        seen.awaitLast(b, c);
        ServiceInstance heavier = ServiceInstance.builder(service, "127.0.0.1", 9002)
            .serializers(b.serializers()).weight(700).version("1.3.0").build();
        provider.register(heavier);
        seen.awaitLast(heavier, c);
        for (List<ServiceInstance> list : seen.lists()) {
          assertThat(list.stream().map(ServiceInstance::address).distinct().count())
              .as("one entry per provider in %s", list).isEqualTo(list.size());
        }
        assertThat(seen.threads).as("listener threads").hasSize(1);
      }
    }
  }

  @Test
  void aSubscriptionToAServiceWithoutProvidersDeliversAnEmptyList() throws Exception {
    String service = service("Empty");
    try (Registry consumer = open()) {
      Recorder seen = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen)) {
        await(() -> seen.size() > 0, "the first list");
        assertThat(seen.last()).isEmpty();
      }
    }
  }

  @Test
  void aClosedSubscriptionHearsNothingMore() throws Exception {
    String service = service("Unsubscribe");
    ServiceInstance a = instance(service, 9001);
    try (Registry provider = open(); Registry consumer = open()) {
      Recorder kept = new Recorder();
      Recorder dropped = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, kept)) {
        Registry.Subscription d = consumer.subscribe(service, dropped);
        await(() -> kept.size() > 0 && dropped.size() > 0, "both first lists");
        d.close();
        provider.register(a);
        kept.awaitLast(a);
        assertThat(dropped.lists()).allSatisfy(list -> assertThat(list).isEmpty());
      }
    }
  }

  @Test
  void aSecondClientSeesTheFirstClientsRegistrations() throws Exception {
    String service = service("Second");
    ServiceInstance a = instance(service, 9001);
    try (Registry provider = open()) {
      provider.register(a);
      try (Registry consumer = open()) {
        assertThat(consumer.lookup(service)).containsExactly(a);
        Recorder seen = new Recorder();
        try (Registry.Subscription s = consumer.subscribe(service, seen)) {
          seen.awaitLast(a);
        }
      }
      assertThat(provider.lookup(service)).containsExactly(a);
    }
  }

  @Test
  void closingARegistryRemovesItsRegistrationsFromOthersView() throws Exception {
    String service = service("Close");
    String other = service("CloseOther");
    ServiceInstance a = instance(service, 9001);
    ServiceInstance b = instance(other, 9001);
    ServiceInstance staying = instance(service, 9002);
    try (Registry consumer = open(); Registry stays = open()) {
      Registry provider = open();
      provider.register(a);
      provider.register(b);
      stays.register(staying);
      Recorder seen = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen)) {
        seen.awaitLast(a, staying);
        provider.close();
        seen.awaitLast(staying);
        await(() -> consumer.lookup(other).isEmpty(), "the other service's registration to go");
        assertThat(consumer.lookup(service)).containsExactly(staying);
      }
    }
  }

  @Test
  void aRegistrationComesBackOnItsOwnAfterItsLivenessIsLost() throws Exception {
    String service = service("Liveness");
    ServiceInstance a = instance(service, 9001);
    try (Registry consumer = open(); Registry provider = open()) {
      Recorder seen = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen)) {
        provider.register(a);
        seen.awaitLast(a);
        int mark = seen.size();
        long lostAt = System.nanoTime();
        loseLiveness(provider);
        seen.awaitSince(mark, List::isEmpty, "the registration to vanish with its liveness");
        long vanishedMillis = (System.nanoTime() - lostAt) / 1_000_000;
        seen.awaitLast(a);
        long gapMillis = (System.nanoTime() - lostAt) / 1_000_000;
        System.out.println(getClass().getSimpleName() + ": registration vanished "
            + vanishedMillis + " ms and was back " + gapMillis
            + " ms after its liveness was lost");
        assertThat(consumer.lookup(service)).containsExactly(a);
        // and it stays registered
        ServiceInstance b = instance(service, 9002);
        provider.register(b);
        seen.awaitLast(a, b);
      }
    }
  }

  @Test
  void hostileOrBrokenEntriesAreSkippedNotTrusted() throws Exception {
    String service = service("Hostile");
    ServiceInstance good = instance(service, 9001);
    byte[] noise = new byte[512];
    new Random(7).nextBytes(noise);
    byte[] valid = InstanceCodec.encode(instance(service, 9010));
    byte[] oversized = Arrays.copyOf(valid, InstanceCodec.MAX_BYTES + 1);
    Arrays.fill(oversized, valid.length, oversized.length, (byte) '\n');
    storeRaw(service, "evil:1", "\u0000garbage=%n".getBytes(StandardCharsets.UTF_8));
    storeRaw(service, "noise:2", noise);
    storeRaw(service, "empty:3", new byte[0]);
    storeRaw(service, "127.0.0.1:9010", oversized);
    // well-formed, but claiming to be a provider of another service, or at another address
    storeRaw(service, "127.0.0.1:9004", InstanceCodec.encode(instance("demo.Elsewhere", 9004)));
    storeRaw(service, "127.0.0.1:9005", InstanceCodec.encode(instance(service, 9006)));
    storeRaw(service, "127.0.0.1:9007", "service=x\nhost=127.0.0.1\nport=99999\n".getBytes(
        StandardCharsets.UTF_8));
    try (Registry provider = open(); Registry consumer = open()) {
      provider.register(good);
      assertThat(consumer.lookup(service)).containsExactly(good);
      Recorder seen = new Recorder();
      try (Registry.Subscription s = consumer.subscribe(service, seen)) {
        seen.awaitLast(good);
        assertThat(seen.lists().get(0)).containsExactly(good);
        // garbage arriving while subscribed does not break the subscription
        storeRaw(service, "late:8", noise);
        ServiceInstance more = instance(service, 9002);
        provider.register(more);
        seen.awaitLast(good, more);
      }
      assertThat(consumer.lookup(service)).extracting(ServiceInstance::port)
          .containsExactlyInAnyOrder(9001, 9002);
    }
  }
}
