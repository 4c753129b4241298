package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.RpcException;
import io.courier.cli.chaos.CallLedger;
import io.courier.client.CourierClient;
import io.courier.core.cluster.LoadBalancers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reliability catalogue 5b row 21: cold start in every order. The registry (R), two providers
 * (P) and a consumer (C) start in each order but the usual one (R, P, C: every other test), with
 * nothing cached from an earlier run, and no step is repeated or done by hand.
 */
@Tag("slow")
class ColdStartOrderTest extends ClusterHarness {

  /**
   * Starts the three parts in the order given, the consumer calling once every 50 ms from the
   * moment it exists. Proves the cluster converges on its own within 20 s of the last start: the
   * consumer gets answers from both providers; until then its calls fail typed and as "did not
   * run" (no provider known yet), which the providers' ledgers confirm; and every answered call
   * ran exactly once. Prints the time from the last start to the first answer.
   */
  @ParameterizedTest(name = "start order {0}")
  @ValueSource(strings = {"RCP", "PRC", "PCR", "CRP", "CPR"})
  void everyStartOrderConverges(String order) throws Exception {
    stopRegistry(); // the harness started it; the order decides when it starts
    List<ProviderProcess> ps = new ArrayList<>();
    CourierClient consumer = null;
    LedgerService stub = null;
    Map<Long, String> failed = new HashMap<>();
    Set<Long> ok = new HashSet<>();
    Set<Long> servedBy = new HashSet<>();
    long lastStartNanos = 0;
    for (char part : order.toCharArray()) {
      switch (part) {
        case 'R' -> restartRegistry();
        case 'P' -> {
          // a 2 s session: a provider waits that long for its first registration, not 5 s
          ps.add(startProvider("p1", registryUri + "?sessionTimeout=2000"));
          ps.add(startProvider("p2", registryUri + "?sessionTimeout=2000"));
        }
        case 'C' -> {
          consumer = consumer(b -> b.loadBalancer(LoadBalancers.roundRobin())
              .timeout(Duration.ofSeconds(2)));
          stub = consumer.stub(LedgerService.class);
        }
        default -> throw new IllegalArgumentException(order);
      }
      lastStartNanos = System.nanoTime();
      if (stub != null) {
        call(stub, ok, failed, servedBy); // the consumer calls between the steps too
      }
    }
    long end = lastStartNanos + TimeUnit.SECONDS.toNanos(20);
    while (servedBy.size() < 2 && System.nanoTime() - end < 0) {
      call(stub, ok, failed, servedBy);
      Thread.sleep(50);
    }
    stopProviders();
    System.out.printf("  order %s: first answer %d ms after the last start; %d calls failed"
        + " before (%s)%n", order, firstOkNanos == 0 ? -1
        : Math.max(0, TimeUnit.NANOSECONDS.toMillis(firstOkNanos - lastStartNanos)),
        failed.size(), new HashSet<>(failed.values()));
    assertThat(servedBy).as("providers that answered within 20 s of the last start").hasSize(2);
    Map<Long, Integer> runs = new HashMap<>();
    for (ProviderProcess p : ps) {
      for (long id : CallLedger.read(p.ledger)) {
        runs.merge(id, 1, Integer::sum);
      }
    }
    for (long id : ok) {
      assertThat(runs.get(id)).as("answered call %d ran once", id).isEqualTo(1);
    }
    for (Map.Entry<Long, String> f : failed.entrySet()) {
      assertThat(runs.get(f.getKey())).as("failed call %s did not run", f).isNull();
    }
    assertThat(runs.keySet()).as("nothing ran that was not answered").isEqualTo(ok);
  }

  private long firstOkNanos;

  /** One call; records its outcome; true when answered. */
  private boolean call(LedgerService stub, Set<Long> ok, Map<Long, String> failed,
      Set<Long> servedBy) {
    long id = callIds.incrementAndGet();
    try {
      servedBy.add(stub.work(id, 0));
      ok.add(id);
      if (firstOkNanos == 0) {
        firstOkNanos = System.nanoTime();
      }
      return true;
    } catch (RpcException e) {
      assertThat(LoadDriver.didNotRun(e.reason())).as("%s", e).isTrue();
      failed.put(id, e.reason().name());
      return false;
    }
  }
}
