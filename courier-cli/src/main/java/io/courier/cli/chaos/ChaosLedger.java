package io.courier.cli.chaos;

import io.courier.ErrorReason;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reconciles the consumers' records of a chaos run with the providers' ledgers of what ran
 * (reliability catalogue 5b): every issued call must have a typed outcome, every answered call
 * must have run, a call reported as "did not run" must not have run, and a non-idempotent call
 * must never run twice. Anything else is a violation, and a run with violations fails.
 * Immutable once built; not for concurrent use while built.
 */
final class ChaosLedger {

  /** The table's columns. */
  static final int RECORD = 0;
  static final int READ = 1;
  static final int TOTAL = 2;

  final long[] issued = new long[3];
  final long[] succeeded = new long[3];
  final long[] notRun = new long[3];
  final long[] unknownRan = new long[3];
  final long[] unknownNotRan = new long[3];
  final long[] untyped = new long[3];
  final long[] ranTwice = new long[3];
  final long[] lost = new long[3];
  /** Typed failures by reason. */
  final Map<ErrorReason, Long> byReason = new TreeMap<>();
  /** Executions found in the ledgers. */
  long executions;
  final List<String> violations = new ArrayList<>();
  /** Idempotent calls that ran more than once: allowed, listed for the report. */
  final List<String> idempotentRepeats = new ArrayList<>();

  private ChaosLedger() {}

  /**
   * Reconciles {@code calls} (every consumer's records) with the ledger files (every provider
   * process that ran, including killed ones; missing files count as empty).
   */
  static ChaosLedger reconcile(Collection<CallRecord> calls, Collection<Path> ledgers)
      throws IOException {
    ChaosLedger l = new ChaosLedger();
    Map<Long, Integer> runs = new HashMap<>();
    for (Path p : ledgers) {
      for (long id : CallLedger.read(p)) {
        runs.merge(id, 1, Integer::sum);
        l.executions++;
      }
    }
    Map<Long, CallRecord> byId = new HashMap<>();
    for (CallRecord c : calls) {
      if (byId.put(c.id(), c) != null) {
        l.violations.add("call " + c.id() + " was recorded twice by the consumers");
      }
      int ran = runs.getOrDefault(c.id(), 0);
      int col = c.idempotent() ? READ : RECORD;
      l.add(l.issued, col);
      if (ran > 1) {
        l.add(l.ranTwice, col);
        if (c.idempotent()) {
          l.idempotentRepeats.add(c + ": ran " + ran + " times");
        } else {
          l.violations.add(c + ": not idempotent, yet ran " + ran + " times");
        }
      }
      if (c.reason() != null) {
        l.byReason.merge(c.reason(), 1L, Long::sum);
      }
      switch (c.outcome()) {
        case OK -> {
          l.add(l.succeeded, col);
          if (ran == 0) {
            l.add(l.lost, col);
            l.violations.add(c + ": answered, but no provider's ledger shows it ran");
          }
        }
        case NOT_RUN -> {
          l.add(l.notRun, col);
          if (ran > 0 && !c.idempotent()) {
            l.violations.add(c + ": failed with a reason that says it did not run, yet ran "
                + ran + " time(s)");
          } else if (ran > 0) {
            l.idempotentRepeats.add(c + ": ran " + ran
                + " time(s) before its last attempt failed");
          }
        }
        case UNKNOWN -> l.add(ran > 0 ? l.unknownRan : l.unknownNotRan, col);
        case UNTYPED -> {
          l.add(l.untyped, col);
          l.violations.add(c + ": failed without a typed RpcException");
        }
        case PENDING -> {
          l.add(l.lost, col);
          l.violations.add(c + ": lost: no outcome when its consumer stopped (ran " + ran
              + " time(s))");
        }
      }
    }
    for (Map.Entry<Long, Integer> e : runs.entrySet()) {
      if (!byId.containsKey(e.getKey())) {
        l.violations.add("call " + e.getKey() + " ran " + e.getValue()
            + " time(s) but no consumer issued it");
      }
    }
    return l;
  }

  private void add(long[] row, int col) {
    row[col]++;
    row[TOTAL]++;
  }

  /** Whether nothing was lost, misreported or run twice against the rules. */
  boolean clean() {
    return violations.isEmpty();
  }

  /** The table, one row per line. */
  String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("%-36s %14s %12s %8s%n", "", "record", "read", "total"));
    b.append(String.format("%-36s %14s %12s %8s%n", "", "(not idemp.)", "(idempotent)", ""));
    row(b, "issued", issued);
    row(b, "succeeded", succeeded);
    row(b, "failed, typed: did not run", notRun);
    row(b, "failed, typed: outcome unknown, ran", unknownRan);
    row(b, "failed, typed: outcome unknown, not", unknownNotRan);
    row(b, "failed, untyped", untyped);
    row(b, "executed twice", ranTwice);
    row(b, "lost", lost);
    b.append(String.format("%-36s %36d%n", "executions in the providers' ledgers", executions));
    return b.toString();
  }

  private static void row(StringBuilder b, String name, long[] v) {
    b.append(String.format("%-36s %14d %12d %8d%n", name, v[RECORD], v[READ], v[TOTAL]));
  }

  /**
   * Typed failures by reason and status, for example
   * {@code DEADLINE_EXCEEDED (DEADLINE_EXCEEDED) 3}.
   */
  String reasons() {
    if (byReason.isEmpty()) {
      return "none";
    }
    StringBuilder b = new StringBuilder();
    byReason.forEach((r, n) -> {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(r.name()).append(" (").append(r.code()).append(") ").append(n);
    });
    return b.toString();
  }
}
