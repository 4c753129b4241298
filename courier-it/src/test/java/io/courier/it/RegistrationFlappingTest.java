package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 14: registration flapping. One registration appears and
 * disappears about a hundred times a second while the service is under load.
 */
@Tag("slow")
class RegistrationFlappingTest extends ClusterHarness {

  /**
   * Three providers register as usual; a fourth entry, an extra address of the third provider
   * (a {@link FaultProxy} that passes bytes on untouched), is registered and unregistered by the
   * test in a loop, 60 or more changes a second for 5 s, while two consumers call. Proves no call
   * is lost or fails, the stable providers see no new connection (no churn), and the flapping
   * address is connected to a bounded number of times: the consumers debounce the changes rather
   * than connect and disconnect on each.
   */
  @Test
  void flappingRegistrationLosesNoCallAndChurnsNoConnection() throws Exception {
    List<ProviderProcess> ps = List.of(startProvider("p1"), startProvider("p2"),
        startProvider("p3"));
    FaultProxy extra = closeLater(FaultProxy.to("127.0.0.1", ps.get(2).port));
    CourierClient c1 = consumer(b -> b);
    CourierClient c2 = consumer(b -> b);
    LoadDriver load = load(List.of(c1, c2), 16, 300, Duration.ofSeconds(2), 1_000).start();
    await(Duration.ofSeconds(30), "every provider to serve calls", () ->
        ps.stream().allMatch(p -> load.okFrom(p.port) > 50));
    List<Long> acceptedBefore = new ArrayList<>();
    for (ProviderProcess p : ps) {
      acceptedBefore.add(p.connectionStats()[0]);
    }

    Registry flapper = watcher();
    ServiceInstance flapping = ServiceInstance.builder(SERVICE, "127.0.0.1", extra.port())
        .build();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong changes = new AtomicLong();
    Thread t = new Thread(() -> {
      while (!stop.get()) {
        flapper.register(flapping);
        sleep(3);
        flapper.unregister(flapping);
        sleep(3);
        changes.addAndGet(2);
      }
    }, "flapper");
    load.event("flapping starts");
    long flapStart = System.nanoTime();
    t.start();
    Thread.sleep(5_000);
    stop.set(true);
    t.join();
    double perSecond = changes.get() * 1e9 / (System.nanoTime() - flapStart);
    load.event("flapping stops: " + changes.get() + " changes (" + Math.round(perSecond)
        + " a second); the flapping address was connected to " + extra.accepted() + " times");
    Thread.sleep(1_000);
    List<Long> acceptedAfter = new ArrayList<>();
    for (ProviderProcess p : ps) {
      acceptedAfter.add(p.connectionStats()[0]);
    }
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("registration flapping", load, providers);
    System.out.println("  connections accepted by the stable providers before " + acceptedBefore
        + ", after " + acceptedAfter + "; by the flapping address " + extra.accepted());
    assertThat(r.errors).as("failed calls").isEmpty();
    assertThat(perSecond).as("changes a second").isGreaterThan(60);
    // the third provider also counts the flapping address's connections (the proxy's)
    assertThat(acceptedAfter.subList(0, 2)).as("no new connection to the stable providers")
        .isEqualTo(acceptedBefore.subList(0, 2));
    assertThat(extra.accepted()).as("connections to the flapping address")
        .isLessThan(changes.get() / 20);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
