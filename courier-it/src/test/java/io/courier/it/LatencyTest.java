package io.courier.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.CallContext;
import io.courier.Deadline;
import io.courier.client.CourierClient;
import io.courier.it.LoadDriver.Call;
import io.courier.it.LoadDriver.Outcome;
import io.courier.server.CourierServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Reliability catalogue 5b row 16: 200 ± 100 ms of latency on every hop, put there by a
 * {@link FaultProxy} that delays the bytes both ways. The calls are nested: the consumer calls a
 * front server, whose service calls the provider JVMs for each call.
 */
@Tag("slow")
class LatencyTest extends ClusterHarness {

  /**
   * consumer → proxy → front (a server in the test JVM) → proxy → three providers, every proxy
   * adding 100 to 300 ms each way, so a call takes 400 to 1,200 ms against a 1 s deadline. The
   * front's own client has a 10 s default timeout: the nested call must get the caller's
   * remaining budget instead, which the providers report ({@code budgetMicros}), never more than
   * the front had left when it made the call. Under load, nothing may be answered OK after its
   * deadline, the calls that do not make it end in {@code DEADLINE_EXCEEDED} (outcome unknown),
   * and the ledger reconciles: the non-idempotent {@code work} never runs twice.
   */
  @Test
  void nestedCallsGetTheRemainingBudgetAndNothingIsOkAfterItsDeadline() throws Exception {
    List<ProviderProcess> ps = List.of(startProvider("p1"), startProvider("p2"),
        startProvider("p3"));
    List<String> backAddresses = new ArrayList<>();
    for (ProviderProcess p : ps) {
      backAddresses.add(closeLater(FaultProxy.to("127.0.0.1", p.port).delay(100, 300))
          .address());
    }
    CourierClient back = closeLater(CourierClient.builder()
        .addresses(backAddresses.toArray(String[]::new))
        .timeout(Duration.ofSeconds(10))
        .warmup(Duration.ZERO)
        .ioThreads(2)
        .build());
    Front front = new Front(back.stub(LedgerService.class));
    CourierServer frontServer = CourierServer.builder().host("127.0.0.1").port(0).ioThreads(2)
        .service(LedgerService.class, front).build();
    frontServer.start();
    closeLater(frontServer::close);
    FaultProxy toFront = closeLater(FaultProxy.to("127.0.0.1", frontServer.port())
        .delay(100, 300));
    Duration timeout = Duration.ofSeconds(1);
    CourierClient consumer = closeLater(CourierClient.builder()
        .address(toFront.address())
        .timeout(timeout)
        .ioThreads(2)
        .build());
    LedgerService stub = consumer.stub(LedgerService.class);

    // the budget, hop by hop
    for (int i = 0; i < 6; i++) {
      long startNanos = System.nanoTime();
      long backBudget;
      try {
        backBudget = stub.budgetMicros();
      } catch (io.courier.RpcException e) {
        continue; // this one took longer than its deadline
      }
      long elapsedMicros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos);
      assertThat(elapsedMicros).isLessThan(timeout.toNanos() / 1_000 + 100_000);
      assertThat(backBudget).as("the provider's budget").isPositive()
          .isLessThan(timeout.toNanos() / 1_000);
    }
    assertThat(front.budgets).as("probes answered").hasSizeGreaterThan(3);
    for (long[] b : front.budgets) {
      // the wire carries whole milliseconds (rounded up), and a hop's transit is not taken off:
      // the time left is measured from each frame's arrival
      assertThat(b[1]).as("budget the provider saw <= what the front had left when it called")
          .isLessThanOrEqualTo(b[0] + 1_000);
    }

    LoadDriver load = load(List.of(consumer), 24, 60, timeout, 1_000).start();
    Thread.sleep(8_000);
    load.stop();
    stopProviders();

    Reconciliation r = Reconciliation.check("200 ± 100 ms latency on every hop, nested calls",
        load, providers);
    long late = 0;
    for (Call c : r.calls) {
      if (c.outcome == Outcome.OK) {
        assertThat(c.latencyNanos()).as("%s: no OK after its deadline", c)
            .isLessThan(timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(100));
      } else {
        late++;
        assertThat(c.reason).as("%s", c).isEqualTo(io.courier.ErrorReason.DEADLINE_EXCEEDED);
      }
    }
    System.out.printf("  %d of %d calls missed their 1 s deadline; budgets seen by the"
        + " providers: %s µs%n", late, r.calls.size(), front.budgets.stream()
        .map(b -> b[1]).limit(8).toList());
    assertThat(r.ok).as("calls that made it").isGreaterThan(80);
    assertThat(late).as("calls that did not (the delays must bite)").isPositive();
  }

  /** The front's service: relays each call to the providers from inside its own call. */
  private static final class Front implements LedgerService {
    private final LedgerService back;
    /** Per budget probe: the front's budget when it called, the provider's, in µs. */
    final ConcurrentLinkedQueue<long[]> budgets = new ConcurrentLinkedQueue<>();

    Front(LedgerService back) {
      this.back = back;
    }

    @Override
    public long work(long callId, long sleepMicros) {
      return back.work(callId, sleepMicros);
    }

    @Override
    public long store(long callId, byte[] data) {
      return back.store(callId, data);
    }

    @Override
    public long ping() {
      return back.ping();
    }

    @Override
    public long wallClockMillis() {
      return back.wallClockMillis();
    }

    @Override
    public long budgetMicros() {
      Deadline d = CallContext.currentDeadline();
      long mine = d == null ? -1 : d.remainingNanos() / 1_000;
      long theirs = back.budgetMicros();
      budgets.add(new long[] {mine, theirs});
      return theirs;
    }
  }
}
