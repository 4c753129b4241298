package io.courier.cli.chaos;

import io.courier.ErrorReason;

/**
 * What a consumer knows of one call of a chaos run: its id, which method it called, and how it
 * ended. Written by the consumer as one line,
 * {@code <id> <R|I> <outcome> <reason|-> <latency µs> <port|-> <endpoint|-> [message]}
 * ({@code R}: the non-idempotent {@code record}, {@code I}: the idempotent {@code read}), and read
 * back by the reconciliation. Set once by the calling thread, read after it ended; the fields are
 * volatile so that a reader that finds the call unfinished sees it as {@link Outcome#PENDING}.
 */
final class CallRecord {

  /** How a call ended, as the caller saw it. */
  enum Outcome {
    /** Answered. */
    OK,
    /** An {@link io.courier.RpcException} whose reason says the call did not run. */
    NOT_RUN,
    /**
     * An {@link io.courier.RpcException} after which the call may or may not have run
     * (connection lost after send, deadline passed, or any reason that does not say it did not).
     */
    UNKNOWN,
    /** Something other than an {@link io.courier.RpcException}: not a typed failure. */
    UNTYPED,
    /** No outcome at all when the consumer stopped: the call is lost. */
    PENDING
  }

  private final long id;
  private final boolean idempotent;
  private volatile Outcome outcome = Outcome.PENDING;
  private volatile ErrorReason reason;
  private volatile long latencyMicros = -1;
  private volatile long port = -1;
  private volatile String endpoint;
  private volatile String message;

  CallRecord(long id, boolean idempotent) {
    this.id = id;
    this.idempotent = idempotent;
  }

  void succeeded(long servedBy, long nanos) {
    this.port = servedBy;
    this.latencyMicros = nanos / 1_000;
    this.outcome = Outcome.OK;
  }

  void failed(ErrorReason why, String where, String text, long nanos) {
    this.reason = why;
    this.endpoint = where;
    this.message = text;
    this.latencyMicros = nanos / 1_000;
    this.outcome = CallLedger.didNotRun(why) ? Outcome.NOT_RUN : Outcome.UNKNOWN;
  }

  void untyped(String text, long nanos) {
    this.message = text;
    this.latencyMicros = nanos / 1_000;
    this.outcome = Outcome.UNTYPED;
  }

  long id() {
    return id;
  }

  boolean idempotent() {
    return idempotent;
  }

  Outcome outcome() {
    return outcome;
  }

  /** The failure's reason; null unless the outcome is {@code NOT_RUN} or {@code UNKNOWN}. */
  ErrorReason reason() {
    return reason;
  }

  long latencyMicros() {
    return latencyMicros;
  }

  /** The port of the provider that answered; -1 unless the outcome is {@code OK}. */
  long port() {
    return port;
  }

  String endpoint() {
    return endpoint;
  }

  String message() {
    return message;
  }

  /** The record's line (without a line break). */
  String format() {
    String text = message == null ? "" : " " + message.replace('\n', ' ').replace('\r', ' ');
    return id + " " + (idempotent ? 'I' : 'R') + " " + outcome + " "
        + (reason == null ? "-" : reason.name()) + " " + latencyMicros + " "
        + (port < 0 ? "-" : Long.toString(port)) + " " + (endpoint == null ? "-" : endpoint)
        + text;
  }

  /**
   * Reads a line written by {@link #format()}.
   *
   * @throws IllegalArgumentException when it is not one
   */
  static CallRecord parse(String line) {
    String[] f = line.split(" ", 8);
    if (f.length < 7 || !(f[1].equals("I") || f[1].equals("R"))) {
      throw new IllegalArgumentException("call record: '" + line
          + "' (expected: <id> <R|I> <outcome> <reason|-> <latency> <port|-> <endpoint|-> ...)");
    }
    CallRecord r = new CallRecord(Long.parseLong(f[0]), f[1].equals("I"));
    r.outcome = Outcome.valueOf(f[2]);
    r.reason = f[3].equals("-") ? null : ErrorReason.valueOf(f[3]);
    r.latencyMicros = Long.parseLong(f[4]);
    r.port = f[5].equals("-") ? -1 : Long.parseLong(f[5]);
    r.endpoint = f[6].equals("-") ? null : f[6];
    r.message = f.length > 7 ? f[7] : null;
    return r;
  }

  @Override
  public String toString() {
    return "call " + id + " (" + (idempotent ? "read, idempotent" : "record, not idempotent")
        + "): " + outcome + (reason == null ? "" : " " + reason)
        + (endpoint == null ? "" : " from " + endpoint)
        + (port < 0 ? "" : " served by port " + port)
        + (latencyMicros < 0 ? "" : " after " + latencyMicros / 1000 + " ms")
        + (message == null ? "" : ": " + message);
  }
}
