package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.it.LoadDriver.Call;
import io.courier.it.LoadDriver.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 15: packet loss. nftables in each provider's network namespace
 * drops 15 % of the packets to and from its port, at random, both ways.
 */
@Tag("slow")
class PacketLossTest extends ClusterHarness {

  @Override
  boolean usesNetworkNamespaces() {
    return true;
  }

  /**
   * Three providers, each in a namespace of its own losing 15 % of its packets, under 10 s of
   * load from two consumers with a 2 s timeout. Every call must finish by its deadline, OK or
   * with a typed error (the reconciliation fails on anything else, and on a call that outlived
   * its deadline by more than 1 s); no OK may arrive after the deadline; the non-idempotent
   * {@code work} must never run twice; and most calls must still succeed, since TCP retransmits
   * what was lost.
   */
  @Test
  void lossyLinksEndEveryCallByItsDeadlineAndRunNoCallTwice() throws Exception {
    List<NetNamespace> nets = List.of(namespace(), namespace(), namespace());
    List<ProviderProcess> ps = List.of(startProviderIn("p1", nets.get(0)),
        startProviderIn("p2", nets.get(1)), startProviderIn("p3", nets.get(2)));
    Duration timeout = Duration.ofSeconds(2);
    CourierClient c1 = consumer(b -> b.timeout(timeout));
    CourierClient c2 = consumer(b -> b.timeout(timeout));
    LoadDriver load = load(List.of(c1, c2), 16, 200, timeout, 1_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        ps.stream().allMatch(p -> load.okFrom(p.port) > 20));

    for (int i = 0; i < ps.size(); i++) {
      nets.get(i).loss(ps.get(i).port, 15);
    }
    load.event("15 % packet loss on every provider's port, both ways");
    long lossNanos = System.nanoTime();
    Thread.sleep(10_000);
    long dropped = nets.stream().mapToLong(NetNamespace::droppedPackets).sum();
    load.event("loss ends (" + dropped + " packets dropped)");
    nets.forEach(NetNamespace::heal);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("15 % packet loss", load, providers);
    List<Call> during = r.calls.stream().filter(c -> c.startNanos - lossNanos >= 0).toList();
    long okDuring = during.stream().filter(c -> c.outcome == Outcome.OK).count();
    long slow = during.stream().filter(c -> c.latencyNanos() > TimeUnit.MILLISECONDS.toNanos(150))
        .count();
    System.out.printf("  during the loss: %d calls, %d OK (%.1f%%), %d slower than 150 ms"
        + " (retransmitted)%n", during.size(), okDuring, 100.0 * okDuring / during.size(), slow);
    assertThat(dropped).as("packets dropped").isGreaterThan(100);
    assertThat(slow).as("calls held up by retransmission").isPositive();
    for (Call c : r.calls) {
      if (c.outcome == Outcome.OK) {
        assertThat(c.latencyNanos()).as("%s: no OK after its deadline", c)
            .isLessThan(timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
    assertThat((double) okDuring / during.size()).as("share of calls that succeed")
        .isGreaterThan(0.8);
  }
}
