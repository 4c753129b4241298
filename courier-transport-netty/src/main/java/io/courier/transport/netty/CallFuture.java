package io.courier.transport.netty;

import io.courier.spi.CallTracer;
import java.util.concurrent.CompletableFuture;

/**
 * The future an asynchronous call returns. Cancelling it cancels the attempt in flight, which
 * tells its server; it knows that attempt without a listener per call.
 */
final class CallFuture extends CompletableFuture<Object> {

  /** The attempt in flight, or null before the first is sent. */
  volatile ClientCall current;
  /** The call's span, sent with every attempt; null when not traced. */
  volatile CallTracer.ClientSpan span;
  /** Whether this future ends {@link #span} (not when it is one copy of a copying policy). */
  volatile boolean endsSpan;

  /** Ends the span before the caller's callbacks run, so a span never ends after its parent. */
  @Override
  public boolean complete(Object value) {
    CallTracer.ClientSpan s = span;
    if (s != null && endsSpan && !isDone()) {
      s.end(io.courier.Status.Code.OK, null);
    }
    return super.complete(value);
  }

  @Override
  public boolean completeExceptionally(Throwable failure) {
    CallTracer.ClientSpan s = span;
    if (s != null && endsSpan && !isDone()) {
      Throwable cause = NettyClient.unwrap(failure);
      s.end(NettyClient.codeOf(cause), cause);
    }
    return super.completeExceptionally(failure);
  }

  /** The observed call's trace; null when calls are not observed. Set before the first attempt. */
  ClientTrace trace;

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    CallTracer.ClientSpan s = span;
    if (s != null && endsSpan && !isDone()) {
      s.end(io.courier.Status.Code.CANCELLED, null);
    }
    boolean cancelled = super.cancel(mayInterruptIfRunning);
    ClientCall c = current;
    if (cancelled && c != null) {
      ClientConnectionHandler h = c.connection;
      if (h != null) {
        h.cancel(c);
      } else {
        c.cancelled = true; // not handed to a connection yet: it will not be written
      }
    }
    return cancelled;
  }
}
