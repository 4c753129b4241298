package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.registry.Registry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Reliability catalogue 5b rows 9 and 10 on etcd: the registry is down. */
@Tag("slow")
class EtcdOutageTest extends ClusterHarness {

  @Override
  RegistryKind registryKind() {
    return RegistryKind.ETCD;
  }

  /**
   * Three providers registered in a real etcd with a 3 s lease TTL, two consumers on the same
   * etcd, steady load. The etcd process is stopped during traffic for at least 5 s, longer than
   * the TTL, and a fourth provider starts while it is down (it serves, and cannot register yet);
   * then etcd starts again on the same ports and data. Proves zero failed calls while etcd is down
   * and after it is back; that the consumers keep every provider in their pick set (each of the
   * three serves at least a quarter of the calls made during the outage) and do not learn of the
   * fourth while etcd is down; that once etcd is back every provider is listed again and each of
   * the three reports its registration stored again (under its old lease or a new one; it warns
   * of nothing else), and each consumer discovers the fourth and sends it calls (the recovery
   * times are printed); and that the ledger reconciles.
   */
  @Test
  void callsGoOnWhileEtcdIsDownAndEveryRegistrationIsBackAfterItRestarts() throws Exception {
    String uri = registryUri + "?ttl=3";
    List<ProviderProcess> first = List.of(startProvider("p1", uri), startProvider("p2", uri),
        startProvider("p3", uri));
    // round robin: each provider's share shows whether the consumers kept it in their picks
    CourierClient c1 = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    CourierClient c2 = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(c1, c2), 8, 200, Duration.ofSeconds(2), 1_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        first.stream().allMatch(p -> load.okFrom(p.port) > 50));
    Thread.sleep(1_000);

    load.event("etcd stopped");
    long[] before = first.stream().mapToLong(p -> load.okFrom(p.port)).toArray();
    long downNanos = System.nanoTime();
    stopRegistry();
    long stopMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downNanos);
    ProviderProcess p4 = startProvider("p4", uri); // serves; registers once etcd is back
    load.event(p4.name + " started while etcd is down");
    long downAtLeast = TimeUnit.SECONDS.toNanos(5);
    long left = downAtLeast - (System.nanoTime() - downNanos);
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
    long[] during = first.stream().mapToLong(p -> load.okFrom(p.port)).toArray();
    long errorsWhileDown = load.errors();
    long p4WhileDown = load.okFrom(p4.port);
    long restartNanos = System.nanoTime();
    long downMs = TimeUnit.NANOSECONDS.toMillis(restartNanos - downNanos);
    load.event("etcd starting again after " + downMs + " ms down (" + errorsWhileDown
        + " errors while down)");
    restartRegistry();
    long upNanos = System.nanoTime();
    long restartMs = TimeUnit.NANOSECONDS.toMillis(upNanos - restartNanos);
    load.event("etcd healthy again, " + restartMs + " ms after starting");
    Registry registry = watcher();
    List<String> all = List.of(first.get(0).address(), first.get(1).address(),
        first.get(2).address(), p4.address());
    // what recovers, each timed from etcd's restart on its own (each client reconnects on its
    // own schedule: gRPC's reconnect back-off, or a replacement client after a long outage).
    // etcd keeps the first three's keys and leases across its restart: what shows that each of
    // them took its registration back is its own report that its heartbeat is restored.
    Map<String, BooleanSupplier> milestones = new LinkedHashMap<>();
    milestones.put("etcd lists all four providers", () -> {
      try {
        return listed(registry).containsAll(all);
      } catch (IllegalStateException notAnsweringYet) {
        return false;
      }
    });
    for (ProviderProcess p : first) {
      milestones.put(p.name + " restored its heartbeat", () -> heartbeatRestored(p));
    }
    for (int c = 0; c < 2; c++) {
      int consumer = c;
      milestones.put(p4.name + " answered consumer " + c,
          () -> load.okFrom(consumer, p4.port) > 0);
    }
    Map<String, Long> reachedMs = new LinkedHashMap<>();
    await(Duration.ofSeconds(60), "recovery: " + milestones.keySet(), () -> {
      milestones.forEach((what, reached) -> {
        if (!reachedMs.containsKey(what) && reached.getAsBoolean()) {
          long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - upNanos);
          reachedMs.put(what, ms);
          load.event(what + ", " + ms + " ms after etcd was healthy");
        }
      });
      return reachedMs.size() == milestones.size();
    });
    Thread.sleep(1_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("etcd down during traffic", load, providers);
    System.out.println("  etcd stopped in " + stopMs + " ms, down " + downMs + " ms, healthy "
        + restartMs + " ms after starting again; then, ms after it was healthy: " + reachedMs);
    for (ProviderProcess p : providers) {
      p.logLines("[COURIER-R0").forEach(l -> System.out.println("  " + p.name + ": " + l));
    }
    assertThat(providers).allSatisfy(p -> assertThat(p.logLines("[COURIER-R02]"))
        .as("%s's registration warnings", p.name).allMatch(l -> l.contains("heartbeat to")));
    assertThat(errorsWhileDown).as("failed calls while etcd was down").isZero();
    assertThat(r.errors).as("failed calls").isEmpty();
    assertThat(p4WhileDown).as("calls to %s while etcd is down", p4.name).isZero();
    long total = 0;
    for (int i = 0; i < first.size(); i++) {
      total += during[i] - before[i];
    }
    assertThat(total).as("calls served while etcd was down").isGreaterThan(300);
    for (int i = 0; i < first.size(); i++) {
      assertThat((double) (during[i] - before[i]) / total)
          .as("share of %s while etcd was down", first.get(i)).isGreaterThan(0.25);
    }
  }

  /** Whether the provider reported that it stored its registration again after an outage. */
  private static boolean heartbeatRestored(ProviderProcess p) {
    try {
      return p.logLines("[COURIER-R02] heartbeat to").stream()
          .anyMatch(l -> l.contains("stored again"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
