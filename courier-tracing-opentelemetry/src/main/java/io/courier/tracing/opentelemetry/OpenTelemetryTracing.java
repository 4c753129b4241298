package io.courier.tracing.opentelemetry;

import io.courier.RpcException;
import io.courier.Status;
import io.courier.spi.CallTracer;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Traces Courier calls with OpenTelemetry, following its semantic conventions for RPC spans: a
 * {@code SERVER} span per call served and a {@code CLIENT} span per call made, named
 * {@code service/method}, with the trace context carried in the call's metadata by the
 * propagator of the given {@link OpenTelemetry} (W3C {@code traceparent} and {@code tracestate}
 * with the usual setup).
 *
 * <pre>{@code
 * CallTracer tracing = OpenTelemetryTracing.create(openTelemetry);
 * CourierServer server = CourierServer.builder().port(9000).tracing(tracing) ... .build();
 * CourierClient client = CourierClient.builder().address("127.0.0.1:9000").tracing(tracing)
 *     .build();
 * }</pre>
 *
 * <p>Attributes: {@code rpc.system} ({@code courier} on the Courier protocol, {@code grpc} on gRPC,
 * {@code courier_http} on HTTP/JSON), {@code rpc.service}, {@code rpc.method},
 * {@code server.address} and {@code server.port}, {@code network.peer.address} and
 * {@code network.peer.port} on the server, {@code rpc.grpc.status_code} on gRPC and
 * {@code rpc.courier.status_code} on the other protocols. A failed call sets the span's status to
 * {@code ERROR} (on the server only for the codes the conventions name: {@code UNKNOWN},
 * {@code DEADLINE_EXCEEDED}, {@code UNIMPLEMENTED}, {@code INTERNAL}, {@code UNAVAILABLE},
 * {@code DATA_LOSS}), with {@code error.type} the exception's class or the status code's name, and
 * records the exception. Thread-safe.
 */
public final class OpenTelemetryTracing implements CallTracer {

  /** The instrumentation scope's name. */
  public static final String INSTRUMENTATION_NAME = "io.courier";

  static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");
  static final AttributeKey<String> RPC_SERVICE = AttributeKey.stringKey("rpc.service");
  static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> PEER_ADDRESS =
      AttributeKey.stringKey("network.peer.address");
  static final AttributeKey<Long> PEER_PORT = AttributeKey.longKey("network.peer.port");
  static final AttributeKey<Long> GRPC_STATUS = AttributeKey.longKey("rpc.grpc.status_code");
  static final AttributeKey<Long> COURIER_STATUS =
      AttributeKey.longKey("rpc.courier.status_code");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private static final TextMapGetter<Function<String, String>> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Function<String, String> carrier) {
          return List.of(); // the W3C propagator asks for its keys by name
        }

        @Override
        public String get(Function<String, String> carrier, String key) {
          return carrier == null ? null : carrier.apply(key);
        }
      };

  private static final TextMapSetter<BiConsumer<String, String>> SETTER =
      (carrier, key, value) -> {
        if (carrier != null) {
          carrier.accept(key, value);
        }
      };

  private final Tracer tracer;
  private final TextMapPropagator propagator;

  private OpenTelemetryTracing(OpenTelemetry openTelemetry) {
    this.tracer = openTelemetry.getTracer(INSTRUMENTATION_NAME);
    this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
  }

  /**
   * Tracing through {@code openTelemetry}'s tracer provider and text-map propagator (set the
   * propagator to {@code W3CTraceContextPropagator.getInstance()} for {@code traceparent}).
   */
  public static OpenTelemetryTracing create(OpenTelemetry openTelemetry) {
    return new OpenTelemetryTracing(Objects.requireNonNull(openTelemetry, "openTelemetry"));
  }

  /** The value of {@code rpc.system} for a protocol. */
  static String system(Protocol protocol) {
    switch (protocol) {
      case GRPC:
        return "grpc";
      case HTTP_JSON:
        return "courier_http";
      default:
        return "courier";
    }
  }

  @Override
  public ServerSpan startServer(Protocol protocol, String service, String method,
      Function<String, String> requestMetadata, SocketAddress local, SocketAddress remote) {
    Context parent = propagator.extract(Context.root(), requestMetadata, GETTER);
    SpanBuilder b = tracer.spanBuilder(service + "/" + method)
        .setSpanKind(SpanKind.SERVER)
        .setParent(parent)
        .setAttribute(RPC_SYSTEM, system(protocol))
        .setAttribute(RPC_SERVICE, service)
        .setAttribute(RPC_METHOD, method);
    if (local instanceof InetSocketAddress l) {
      b.setAttribute(SERVER_ADDRESS, hostOf(l));
      b.setAttribute(SERVER_PORT, (long) l.getPort());
    }
    if (remote instanceof InetSocketAddress r) {
      if (r.getAddress() != null) {
        b.setAttribute(PEER_ADDRESS, r.getAddress().getHostAddress());
      }
      b.setAttribute(PEER_PORT, (long) r.getPort());
    }
    return new OtelSpan(b.startSpan(), protocol, true, parent);
  }

  @Override
  public ClientSpan startClient(Protocol protocol, String service, String method) {
    Context parent = Context.current();
    Span span = tracer.spanBuilder(service + "/" + method)
        .setSpanKind(SpanKind.CLIENT)
        .setParent(parent)
        .setAttribute(RPC_SYSTEM, system(protocol))
        .setAttribute(RPC_SERVICE, service)
        .setAttribute(RPC_METHOD, method)
        .startSpan();
    return new OtelSpan(span, protocol, false, parent);
  }

  private static String hostOf(InetSocketAddress a) {
    return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
  }

  /**
   * What {@code error.type} says: the class the remote method threw, the class of a local
   * exception, or the status code's name.
   */
  static String errorType(Status.Code code, Throwable error) {
    if (error instanceof RpcException r) {
      return r.remoteClassName() != null ? r.remoteClassName() : code.name();
    }
    return error != null ? error.getClass().getName() : code.name();
  }

  /** Whether a server span with this code is an error, as the RPC conventions say. */
  static boolean serverError(Status.Code code) {
    switch (code) {
      case UNKNOWN:
      case DEADLINE_EXCEEDED:
      case UNIMPLEMENTED:
      case INTERNAL:
      case UNAVAILABLE:
      case DATA_LOSS:
        return true;
      default:
        return false;
    }
  }

  /** One span, either side. */
  private final class OtelSpan implements ServerSpan, ClientSpan {
    private final Span span;
    private final Protocol protocol;
    private final boolean server;
    /** The span in the context it was started in. */
    private final Context context;
    private final AtomicBoolean ended = new AtomicBoolean();

    OtelSpan(Span span, Protocol protocol, boolean server, Context parent) {
      this.span = span;
      this.protocol = protocol;
      this.server = server;
      this.context = parent.with(span);
    }

    @Override
    public Scope makeCurrent() {
      io.opentelemetry.context.Scope s = context.makeCurrent();
      return s::close;
    }

    @Override
    public void server(String host, int port) {
      if (host != null) {
        span.setAttribute(SERVER_ADDRESS, host);
      }
      if (port > 0) {
        span.setAttribute(SERVER_PORT, (long) port);
      }
    }

    @Override
    public void inject(BiConsumer<String, String> metadata) {
      propagator.inject(context, metadata, SETTER);
    }

    @Override
    public void end(Status.Code code, Throwable error) {
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      Status.Code c = code == null ? Status.Code.UNKNOWN : code;
      span.setAttribute(protocol == Protocol.GRPC ? GRPC_STATUS : COURIER_STATUS,
          (long) c.value());
      if (error != null) {
        span.recordException(error);
      }
      if (c != Status.Code.OK && (!server || serverError(c))) {
        span.setAttribute(ERROR_TYPE, errorType(c, error));
        span.setStatus(StatusCode.ERROR, error != null && error.getMessage() != null
            ? error.getMessage() : c.name());
      }
      span.end();
    }
  }
}
