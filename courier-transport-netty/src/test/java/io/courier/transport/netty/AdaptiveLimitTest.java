package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.Test;

/**
 * The adaptive limit's algorithm on a simulated clock with synthetic latencies: deterministic, no
 * sleeps. Each simulated round admits as many of the offered calls as the limit lets in, then
 * ends them with the latency the model gives for that many in flight, 5 ms later.
 */
class AdaptiveLimitTest {

  private static final long MS = 1_000_000L;

  private long now = 1_000 * MS;
  private long refused;

  /** Runs {@code windows} windows of 100 ms with {@code offered} calls wanting in each round. */
  private void run(AdaptiveLimit limit, int offered, IntToLongFunction latencyOfInFlight,
      int windows) {
    for (int round = 0; round < windows * 20; round++) {
      int admitted = 0;
      for (int i = 0; i < offered; i++) {
        if (limit.tryAcquire()) {
          admitted++;
        } else {
          refused++;
        }
      }
      now += 5 * MS;
      long latency = latencyOfInFlight.applyAsLong(admitted);
      for (int i = 0; i < admitted; i++) {
        limit.release(latency, now);
      }
    }
  }

  /** A server with {@code capacity} cores: beyond that many calls, each waits for the others. */
  private static IntToLongFunction cpuBound(long serviceNanos, int capacity) {
    return n -> serviceNanos * Math.max(1, (n + capacity - 1) / capacity);
  }

  @Test
  void flatLatencyLetsTheLimitGrowToItsMaximum() {
    AdaptiveLimit limit = new AdaptiveLimit(4, 200, 10);
    run(limit, 1_000, n -> MS, 100);
    assertThat(limit.limit()).isEqualTo(200);
    assertThat(limit.inFlight()).isZero();
    assertThat(limit.baselineNanos()).isEqualTo(MS);
  }

  @Test
  void aLimitThatIsNotUsedDoesNotGrow() {
    AdaptiveLimit limit = new AdaptiveLimit(4, 200, 20);
    run(limit, 9, n -> MS, 50); // fewer than half the limit ever in flight
    assertThat(limit.limit()).isEqualTo(20);
    assertThat(refused).isZero();
  }

  @Test
  void latencyRisingWithConcurrencyShrinksTheLimit() {
    AdaptiveLimit limit = new AdaptiveLimit(2, 500, 500);
    run(limit, 8, cpuBound(MS, 8), 5); // light load first: the baseline is the service time
    assertThat(limit.baselineNanos()).isEqualTo(MS);
    run(limit, 2_000, cpuBound(MS, 8), 30); // then far more than 8 cores can run
    int lowest = Integer.MAX_VALUE;
    int highest = 0;
    for (int w = 0; w < 30; w++) {
      run(limit, 2_000, cpuBound(MS, 8), 1);
      lowest = Math.min(lowest, limit.limit());
      highest = Math.max(highest, limit.limit());
    }
    // latency may be twice the baseline: about 16 calls in flight on 8 cores, never far above
    assertThat(highest).isLessThanOrEqualTo(32);
    assertThat(lowest).isGreaterThanOrEqualTo(8);
    assertThat(refused).isGreaterThan(0);
    assertThat(limit.baselineNanos()).isEqualTo(MS); // queueing did not become the baseline
  }

  @Test
  void aFewStallsDoNotCutTheLimit() {
    AdaptiveLimit limit = new AdaptiveLimit(4, 200, 40);
    run(limit, 20, n -> MS, 3);
    for (int round = 0; round < 20 * 20; round++) {
      int admitted = 0;
      while (admitted < 30 && limit.tryAcquire()) {
        admitted++;
      }
      now += 5 * MS;
      for (int i = 0; i < admitted; i++) {
        // one call in ten stalls for 50 ms (a collection, a descheduled thread): the mean of
        // such a window is six times the baseline, its median is the baseline
        limit.release(i % 10 == 0 ? 50 * MS : MS, now);
      }
    }
    assertThat(limit.limit()).isGreaterThanOrEqualTo(60); // grew to twice the 30 in use
    assertThat(limit.baselineNanos()).isEqualTo(MS);
  }

  @Test
  void slowWindowsAtLightLoadLeaveTheLimitAlone() {
    AdaptiveLimit limit = new AdaptiveLimit(4, 200, 64);
    run(limit, 6, n -> MS, 3);
    run(limit, 6, n -> 10 * MS, 3); // the machine is busy with something else for 300 ms
    assertThat(limit.limit()).isEqualTo(64);
    run(limit, 6, n -> MS, 3);
    assertThat(limit.limit()).isEqualTo(64);
    assertThat(refused).isZero();
  }

  @Test
  void theLimitNeverFallsBelowItsMinimum() {
    AdaptiveLimit limit = new AdaptiveLimit(6, 100, 100);
    run(limit, 5, n -> MS, 3);
    // one core: two calls in flight already double the latency, so the gradient asks for 2
    int lowest = Integer.MAX_VALUE;
    int highest = 0;
    for (int w = 0; w < 200; w++) {
      run(limit, 1_000, cpuBound(MS, 1), 1);
      lowest = Math.min(lowest, limit.limit());
      if (w >= 20) {
        highest = Math.max(highest, limit.limit());
      }
    }
    assertThat(lowest).isEqualTo(6);
    // held at its minimum, the limit takes the latency there as the new normal, slowly, and then
    // settles within twice that: the baseline stops rising once the limit leaves the minimum
    assertThat(highest).isLessThanOrEqualTo(18);
  }

  @Test
  void theLimitNeverRisesAboveItsMaximum() {
    AdaptiveLimit limit = new AdaptiveLimit(1, 7, 1);
    run(limit, 100, n -> MS, 40);
    assertThat(limit.limit()).isEqualTo(7);
    run(limit, 100, n -> MS, 1);
    assertThat(limit.limit()).isEqualTo(7);
  }

  @Test
  void aLastingChangeInServiceTimeBecomesTheNewBaseline() {
    AdaptiveLimit limit = new AdaptiveLimit(4, 200, 40);
    run(limit, 10, n -> MS, 5);
    assertThat(limit.baselineNanos()).isEqualTo(MS);
    run(limit, 10, n -> 5 * MS, 200); // the methods got slower, not the server busier
    assertThat(limit.baselineNanos()).isGreaterThan(4 * MS);
    assertThat(limit.limit()).isGreaterThanOrEqualTo(20); // cut while it learnt, then regrown
  }

  @Test
  void aWindowNeedsBothTimeAndSamples() {
    AdaptiveLimit limit = new AdaptiveLimit(4, 200, 10);
    for (int i = 0; i < 1_000; i++) { // many samples, but all in the same instant
      assertThat(limit.tryAcquire()).isTrue();
      limit.release(MS, now);
    }
    assertThat(limit.baselineNanos()).isZero();
    now += 200 * MS;
    assertThat(limit.tryAcquire()).isTrue();
    limit.release(MS, now);
    assertThat(limit.baselineNanos()).isEqualTo(MS); // the first sample after 100 ms closed it
    now += 200 * MS;
    for (int i = 0; i < 15; i++) { // time passed, but too few samples in the new window
      assertThat(limit.tryAcquire()).isTrue();
      limit.release(9 * MS, now);
    }
    assertThat(limit.baselineNanos()).isEqualTo(MS);
  }

  @Test
  void releaseWithoutASampleOnlyFreesTheSlot() {
    AdaptiveLimit limit = new AdaptiveLimit(1, 1, 1);
    assertThat(limit.tryAcquire()).isTrue();
    assertThat(limit.tryAcquire()).isFalse();
    limit.release();
    assertThat(limit.tryAcquire()).isTrue();
    assertThat(limit.baselineNanos()).isZero();
  }

  @Test
  void boundsAreChecked() {
    assertThatThrownBy(() -> new AdaptiveLimit(0, 10, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("min 0, max 10, initial 5 (expected: 0 < min <= initial <= max)");
    assertThatThrownBy(() -> new AdaptiveLimit(5, 4, 5))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
