package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.cli.chaos.CallLedger;
import io.courier.client.CourierClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 17: a 1 Mbit/s link (a {@code tc tbf} token bucket each way on
 * the provider's network namespace link) carrying large payloads.
 */
@Tag("slow")
class BandwidthTest extends ClusterHarness {

  @Override
  boolean usesNetworkNamespaces() {
    return true;
  }

  /**
   * One provider behind a 1 Mbit/s link; a consumer with a 500 ms heartbeat (three missed close
   * the connection) sends 512 KiB payloads from two threads for 12 s, about 4 s of link time
   * each, while small calls go on at 10 a second. While a payload crawls out the consumer
   * receives nothing on that connection for seconds, so the test proves that heartbeats are not
   * starved into closing a healthy connection: no call fails with {@code CONNECTION_CLOSED}.
   * It also proves that payloads the consumer cannot send in time fail typed (deadline, or
   * overloaded when too many bytes wait), that small calls still get through, and that every
   * answered call ran exactly once and every call refused as not sent did not run.
   */
  @Test
  void largePayloadsOverASlowLinkKeepTheConnectionAndFailTyped() throws Exception {
    NetNamespace ns = namespace();
    ns.limitUpload("1mbit");
    ns.limitDownload("1mbit");
    ProviderProcess p = startProviderIn("p1", ns);
    Duration timeout = Duration.ofSeconds(10);
    CourierClient consumer = consumer(b -> b.timeout(timeout)
        .heartbeatInterval(Duration.ofMillis(500))
        .maxPendingBytes(2L << 20));
    LedgerService stub = consumer.stub(LedgerService.class);
    assertThat(stub.ping()).isEqualTo(p.port);

    Map<Long, Object> outcomes = new ConcurrentHashMap<>(); // id -> "OK" or the RpcException
    AtomicBoolean stop = new AtomicBoolean();
    byte[] payload = new byte[512 * 1024];
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      threads.add(new Thread(() -> {
        while (!stop.get()) {
          call(outcomes, id -> stub.store(id, payload));
        }
      }, "uploader-" + i));
    }
    threads.add(new Thread(() -> {
      while (!stop.get()) {
        call(outcomes, id -> stub.work(id, 0));
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "small-calls"));
    threads.forEach(Thread::start);
    Thread.sleep(12_000);
    stop.set(true);
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(30));
    }
    long[] stats = p.connectionStats();
    stopProviders();

    Map<Long, Integer> runs = new HashMap<>();
    for (long id : CallLedger.read(p.ledger)) {
      runs.merge(id, 1, Integer::sum);
    }
    Map<ErrorReason, Integer> errors = new HashMap<>();
    long big = 0;
    long small = 0;
    for (Map.Entry<Long, Object> e : outcomes.entrySet()) {
      Integer ran = runs.get(e.getKey());
      if (e.getValue() instanceof RpcException x) {
        errors.merge(x.reason(), 1, Integer::sum);
        assertThat(x.reason()).as("%s", x).isIn(ErrorReason.DEADLINE_EXCEEDED,
            ErrorReason.OVERLOADED);
        if (LoadDriver.didNotRun(x.reason())) {
          assertThat(ran).as("call %d failed as not run: %s", e.getKey(), x).isNull();
        } else {
          assertThat(ran == null ? 0 : ran).as("call %d: %s", e.getKey(), x).isLessThan(2);
        }
      } else {
        assertThat(ran).as("answered call %d ran once", e.getKey()).isEqualTo(1);
        if ("big".equals(e.getValue())) {
          big++;
        } else {
          small++;
        }
      }
    }
    System.out.printf("  over 1 Mbit/s: %d payloads of 512 KiB and %d small calls answered;"
        + " errors %s; the provider accepted %d connections%n", big, small, errors, stats[0]);
    assertThat(big).as("payloads answered").isPositive();
    assertThat(small).as("small calls answered").isGreaterThan(20);
  }

  /** A call of the test: its id and what it does. */
  private interface Attempt {
    long run(long id);
  }

  private void call(Map<Long, Object> outcomes, Attempt a) {
    long id = callIds.incrementAndGet();
    boolean isBig = Thread.currentThread().getName().startsWith("uploader");
    try {
      a.run(id);
      outcomes.put(id, isBig ? "big" : "small");
    } catch (RpcException e) {
      outcomes.put(id, e);
    }
  }
}
