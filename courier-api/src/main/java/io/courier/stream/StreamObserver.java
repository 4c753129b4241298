package io.courier.stream;

/**
 * Receives the messages of one direction of a streaming call: any number of {@link #onNext},
 * then exactly one of {@link #onCompleted} or {@link #onError}.
 *
 * <p>A streaming method is declared with it, in the shapes gRPC and Dubbo users know:
 *
 * <pre>{@code
 * // server streaming: one request, a stream of responses
 * void listFeatures(Rectangle area, StreamObserver<Feature> responses);
 * // client or bidirectional streaming: a stream each way
 * StreamObserver<Note> chat(StreamObserver<Note> responses);
 * }</pre>
 *
 * <p>Not thread-safe: calls on one observer must not overlap (call it from one thread at a time).
 * Implementations given by Courier may be called from any thread.
 *
 * @param <T> the message type
 */
public interface StreamObserver<T> {

  /** One message. Must not be called after {@link #onCompleted} or {@link #onError}. */
  void onNext(T value);

  /**
   * Ends the stream with an error. On a request stream the call is cancelled; on a response stream
   * the caller sees the error (an {@code RpcException}'s status, or INTERNAL for anything else).
   */
  void onError(Throwable error);

  /** Ends the stream normally. */
  void onCompleted();
}
