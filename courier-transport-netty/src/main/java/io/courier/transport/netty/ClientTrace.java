package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.observe.CallObserver;
import java.util.function.BiConsumer;

/**
 * One observed client call across its attempts: where its last attempt went and how many there
 * were, reported to the method's observer when the call ends. Made only when calls are observed.
 * Thread-safe (the fields are written by the attempt in flight, read at the end).
 */
final class ClientTrace implements BiConsumer<Object, Throwable> {

  private final CallObserver.ClientMethodObserver observer;
  private final long startNanos;
  private volatile Endpoint endpoint;
  private volatile int attempts;

  ClientTrace(CallObserver.ClientMethodObserver observer) {
    this.observer = observer;
    this.startNanos = System.nanoTime();
    observer.started();
  }

  /** An attempt goes to {@code e}. */
  void at(Endpoint e, int attempt) {
    endpoint = e;
    attempts = attempt;
  }

  /** The call ended, with {@code failure} or (null) successfully. */
  void end(Throwable failure) {
    Endpoint e = endpoint;
    Throwable t = failure == null ? null : NettyClient.unwrap(failure);
    Status.Code code;
    ErrorReason reason;
    if (t == null) {
      code = Status.Code.OK;
      reason = null;
    } else if (t instanceof RpcException r) {
      code = r.status().code();
      reason = r.reason();
    } else if (t instanceof java.util.concurrent.CancellationException) {
      code = Status.Code.CANCELLED;
      reason = ErrorReason.CANCELLED;
    } else {
      code = Status.Code.UNKNOWN; // a declared exception of the method
      reason = ErrorReason.APPLICATION_ERROR;
    }
    observer.ended(e == null ? null : e.toString(), code, reason,
        System.nanoTime() - startNanos, Math.max(1, attempts));
  }

  @Override
  public void accept(Object value, Throwable failure) {
    end(failure);
  }
}
