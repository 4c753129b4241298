package io.courier;

import io.courier.auth.Identity;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a service method can learn about, and add to, the call it is serving: the request's
 * metadata, the response headers and trailers to send, and whether responses should be
 * compressed. Reach it through {@link CallContext#currentCall()} inside the method (or keep the
 * reference to use it from a stream's callbacks).
 *
 * <p>Filled by the gRPC protocol. On a Courier-protocol call there is none yet:
 * {@link CallContext#currentCall()} returns {@code null}, and the shortcuts on
 * {@link CallContext} return detached metadata whose content is not sent.
 *
 * <p>Thread-safe. Response headers are sent with the first response message (or with the
 * trailers when there is none): entries added later are not sent. Trailers are sent when the call
 * ends.
 */
public final class ServerCallInfo {

  private final String methodName;
  /** Builds the request metadata on first use; null once it is built (or when given built). */
  private Supplier<CallMetadata> requestMetadataSource;
  private volatile CallMetadata requestMetadata;
  private final CallMetadata responseHeaders = new CallMetadata();
  private final CallMetadata responseTrailers = new CallMetadata();
  private volatile boolean compressResponses;
  private volatile boolean requestCompressed;
  private volatile Identity identity;

  /**
   * Used by transports.
   *
   * @param methodName the full method name, for example {@code grpc.testing.TestService/UnaryCall}
   * @param requestMetadata the request's metadata (kept as given; pass a read-only instance)
   */
  public ServerCallInfo(String methodName, CallMetadata requestMetadata) {
    this.methodName = Objects.requireNonNull(methodName, "methodName");
    this.requestMetadata = Objects.requireNonNull(requestMetadata, "requestMetadata");
  }

  /**
   * Used by transports that can leave the request metadata unbuilt until a method asks for it:
   * {@code requestMetadata} runs at most once, on the first call to {@link #requestMetadata()},
   * from whichever thread makes it. It must not depend on state that changes after this
   * constructor returns (pass a view over immutable headers, for example).
   *
   * @param methodName the full method name, for example {@code grpc.testing.TestService/UnaryCall}
   * @param requestMetadata builds the request's metadata (return a read-only instance)
   */
  public ServerCallInfo(String methodName, Supplier<CallMetadata> requestMetadata) {
    this.methodName = Objects.requireNonNull(methodName, "methodName");
    this.requestMetadataSource = Objects.requireNonNull(requestMetadata, "requestMetadata");
  }

  /** The full method name, for example {@code grpc.testing.TestService/UnaryCall}. */
  public String methodName() {
    return methodName;
  }

  /** The metadata the caller sent (read-only). */
  public CallMetadata requestMetadata() {
    CallMetadata md = requestMetadata;
    if (md != null) {
      return md;
    }
    synchronized (this) {
      md = requestMetadata;
      if (md == null) {
        md = Objects.requireNonNull(requestMetadataSource.get(), "requestMetadata");
        requestMetadataSource = null;
        requestMetadata = md;
      }
      return md;
    }
  }

  /** Headers to send before the first response message; add to it. */
  public CallMetadata responseHeaders() {
    return responseHeaders;
  }

  /** Trailers to send when the call ends; add to it. */
  public CallMetadata responseTrailers() {
    return responseTrailers;
  }

  /**
   * Asks that the response messages sent from now on be compressed, when the caller accepts a
   * compression the server has (gzip); {@code false} sends them uncompressed again. Messages
   * already sent are not affected. Default {@code false}.
   */
  public void compressResponses(boolean compress) {
    this.compressResponses = compress;
  }

  /** Whether response messages are to be compressed (see {@link #compressResponses}). */
  public boolean compressResponses() {
    return compressResponses;
  }

  /**
   * Whether the request message being handled (the unary request, or the stream message being
   * delivered to {@code onNext}) arrived compressed.
   */
  public boolean requestCompressed() {
    return requestCompressed;
  }

  /**
   * The authenticated caller, or {@code null} (no authenticator, or a public method called
   * without credentials). Also {@link CallContext#identity()} inside the method.
   */
  public Identity identity() {
    return identity;
  }

  /**
   * Used by transports once the call is authenticated, before the method runs; only once.
   *
   * @throws IllegalStateException when an identity is already set
   */
  public void identity(Identity identity) {
    synchronized (this) {
      if (this.identity != null) {
        throw new IllegalStateException("the call's identity is already set");
      }
      this.identity = Objects.requireNonNull(identity, "identity");
    }
  }

  /** Used by transports before each request message is handed to the method. */
  public void requestCompressed(boolean compressed) {
    this.requestCompressed = compressed;
  }
}
