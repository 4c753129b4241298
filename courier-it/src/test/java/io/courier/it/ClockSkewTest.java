package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 18: clock skew. Two of three providers run with their wall clock
 * 30 s ahead and 30 s behind (libfaketime); the consumers and the registry keep the true time.
 */
@Tag("slow")
class ClockSkewTest extends ClusterHarness {

  /**
   * Under 8 s of load with a 1 s deadline, round robin: if a deadline travelled as a point in
   * wall-clock time, the provider 30 s ahead would find every call expired and the one behind
   * would hold calls 30 s too long. Proves that the clocks really are off (each provider reports
   * its own), that no call fails, that each provider serves its share, and that the registry
   * keeps all three listed throughout (ZooKeeper sessions time out by elapsed time, not by the
   * wall clock). The ledger reconciles.
   */
  @Test
  void skewedClocksChangeNothing() throws Exception {
    ProviderProcess ahead = startProvider("ahead",
        ProviderProcess.Launch.LOOPBACK.withClockShift(30));
    ProviderProcess behind = startProvider("behind",
        ProviderProcess.Launch.LOOPBACK.withClockShift(-30));
    ProviderProcess exact = startProvider("exact");
    List<ProviderProcess> ps = List.of(ahead, behind, exact);
    var watcher = watcher();
    await(Duration.ofSeconds(20), "the registry to list all three", () ->
        listed(watcher).size() == 3);
    Duration timeout = Duration.ofSeconds(1);
    CourierClient c1 = consumer(b -> b.timeout(timeout).loadBalancer(LoadBalancers.roundRobin()));
    CourierClient c2 = consumer(b -> b.timeout(timeout).loadBalancer(LoadBalancers.roundRobin()));

    LedgerService probe = c1.stub(LedgerService.class);
    long[] offsets = new long[3];
    for (int i = 0; i < 30 && (offsets[0] == 0 || offsets[1] == 0 || offsets[2] == 0); i++) {
      long before = System.currentTimeMillis();
      long theirs = probe.wallClockMillis();
      long after = System.currentTimeMillis();
      long offset = theirs - (before + after) / 2;
      // round robin: the three answer in turn; tell them apart by how far off they are
      offsets[offset > 15_000 ? 0 : offset < -15_000 ? 1 : 2] = offset == 0 ? 1 : offset;
    }
    System.out.printf("  wall clock offsets: ahead %+d ms, behind %+d ms, exact %+d ms%n",
        offsets[0], offsets[1], offsets[2]);
    assertThat(offsets[0]).as("the provider ahead").isBetween(28_000L, 32_000L);
    assertThat(offsets[1]).as("the provider behind").isBetween(-32_000L, -28_000L);
    assertThat(Math.abs(offsets[2])).as("the exact provider").isLessThan(2_000L);

    AtomicBoolean allListed = new AtomicBoolean(true);
    LoadDriver load = load(List.of(c1, c2), 16, 300, timeout, 1_000).start();
    long end = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    while (System.nanoTime() - end < 0) {
      if (listed(watcher).size() != 3) {
        allListed.set(false);
      }
      Thread.sleep(250);
    }
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("wall clocks 30 s off on two providers", load,
        providers);
    assertThat(r.errors).as("failed calls").isEmpty();
    for (ProviderProcess p : ps) {
      assertThat(load.okFrom(p.port)).as("calls %s served", p).isGreaterThan(r.ok / 5);
    }
    assertThat(allListed).as("all three listed throughout").isTrue();
  }
}
