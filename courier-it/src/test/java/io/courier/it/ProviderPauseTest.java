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

/** Reliability catalogue 5b row 4: a provider frozen with SIGSTOP (TCP alive, no answers). */
@Tag("slow")
class ProviderPauseTest extends ClusterHarness {

  /**
   * Three providers under load; one is frozen with SIGSTOP for 6 s, then continued. Proves that
   * calls to it end at their deadline (DEADLINE_EXCEEDED, at most 500 ms late) and never fail
   * otherwise; that it is ejected, so that the calls issued while it stays frozen go to the
   * others; that after SIGCONT it is readmitted and serves again; and that the ledger reconciles
   * (a call that timed out may still have run once, later: outcome unknown).
   *
   * <p>The consumer balances round robin so that only ejection keeps calls away from the frozen
   * provider (the default balancer would also shun it for its latency).
   */
  @Test
  void frozenProviderTimesOutIsEjectedAndIsReadmittedAfterItContinues() throws Exception {
    ProviderProcess p1 = startProvider("p1");
    ProviderProcess p2 = startProvider("p2");
    ProviderProcess p3 = startProvider("p3");
    Duration timeout = Duration.ofSeconds(1);
    CourierClient consumer = consumer(b -> b.timeout(timeout)
        .loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(consumer), 16, 300, timeout, 2_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        load.okFrom(p1.port) > 50 && load.okFrom(p2.port) > 50 && load.okFrom(p3.port) > 50);
    Thread.sleep(1_000);

    load.event("SIGSTOP " + p2);
    p2.pause();
    long stoppedNanos = System.nanoTime();
    Thread.sleep(6_000);
    long errorsBeforeCont = load.errors();
    load.event("SIGCONT " + p2 + " (" + errorsBeforeCont + " errors so far)");
    p2.resume();
    long contNanos = System.nanoTime();
    long servedBefore = load.okFrom(p2.port);
    await(Duration.ofSeconds(40), p2 + " to serve again", () -> load.okFrom(p2.port)
        > servedBefore + 50);
    long readmitted = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - contNanos);
    load.event(p2.name + " serves again (" + readmitted + " ms after SIGCONT)");
    Thread.sleep(1_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("provider SIGSTOP, then SIGCONT", load, providers);
    System.out.println("  readmitted and serving " + readmitted + " ms after SIGCONT");
    for (Call c : r.errors) {
      assertThat(c.reason).as("%s", c).isEqualTo(ErrorReason.DEADLINE_EXCEEDED);
      assertThat(c.endpoint).as("%s", c).isEqualTo(p2.address());
      assertThat(c.latencyNanos()).as("%s ends at its deadline", c)
          .isBetween(timeout.toNanos(), timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(500));
      assertThat(c.startNanos - stoppedNanos).as("%s", c).isGreaterThan(-timeout.toNanos());
    }
    assertThat(r.errors).as("calls to the frozen provider time out").isNotEmpty();
    // ejected: once the first calls timed out, few of the calls issued while it stayed frozen
    // went to it (round robin without ejection sends it one in three)
    long from = stoppedNanos + timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(200);
    List<Call> later = r.calls.stream()
        .filter(c -> c.startNanos - from >= 0 && c.startNanos - contNanos < 0).toList();
    long toFrozen = later.stream().filter(c -> c.outcome != LoadDriver.Outcome.OK).count();
    System.out.printf("  calls issued while it stayed frozen after the first deadline: %d,"
        + " %d of them to it (%.1f%%)%n", later.size(), toFrozen, 100.0 * toFrozen
        / later.size());
    assertThat(later).hasSizeGreaterThan(100);
    assertThat((double) toFrozen / later.size()).isLessThan(0.1);
  }
}
