package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.ErrorReason;
import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import io.courier.it.LoadDriver.Call;
import io.courier.it.LoadDriver.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 7: a provider whose worker pool is saturated. Its pool has two
 * threads and room for one waiting call, and round robin sends it about twice what it can run.
 */
@Tag("slow")
class PoolSaturationTest extends ClusterHarness {

  /**
   * Three providers, one of them with a pool of two threads and a queue of one; 40 ms calls at
   * 300 a second, round robin. Proves the saturated provider refuses what it cannot take at once
   * ({@code OVERLOADED}, counted by its server, never run: the ledger reconciles) and that the
   * consumer fails those calls over to the others: no call ends in {@code DEADLINE_EXCEEDED},
   * none waits until its deadline, and any call the retry budget could not fail over
   * ends as {@code OVERLOADED}, fast.
   */
  @Test
  void saturatedProviderRefusesFastAndCallsFailOver() throws Exception {
    ProviderProcess small = startProvider("small", ProviderProcess.Launch.LOOPBACK
        .with("it.maxThreads", "2").with("it.queueCapacity", "1"));
    ProviderProcess p2 = startProvider("p2");
    ProviderProcess p3 = startProvider("p3");
    Duration timeout = Duration.ofSeconds(2);
    CourierClient consumer = consumer(b -> b.timeout(timeout)
        .loadBalancer(LoadBalancers.roundRobin()));
    LoadDriver load = load(List.of(consumer), 32, 300, timeout, 40_000).start();
    Thread.sleep(10_000);
    long rejected = small.connectionStats()[2];
    load.event(small.name + " refused " + rejected + " calls");
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("saturated provider pool", load, providers);
    long slowest = r.calls.stream().mapToLong(Call::latencyNanos).max().orElse(0);
    System.out.printf("  %s refused %d calls; %d calls failed; slowest call %d ms%n",
        small.name, rejected, r.errors.size(), TimeUnit.NANOSECONDS.toMillis(slowest));
    assertThat(rejected).as("calls the saturated provider refused").isGreaterThan(20);
    for (Call c : r.errors) {
      assertThat(c.reason).as("%s", c).isEqualTo(ErrorReason.OVERLOADED);
      assertThat(c.outcome).as("%s", c).isEqualTo(Outcome.FAILED);
    }
    assertThat(slowest).as("no call waits until its deadline").isLessThan(timeout.toNanos());
    assertThat(r.ok).as("calls answered").isGreaterThan(r.calls.size() * 95 / 100);
    assertThat(load.okFrom(small.port)).as("the small provider still serves what it can")
        .isPositive();
    assertThat(load.okFrom(p2.port) + load.okFrom(p3.port)).isPositive();
  }
}
