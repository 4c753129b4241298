package io.courier.cli.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.ErrorReason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reconciliation of a chaos run: call records as consumers write them, ledger files as
 * providers write them, and the verdict on each kind of discrepancy.
 */
class ChaosLedgerTest {

  @TempDir
  Path dir;

  private Path ledger(String name, long... ids) throws IOException {
    StringBuilder b = new StringBuilder();
    for (long id : ids) {
      b.append(id).append('\n');
    }
    Path p = dir.resolve(name);
    Files.writeString(p, b, StandardCharsets.US_ASCII);
    return p;
  }

  private static CallRecord ok(long id) {
    CallRecord r = new CallRecord(id, (id & 1) == 1);
    r.succeeded(4000, 1_000_000);
    return r;
  }

  private static CallRecord failed(long id, ErrorReason reason) {
    CallRecord r = new CallRecord(id, (id & 1) == 1);
    r.failed(reason, "127.0.0.1:4000", "it failed", 2_000_000);
    return r;
  }

  /** Written and read back as the consumer and the run do. */
  private static CallRecord roundTrip(CallRecord r) {
    return CallRecord.parse(r.format());
  }

  @Test
  void aRunWhereEveryCallHasATypedOutcomeIsClean() throws IOException {
    List<CallRecord> calls = List.of(ok(10), ok(11), failed(12, ErrorReason.NO_PROVIDER),
        failed(13, ErrorReason.DEADLINE_EXCEEDED), failed(14, ErrorReason.CONNECTION_CLOSED))
        .stream().map(ChaosLedgerTest::roundTrip).toList();
    // 13 ran after its deadline on one provider; 14 was lost with its connection before it ran
    ChaosLedger l = ChaosLedger.reconcile(calls,
        List.of(ledger("p1.ledger", 10, 13), ledger("p2.ledger", 11), dir.resolve("none")));
    assertThat(l.violations).isEmpty();
    assertThat(l.clean()).isTrue();
    assertThat(l.issued).containsExactly(3, 2, 5);
    assertThat(l.succeeded).containsExactly(1, 1, 2);
    assertThat(l.notRun).containsExactly(1, 0, 1);
    assertThat(l.unknownRan).containsExactly(0, 1, 1);
    assertThat(l.unknownNotRan).containsExactly(1, 0, 1);
    assertThat(l.lost).containsExactly(0, 0, 0);
    assertThat(l.executions).isEqualTo(3);
    assertThat(l.reasons()).isEqualTo("NO_PROVIDER (UNAVAILABLE) 1, CONNECTION_CLOSED"
        + " (UNAVAILABLE) 1, DEADLINE_EXCEEDED (DEADLINE_EXCEEDED) 1");
  }

  @Test
  void aCallWithoutOutcomeIsLost() throws IOException {
    CallRecord pending = roundTrip(new CallRecord(20, false));
    assertThat(pending.outcome()).isEqualTo(CallRecord.Outcome.PENDING);
    ChaosLedger l = ChaosLedger.reconcile(List.of(ok(10), pending),
        List.of(ledger("p1.ledger", 10, 20)));
    assertThat(l.clean()).isFalse();
    assertThat(l.lost).containsExactly(1, 0, 1);
    assertThat(l.violations).singleElement().asString()
        .startsWith("call 20 (record, not idempotent): PENDING").contains("lost");
  }

  @Test
  void anAnswerWithoutAnExecutionIsLost() throws IOException {
    ChaosLedger l = ChaosLedger.reconcile(List.of(ok(10)), List.of(ledger("p1.ledger")));
    assertThat(l.lost).containsExactly(1, 0, 1);
    assertThat(l.violations).singleElement().asString().contains("no provider's ledger");
  }

  @Test
  void aNonIdempotentCallRunTwiceFailsTheRunAnIdempotentOneDoesNot() throws IOException {
    ChaosLedger l = ChaosLedger.reconcile(List.of(ok(10), ok(11)),
        List.of(ledger("p1.ledger", 10, 11), ledger("p1.2.ledger", 10, 11)));
    assertThat(l.ranTwice).containsExactly(1, 1, 2);
    assertThat(l.violations).singleElement().asString()
        .startsWith("call 10 (record, not idempotent)").endsWith("not idempotent, yet ran 2 times");
    assertThat(l.idempotentRepeats).singleElement().asString().startsWith("call 11 (read");
  }

  @Test
  void aFailureSayingDidNotRunMustNotHaveRun() throws IOException {
    ChaosLedger l = ChaosLedger.reconcile(List.of(failed(10, ErrorReason.NOT_SENT),
        failed(11, ErrorReason.CONNECT_FAILED)), List.of(ledger("p1.ledger", 10, 11)));
    // the idempotent read may have run on an earlier attempt that lost its connection
    assertThat(l.violations).singleElement().asString()
        .contains("call 10").contains("did not run, yet ran 1 time(s)");
    assertThat(l.idempotentRepeats).singleElement().asString().contains("call 11");
  }

  @Test
  void untypedFailuresAndUnissuedRunsAreViolations() throws IOException {
    CallRecord untyped = new CallRecord(10, false);
    untyped.untyped("java.lang.IllegalStateException: boom", 1_000);
    ChaosLedger l = ChaosLedger.reconcile(List.of(roundTrip(untyped)),
        List.of(ledger("p1.ledger", 99)));
    assertThat(l.untyped).containsExactly(1, 0, 1);
    assertThat(l.violations).hasSize(2)
        .anySatisfy(v -> assertThat(v).contains("without a typed RpcException")
            .contains("IllegalStateException: boom"))
        .anySatisfy(v -> assertThat(v).isEqualTo("call 99 ran 1 time(s) but no consumer issued"
            + " it"));
  }

  @Test
  void aMalformedRecordIsRejectedClearly() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> CallRecord.parse("12 X OK"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("call record: '12 X OK' (expected: <id> <R|I> <outcome>");
  }
}
