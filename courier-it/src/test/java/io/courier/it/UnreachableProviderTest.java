package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.cli.chaos.CallLedger;
import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.it.LoadDriver.Call;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 19: a provider the registry can reach but the consumers cannot.
 * It runs in a network namespace of its own whose packets rules drop everything to and from its
 * serving port (a firewall that silently drops), while its registry session, on another port,
 * works: it stays registered and listed.
 */
@Tag("slow")
class UnreachableProviderTest extends ClusterHarness {

  @Override
  boolean usesNetworkNamespaces() {
    return true;
  }

  /**
   * Two reachable providers and an unreachable one, listed by the registry; two consumers start
   * after it is cut off and call for 9 s (round robin, 1 s connect timeout, 3 s deadline).
   * Proves there is no black hole: no call fails (a failed connect means the call was never
   * sent, so it is tried on another provider), the unreachable provider runs nothing, it stays
   * listed throughout, and it is ejected: once the first connects have failed, few calls wait for
   * another connect timeout (round robin without ejection would send one call in three there).
   */
  @Test
  void providerListedButUnreachableIsEjectedAndNoCallIsLost() throws Exception {
    NetNamespace ns = namespace();
    ProviderProcess p1 = startProvider("p1");
    ProviderProcess p2 = startProvider("p2");
    ProviderProcess p3 = startProviderIn("p3", ns);
    ns.blackhole(p3.port);
    var watcher = watcher();
    await(Duration.ofSeconds(20), "the registry to list all three", () ->
        listed(watcher).size() == 3);
    Duration timeout = Duration.ofSeconds(3);
    CourierClient c1 = consumer(b -> b.timeout(timeout).connectTimeout(Duration.ofSeconds(1))
        .loadBalancer(LoadBalancers.roundRobin()));
    CourierClient c2 = consumer(b -> b.timeout(timeout).connectTimeout(Duration.ofSeconds(1))
        .loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(c1, c2), 16, 200, timeout, 1_000).start();
    long startNanos = System.nanoTime();
    Thread.sleep(9_000);
    boolean stillListed = listed(watcher).contains(p3.address());
    long dropped = ns.droppedPackets();
    load.event(p3.name + " still listed: " + stillListed + "; " + dropped + " packets dropped");
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("provider listed but unreachable", List.of(load),
        providers);
    assertThat(r.errors).as("failed calls").isEmpty();
    assertThat(CallLedger.read(p3.ledger)).as("calls run by the unreachable provider").isEmpty();
    assertThat(stillListed).as("the registry still lists it").isTrue();
    assertThat(dropped).as("connects dropped").isPositive();
    assertThat(load.okFrom(p1.port)).isPositive();
    assertThat(load.okFrom(p2.port)).isPositive();
    // after the first 3 s, calls that waited out a connect timeout are rare
    long from = startNanos + TimeUnit.SECONDS.toNanos(3);
    List<Call> later = r.calls.stream().filter(c -> c.startNanos - from >= 0).toList();
    long held = later.stream()
        .filter(c -> c.latencyNanos() > TimeUnit.MILLISECONDS.toNanos(900)).count();
    System.out.printf("  after the first 3 s: %d calls, %d held by a connect timeout (%.2f%%)%n",
        later.size(), held, 100.0 * held / later.size());
    assertThat(later).hasSizeGreaterThan(600);
    assertThat((double) held / later.size()).as("share of calls held by a connect timeout")
        .isLessThan(0.02);
  }
}
