package io.courier.spi;

import io.courier.Status;
import java.net.SocketAddress;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Traces calls: a span per call on each side, and the trace context carried in the call's
 * metadata. (SPI, thread-safe.)
 *
 * <p>Courier calls it only when one is configured ({@code CourierServer.Builder.tracing},
 * {@code CourierClient.Builder.tracing}, {@code GrpcClient.Builder.tracing}); without one a call
 * costs a null check and its frames carry nothing for it. {@code courier-tracing-opentelemetry}
 * implements it with OpenTelemetry:
 *
 * <pre>{@code
 * CourierServer.builder().tracing(OpenTelemetryTracing.create(openTelemetry)) ...
 * }</pre>
 *
 * <p>The server starts a span when it accepts a call (after the checks that may refuse it), makes
 * it current on the thread that runs the method, and ends it when the call's outcome is known (a
 * future's completion, a stream's end). The client starts one when a stub method is called, adds
 * the span's context to each attempt's metadata ({@link ClientSpan#inject}) and ends it with the
 * call's outcome.
 */
public interface CallTracer {

  /** The protocol a call arrived or leaves on. */
  enum Protocol {
    /** Courier's binary frames; the context travels in the frame's metadata block. */
    COURIER,
    /** gRPC over HTTP/2; the context travels in request headers. */
    GRPC,
    /** HTTP/1.1 with JSON bodies; the context travels in request headers. */
    HTTP_JSON
  }

  /**
   * Starts the span of a call a server accepted. Called on the connection's event loop: keep it
   * quick.
   *
   * @param service the service name ({@code demo.Calculator})
   * @param method the method name as the protocol names it ({@code add}; on gRPC {@code Add})
   * @param requestMetadata the request metadata by lower-case key, null when absent
   * @param local the server's address of the connection (may be a non-IP address)
   * @param remote the caller's address (may be a non-IP address)
   */
  ServerSpan startServer(Protocol protocol, String service, String method,
      Function<String, String> requestMetadata, SocketAddress local, SocketAddress remote);

  /**
   * Starts the span of a call a client makes, a child of the caller's current context. Called on
   * the calling thread.
   */
  ClientSpan startClient(Protocol protocol, String service, String method);

  /** Restores what was current before; close it on the thread that opened it. */
  interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  /** The server side of one call or stream. */
  interface ServerSpan {
    /** Makes the span current on this thread (the method's) until the scope is closed. */
    Scope makeCurrent();

    /**
     * Ends the span with the call's status; {@code error} is what the method threw, or null.
     * Only the first call counts.
     */
    void end(Status.Code code, Throwable error);
  }

  /** The client side of one call or stream, over all its attempts. */
  interface ClientSpan {
    /** Makes the span current on this thread until the scope is closed. */
    Scope makeCurrent();

    /** Records the server an attempt is sent to. */
    void server(String host, int port);

    /** Writes the span's context as metadata entries: lower-case keys, printable ASCII values. */
    void inject(BiConsumer<String, String> metadata);

    /**
     * Ends the span with the call's status; {@code error} is the failure, or null. Only the first
     * call counts.
     */
    void end(Status.Code code, Throwable error);
  }
}
