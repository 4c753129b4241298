package io.courier.stream;

/**
 * The observers Courier hands out for streaming calls (the response stream on a server, the
 * request stream a client stub returns, and the one passed to a server-streaming stub) also
 * implement this interface: flow control and cancellation in both directions.
 *
 * <p>Outbound, {@link #isReady()} turns false while the peer has not granted room for more
 * messages; {@link #onNext} still accepts them (they wait in memory), so a producer that can wait
 * should check {@code isReady()} and resume from {@link #setOnReadyHandler}. Inbound, messages are
 * requested one at a time as they are delivered unless {@link #disableAutoRequest()} is called,
 * after which the receiver asks for them with {@link #request(int)}.
 *
 * @param <T> the message type sent through this observer
 */
public interface CallStreamObserver<T> extends StreamObserver<T> {

  /** Whether the peer has room for another message now. */
  boolean isReady();

  /**
   * Runs {@code handler} each time {@link #isReady()} turns true. Runs on the call's executor,
   * never concurrently with the call's other callbacks.
   */
  void setOnReadyHandler(Runnable handler);

  /**
   * Stops requesting inbound messages as they are delivered. Must be called before the first
   * message arrives (on a server, inside the method; on a client, before the call starts sending).
   */
  void disableAutoRequest();

  /**
   * Asks the peer for {@code count} more inbound messages.
   *
   * @throws IllegalArgumentException if {@code count} is not positive
   */
  void request(int count);

  /** Whether the call was cancelled (by the peer, a deadline, or {@link #cancel}). */
  boolean isCancelled();

  /** Runs {@code handler} once if the call is cancelled. */
  void setOnCancelHandler(Runnable handler);

  /**
   * Cancels the call: both directions end, the peer sees CANCELLED with {@code message}.
   * Idempotent.
   */
  void cancel(String message);
}
