package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.registry.Registry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Reliability catalogue 5b row 12: a provider's ZooKeeper session expires. */
@Tag("slow")
class SessionExpiryTest extends ClusterHarness {

  /**
   * Three providers, one with a 2 s ZooKeeper session, serve a consumer. With the load held, that
   * provider is frozen (SIGSTOP) until ZooKeeper expires its session and deletes its node, then
   * continued (SIGCONT). Proves that the node disappears and the provider registers again by
   * itself (the gap is measured), that the consumer's connection to it is not cut (its server
   * accepted no new connection) and that the consumer sends it calls again; zero errors; the
   * ledger reconciles.
   */
  @Test
  void expiredProviderRegistersAgainAndKeepsItsConnections() throws Exception {
    int sessionTimeoutMs = 2_000;
    ProviderProcess p1 = startProvider("p1");
    ProviderProcess p2 = startProvider("p2");
    ProviderProcess p3 = startProvider("p3", registryUri + "?sessionTimeout=" + sessionTimeoutMs);
    // round robin: every provider gets its share at once (this test is not about balancing)
    CourierClient consumer = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(consumer), 8, 200, Duration.ofSeconds(2), 1_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        load.okFrom(p1.port) > 50 && load.okFrom(p2.port) > 50 && load.okFrom(p3.port) > 50);

    Registry watcher = watcher();
    Listing listing = watchListing(watcher, p3.address());
    AtomicLong goneNanos = listing.goneNanos;
    AtomicLong backNanos = listing.backNanos;
    load.pause(); // no call in flight: a frozen provider would time them out
    long[] connectionsBefore = p3.connectionStats();
    load.event("SIGSTOP " + p3);
    p3.pause();
    long stoppedNanos = System.nanoTime();
    await(Duration.ofMillis(sessionTimeoutMs).plusSeconds(20), p3 + "'s node to be deleted",
        () -> goneNanos.get() != 0);
    load.event("node of " + p3.name + " deleted by ZooKeeper ("
        + TimeUnit.NANOSECONDS.toMillis(goneNanos.get() - stoppedNanos) + " ms after SIGSTOP)");
    p3.resume();
    load.event("SIGCONT " + p3.name);
    await(Duration.ofSeconds(30), p3 + " to register again", () -> backNanos.get() != 0);
    long gapMs = TimeUnit.NANOSECONDS.toMillis(backNanos.get() - goneNanos.get());
    load.event(p3.name + " registered again, " + gapMs + " ms after its node was deleted");
    long servedBefore = load.okFrom(p3.port);
    load.resume();
    await(Duration.ofSeconds(30), p3 + " to serve the consumer again",
        () -> load.okFrom(p3.port) > servedBefore + 50);
    load.event(p3.name + " serves again");
    long[] connectionsAfter = p3.connectionStats();
    Thread.sleep(1_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("ZooKeeper session expiry of a provider", load,
        providers);
    System.out.println("  registration gap (node deleted to node back): " + gapMs + " ms;"
        + " connections accepted by the provider before/after: " + connectionsBefore[0] + "/"
        + connectionsAfter[0] + ", open " + connectionsBefore[1] + "/" + connectionsAfter[1]);
    assertThat(r.errors).as("failed calls").isEmpty();
    assertThat(connectionsAfter[0]).as("connections accepted: none cut and reopened")
        .isEqualTo(connectionsBefore[0]);
    assertThat(connectionsAfter[1]).as("connections open").isEqualTo(connectionsBefore[1]);
  }
}
