package io.courier.client;

import io.courier.stream.CallStreamObserver;

/**
 * The request stream a {@link GrpcClient} stub returns for client- and bidirectional-streaming
 * methods (declared as {@code StreamObserver<Q>}; cast it to use these controls).
 *
 * <p>Flow control: {@link #isReady()} is true while fewer than 32 KiB of request messages wait
 * to be written, that is, while the server's HTTP/2 window takes what is sent; once it turns
 * false, {@link #onNext} still accepts messages (they wait in memory), so a producer that can
 * wait should stop and resume from {@link #setOnReadyHandler}, which also runs once when the
 * stream opens.
 *
 * <pre>{@code
 * GrpcRequestObserver<Chunk> upload = (GrpcRequestObserver<Chunk>) files.upload(responses);
 * upload.setOnReadyHandler(() -> {
 *   while (upload.isReady() && source.hasNext()) {
 *     upload.onNext(source.next());
 *   }
 *   if (!source.hasNext()) {
 *     upload.onCompleted();
 *   }
 * });
 * }</pre>
 *
 * <p>{@link #onNext} or {@link #onCompleted} after {@link #onCompleted} throws
 * {@code IllegalStateException}; messages sent after the call ended (failed, cancelled, or
 * answered) are discarded, since the caller cannot always know it ended first.
 *
 * <p>{@link #disableAutoRequest()} and {@link #request(int)} throw
 * {@code UnsupportedOperationException}: the response stream is not flow-controlled by the
 * application yet. Thread-safe, but messages must be sent from one thread at a time.
 *
 * @param <T> the request message type
 * @since 0.1.0
 */
public interface GrpcRequestObserver<T> extends CallStreamObserver<T> {

  /**
   * Whether the messages sent from now on are compressed; only when the stub's
   * {@link GrpcCallOptions#withCompression(String)} is {@code gzip} (the default then is
   * {@code true}). Lets one stream mix compressed and plain messages.
   */
  void setMessageCompression(boolean enabled);
}
