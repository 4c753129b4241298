package io.courier.it;

import io.courier.ErrorReason;
import io.courier.cli.chaos.CallLedger;
import io.courier.it.LoadDriver.Call;
import io.courier.it.LoadDriver.Outcome;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Holds the consumers' record of every call against the providers' ledgers of what ran, and
 * checks that nothing was lost or run twice:
 *
 * <ul>
 *   <li>every issued call has exactly one outcome, and none took longer than its deadline + 1 s;
 *   <li>every OK call ran exactly once, on the provider that answered;
 *   <li>a call that failed with a reason saying it did not run, did not run;
 *   <li>a call whose outcome is unknown (connection lost after send, deadline) ran at most once;
 *   <li>no call ran twice, and nothing ran that was not issued ({@code work} is not idempotent);
 *   <li>accepted = completed + explicitly failed + unknown: no call vanished.
 * </ul>
 *
 * It also reports the error count, the failure window (first to last error) and p99 latency.
 */
final class Reconciliation {

  private static final long SLACK_NANOS = TimeUnit.SECONDS.toNanos(1);

  final String scenario;
  final List<Call> calls;
  final List<Call> errors;
  final Map<ErrorReason, Long> errorsByReason;
  final long ok;
  final long failed;
  final long unknown;
  final long executions;
  final long unknownThatRan;
  final long p99Micros;
  final long maxMicros;
  /** The drivers of the run; the last one is the one under test. */
  final List<LoadDriver> drivers;
  private final LoadDriver driver;
  private final List<String> violations = new ArrayList<>();

  private Reconciliation(String scenario, List<LoadDriver> drivers,
      Collection<ProviderProcess> providers) throws IOException {
    this.scenario = scenario;
    this.drivers = List.copyOf(drivers);
    this.driver = drivers.get(drivers.size() - 1);
    List<Call> all = new ArrayList<>();
    drivers.forEach(d -> all.addAll(d.calls()));
    all.sort((a, b) -> Long.compare(a.id, b.id));
    this.calls = List.copyOf(all);
    Map<Long, List<ProviderProcess>> ran = new HashMap<>();
    long executed = 0;
    for (ProviderProcess p : providers) {
      for (long id : CallLedger.read(p.ledger)) {
        ran.computeIfAbsent(id, k -> new ArrayList<>(1)).add(p);
        executed++;
      }
    }
    this.executions = executed;
    long nOk = 0;
    long nFailed = 0;
    long nUnknown = 0;
    long nUnknownRan = 0;
    long limit = driver.timeout.toNanos() + SLACK_NANOS; // every driver of a test uses one
    List<Call> errs = new ArrayList<>();
    Map<Long, Call> byId = new HashMap<>();
    for (Call c : calls) {
      byId.put(c.id, c);
      List<ProviderProcess> where = ran.getOrDefault(c.id, List.of());
      if (c.endNanos == 0 || c.outcome == null) {
        violate(c + ": no outcome (still pending)");
        continue;
      }
      if (driver.timeout.toNanos() > 0 && c.latencyNanos() > limit) {
        violate(c + ": ended later than its deadline + 1 s");
      }
      if (where.size() > 1) {
        violate(c + ": ran " + where.size() + " times, on " + where);
      }
      switch (c.outcome) {
        case OK -> {
          nOk++;
          if (where.size() != 1) {
            violate(c + ": answered OK but ran " + where.size() + " times");
          } else if (where.get(0).port != c.servedBy) {
            violate(c + ": answered by port " + c.servedBy + " but ran on " + where.get(0));
          }
        }
        case FAILED -> {
          nFailed++;
          errs.add(c);
          if (!where.isEmpty()) {
            violate(c + ": failed as not run, yet ran on " + where);
          }
        }
        case UNKNOWN -> {
          nUnknown++;
          errs.add(c);
          if (where.size() == 1) {
            nUnknownRan++;
          }
        }
        case UNEXPECTED -> {
          errs.add(c);
          violate(c + ": unexpected failure");
        }
      }
    }
    for (Long id : ran.keySet()) {
      if (!byId.containsKey(id)) {
        violate("call " + id + " ran on " + ran.get(id) + " but was never issued");
      }
    }
    long accepted = drivers.stream().mapToLong(LoadDriver::issued).sum();
    if (accepted != calls.size()) {
      violate("accepted " + accepted + " calls but recorded " + calls.size());
    }
    if (nOk + nFailed + nUnknown != accepted) {
      violate("accepted " + accepted + " != completed " + nOk + " + failed " + nFailed
          + " + unknown " + nUnknown);
    }
    this.ok = nOk;
    this.failed = nFailed;
    this.unknown = nUnknown;
    this.unknownThatRan = nUnknownRan;
    this.errors = List.copyOf(errs);
    this.errorsByReason = errs.stream().filter(c -> c.reason != null)
        .collect(Collectors.groupingBy(c -> c.reason, TreeMap::new, Collectors.counting()));
    long[] latencies = calls.stream().filter(c -> c.endNanos != 0)
        .mapToLong(Call::latencyNanos).sorted().toArray();
    this.p99Micros = latencies.length == 0 ? 0
        : latencies[(int) Math.ceil(latencies.length * 0.99) - 1] / 1_000;
    this.maxMicros = latencies.length == 0 ? 0 : latencies[latencies.length - 1] / 1_000;
  }

  /**
   * Reconciles the driver's calls with the providers' ledgers (the providers must be stopped or
   * killed, so that their ledgers are final), prints the report, and fails on any violation.
   */
  static Reconciliation check(String scenario, LoadDriver driver,
      Collection<ProviderProcess> providers) throws IOException {
    return check(scenario, List.of(driver), providers);
  }

  /** {@link #check(String, LoadDriver, Collection)} over the calls of several drivers. */
  static Reconciliation check(String scenario, List<LoadDriver> drivers,
      Collection<ProviderProcess> providers) throws IOException {
    Reconciliation r = new Reconciliation(scenario, drivers, providers);
    System.out.println(r.report());
    if (!r.violations.isEmpty()) {
      throw new AssertionError(r.violations.size() + " ledger violations in " + scenario + ":\n  "
          + r.violations.stream().limit(30).collect(Collectors.joining("\n  ")));
    }
    return r;
  }

  private void violate(String what) {
    violations.add(what);
  }

  /** First error's end, ms on the driver's time axis; -1 without errors. */
  long firstErrorMillis() {
    return errors.stream().mapToLong(c -> driver.millisAt(c.endNanos)).min().orElse(-1);
  }

  /** Last error's end, ms on the driver's time axis; -1 without errors. */
  long lastErrorMillis() {
    return errors.stream().mapToLong(c -> driver.millisAt(c.endNanos)).max().orElse(-1);
  }

  String report() {
    StringBuilder b = new StringBuilder();
    b.append("== ").append(scenario).append(" ==\n");
    drivers.stream().flatMap(d -> d.events().stream())
        .sorted((x, y) -> Long.compare(x.nanos(), y.nanos()))
        .forEach(e -> b.append("  +").append(driver.millisAt(e.nanos())).append(" ms: ")
            .append(e.what()).append('\n'));
    b.append("  issued ").append(calls.size()).append(", ok ").append(ok)
        .append(", failed (did not run) ").append(failed)
        .append(", outcome unknown ").append(unknown).append(" (ran: ").append(unknownThatRan)
        .append("); executions in ledgers ").append(executions).append('\n');
    b.append("  errors ").append(errors.size()).append(' ').append(errorsByReason);
    if (!errors.isEmpty()) {
      b.append(", failure window ").append(lastErrorMillis() - firstErrorMillis())
          .append(" ms (+").append(firstErrorMillis()).append(" .. +")
          .append(lastErrorMillis()).append(" ms)");
    }
    b.append('\n');
    b.append("  latency p99 ").append(p99Micros / 1000.0).append(" ms, max ")
        .append(maxMicros / 1000.0).append(" ms\n");
    b.append("  ledger: ").append(violations.isEmpty() ? "reconciled"
        : violations.size() + " violations");
    return b.toString();
  }
}
