package io.courier.client;

import io.courier.CallMetadata;
import java.util.Objects;

/**
 * Holds the response headers and trailers of the last call made through a stub whose
 * {@link GrpcCallOptions} name it. Both are set before the call's result (its return value,
 * future or {@code onCompleted}/{@code onError}) is delivered, so they can be read right after.
 * Protocol headers ({@code grpc-*}, {@code content-type}, pseudo-headers) and entries that are not
 * valid metadata are left out.
 *
 * <pre>{@code
 * MetadataCapture capture = new MetadataCapture();
 * service = client.stub(Service.class, GrpcCallOptions.defaults().withCapture(capture));
 * service.call(request);
 * byte[] checksum = capture.trailers().getBinary("x-checksum-bin");
 * }</pre>
 *
 * <p>Thread-safe. With several calls in flight on the same stub, each overwrites what the
 * previous one left: give concurrent calls their own capture.
 *
 * @since 0.1.0
 */
public final class MetadataCapture {

  private volatile CallMetadata headers = CallMetadata.empty();
  private volatile CallMetadata trailers = CallMetadata.empty();

  /** An empty capture. */
  public MetadataCapture() {}

  /**
   * The response headers of the last call (read-only); empty before any call and when the
   * server answered with trailers only.
   */
  public CallMetadata headers() {
    return headers;
  }

  /** The response trailers of the last call (read-only); empty before any call ends. */
  public CallMetadata trailers() {
    return trailers;
  }

  /** Records a call's headers; used by {@link GrpcClient}. */
  void headers(CallMetadata headers) {
    this.headers = Objects.requireNonNull(headers, "headers");
  }

  /** Records a call's trailers; used by {@link GrpcClient}. */
  void trailers(CallMetadata trailers) {
    this.trailers = Objects.requireNonNull(trailers, "trailers");
  }

  @Override
  public String toString() {
    return "MetadataCapture{headers=" + headers + ", trailers=" + trailers + '}';
  }
}
