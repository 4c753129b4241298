package io.courier.client;

import io.courier.CallMetadata;
import java.util.Objects;
import java.util.Set;

/**
 * What a {@link GrpcClient} stub adds to each of its calls: request metadata, the compression of
 * request messages, and where the response headers and trailers are captured. Immutable; each
 * {@code with*} method returns a changed copy.
 *
 * <pre>{@code
 * MetadataCapture capture = new MetadataCapture();
 * GrpcCallOptions options = GrpcCallOptions.defaults()
 *     .withMetadata(new CallMetadata().put("x-tenant", "acme"))
 *     .withCompression("gzip")
 *     .withCapture(capture);
 * Greeter greeter = client.stub(Greeter.class, options);
 * greeter.sayHello(request);
 * String served = capture.headers().get("x-served-by");
 * }</pre>
 *
 * @since 0.1.0
 */
public final class GrpcCallOptions {

  private static final GrpcCallOptions DEFAULTS =
      new GrpcCallOptions(CallMetadata.empty(), false, null);

  /** Headers the transport writes; {@code grpc-*} keys are refused by CallMetadata already. */
  private static final Set<String> PROTOCOL_HEADERS =
      Set.of("content-type", "te", "user-agent", "connection", "content-length", "host");

  private final CallMetadata metadata;
  private final boolean gzip;
  private final MetadataCapture capture;

  private GrpcCallOptions(CallMetadata metadata, boolean gzip, MetadataCapture capture) {
    this.metadata = metadata;
    this.gzip = gzip;
    this.capture = capture;
  }

  /** No metadata, uncompressed requests, nothing captured. */
  public static GrpcCallOptions defaults() {
    return DEFAULTS;
  }

  /**
   * A copy that sends {@code metadata} (copied now; later changes to it are not seen) as request
   * headers with every call, after the client's call credentials.
   *
   * @throws IllegalArgumentException if it holds a header the protocol sets itself
   *     ({@code content-type}, {@code te}, {@code user-agent}, {@code connection},
   *     {@code content-length}, {@code host})
   */
  public GrpcCallOptions withMetadata(CallMetadata metadata) {
    CallMetadata copy = Objects.requireNonNull(metadata, "metadata").readOnlyCopy();
    for (String key : copy.keys()) {
      if (PROTOCOL_HEADERS.contains(key)) {
        throw new IllegalArgumentException("metadata: key '" + key
            + "' (expected: not a header the gRPC protocol sets itself)");
      }
    }
    return new GrpcCallOptions(copy, gzip, capture);
  }

  /**
   * A copy that compresses request messages with {@code encoding}: {@code "gzip"} (announced as
   * {@code grpc-encoding: gzip}, each message sent with the compressed flag unless a request
   * stream turns it off with {@link GrpcRequestObserver#setMessageCompression(boolean)}) or
   * {@code "identity"} (uncompressed, the default). Responses are accepted compressed with gzip
   * either way.
   *
   * @throws IllegalArgumentException for another encoding
   */
  public GrpcCallOptions withCompression(String encoding) {
    Objects.requireNonNull(encoding, "encoding");
    if (!encoding.equals("gzip") && !encoding.equals("identity")) {
      throw new IllegalArgumentException("encoding: '" + encoding
          + "' (expected: gzip or identity)");
    }
    return new GrpcCallOptions(metadata, encoding.equals("gzip"), capture);
  }

  /**
   * A copy that records each call's response headers and trailers in {@code capture} (the last
   * call to end wins), before the call's result is delivered.
   */
  public GrpcCallOptions withCapture(MetadataCapture capture) {
    return new GrpcCallOptions(metadata, gzip, Objects.requireNonNull(capture, "capture"));
  }

  /** The request metadata (read-only; empty by default). */
  public CallMetadata metadata() {
    return metadata;
  }

  /** The encoding of request messages: {@code "gzip"} or {@code "identity"}. */
  public String compression() {
    return gzip ? "gzip" : "identity";
  }

  /** Where response metadata is recorded, or {@code null}. */
  public MetadataCapture capture() {
    return capture;
  }

  @Override
  public String toString() {
    return "GrpcCallOptions{metadata=" + metadata + ", compression=" + compression()
        + (capture != null ? ", capture" : "") + '}';
  }
}
