package io.courier.transport.netty;

import io.courier.CallTimings;
import io.courier.internal.protocol.InboundFrame;
import io.courier.spi.CallTracer;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * One attempt of a client call, from encoding to its answer. For a synchronous call the
 * {@link #outcome} completes on the event loop with the answer's frame, or exceptionally with an
 * {@code RpcException} that has no timings yet; the thread that decodes it adds them. An
 * asynchronous attempt ({@link AsyncCall}) has no future of its own: it hands itself to the
 * callback executor. Timestamps are {@link System#nanoTime()}.
 */
class ClientCall {

  final ClientMethod method;
  final int attempt;
  final long startNanos;
  final long deadlineNanos;
  final boolean hasDeadline;
  /** The answer of a synchronous call; null for an {@link AsyncCall}. */
  final CompletableFuture<InboundFrame> outcome;
  ByteBuf request;
  int requestBytes;
  int requestId;
  ClientConnectionHandler connection;
  volatile boolean cancelled;
  ScheduledFuture<?> timer;
  long encodeStartNanos;
  long encodeEndNanos;
  volatile long flushedNanos;
  volatile long responseNanos;
  long decodeStartNanos;
  int serverQueuedMicros = -1;
  int serverExecMicros = -1;
  /** The call's span, whose context the request carries; null when not traced. */
  CallTracer.ClientSpan span;

  ClientCall(ClientMethod method, int attempt, long startNanos, long deadlineNanos,
      boolean hasDeadline) {
    this(method, attempt, startNanos, deadlineNanos, hasDeadline, new CompletableFuture<>());
  }

  ClientCall(ClientMethod method, int attempt, long startNanos, long deadlineNanos,
      boolean hasDeadline, CompletableFuture<InboundFrame> outcome) {
    this.outcome = outcome;
    this.method = method;
    this.attempt = attempt;
    this.startNanos = startNanos;
    this.deadlineNanos = deadlineNanos;
    this.hasDeadline = hasDeadline;
  }

  boolean expired(long now) {
    return hasDeadline && now - deadlineNanos >= 0;
  }

  /** Completes with an answer, on the event loop; releases it if the call already ended. */
  void complete(InboundFrame frame) {
    if (!outcome.complete(frame)) {
      frame.release();
    }
  }

  /** Completes with a failure (any thread); ignored if the call already ended. */
  void fail(Throwable t) {
    outcome.completeExceptionally(t);
  }

  CallTimings timings(long endNanos, long decodeEndNanos) {
    long queued = micros(startNanos, encodeStartNanos);
    long encode = micros(encodeStartNanos, encodeEndNanos);
    long flushed = flushedNanos;
    long write = micros(encodeEndNanos, flushed);
    long response = responseNanos;
    long wait = micros(flushed, response);
    long decode = micros(decodeStartNanos, decodeEndNanos);
    return new CallTimings(queued, encode, write, wait, serverQueuedMicros, serverExecMicros,
        decode, (endNanos - startNanos) / 1000);
  }

  private static long micros(long from, long to) {
    return from == 0 || to == 0 ? -1 : Math.max(0, (to - from) / 1000);
  }
}
