package io.courier.core.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LoadBalancersTest {

  private static final Object[] NO_ARGS = {};

  record Stub(String address, int weight, int inFlight, long latencyEwmaNanos,
      long upSinceNanos) implements Candidate {
    static Stub of(String address, int weight) {
      return new Stub(address, weight, 0, 0, System.nanoTime() - TimeUnit.HOURS.toNanos(1));
    }
  }

  private static Map<String, Integer> spread(LoadBalancer lb, List<Stub> candidates, int picks) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < picks; i++) {
      counts.merge(lb.pick(candidates, NO_ARGS).address(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void weightedRandomFollowsTheWeights() {
    List<Stub> c = List.of(Stub.of("a", 10), Stub.of("b", 20), Stub.of("c", 70));
    Map<String, Integer> counts = spread(LoadBalancers.weightedRandom(), c, 100_000);
    assertThat(counts.get("a")).isBetween(8_500, 11_500);
    assertThat(counts.get("b")).isBetween(18_500, 21_500);
    assertThat(counts.get("c")).isBetween(68_000, 72_000);
  }

  @Test
  void smoothRoundRobinInterleavesByWeight() {
    LoadBalancer lb = LoadBalancers.roundRobin();
    List<Stub> c = List.of(Stub.of("a", 5), Stub.of("b", 1), Stub.of("c", 1));
    StringBuilder order = new StringBuilder();
    for (int i = 0; i < 14; i++) {
      order.append(lb.pick(c, NO_ARGS).address());
    }
    assertThat(order).hasToString("aabacaa" + "aabacaa");
  }

  @Test
  void leastActivePicksAmongTheIdlest() {
    List<Stub> c = List.of(new Stub("busy", 100, 5, 0, 0), new Stub("x", 100, 1, 0, 0),
        new Stub("y", 100, 1, 0, 0));
    Map<String, Integer> counts = spread(LoadBalancers.leastActive(), c, 10_000);
    assertThat(counts).doesNotContainKey("busy");
    assertThat(counts.get("x")).isBetween(4_000, 6_000);
  }

  @Test
  void peakEwmaAvoidsTheSlowAndTheBusy() {
    long ms = 1_000_000;
    List<Stub> c = List.of(new Stub("slow", 100, 0, 50 * ms, 0),
        new Stub("fast", 100, 0, ms, 0), new Stub("busyFast", 100, 100, ms, 0));
    Map<String, Integer> counts = spread(LoadBalancers.peakEwma(), c, 10_000);
    // each pick compares two at random; the cheapest (fast) wins every comparison it is in
    assertThat(counts.get("fast")).isBetween(6_000, 7_300);
    assertThat(counts.getOrDefault("slow", 0) + counts.getOrDefault("busyFast", 0))
        .isBetween(2_700, 4_000);
    // cost is latency × (in flight + 1): 50 ms idle (50) is cheaper than 1 ms with 100 queued (101)
    assertThat(counts.getOrDefault("busyFast", 0)).isZero();
  }

  @Test
  void consistentHashIsStableAndMovesOnlyTheDepartedKeys() {
    LoadBalancer lb = LoadBalancers.consistentHash(0);
    List<Stub> three = List.of(Stub.of("a", 1), Stub.of("b", 1), Stub.of("c", 1));
    Map<String, String> owner = new HashMap<>();
    Map<String, Integer> load = new HashMap<>();
    for (int i = 0; i < 30_000; i++) {
      String key = "user-" + i;
      String a = lb.pick(three, new Object[] {key}).address();
      assertThat(lb.pick(three, new Object[] {key}).address()).isEqualTo(a);
      owner.put(key, a);
      load.merge(a, 1, Integer::sum);
    }
    assertThat(load.values()).allSatisfy(n -> assertThat(n).isBetween(7_000, 13_000));
    List<Stub> two = List.of(Stub.of("a", 1), Stub.of("c", 1));
    for (Map.Entry<String, String> e : owner.entrySet()) {
      String now = lb.pick(two, new Object[] {e.getKey()}).address();
      if (!e.getValue().equals("b")) {
        assertThat(now).isEqualTo(e.getValue());
      }
    }
    assertThatThrownBy(() -> lb.pick(three, new Object[0]))
        .hasMessageContaining("consistent hash on argument 0, but the call has 0 arguments");
  }

  @Test
  void warmupRampsANewEndpointsShare() {
    long now = System.nanoTime();
    Stub old = Stub.of("old", 100);
    Stub fresh = new Stub("fresh", 100, 0, 0, now - TimeUnit.SECONDS.toNanos(1));
    LoadBalancer lb = LoadBalancers.withWarmup(LoadBalancers.weightedRandom(),
        Duration.ofSeconds(10));
    Map<String, Integer> counts = spread(lb, List.of(old, fresh), 50_000);
    // about 10 of 110 weight: 9%
    assertThat(counts.get("fresh")).isBetween(3_000, 6_500);
    assertThat(((WarmupLoadBalancer) lb).effectiveWeight(old, now)).isEqualTo(100);
  }

  @Test
  void everyBalancerReturnsTheOnlyCandidateAndRefusesNone() {
    for (LoadBalancer lb : List.of(LoadBalancers.peakEwma(), LoadBalancers.weightedRandom(),
        LoadBalancers.roundRobin(), LoadBalancers.leastActive(),
        LoadBalancers.consistentHash(0))) {
      Stub only = Stub.of("only", 1);
      assertThat(lb.pick(List.of(only), new Object[] {"k"})).isSameAs(only);
      assertThatThrownBy(() -> lb.pick(new ArrayList<Stub>(), NO_ARGS))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
