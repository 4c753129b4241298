package io.courier.bench.jmh;

import io.courier.cluster.Candidate;
import io.courier.cluster.LoadBalancer;
import io.courier.core.cluster.LoadBalancers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@link LoadBalancer#pick} of each built-in balancer over 3 and over 50 candidates, from one
 * thread.
 *
 * <p>The candidates have mixed weights (50, 100, 200), 0 to 7 calls in flight and latency
 * averages of 0.2 to 2 ms, fixed for the run. The candidate list is immutable, like the client's
 * endpoint list. Consistent hashing hashes the call's first argument, taken in turn from 1024
 * distinct keys.
 *
 * <p>The warm-up wrapper, which the client puts around every balancer, is measured around
 * peak-EWMA (the client's default) in two states: {@code warmupSteady}, every endpoint up for an
 * hour, past the default 10 s warm-up; and {@code warmupWarming}, one endpoint that has just come
 * up (with an hour-long warm-up, so it stays warming for the whole run).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class LoadBalancerBenchmark {

  private static final int KEYS = 1024;

  @Param({"peakEwma", "weightedRandom", "roundRobin", "leastActive", "consistentHash",
      "warmupSteady", "warmupWarming"})
  public String balancer;

  @Param({"3", "50"})
  public int candidates;

  private LoadBalancer lb;
  private List<Endpoint> endpoints;
  private Object[][] args;
  private int next;

  /** A candidate whose numbers stay as set. */
  static final class Endpoint implements Candidate {
    private final String address;
    private final int weight;
    private final int inFlight;
    private final long latencyEwmaNanos;
    private final long upSinceNanos;

    Endpoint(String address, int weight, int inFlight, long latencyEwmaNanos,
        long upSinceNanos) {
      this.address = address;
      this.weight = weight;
      this.inFlight = inFlight;
      this.latencyEwmaNanos = latencyEwmaNanos;
      this.upSinceNanos = upSinceNanos;
    }

    @Override
    public String address() {
      return address;
    }

    @Override
    public int weight() {
      return weight;
    }

    @Override
    public int inFlight() {
      return inFlight;
    }

    @Override
    public long latencyEwmaNanos() {
      return latencyEwmaNanos;
    }

    @Override
    public long upSinceNanos() {
      return upSinceNanos;
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    lb = switch (balancer) {
      case "peakEwma" -> LoadBalancers.peakEwma();
      case "weightedRandom" -> LoadBalancers.weightedRandom();
      case "roundRobin" -> LoadBalancers.roundRobin();
      case "leastActive" -> LoadBalancers.leastActive();
      case "consistentHash" -> LoadBalancers.consistentHash(0);
      case "warmupSteady" ->
          LoadBalancers.withWarmup(LoadBalancers.peakEwma(), LoadBalancers.DEFAULT_WARMUP);
      case "warmupWarming" ->
          LoadBalancers.withWarmup(LoadBalancers.peakEwma(), Duration.ofHours(1));
      default -> throw new IllegalArgumentException("balancer: " + balancer);
    };
    Random random = new Random(42);
    long now = System.nanoTime();
    long upLongAgo = now - TimeUnit.HOURS.toNanos(1);
    int[] weights = {50, 100, 200};
    List<Endpoint> list = new ArrayList<>();
    for (int i = 0; i < candidates; i++) {
      boolean justUp = balancer.equals("warmupWarming") && i == 0;
      list.add(new Endpoint("10.0." + (i / 250) + "." + (i % 250 + 1) + ":9000",
          weights[random.nextInt(weights.length)], random.nextInt(8),
          200_000 + random.nextInt(1_800_000), justUp ? now : upLongAgo));
    }
    endpoints = List.copyOf(list);
    args = new Object[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      args[i] = new Object[] {"customer-" + random.nextInt(1_000_000), i};
    }
    for (int i = 0; i < KEYS; i++) {
      if (!endpoints.contains(lb.pick(endpoints, args[i]))) {
        throw new IllegalStateException(balancer + " picked an endpoint it was not offered");
      }
    }
  }

  /** Picks an endpoint for the next call. */
  @Benchmark
  public Endpoint pick() {
    return lb.pick(endpoints, args[next++ & (KEYS - 1)]);
  }
}
