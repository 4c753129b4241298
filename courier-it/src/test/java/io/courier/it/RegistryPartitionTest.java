package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.registry.Registry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 11: a partition between the registry and the rest, made by a
 * {@link FaultProxy} on the registry link that holds every byte both ways (the connection stays
 * open: neither side's TCP notices) for longer than the ZooKeeper session timeout.
 */
@Tag("slow")
class RegistryPartitionTest extends ClusterHarness {

  /**
   * Three providers and a consumer whose only way to the registry is a proxy, with a 2 s session
   * timeout; the proxy holds everything for 5 s, so the consumer's session expires while it is
   * cut off, and a fourth provider joins meanwhile. Proves zero failed calls through the
   * partition, each of the three keeping its share (round robin), and that after the heal the
   * consumer follows the registry again: it finds the provider that joined while it was cut off.
   */
  @Test
  void consumerCutOffFromTheRegistryKeepsCallingAndCatchesUpAfterTheHeal() throws Exception {
    List<ProviderProcess> ps = List.of(startProvider("p1"), startProvider("p2"),
        startProvider("p3"));
    FaultProxy link = closeLater(FaultProxy.to(registryHost, zkPort));
    String viaProxy = "zookeeper://" + link.address() + "/courier?sessionTimeout=2000";
    CourierClient consumer = closeLater(CourierClient.builder()
        .registry(viaProxy)
        .registryCacheDir(dir.resolve("cache"))
        .timeout(Duration.ofSeconds(2))
        .warmup(Duration.ZERO)
        .loadBalancer(LoadBalancers.roundRobin())
        .ioThreads(2)
        .build());
    LoadDriver load = load(List.of(consumer), 16, 300, Duration.ofSeconds(2), 2_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        ps.stream().allMatch(p -> load.okFrom(p.port) > 50));

    load.event("registry link of the consumer blackholed");
    link.blackhole();
    long[] before = ps.stream().mapToLong(p -> load.okFrom(p.port)).toArray();
    ProviderProcess p4 = startProvider("p4");
    load.event(p4 + " started and registered while the consumer is cut off");
    Thread.sleep(5_000);
    long[] during = new long[ps.size()];
    for (int i = 0; i < ps.size(); i++) {
      during[i] = load.okFrom(ps.get(i).port) - before[i];
    }
    long p4During = load.okFrom(p4.port);
    load.event("heal (each provider served " + java.util.Arrays.toString(during)
        + " while cut off; p4 " + p4During + ")");
    link.heal();
    await(Duration.ofSeconds(30), "the consumer to find " + p4, () -> load.okFrom(p4.port) > 50);
    load.event("p4 serves the consumer");
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("consumer cut off from the registry", load,
        providers);
    assertThat(r.errors).as("failed calls").isEmpty();
    for (long n : during) {
      assertThat(n).as("calls each provider served while the consumer was cut off")
          .isGreaterThan(100);
    }
    assertThat(p4During).as("p4 cannot be known while the consumer is cut off").isZero();
  }

  /**
   * Three providers whose registry link goes through one proxy, with a 2 s session timeout; the
   * proxy holds everything for 6 s, so their sessions expire and the registry deletes every
   * registration: the consumers (directly on the registry) are told the service has no provider
   * at all. Proves that this empty list does not wipe theirs: zero failed calls, and calls go on
   * to the providers they last knew (the sessions expire one by one, so a consumer may first
   * apply a list without the provider that expired first; it never applies the empty one); and
   * that the providers are registered again after the heal.
   */
  @Test
  void anEmptyListFromTheRegistryDoesNotWipeTheConsumersList() throws Exception {
    FaultProxy link = closeLater(FaultProxy.to(registryHost, zkPort));
    String viaProxy = "zookeeper://" + link.address() + "/courier?sessionTimeout=2000";
    List<ProviderProcess> ps = List.of(startProvider("p1", viaProxy),
        startProvider("p2", viaProxy), startProvider("p3", viaProxy));
    Registry watcher = watcher();
    CourierClient c1 = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    CourierClient c2 = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(c1, c2), 16, 300, Duration.ofSeconds(2), 2_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        ps.stream().allMatch(p -> load.okFrom(p.port) > 50));

    load.event("registry link of every provider blackholed");
    link.blackhole();
    await(Duration.ofSeconds(20), "the registry to list no provider", () ->
        listed(watcher).isEmpty());
    load.event("the registry lists no provider (sessions expired)");
    long[] before = ps.stream().mapToLong(p -> load.okFrom(p.port)).toArray();
    Thread.sleep(3_000);
    long[] during = new long[ps.size()];
    for (int i = 0; i < ps.size(); i++) {
      during[i] = load.okFrom(ps.get(i).port) - before[i];
    }
    load.event("heal (each provider served " + java.util.Arrays.toString(during)
        + " while unlisted)");
    link.heal();
    await(Duration.ofSeconds(30), "every provider to be registered again", () ->
        listed(watcher).size() == 3);
    load.event("every provider registered again");
    Thread.sleep(1_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("empty list from the registry", load, providers);
    assertThat(r.errors).as("failed calls").isEmpty();
    // the sessions expire one by one: a consumer may apply a shorter list before the empty one
    // (a provider whose registration is gone is dropped), but never the empty one
    assertThat(java.util.Arrays.stream(during).sum())
        .as("calls served while the registry listed no provider").isGreaterThan(300);
  }
}
