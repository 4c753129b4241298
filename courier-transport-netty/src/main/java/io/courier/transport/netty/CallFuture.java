package io.courier.transport.netty;

import java.util.concurrent.CompletableFuture;

/**
 * The future an asynchronous call returns. Cancelling it cancels the attempt in flight, which
 * tells its server; it knows that attempt without a listener per call.
 */
final class CallFuture extends CompletableFuture<Object> {

  /** The attempt in flight, or null before the first is sent. */
  volatile ClientCall current;
  /** The observed call's trace; null when calls are not observed. Set before the first attempt. */
  ClientTrace trace;

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
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
