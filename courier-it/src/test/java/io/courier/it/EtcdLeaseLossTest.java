package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.ErrorReason;
import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.it.LoadDriver.Call;
import io.courier.registry.Registry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Reliability catalogue 5b row 13: a provider's etcd lease expires. */
@Tag("slow")
class EtcdLeaseLossTest extends ClusterHarness {

  @Override
  RegistryKind registryKind() {
    return RegistryKind.ETCD;
  }

  /**
   * Three providers register in a real etcd with a 3 s lease TTL and serve a consumer on the same
   * etcd under a steady load. One provider is frozen (SIGSTOP) until etcd expires its lease and
   * deletes its key, then continued (SIGCONT). Proves that the key disappears (a second registry
   * client no longer lists it, and still lists the other two); that the provider notices the lost
   * lease by itself, grants a new one and stores its key again (its log says so, and the gap from
   * the key's removal to its return is measured and bounded); that the consumer's connection to it
   * is not cut (its server accepted no new connection and has as many open) and that the consumer
   * sends it calls again; and that the ledger reconciles.
   *
   * <p>The load is not paused: calls keep being picked for the frozen provider until the consumer
   * ejects it or sees its key go. Those calls, and any in flight when it froze, end at their
   * deadline; after SIGCONT it may still run them, so they are "outcome unknown" and ran at most
   * once. The exact rule: every failed call is a DEADLINE_EXCEEDED from the frozen provider,
   * issued after SIGSTOP minus the timeout (in flight at the freeze, or sent during it) and before
   * SIGCONT; no call fails on another provider, for another reason, or after the provider is back.
   */
  @Test
  void expiredLeaseIsReplacedAndTheProviderKeepsItsConnections() throws Exception {
    int ttlSeconds = 3;
    String uri = registryUri + "?ttl=" + ttlSeconds;
    ProviderProcess p1 = startProvider("p1", uri);
    ProviderProcess p2 = startProvider("p2", uri);
    ProviderProcess p3 = startProvider("p3", uri);
    Duration timeout = Duration.ofSeconds(2);
    // round robin: every provider gets its share at once (this test is not about balancing)
    CourierClient consumer = consumer(b -> b.timeout(timeout)
        .loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(consumer), 8, 200, timeout, 1_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        load.okFrom(p1.port) > 50 && load.okFrom(p2.port) > 50 && load.okFrom(p3.port) > 50);

    Registry watcher = watcher();
    Listing listing = watchListing(watcher, p3.address());
    AtomicLong goneNanos = listing.goneNanos;
    AtomicLong backNanos = listing.backNanos;
    await(Duration.ofSeconds(10), "the watcher to list the providers",
        () -> listed(watcher).size() == 3);
    long[] connectionsBefore = p3.connectionStats();
    load.event("SIGSTOP " + p3);
    long stoppedNanos = System.nanoTime();
    p3.pause();
    await(Duration.ofSeconds(ttlSeconds + 20), p3 + "'s key to be deleted",
        () -> goneNanos.get() != 0);
    long expiredMs = TimeUnit.NANOSECONDS.toMillis(goneNanos.get() - stoppedNanos);
    load.event("key of " + p3.name + " deleted by etcd (" + expiredMs + " ms after SIGSTOP)");
    List<String> listedWhileFrozen = listed(watcher);
    p3.resume();
    long contNanos = System.nanoTime();
    load.event("SIGCONT " + p3.name);
    assertThat(listedWhileFrozen).as("listed while %s is frozen", p3.name)
        .doesNotContain(p3.address()).contains(p1.address(), p2.address());
    await(Duration.ofSeconds(30), p3 + " to register again", () -> backNanos.get() != 0);
    long gapMs = TimeUnit.NANOSECONDS.toMillis(backNanos.get() - goneNanos.get());
    long afterContMs = TimeUnit.NANOSECONDS.toMillis(backNanos.get() - contNanos);
    load.event(p3.name + " registered again, " + gapMs + " ms after its key was deleted ("
        + afterContMs + " ms after SIGCONT)");
    long servedBefore = load.okFrom(p3.port);
    await(Duration.ofSeconds(30), p3 + " to serve the consumer again",
        () -> load.okFrom(p3.port) > servedBefore + 50);
    load.event(p3.name + " serves again");
    long[] connectionsAfter = p3.connectionStats();
    Thread.sleep(1_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("etcd lease expiry of a frozen provider", load,
        providers);
    List<String> renewed = p3.logLines("[COURIER-R02]");
    System.out.println("  key deleted " + expiredMs + " ms after SIGSTOP (TTL " + ttlSeconds
        + " s); registration gap (key deleted to key back): " + gapMs + " ms, " + afterContMs
        + " ms after SIGCONT; connections accepted by the provider before/after: "
        + connectionsBefore[0] + "/" + connectionsAfter[0] + ", open " + connectionsBefore[1]
        + "/" + connectionsAfter[1]);
    renewed.forEach(line -> System.out.println("  " + p3.name + ": " + line));
    assertThat(renewed).as("%s's log: the lost lease replaced by a new one", p3.name)
        .anyMatch(line -> line.contains("under a new lease"));
    assertThat(gapMs).as("key deleted to key back, ms").isLessThan(10_000);
    for (Call c : r.errors) {
      assertThat(c.reason).as("%s", c).isEqualTo(ErrorReason.DEADLINE_EXCEEDED);
      assertThat(c.endpoint).as("%s", c).isEqualTo(p3.address());
      assertThat(c.startNanos - stoppedNanos).as("%s: in flight at SIGSTOP or issued after", c)
          .isGreaterThan(-timeout.toNanos());
      assertThat(c.startNanos - contNanos).as("%s: issued before SIGCONT", c).isNegative();
    }
    assertThat(connectionsAfter[0]).as("connections accepted: none cut and reopened")
        .isEqualTo(connectionsBefore[0]);
    assertThat(connectionsAfter[1]).as("connections open").isEqualTo(connectionsBefore[1]);
  }
}
