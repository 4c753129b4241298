package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.auth.Identity;
import io.courier.internal.server.ServerMethod;
import io.courier.observe.CallObserver;
import io.courier.spi.CallTracer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves HTTP/1.1 JSON calls on one connection: {@code POST /<service>/<method>} with a JSON
 * array of arguments (or an object of named arguments) is answered with the result as a bare
 * JSON value, an error with <code>{"code": ..., "reason": ..., "message": ...}</code> and the HTTP
 * status of its {@link io.courier.Status.Code}. The method runs through {@link JsonInvoker}, on
 * its executor, under the same allow-list as typed calls.
 *
 * <p>One request is served at a time per connection, so that answers keep the order of
 * pipelined requests; up to {@value #MAX_WAITING} further requests wait, and a connection that
 * sends more is closed.
 *
 * <p>Not sharable; all state is confined to the channel's event loop.
 */
final class HttpCallHandler extends ChannelInboundHandlerAdapter {

  /** The request header carrying the call's timeout, in decimal milliseconds. */
  static final String TIMEOUT_HEADER = "courier-timeout-ms";

  private static final Logger log = LoggerFactory.getLogger(HttpCallHandler.class);
  private static final int MAX_WAITING = 16;
  private static final String REFLECTION = "courier.Reflection";

  private final ServerDispatcher dispatcher;
  /** Requests (and {@link Oversized} marks) that wait for the one being served. */
  private final ArrayDeque<Object> waiting = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private Exchange current;

  HttpCallHandler(ServerDispatcher dispatcher) {
    this.dispatcher = dispatcher;
  }

  /** One request and its answer. Fields other than {@code abandoned} are event-loop only. */
  private static final class Exchange {
    final HttpVersion version;
    final boolean keepAlive;
    boolean answered;
    boolean counted;
    /** The {@code WWW-Authenticate} challenge of a 401 answer. */
    String challenge;
    /** The method the call was admitted for under the overload limits, until it is released. */
    ServerMethod admitted;
    long admittedNanos;
    boolean sampled = true;
    ScheduledFuture<?> timer;
    volatile boolean abandoned;
    /** Told of the call's end once its method is known; null when calls are not observed. */
    CallObserver.ServerMethodObserver observer;
    boolean observerStarted;
    long arrivalNanos;
    long bytesIn;
    /** The RPC status and reason of a failure, when known better than from the HTTP status. */
    io.courier.Status.Code code;
    ErrorReason reason;

    Exchange(HttpVersion version, boolean keepAlive) {
      this.version = version;
      this.keepAlive = keepAlive;
    }
  }

  /**
   * A request whose body is above the limit; its body is dropped as it arrives. Answered 413 in
   * its turn.
   */
  record Oversized(HttpVersion version, boolean keepAlive, int maxBytes) {}

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest) && !(msg instanceof Oversized)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (current != null) {
      if (waiting.size() >= MAX_WAITING) {
        ReferenceCountUtil.release(msg);
        log.debug("closing {}: more than {} pipelined HTTP requests", ctx.channel().remoteAddress(),
            MAX_WAITING);
        ctx.close();
        return;
      }
      waiting.add(msg);
      return;
    }
    serve(msg);
  }

  private void serve(Object msg) {
    if (msg instanceof Oversized o) {
      Exchange x = new Exchange(o.version(), o.keepAlive());
      current = x;
      respond(x, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, json("RESOURCE_EXHAUSTED",
          "PAYLOAD_TOO_LARGE", "request body above the server's limit of " + o.maxBytes()
              + " bytes (maxFrameBytes)", null), null);
      return;
    }
    FullHttpRequest req = (FullHttpRequest) msg;
    Exchange x = new Exchange(req.protocolVersion(), HttpUtil.isKeepAlive(req));
    current = x;
    if (dispatcher.observers != null) {
      x.arrivalNanos = System.nanoTime();
      x.bytesIn = req.content().readableBytes();
    }
    boolean handedOff = false;
    try {
      handedOff = route(x, req);
    } catch (RpcException e) {
      respondError(x, e);
    } catch (RuntimeException e) {
      log.warn("[COURIER-S02] unexpected error serving HTTP {} {}", req.method(), req.uri(), e);
      dispatcher.internalError(e);
      respond(x, HttpResponseStatus.INTERNAL_SERVER_ERROR, json("INTERNAL", "PROTOCOL_ERROR",
          "unexpected server error: " + e, null), null);
    } finally {
      if (!handedOff) {
        req.release();
      }
    }
  }

  /** Returns true when the request's body was handed to a call (which releases it). */
  private boolean route(Exchange x, FullHttpRequest req) {
    if (req.decoderResult().isFailure()) {
      Throwable cause = req.decoderResult().cause();
      HttpResponseStatus status = cause instanceof TooLongHttpLineException
          ? HttpResponseStatus.REQUEST_URI_TOO_LONG
          : cause instanceof TooLongHttpHeaderException
              ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
              : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
                  : HttpResponseStatus.BAD_REQUEST;
      respondClose(x, status, json("INVALID_ARGUMENT", "PROTOCOL_ERROR",
          "malformed HTTP request: " + cause.getMessage(), null));
      return false;
    }
    String path;
    try {
      path = new QueryStringDecoder(req.uri()).path();
    } catch (IllegalArgumentException e) { // a '%' not followed by two hex digits
      respond(x, HttpResponseStatus.BAD_REQUEST, json("INVALID_ARGUMENT", "PROTOCOL_ERROR",
          "malformed percent-encoding in the request path (expected: % and two hex digits)",
          null), null);
      return false;
    }
    HttpMethod verb = req.method();
    if (path.equals("/")) {
      if (verb.equals(HttpMethod.GET) || verb.equals(HttpMethod.HEAD)) {
        // listing the services is describing them: the rule of courier.Reflection/services
        Map<String, List<ServerMethod>> reflection = dispatcher.index.service(REFLECTION);
        if (reflection != null && refused(x, req, reflection.get("services").get(0))) {
          return false;
        }
        respond(x, HttpResponseStatus.OK, listing(), null);
      } else {
        respond(x, HttpResponseStatus.METHOD_NOT_ALLOWED, json("UNIMPLEMENTED", "UNKNOWN_METHOD",
            verb + " / is not served (expected: GET or HEAD, which list the services)", null),
            "GET, HEAD");
      }
      return false;
    }
    int slash = path.indexOf('/', 1);
    if (slash <= 1 || slash == path.length() - 1 || path.indexOf('/', slash + 1) >= 0) {
      respond(x, HttpResponseStatus.NOT_FOUND, json("NOT_FOUND", "UNKNOWN_METHOD",
          "no route " + path + " (expected: POST /<service>/<method>; GET / lists the services)",
          null), null);
      return false;
    }
    String service = path.substring(1, slash);
    String method = path.substring(slash + 1);
    Map<String, List<ServerMethod>> methods = dispatcher.index.service(service);
    if (methods == null || !methods.containsKey(method)) {
      try {
        dispatcher.index.resolve(service, method, -1); // throws, naming what exists
      } catch (RpcException e) {
        respond(x, HttpResponseStatus.NOT_FOUND, json("NOT_FOUND", e.reason().name(),
            e.status().description(), null), null);
        return false;
      }
    }
    ServerObservers observers = dispatcher.observers;
    if (observers != null) {
      x.observer = observers.http(methods.get(method).get(0));
    }
    if (!verb.equals(HttpMethod.POST)) {
      respond(x, HttpResponseStatus.METHOD_NOT_ALLOWED, json("UNIMPLEMENTED", "UNKNOWN_METHOD",
          verb + " " + path + " is not served (expected: POST)", null), "POST");
      return false;
    }
    if (dispatcher.draining) {
      respondClose(x, HttpResponseStatus.SERVICE_UNAVAILABLE, json("UNAVAILABLE",
          "SHUTTING_DOWN", "server is shutting down; retry on another provider", null));
      return false;
    }
    Identity identity = authenticate(x, req, methods.get(method).get(0));
    if (x.answered) {
      return false;
    }
    String type = contentTypeProblem(req.headers().get(HttpHeaderNames.CONTENT_TYPE));
    if (type != null) {
      respond(x, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, json("INVALID_ARGUMENT",
          "BAD_ARGUMENTS", type, null), null);
      return false;
    }
    long timeoutMillis = timeoutMillis(req.headers().get(TIMEOUT_HEADER));
    JsonShape shape = JsonShape.of(req.content());
    if (shape.kind() == JsonShape.Kind.OTHER) {
      throw new RpcException(ErrorReason.BAD_ARGUMENTS, "invalid JSON body (expected: a JSON"
          + " array of arguments, or an object of named arguments)");
    }
    ServerMethod m = dispatcher.index.resolve(service, method, shape.count());
    if (m.descriptor().kind().isStreaming()) {
      respond(x, HttpResponseStatus.NOT_IMPLEMENTED, json("UNIMPLEMENTED", "UNKNOWN_METHOD",
          m.displayName() + " is a streaming method; HTTP/JSON serves unary and one-way"
              + " methods only", null), null);
      return false;
    }
    long max = dispatcher.config.maxTimeoutMillis();
    if (max > 0 && (timeoutMillis == 0 || timeoutMillis > max)) {
      timeoutMillis = max;
    }
    long deadlineNanos = timeoutMillis == 0 ? 0
        : Math.max(1, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
    String shed = dispatcher.admission.admit(m);
    if (shed != null) {
      dispatcher.rejectedCalls.increment();
      respondError(x, new RpcException(ErrorReason.OVERLOADED, shed));
      return false;
    }
    x.admitted = m;
    x.admittedNanos = System.nanoTime();
    dispatcher.inFlight.incrementAndGet();
    x.counted = true;
    if (x.observer != null) {
      x.observerStarted = true;
      x.observer.started();
    }
    if (timeoutMillis > 0) {
      long ms = timeoutMillis;
      x.timer = ctx.executor().schedule(() -> {
        x.abandoned = true;
        respondError(x, new RpcException(ErrorReason.DEADLINE_EXCEEDED, m.displayName()
            + " did not finish within its timeout of " + ms + " ms"));
      }, ms, TimeUnit.MILLISECONDS);
    }
    // the request's body (and with it the request: they share one reference count) is the
    // invoker's to release from here on
    CallTracer tracer = dispatcher.tracer;
    CallTracer.ServerSpan span = tracer == null ? null : tracer.startServer(
        CallTracer.Protocol.HTTP_JSON, m.descriptor().serviceName(),
        m.descriptor().name(), key -> req.headers().get(key), ctx.channel().localAddress(),
        ctx.channel().remoteAddress());
    JsonInvoker.run(m, req.content(), shape.kind() == JsonShape.Kind.OBJECT,
        deadlineNanos, () -> x.abandoned, identity, span).whenComplete((result, failure) -> {
          if (span != null) {
            span.end(failure == null ? io.courier.Status.Code.OK
                : JsonInvoker.failure(failure).status().code(), failure);
          }
          if (ctx.executor().inEventLoop()) {
            outcome(x, result, failure);
          } else {
            ctx.executor().execute(() -> outcome(x, result, failure));
          }
        });
    return true;
  }

  /**
   * Authenticates the request for {@code m} (any overload: they share their rule); answers 401
   * or 403 when refused. Returns the identity (null without an authenticator, or for a public
   * method called without credentials).
   */
  private Identity authenticate(Exchange x, FullHttpRequest req, ServerMethod m) {
    AccessControl access = dispatcher.access;
    if (access == null) {
      return null;
    }
    try {
      return access.check(m, new AccessControl.Request("http", m,
          key -> req.headers().get(key), ctx.channel()));
    } catch (AccessControl.Refused r) {
      respondRefused(x, r);
      return null;
    }
  }

  /** Applies {@code m}'s access rule to the request; true when it was refused (and answered). */
  private boolean refused(Exchange x, FullHttpRequest req, ServerMethod m) {
    authenticate(x, req, m);
    return x.answered;
  }

  private void respondRefused(Exchange x, AccessControl.Refused r) {
    x.code = r.reason.code();
    x.reason = r.reason;
    boolean unauthenticated = r.reason == ErrorReason.UNAUTHENTICATED;
    if (unauthenticated) {
      x.challenge = r.credentialsPresented ? "Bearer error=\"invalid_token\"" : "Bearer";
    }
    respond(x, unauthenticated ? HttpResponseStatus.UNAUTHORIZED : HttpResponseStatus.FORBIDDEN,
        json(r.reason.code().name(), r.reason.name(), r.getMessage(), null), null);
  }

  /**
   * The method ended (or, one-way, was accepted): its place under the overload limits is given
   * back here, not when an answer is sent, since a 504 or a closed connection leave it running.
   */
  private void outcome(Exchange x, byte[] result, Throwable failure) {
    RpcException e = failure == null ? null : JsonInvoker.failure(failure);
    if (e != null && e.reason() == ErrorReason.OVERLOADED) {
      x.sampled = false; // refused by the executor: it ran no time
    }
    release(x);
    if (e != null) {
      respondError(x, e);
    } else if (result == null) {
      respond(x, HttpResponseStatus.ACCEPTED, null, null); // one-way: accepted, runs on
    } else {
      respond(x, HttpResponseStatus.OK, result, null);
    }
  }

  /** Null when the content type is JSON, else what is wrong with it. */
  static String contentTypeProblem(String contentType) {
    if (contentType == null) {
      return "missing content-type (expected: application/json)";
    }
    String[] parts = contentType.split(";");
    if (!parts[0].trim().equalsIgnoreCase("application/json")) {
      return "content-type: " + contentType + " (expected: application/json)";
    }
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim().toLowerCase(Locale.ROOT);
      if (p.startsWith("charset=")) {
        String cs = p.substring(8).replace("\"", "");
        if (!cs.equals("utf-8") && !cs.equals("utf8")) {
          return "content-type: " + contentType + " (expected: charset utf-8)";
        }
      }
    }
    return null;
  }

  /** The timeout a request asks for, in milliseconds; 0 for none. */
  static long timeoutMillis(String header) {
    if (header == null) {
      return 0;
    }
    long ms;
    try {
      ms = Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      ms = -1;
    }
    if (ms <= 0) {
      throw new RpcException(ErrorReason.BAD_ARGUMENTS, TIMEOUT_HEADER + ": " + header
          + " (expected: a positive number of milliseconds)");
    }
    return ms;
  }

  /** The HTTP status a call's failure is answered with. */
  static HttpResponseStatus httpStatus(RpcException e) {
    return switch (e.status().code()) {
      case OK -> HttpResponseStatus.OK;
      case INVALID_ARGUMENT -> HttpResponseStatus.BAD_REQUEST;
      case UNAUTHENTICATED -> HttpResponseStatus.UNAUTHORIZED;
      case PERMISSION_DENIED -> HttpResponseStatus.FORBIDDEN;
      case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
      case DEADLINE_EXCEEDED -> HttpResponseStatus.GATEWAY_TIMEOUT;
      case UNIMPLEMENTED -> HttpResponseStatus.NOT_IMPLEMENTED;
      case RESOURCE_EXHAUSTED -> HttpResponseStatus.TOO_MANY_REQUESTS;
      case UNAVAILABLE -> HttpResponseStatus.SERVICE_UNAVAILABLE;
      default -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
    };
  }

  /** The RPC status an answer without an {@link RpcException} stands for. */
  static io.courier.Status.Code codeOf(HttpResponseStatus status) {
    return switch (status.code()) {
      case 200, 202 -> io.courier.Status.Code.OK;
      case 400, 415 -> io.courier.Status.Code.INVALID_ARGUMENT;
      case 401 -> io.courier.Status.Code.UNAUTHENTICATED;
      case 403 -> io.courier.Status.Code.PERMISSION_DENIED;
      case 404 -> io.courier.Status.Code.NOT_FOUND;
      case 405, 501 -> io.courier.Status.Code.UNIMPLEMENTED;
      case 413, 429 -> io.courier.Status.Code.RESOURCE_EXHAUSTED;
      case 503 -> io.courier.Status.Code.UNAVAILABLE;
      case 504 -> io.courier.Status.Code.DEADLINE_EXCEEDED;
      default -> io.courier.Status.Code.INTERNAL;
    };
  }

  private void respondError(Exchange x, RpcException e) {
    if (!x.answered) {
      x.code = e.status().code();
      x.reason = e.reason();
    }
    if (e.status().code() == io.courier.Status.Code.UNAUTHENTICATED && x.challenge == null) {
      x.challenge = "Bearer"; // a 401 always names a scheme (RFC 9110)
    }
    respond(x, httpStatus(e), json(e.status().code().name(), e.reason().name(),
        e.status().description(), e.reason() == ErrorReason.APPLICATION_ERROR
            ? e.remoteClassName() : null), null);
  }

  /** Gives back an admitted call's place under the overload limits, once. */
  private void release(Exchange x) {
    if (x.admitted != null) {
      dispatcher.admission.release(x.admitted, x.admittedNanos, x.sampled);
      x.admitted = null;
    }
  }

  private void respondClose(Exchange x, HttpResponseStatus status, byte[] body) {
    respond(x, status, body, null, false);
  }

  private void respond(Exchange x, HttpResponseStatus status, byte[] body, String allow) {
    respond(x, status, body, allow, true);
  }

  private void respond(Exchange x, HttpResponseStatus status, byte[] body, String allow,
      boolean mayKeepAlive) {
    if (x.answered) {
      return;
    }
    x.answered = true;
    if (x.timer != null) {
      x.timer.cancel(false);
    }
    CallObserver.ServerMethodObserver o = x.observer;
    if (o != null) {
      o.ended(ctx.channel().remoteAddress(), x.code != null ? x.code : codeOf(status), x.reason,
          x.observerStarted, System.nanoTime() - x.arrivalNanos, x.bytesIn,
          body == null ? 0 : body.length);
    }
    boolean keepAlive = mayKeepAlive && x.keepAlive && !dispatcher.draining;
    FullHttpResponse r = response(x.version, status, body, keepAlive);
    if (allow != null) {
      r.headers().set(HttpHeaderNames.ALLOW, allow);
    }
    if (x.challenge != null) {
      r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, x.challenge);
    }
    ChannelFuture written = ctx.writeAndFlush(r);
    if (x.counted) {
      x.counted = false;
      written.addListener(f -> dispatcher.inFlight.decrementAndGet());
    }
    current = null;
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
      releaseWaiting();
      return;
    }
    Object next = waiting.poll();
    if (next != null) {
      serve(next);
    }
  }

  private static FullHttpResponse response(HttpVersion version, HttpResponseStatus status,
      byte[] body, boolean keepAlive) {
    ByteBuf content = body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body);
    FullHttpResponse r = new DefaultFullHttpResponse(version, status, content);
    if (body != null) {
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
    }
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    if (!keepAlive) {
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (version.equals(HttpVersion.HTTP_1_0)) {
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    return r;
  }

  /**
   * <code>{"code": ..., "reason": ..., "message": ...[, "exception": ...]}</code>; the reason is
   * left out when it adds nothing to the code.
   */
  static byte[] json(String code, String reason, String message, String exception) {
    StringBuilder sb = new StringBuilder(96).append("{\"code\":");
    quote(sb, code);
    if (!reason.equals(ErrorReason.UNKNOWN_REASON.name())) {
      quote(sb.append(",\"reason\":"), reason);
    }
    quote(sb.append(",\"message\":"), message);
    if (exception != null) {
      quote(sb.append(",\"exception\":"), exception);
    }
    return sb.append("}\n").toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Appends {@code s} as a JSON string ({@code null} for null). */
  static StringBuilder quote(StringBuilder sb, String s) {
    if (s == null) {
      return sb.append("null");
    }
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"');
  }

  /**
   * <code>{"services": {"name": ["method(type name, ...) -> result", ...], ...}}</code>: what
   * {@code GET /} answers.
   */
  private byte[] listing() {
    StringBuilder sb = new StringBuilder(256).append("{\"services\":{");
    boolean firstService = true;
    for (Map.Entry<String, Map<String, List<ServerMethod>>> s
        : dispatcher.index.services().entrySet()) {
      if (!firstService) {
        sb.append(',');
      }
      firstService = false;
      quote(sb, s.getKey()).append(":[");
      boolean firstMethod = true;
      for (List<ServerMethod> overloads : s.getValue().values()) {
        for (ServerMethod m : overloads) {
          if (!firstMethod) {
            sb.append(',');
          }
          firstMethod = false;
          quote(sb, describe(m));
        }
      }
      sb.append(']');
    }
    return sb.append("}}\n").toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String describe(ServerMethod m) {
    StringBuilder sb = new StringBuilder(m.descriptor().name()).append('(');
    java.lang.reflect.Type[] types = m.parameterTypes();
    String[] names = m.parameterNames();
    for (int i = 0; i < types.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(types[i].getTypeName()).append(' ').append(names[i]);
    }
    sb.append(") -> ").append(m.descriptor().resultType().getTypeName());
    if (m.descriptor().kind() != io.courier.core.MethodDescriptor.Kind.SYNC) {
      sb.append(" [").append(m.descriptor().kind()).append(']');
    }
    return sb.toString();
  }

  private void releaseWaiting() {
    Object r;
    while ((r = waiting.poll()) != null) {
      ReferenceCountUtil.release(r);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      if (current == null) {
        ctx.close(); // idle keep-alive connection; one waiting for a call is not idle
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    Exchange x = current;
    if (x != null) {
      x.abandoned = true;
      x.answered = true;
      if (x.timer != null) {
        x.timer.cancel(false);
      }
      if (x.observer != null) {
        x.observer.ended(ctx.channel().remoteAddress(), io.courier.Status.Code.CANCELLED,
            ErrorReason.CONNECTION_CLOSED, x.observerStarted, System.nanoTime() - x.arrivalNanos,
            x.bytesIn, 0);
        x.observer = null;
      }
      if (x.counted) {
        x.counted = false;
        dispatcher.inFlight.decrementAndGet();
      }
      current = null;
    }
    releaseWaiting();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // a peer that closes part way through a request body (the aggregator says so) is the
    // network's doing, like a reset connection: nothing to answer, nothing unexpected
    if (cause instanceof IOException || cause instanceof PrematureChannelClosureException) {
      log.debug("HTTP connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    } else {
      log.warn("[COURIER-S03] unexpected error on HTTP connection {}",
          ctx.channel().remoteAddress(), cause);
      dispatcher.internalError(cause);
    }
    ctx.close();
  }
}
