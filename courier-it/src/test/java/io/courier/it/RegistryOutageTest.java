package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.registry.Registry;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Reliability catalogue 5b rows 8, 9 and 10: the registry is down. */
@Tag("slow")
class RegistryOutageTest extends ClusterHarness {

  /**
   * A consumer that saw the providers before (its provider cache file) starts while ZooKeeper is
   * down, and a fourth provider starts meanwhile (it serves, and cannot register yet). Proves that
   * the consumer starts from the cached providers and its calls succeed; that when ZooKeeper is
   * back on the same port and data, the new provider's registration completes and the consumer
   * resubscribes and sends it calls; zero errors; the ledger reconciles.
   */
  @Test
  void consumerStartsFromItsCacheWhileTheRegistryIsDownAndResubscribes() throws Exception {
    List<ProviderProcess> first = List.of(startProvider("p1"), startProvider("p2"),
        startProvider("p3"));
    // round robin: every provider gets its share at once (this test is not about balancing)
    CourierClient before = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver warm = load(List.of(before), 4, 200, Duration.ofSeconds(2), 0).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        first.stream().allMatch(p -> warm.okFrom(p.port) > 10));
    warm.stop();
    before.close();
    assertThat(dir.resolve("cache")).isDirectoryContaining(f -> Files.isRegularFile(f));

    stopRegistry();
    long downNanos = System.nanoTime();
    ProviderProcess p4 = startProvider("p4"); // serves, registers once the registry is back
    long start = System.nanoTime();
    CourierClient consumer = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(consumer), 8, 200, Duration.ofSeconds(2), 1_000);
    long startedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    load.event("registry down; consumer started from its cache in " + startedMs + " ms");
    load.start();
    await(Duration.ofSeconds(30), "the cached providers to serve calls", () ->
        first.stream().allMatch(p -> load.okFrom(p.port) > 20));
    Thread.sleep(1_000);
    assertThat(load.okFrom(p4.port)).as("unknown while the registry is down").isZero();

    restartRegistry();
    long upNanos = System.nanoTime();
    load.event("registry restarted after "
        + TimeUnit.NANOSECONDS.toMillis(upNanos - downNanos) + " ms down");
    Registry registry = watcher();
    await(Duration.ofSeconds(40), p4 + " to be registered",
        () -> listed(registry).contains(p4.address()));
    long registeredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - upNanos);
    load.event(p4.name + " registered, " + registeredMs + " ms after the restart");
    await(Duration.ofSeconds(40), p4 + " to be discovered and called",
        () -> load.okFrom(p4.port) > 20);
    long discoveredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - upNanos);
    load.event(p4.name + " serves the consumer, " + discoveredMs + " ms after the restart");
    Thread.sleep(1_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("registry down at consumer start",
        List.of(warm, load), providers);
    System.out.println("  consumer start with the registry down: " + startedMs + " ms;"
        + " the provider started meanwhile registered " + registeredMs + " ms and was called "
        + discoveredMs + " ms after the restart");
    assertThat(r.errors).as("failed calls").isEmpty();
    assertThat(first).allSatisfy(p -> assertThat(load.okFrom(p.port)).isPositive());
  }

  /**
   * Three providers, two consumers, steady load; ZooKeeper stops for 5 s (less than the
   * providers' 10 s session timeout), then comes back on the same port and data. Proves zero
   * failed calls while it is down and after it is back; that the consumers keep every provider
   * in their pick set (each of the three serves its third of the calls during the outage; no
   * empty list is applied);
   * that every provider is still registered afterwards; and that the ledger reconciles.
   */
  @Test
  void callsGoOnWhileTheRegistryIsDownAndAfterItIsBack() throws Exception {
    List<ProviderProcess> ps = List.of(startProvider("p1"), startProvider("p2"),
        startProvider("p3"));
    // round robin: each provider's share shows whether the consumers kept it in their picks
    CourierClient c1 = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    CourierClient c2 = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(c1, c2), 16, 300, Duration.ofSeconds(2), 2_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        ps.stream().allMatch(p -> load.okFrom(p.port) > 50));
    Thread.sleep(2_000);

    load.event("registry stopped");
    stopRegistry();
    long[] before = ps.stream().mapToLong(p -> load.okFrom(p.port)).toArray();
    Thread.sleep(5_000);
    long[] during = ps.stream().mapToLong(p -> load.okFrom(p.port)).toArray();
    long errorsWhileDown = load.errors();
    load.event("registry restarted (" + errorsWhileDown + " errors while down)");
    restartRegistry();
    Registry registry = watcher();
    await(Duration.ofSeconds(30), "every provider to be listed again",
        () -> listed(registry).size() == 3);
    load.event("registry lists " + listed(registry));
    Thread.sleep(3_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("registry down during traffic", load, providers);
    assertThat(errorsWhileDown).isZero();
    assertThat(r.errors).as("failed calls").isEmpty();
    long total = 0;
    for (int i = 0; i < ps.size(); i++) {
      total += during[i] - before[i];
    }
    assertThat(total).as("calls served while the registry was down").isGreaterThan(300);
    for (int i = 0; i < ps.size(); i++) {
      assertThat((double) (during[i] - before[i]) / total)
          .as("share of %s while the registry was down", ps.get(i)).isGreaterThan(0.25);
    }
  }
}
