package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.ErrorReason;
import io.courier.client.CourierClient;
import io.courier.it.LoadDriver.Call;
import io.courier.registry.Registry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Reliability catalogue 5b row 1: a provider killed with SIGKILL under load. */
@Tag("slow")
class ProviderKillTest extends ClusterHarness {

  /**
   * Three providers, two consumers, steady load; one provider is killed with SIGKILL. Proves that
   * only calls that were in flight on it fail, and only as "may have run" (CONNECTION_CLOSED,
   * never retried); calls issued after its death fail over or go elsewhere, so it is out of the
   * pick set at once; its registry entry is gone within the session timeout; and the ledger
   * reconciles: nothing lost, nothing run twice.
   */
  @Test
  void killedProviderLosesOnlyItsInFlightCalls() throws Exception {
    int sessionTimeoutMs = 4_000;
    String uri = registryUri + "?sessionTimeout=" + sessionTimeoutMs;
    ProviderProcess p1 = startProvider("p1", uri);
    ProviderProcess p2 = startProvider("p2", uri);
    ProviderProcess p3 = startProvider("p3", uri);
    Registry registry = watcher();
    CourierClient c1 = consumer(b -> b);
    CourierClient c2 = consumer(b -> b);
    int callers = 16;
    // 20 ms of work per call: a few calls are in flight on each provider at any moment
    LoadDriver load = load(List.of(c1, c2), callers, 300, Duration.ofSeconds(2), 20_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        load.okFrom(p1.port) > 50 && load.okFrom(p2.port) > 50 && load.okFrom(p3.port) > 50);
    Thread.sleep(2_000);

    load.event("SIGKILL " + p2);
    p2.kill();
    long deadNanos = System.nanoTime();
    load.event(p2.name + " is dead");
    long othersBefore = load.okFrom(p1.port) + load.okFrom(p3.port);
    await(Duration.ofMillis(sessionTimeoutMs).plusSeconds(10), p2 + " to leave the registry",
        () -> !listed(registry).contains(p2.address()));
    long gone = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deadNanos);
    load.event(p2.name + " no longer listed in the registry (" + gone + " ms after death)");
    Thread.sleep(3_000);
    load.stop();
    long othersAfter = load.okFrom(p1.port) + load.okFrom(p3.port);
    stopProviders();

    Reconciliation r = Reconciliation.check("provider SIGKILL under load", load, providers);
    System.out.println("  registry entry of the killed provider gone after " + gone
        + " ms (session timeout " + sessionTimeoutMs + " ms)");
    for (Call c : r.errors) {
      assertThat(c.reason).as("%s", c).isEqualTo(ErrorReason.CONNECTION_CLOSED);
      assertThat(c.endpoint).as("%s", c).isEqualTo(p2.address());
      // it was in flight on p2 when p2 died: issued before the death was seen (plus the time
      // the client needs to read the closed socket on a busy machine)
      assertThat(c.startNanos - deadNanos).as("%s", c).isLessThan(
          TimeUnit.MILLISECONDS.toNanos(500));
    }
    assertThat(r.errors.size()).as("at most one call per caller was in flight")
        .isLessThanOrEqualTo(callers);
    assertThat(othersAfter - othersBefore).as("the others took over").isGreaterThan(300);
    assertThat(gone).isLessThan(sessionTimeoutMs + 5_000L);
  }
}
