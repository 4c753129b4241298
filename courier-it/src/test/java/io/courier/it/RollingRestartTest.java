package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Reliability catalogue 5b rows 2 and 3: graceful stops, a whole cluster restarted in turn. */
@Tag("slow")
class RollingRestartTest extends ClusterHarness {

  /**
   * Three providers, two consumers, steady load; each provider in turn is stopped gracefully
   * (unregister, wait, GOAWAY, drain), and a new one is started and serving before the next one
   * stops. Proves that a release day costs no call: zero errors, and the ledger reconciles.
   */
  @Test
  void rollingRestartOfEveryProviderLosesNoCall() throws Exception {
    List<ProviderProcess> old = List.of(startProvider("p1"), startProvider("p2"),
        startProvider("p3"));
    CourierClient c1 = consumer(b -> b);
    CourierClient c2 = consumer(b -> b);
    // 5 ms of work: calls are in flight on the provider when it is told to stop
    LoadDriver load = load(List.of(c1, c2), 16, 300, Duration.ofSeconds(2), 5_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        old.stream().allMatch(p -> load.okFrom(p.port) > 50));
    for (int i = 0; i < old.size(); i++) {
      ProviderProcess p = old.get(i);
      load.event("stopping " + p + " gracefully");
      p.stop();
      load.event(p.name + " exited");
      ProviderProcess next = startProvider("p" + (i + 1) + "-new");
      load.event("started " + next);
      await(Duration.ofSeconds(30), next + " to serve calls", () -> load.okFrom(next.port) > 50);
      load.event(next.name + " serves");
      Thread.sleep(1_500); // steady traffic on the new set before the next stop
    }
    Thread.sleep(1_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("rolling restart of all providers", load, providers);
    assertThat(r.errors).as("failed calls").isEmpty();
    assertThat(old).allSatisfy(p -> assertThat(p.process.exitValue()).isZero());
  }
}
