package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.ErrorReason;
import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.it.LoadDriver.Call;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 5: a half-open link. Every packet to and from one provider's port
 * is dropped (nftables in the provider's network namespace), both ways and without a reset, so
 * that neither side's TCP notices; then the link heals.
 */
@Tag("slow")
class HalfOpenLinkTest extends ClusterHarness {

  @Override
  boolean usesNetworkNamespaces() {
    return true;
  }

  /**
   * Three providers under load, one in a namespace of its own; its port is blackholed for 5 s.
   * The consumer's heartbeat (every 500 ms, three missed close the connection) must find the dead
   * link: the calls caught on it end as {@code CONNECTION_CLOSED} naming the missed heartbeats,
   * long before their 5 s deadline (the OS keepalive would take two hours, TCP's retransmission
   * timeout about fifteen minutes), and no call ends in {@code DEADLINE_EXCEEDED}. Calls go on
   * to the others meanwhile; once the link heals, the consumer connects again (the provider
   * counts a new connection) and the provider serves again. The ledger reconciles.
   */
  @Test
  void blackholedLinkIsFoundByTheHeartbeatAndReconnectedAfterItHeals() throws Exception {
    NetNamespace ns = namespace();
    ProviderProcess p1 = startProvider("p1");
    ProviderProcess p2 = startProvider("p2");
    ProviderProcess p3 = startProviderIn("p3", ns);
    Duration timeout = Duration.ofSeconds(5);
    CourierClient consumer = consumer(b -> b.timeout(timeout)
        .heartbeatInterval(Duration.ofMillis(500))
        .connectTimeout(Duration.ofSeconds(1))
        .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500))
        .loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(consumer), 16, 200, timeout, 2_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        load.okFrom(p1.port) > 50 && load.okFrom(p2.port) > 50 && load.okFrom(p3.port) > 50);
    long acceptedBefore = p3.connectionStats()[0];

    load.event("blackhole " + p3 + " (both ways, no reset)");
    long cutNanos = System.nanoTime();
    ns.blackhole(p3.port);
    Thread.sleep(5_000);
    long dropped = ns.droppedPackets();
    load.event("heal " + p3 + " (" + dropped + " packets dropped)");
    ns.heal();
    long healNanos = System.nanoTime();
    long servedBefore = load.okFrom(p3.port);
    await(Duration.ofSeconds(30), p3 + " to serve again", () ->
        load.okFrom(p3.port) > servedBefore + 50);
    long back = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - healNanos);
    load.event(p3.name + " serves again (" + back + " ms after the heal)");
    long acceptedAfter = p3.connectionStats()[0];
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("half-open link, then healed", load, providers);
    System.out.println("  serving again " + back + " ms after the heal; " + p3.name
        + " accepted " + (acceptedAfter - acceptedBefore) + " new connection(s)");
    List<Call> closed = r.errors.stream()
        .filter(c -> c.reason == ErrorReason.CONNECTION_CLOSED).toList();
    assertThat(closed).as("calls caught on the dead link").isNotEmpty();
    for (Call c : closed) {
      assertThat(c.endpoint).as("%s", c).isEqualTo(p3.address());
      assertThat(c.error).as("%s", c).hasMessageContaining("heartbeats missed");
      assertThat(c.startNanos - cutNanos).as("%s started after the cut", c)
          .isGreaterThan(-TimeUnit.SECONDS.toNanos(1));
    }
    for (Call c : r.errors) {
      assertThat(c.reason).as("%s: the heartbeat, not the deadline, ends it", c)
          .isNotEqualTo(ErrorReason.DEADLINE_EXCEEDED);
      assertThat(c.endpoint).as("%s", c).isEqualTo(p3.address());
    }
    assertThat(dropped).as("packets the blackhole dropped").isPositive();
    assertThat(acceptedAfter).as("the consumer connected again after the heal")
        .isGreaterThan(acceptedBefore);
  }
}
