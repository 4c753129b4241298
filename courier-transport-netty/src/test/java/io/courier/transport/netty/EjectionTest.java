package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.internal.protocol.FrameLimits;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Outlier ejection of an endpoint, driven directly (no server needed). */
class EjectionTest {

  private static NettyClient client() {
    return new NettyClient(new ClientConfig("fory", null, 1024, 0, 1000, 0, 1, 100, 1000,
        FrameLimits.DEFAULT.maxBodyBytes(), 1 << 20, Set.of(), 1, null));
  }

  /**
   * Many calls in flight to a provider that stopped answering all fail at their deadline, a few
   * at a time and mostly after the endpoint was already ejected. Those late failures belong to the
   * same outage: the ejection stays at its first back-off (1 s) instead of doubling once per
   * {@code threshold} of them, which kept a frozen provider out for 30 s after it had recovered.
   */
  @Test
  void failuresOfCallsSentBeforeTheEjectionDoNotProlongIt() throws InterruptedException {
    try (NettyClient client = client()) {
      Endpoint e = client.endpoint("127.0.0.1:9");
      for (int i = 0; i < 5; i++) {
        e.failed(5);
      }
      assertThat(e.ejected()).isTrue();
      long ejectedAt = System.nanoTime();
      for (int i = 0; i < 100; i++) {
        e.failed(5); // the rest of the calls that were in flight when it froze
      }
      while (e.ejected()) {
        assertThat(System.nanoTime() - ejectedAt)
            .as("still ejected 5 s later: the 1 s back-off was prolonged")
            .isLessThan(TimeUnit.SECONDS.toNanos(5));
        Thread.sleep(10);
      }
      assertThat(e.available()).isTrue();
      // failing again after readmission is a new ejection, and the back-off doubles
      for (int i = 0; i < 5; i++) {
        e.failed(5);
      }
      assertThat(e.ejected()).isTrue();
    }
  }

  /**
   * An ejected endpoint comes back as if new: the latency peak of its outage is forgotten and
   * late samples from that outage are ignored, so that peak-EWMA tries it again at once; its share
   * warms up from 1% again.
   */
  @Test
  void anEjectedEndpointComesBackWithAFreshLatencyAndANewWarmup() {
    try (NettyClient client = client()) {
      Endpoint e = client.endpoint("127.0.0.1:9");
      e.recordLatency(TimeUnit.SECONDS.toNanos(1)); // the deadline of a call to a frozen provider
      assertThat(e.latencyEwmaNanos()).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(900));
      for (int i = 0; i < 5; i++) {
        e.failed(5);
      }
      assertThat(e.ejected()).isTrue();
      assertThat(e.latencyEwmaNanos()).isZero();
      e.recordLatency(TimeUnit.SECONDS.toNanos(1)); // a call of the outage that ends late
      assertThat(e.latencyEwmaNanos()).isZero();
      assertThat(e.upSinceNanos() - System.nanoTime()).isPositive(); // warms up once back
    }
  }
}
