package io.courier.transport.netty;

import com.google.protobuf.Message;
import io.courier.CallContext;
import io.courier.Deadline;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.ServerCallInfo;
import io.courier.Status;
import io.courier.core.MethodDescriptor;
import io.courier.stream.CallStreamObserver;
import io.courier.stream.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gRPC call: the handler of one HTTP/2 stream's child channel. On the event loop it checks the
 * request headers, splits the DATA bytes into length-prefixed messages and writes the answer; the
 * method, and every callback of its streams, runs on the method's executor through a
 * {@link SerialExecutor} (or on the event loop for non-blocking methods), never two at once.
 *
 * <p>Fields without {@code volatile} are confined to the event loop.
 */
final class GrpcServerStream extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(GrpcServerStream.class);
  /** Request messages waiting for the method beyond which the stream stops being read. */
  private static final int MAX_QUEUED_MESSAGES = 8;
  /**
   * Response bytes on their way to the stream beyond which {@code isReady()} is false, so that a
   * producer waits for the event loop as well as for the peer's flow-control window.
   */
  private static final int READY_BYTES = 32 * 1024;
  /** Marks the end of the request stream in {@link #inbound}. */
  private static final Object END = new Object();

  private final ServerDispatcher dispatcher;
  private final GrpcServices services;
  private final int maxMessageBytes;

  private Channel channel;
  private EventLoop loop;
  private GrpcServices.GrpcMethod method;
  private ServerCallInfo info;
  private Deadline deadline;
  private SerialExecutor serial;
  private ResponseObserver responses;
  private volatile StreamObserver<Object> requests; // bidi: what the method returned

  private boolean started;
  private boolean remoteEnded;
  /** The frame being handled ends the request stream (so no RST_STREAM is needed). */
  private boolean endPending;
  private boolean headersSent;
  /** Our side is over: trailers or a reset were sent, or the stream went away. */
  private boolean finished;
  private boolean counted;
  private boolean gzipIn;
  private boolean acceptsGzip;
  private ScheduledFuture<?> deadlineTimer;

  // deframing
  private CompositeByteBuf cumulation;
  private int pendingLength = -1;
  private boolean pendingCompressed;
  // unary and server streaming: the single request
  private ByteBuf singleRequest;
  private boolean singleRequestCompressed;
  private int requestCount;
  // bidi: messages (ByteBuf with a flag) and END, waiting for demand
  private final ArrayDeque<Object> inbound = new ArrayDeque<>();
  private int demand;

  GrpcServerStream(ServerDispatcher dispatcher, GrpcServices services, int maxMessageBytes) {
    this.dispatcher = dispatcher;
    this.services = services;
    this.maxMessageBytes = maxMessageBytes;
  }

  private record Inbound(ByteBuf bytes, boolean compressed) {}

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    loop = channel.eventLoop();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof Http2HeadersFrame h) {
        endPending |= h.isEndStream();
        if (!started) {
          started = true;
          onRequestHeaders(h.headers());
        }
        if (h.isEndStream()) {
          onRemoteEnd();
        }
      } else if (msg instanceof Http2DataFrame d) {
        endPending |= d.isEndStream();
        if (!finished && started) {
          onData(d.content());
        }
        if (d.isEndStream()) {
          onRemoteEnd();
        }
      } else if (msg instanceof Http2ResetFrame r) {
        remoteEnded = true;
        onCancelled(Status.Code.CANCELLED, "the client cancelled the call (RST_STREAM "
            + r.errorCode() + ")", false);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  // ---------------------------------------------------------------- request headers

  private void onRequestHeaders(Http2Headers h) {
    CharSequence httpMethod = h.method();
    if (httpMethod == null || !"POST".contentEquals(httpMethod)) {
      reject("405", Status.Code.INTERNAL, "HTTP method " + httpMethod + " is not allowed"
          + " (expected: POST)");
      return;
    }
    CharSequence contentType = h.get("content-type");
    if (!GrpcWire.isGrpcContentType(contentType)) {
      reject("415", Status.Code.INTERNAL, contentType == null
          ? "content-type is missing (expected: application/grpc)"
          : "content-type '" + contentType + "' is not gRPC (expected: application/grpc)");
      return;
    }
    String path = h.path() == null ? "" : h.path().toString();
    method = services.get(path);
    if (method == null) {
      int slash = path.indexOf('/', 1);
      if (!path.startsWith("/") || slash < 0 || slash == path.length() - 1) {
        reject("200", Status.Code.UNIMPLEMENTED, "malformed method path '" + path
            + "' (expected: /package.Service/Method)");
      } else if (!services.hasService(path.substring(1, slash))) {
        reject("200", Status.Code.UNIMPLEMENTED, "unknown service "
            + path.substring(1, slash));
      } else {
        reject("200", Status.Code.UNIMPLEMENTED, "unknown method " + path.substring(slash + 1)
            + " in service " + path.substring(1, slash)
            + " (or it does not take and return protobuf messages)");
      }
      return;
    }
    CharSequence encoding = h.get("grpc-encoding");
    if (encoding != null && !GrpcWire.IDENTITY.contentEquals(encoding)) {
      if (!GrpcWire.GZIP.contentEquals(encoding)) {
        reject("200", Status.Code.UNIMPLEMENTED, "grpc-encoding '" + encoding
            + "' is not supported (expected: identity or gzip)");
        return;
      }
      gzipIn = true;
    }
    CharSequence accept = h.get("grpc-accept-encoding");
    if (accept != null) {
      for (String e : accept.toString().split(",")) {
        acceptsGzip |= e.trim().equals(GrpcWire.GZIP);
      }
    }
    long timeoutNanos = -1;
    CharSequence timeout = h.get("grpc-timeout");
    if (timeout != null) {
      timeoutNanos = GrpcWire.parseTimeoutNanos(timeout);
      if (timeoutNanos < 0) {
        reject("200", Status.Code.INTERNAL, "malformed grpc-timeout '" + timeout
            + "' (expected: 1 to 8 digits and a unit of H, M, S, m, u or n)");
        return;
      }
      long max = dispatcher.config.maxTimeoutMillis();
      if (max > 0) {
        timeoutNanos = Math.min(timeoutNanos, TimeUnit.MILLISECONDS.toNanos(max));
      }
    }
    if (dispatcher.draining) {
      reject("200", Status.Code.UNAVAILABLE, "the server is shutting down");
      return;
    }
    info = new ServerCallInfo(path.substring(1), GrpcWire.requestMetadata(h));
    Executor executor = method.method().executor();
    serial = new SerialExecutor(executor == null ? loop : executor);
    responses = new ResponseObserver();
    counted = true;
    dispatcher.inFlight.incrementAndGet();
    if (timeoutNanos >= 0) {
      timeoutNanos = Math.min(timeoutNanos, Long.MAX_VALUE / 4);
      deadline = Deadline.after(timeoutNanos, TimeUnit.NANOSECONDS);
      deadlineTimer = loop.schedule(this::onDeadline, timeoutNanos, TimeUnit.NANOSECONDS);
    }
    if (!method.singleRequest()) {
      submit(this::startStreamingRequests);
    }
  }

  /** Answers before any method runs: trailers-only with the HTTP status given. */
  private void reject(String httpStatus, Status.Code code, String description) {
    dispatcher.rejectedCalls.increment();
    log.debug("gRPC call on {} refused: {} {}", channel.parent().remoteAddress(), code,
        description);
    finish(httpStatus, code, description);
  }

  // ---------------------------------------------------------------- request messages

  private void onData(ByteBuf data) {
    if (method == null) {
      return;
    }
    if (cumulation == null) {
      cumulation = channel.alloc().compositeBuffer(Integer.MAX_VALUE);
    }
    cumulation.addComponent(true, data.retain());
    while (!finished) {
      if (pendingLength < 0) {
        if (cumulation.readableBytes() < GrpcWire.PREFIX_BYTES) {
          break;
        }
        int flags = cumulation.readUnsignedByte();
        long length = cumulation.readUnsignedInt();
        if ((flags & 0xFE) != 0) {
          failCall(Status.Code.INTERNAL, "malformed gRPC message: flags byte 0x"
              + Integer.toHexString(flags) + " (expected: 0 or 1)");
          return;
        }
        if (length > maxMessageBytes) {
          failCall(Status.Code.RESOURCE_EXHAUSTED, "gRPC message of " + length
              + " bytes exceeds the limit of " + maxMessageBytes + " bytes");
          return;
        }
        pendingLength = (int) length;
        pendingCompressed = flags == 1;
      }
      if (cumulation.readableBytes() < pendingLength) {
        break;
      }
      ByteBuf message = channel.alloc().buffer(pendingLength);
      cumulation.readBytes(message, pendingLength);
      pendingLength = -1;
      onMessage(message, pendingCompressed);
    }
    if (cumulation != null) {
      cumulation.discardReadComponents();
    }
  }

  private void onMessage(ByteBuf message, boolean compressed) {
    if (method.singleRequest()) {
      if (++requestCount > 1) {
        message.release();
        failCall(Status.Code.INTERNAL, "more than one request message for the unary or"
            + " server-streaming method " + info.methodName());
        return;
      }
      singleRequest = message;
      singleRequestCompressed = compressed;
    } else {
      inbound.add(new Inbound(message, compressed));
      if (inbound.size() >= MAX_QUEUED_MESSAGES) {
        channel.config().setAutoRead(false); // HTTP/2 flow control pushes back on the client
      }
      deliverInbound();
    }
  }

  private void onRemoteEnd() {
    if (remoteEnded) {
      return;
    }
    remoteEnded = true;
    if (finished || method == null) {
      return;
    }
    if (pendingLength >= 0 || cumulation != null && cumulation.isReadable()) {
      String where = pendingLength >= 0
          ? "inside a message (" + cumulation.readableBytes() + " of " + pendingLength
              + " bytes received)"
          : "inside a message's 5-byte prefix (" + cumulation.readableBytes() + " bytes)";
      failCall(Status.Code.INTERNAL, "the request stream ended " + where);
      return;
    }
    if (method.singleRequest()) {
      if (singleRequest == null) {
        failCall(Status.Code.INTERNAL, "the request stream ended without a message; "
            + info.methodName() + " takes one");
        return;
      }
      ByteBuf request = singleRequest;
      boolean compressed = singleRequestCompressed;
      singleRequest = null;
      if (!submit(() -> runSingleRequest(request, compressed))) {
        request.release();
      }
    } else {
      inbound.add(END);
      deliverInbound();
    }
  }

  /** Hands what the method asked for to it, in order. Event loop only. */
  private void deliverInbound() {
    while (!finished && !inbound.isEmpty()) {
      Object next = inbound.peek();
      if (next == END) {
        inbound.poll();
        submit(this::deliverEnd);
        return;
      }
      if (demand <= 0) {
        break;
      }
      inbound.poll();
      demand--;
      Inbound m = (Inbound) next;
      if (!submit(() -> deliverMessage(m))) {
        m.bytes.release();
      }
    }
    if (inbound.size() < MAX_QUEUED_MESSAGES / 2 && !channel.config().isAutoRead()) {
      channel.config().setAutoRead(true);
    }
  }

  /**
   * Hands a task to the call's executor; false, with the call failed, when the executor refuses
   * it (the task will never run: the caller releases what it holds).
   */
  private boolean submit(Runnable task) {
    try {
      serial.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      dispatcher.rejectedCalls.increment();
      failCall(Status.Code.RESOURCE_EXHAUSTED, "the server is overloaded: " + e.getMessage());
      return false;
    }
  }

  // ---------------------------------------------------------------- on the method's executor

  private Object parse(ByteBuf bytes, boolean compressed) throws IOException {
    try {
      if (!compressed) {
        if (bytes.nioBufferCount() == 1) {
          return method.parser().parseFrom(bytes.nioBuffer());
        }
        return method.parser().parseFrom(new ByteBufInputStream(bytes));
      }
      if (!gzipIn) {
        throw new GrpcWire.StatusException(Status.Code.INTERNAL, "a compressed gRPC message"
            + " arrived, but the call's grpc-encoding is identity");
      }
      byte[] plain;
      try (InputStream in = new GZIPInputStream(new ByteBufInputStream(bytes))) {
        plain = readAtMost(in, maxMessageBytes);
      }
      return method.parser().parseFrom(plain);
    } finally {
      bytes.release();
    }
  }

  private static byte[] readAtMost(InputStream in, int max) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] chunk = new byte[8192];
    int n;
    long total = 0;
    while ((n = in.read(chunk)) > 0) {
      total += n;
      if (total > max) {
        throw new GrpcWire.StatusException(Status.Code.RESOURCE_EXHAUSTED,
            "decompressed gRPC message exceeds the limit of " + max + " bytes");
      }
      out.write(chunk, 0, n);
    }
    return out.toByteArray();
  }

  private GrpcWire.StatusException decodeFailure(Throwable t) {
    if (t instanceof GrpcWire.StatusException s) {
      return s;
    }
    return new GrpcWire.StatusException(Status.Code.INVALID_ARGUMENT, "cannot decode the request"
        + " of " + info.methodName() + ": " + t.getMessage());
  }

  /** Unary and server streaming: decode the request, run the method. */
  private void runSingleRequest(ByteBuf bytes, boolean compressed) {
    if (responses.cancelled) {
      bytes.release();
      return;
    }
    Object request;
    try {
      request = parse(bytes, compressed);
    } catch (Throwable t) {
      GrpcWire.StatusException s = decodeFailure(t);
      responses.end(s.code, s.getMessage());
      return;
    }
    info.requestCompressed(compressed);
    MethodDescriptor.Kind kind = method.kind();
    Object result;
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info)) {
      if (kind == MethodDescriptor.Kind.SERVER_STREAMING) {
        method.method().invoke(new Object[] {request, responses});
        return;
      }
      result = method.method().invoke(new Object[] {request});
    } catch (Throwable t) {
      responses.onError(t);
      return;
    }
    if (kind == MethodDescriptor.Kind.ASYNC) {
      if (result == null) {
        responses.end(Status.Code.INTERNAL, method.method().displayName()
            + " returned null instead of a CompletableFuture");
        return;
      }
      ((CompletionStage<?>) result).whenComplete((v, t) -> {
        if (t != null) {
          responses.onError(t);
        } else {
          answerOne(v);
        }
      });
    } else {
      answerOne(result);
    }
  }

  private void answerOne(Object value) {
    if (value == null) {
      responses.end(Status.Code.INTERNAL, method.method().displayName()
          + " returned null instead of a message");
      return;
    }
    try {
      responses.onNext(value);
    } catch (RuntimeException e) {
      return; // cancelled meanwhile, or already answered with the failure
    }
    responses.onCompleted();
  }

  /** Bidi and client streaming: run the method for the request observer. */
  @SuppressWarnings("unchecked")
  private void startStreamingRequests() {
    if (responses.cancelled) {
      return;
    }
    Object result;
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info)) {
      result = method.method().invoke(new Object[] {responses});
    } catch (Throwable t) {
      responses.onError(t);
      return;
    }
    if (result == null) {
      responses.end(Status.Code.INTERNAL, method.method().displayName()
          + " returned null instead of a StreamObserver");
      return;
    }
    requests = (StreamObserver<Object>) result;
    if (responses.autoRequest) {
      responses.request(1);
    }
  }

  private void deliverMessage(Inbound m) {
    if (requests == null || responses.cancelled || responses.requestsDone) {
      m.bytes.release();
      return;
    }
    Object message;
    try {
      message = parse(m.bytes, m.compressed);
    } catch (Throwable t) {
      GrpcWire.StatusException s = decodeFailure(t);
      responses.requestsDone = true;
      responses.end(s.code, s.getMessage());
      return;
    }
    info.requestCompressed(m.compressed);
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info)) {
      requests.onNext(message);
    } catch (Throwable t) {
      responses.requestsDone = true;
      responses.onError(t);
      return;
    }
    if (responses.autoRequest) {
      responses.request(1);
    }
  }

  private void deliverEnd() {
    if (requests == null || responses.cancelled || responses.requestsDone) {
      return;
    }
    responses.requestsDone = true;
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info)) {
      requests.onCompleted();
    } catch (Throwable t) {
      responses.onError(t);
    }
  }

  /** After a cancel: tell the method (its cancel handler, then its request observer). */
  private void notifyCancelled(String why) {
    Runnable handler = responses.onCancel;
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info)) {
      if (handler != null) {
        handler.run();
      }
      if (requests != null && !responses.requestsDone) {
        responses.requestsDone = true;
        requests.onError(new RpcException(ErrorReason.CANCELLED, why));
      }
    } catch (Throwable t) {
      log.debug("cancel callback of {} failed", info.methodName(), t);
    }
  }

  // ---------------------------------------------------------------- ending the call

  /** Fails the call from the event loop: error trailers, then the method learns of the cancel. */
  private void failCall(Status.Code code, String description) {
    boolean known = info != null;
    finish("200", code, description);
    if (known) {
      markCancelled(description);
    }
  }

  private void onDeadline() {
    deadlineTimer = null;
    if (finished) {
      return;
    }
    String why = "deadline exceeded (" + info.methodName() + ")";
    finish("200", Status.Code.DEADLINE_EXCEEDED, why);
    markCancelled(why);
  }

  /** The stream ended without our trailers (RST_STREAM, connection gone). Event loop only. */
  private void onCancelled(Status.Code code, String why, boolean sendReset) {
    if (finished) {
      return;
    }
    finished = true;
    if (sendReset && channel.isActive()) {
      channel.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
    }
    cleanUp();
    if (info != null) {
      markCancelled(why);
    }
  }

  private void markCancelled(String why) {
    if (responses == null || responses.cancelled) {
      return;
    }
    responses.cancelled = true;
    try {
      serial.execute(() -> notifyCancelled(why));
    } catch (RejectedExecutionException e) {
      log.debug("cannot run the cancel callbacks of {}: {}", info.methodName(), e.toString());
    }
  }

  /**
   * Writes the trailers (as a trailers-only response when no headers went out yet) and ends our
   * side; a client still sending is then asked to stop with RST_STREAM(NO_ERROR). Event loop only.
   */
  private void finish(String httpStatus, Status.Code code, String description) {
    if (finished) {
      return;
    }
    finished = true;
    Http2Headers t = new DefaultHttp2Headers();
    if (!headersSent) {
      headersSent = true;
      t.status(httpStatus);
      t.set("content-type", GrpcWire.CONTENT_TYPE);
      t.set("grpc-accept-encoding", GrpcWire.GZIP);
      if (info != null) {
        GrpcWire.addMetadata(t, info.responseHeaders());
      }
    }
    t.set("grpc-status", Integer.toString(code.value()));
    if (description != null && !description.isEmpty()) {
      t.set("grpc-message", GrpcWire.percentEncode(description));
    }
    if (info != null) {
      GrpcWire.addMetadata(t, info.responseTrailers());
    }
    if (channel.isActive()) {
      channel.write(new DefaultHttp2HeadersFrame(t, true));
      if (!remoteEnded && !endPending) {
        channel.write(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
      }
      channel.flush();
    }
    cleanUp();
  }

  private void cleanUp() {
    if (deadlineTimer != null) {
      deadlineTimer.cancel(false);
      deadlineTimer = null;
    }
    if (cumulation != null) {
      cumulation.release();
      cumulation = null;
    }
    if (singleRequest != null) {
      singleRequest.release();
      singleRequest = null;
    }
    Object o;
    while ((o = inbound.poll()) != null) {
      if (o instanceof Inbound m) {
        m.bytes.release();
      }
    }
    if (counted) {
      counted = false;
      dispatcher.inFlight.decrementAndGet();
    }
  }

  private void writeMessage(ByteBuf framed) {
    int size = framed.readableBytes();
    long left = responses.unsentBytes.addAndGet(-size);
    if (finished || !channel.isActive()) {
      framed.release();
      return;
    }
    if (!headersSent) {
      headersSent = true;
      Http2Headers h = new DefaultHttp2Headers();
      h.status("200");
      h.set("content-type", GrpcWire.CONTENT_TYPE);
      if (acceptsGzip) {
        h.set("grpc-encoding", GrpcWire.GZIP);
      }
      h.set("grpc-accept-encoding", GrpcWire.GZIP);
      GrpcWire.addMetadata(h, info.responseHeaders());
      channel.write(new DefaultHttp2HeadersFrame(h, false));
    }
    channel.writeAndFlush(new DefaultHttp2DataFrame(framed, false));
    if (left < READY_BYTES && left + size >= READY_BYTES && channel.isWritable()) {
      fireOnReady(); // the producer waited for the queue, not for the peer
    }
  }

  /** Runs the on-ready handler on the call's executor. Event loop only. */
  private void fireOnReady() {
    Runnable handler = responses == null ? null : responses.onReady;
    if (handler != null && !finished) {
      submit(() -> {
        if (responses.isReady()) {
          handler.run();
        }
      });
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && responses != null
        && responses.unsentBytes.get() < READY_BYTES) {
      fireOnReady();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    onCancelled(Status.Code.CANCELLED, "the stream closed before the call ended", false);
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("gRPC stream failed: {}", cause.toString());
    onCancelled(Status.Code.INTERNAL, "the stream failed: " + cause, true);
    ctx.close();
  }

  // ---------------------------------------------------------------- the response observer

  /** The response stream handed to the method; any thread, one at a time. */
  private final class ResponseObserver implements CallStreamObserver<Object> {
    volatile boolean cancelled;
    volatile boolean autoRequest = true;
    volatile Runnable onReady;
    volatile Runnable onCancel;
    /** The request stream was completed, failed or abandoned (executor side). */
    volatile boolean requestsDone;
    private volatile boolean completed;
    /** Response bytes handed to the event loop and not yet written to the stream. */
    final AtomicLong unsentBytes = new AtomicLong();

    @Override
    public void onNext(Object value) {
      if (completed) {
        throw new IllegalStateException("onNext after the response stream ended");
      }
      if (cancelled) {
        if (onCancel == null) {
          throw new RpcException(ErrorReason.CANCELLED, "the call was cancelled; set an"
              + " onCancelHandler to drop messages silently instead");
        }
        return;
      }
      ByteBuf framed;
      try {
        framed = frame((Message) value);
      } catch (Throwable t) {
        end(Status.Code.INTERNAL, "cannot encode a response of " + info.methodName() + ": " + t);
        throw new RpcException(ErrorReason.BAD_RESULT, "cannot encode a response: " + t, t);
      }
      unsentBytes.addAndGet(framed.readableBytes());
      loop.execute(() -> writeMessage(framed));
    }

    private ByteBuf frame(Message m) throws IOException {
      boolean compress = acceptsGzip && info.compressResponses();
      int size = m.getSerializedSize();
      ByteBuf buf = channel.alloc().buffer(GrpcWire.PREFIX_BYTES + size);
      try {
        buf.writeByte(compress ? 1 : 0);
        buf.writeInt(0);
        try (OutputStream out = compress
            ? new GZIPOutputStream(new ByteBufOutputStream(buf)) : new ByteBufOutputStream(buf)) {
          m.writeTo(out);
        }
        buf.setInt(1, buf.readableBytes() - GrpcWire.PREFIX_BYTES);
        return buf;
      } catch (IOException | RuntimeException e) {
        buf.release();
        throw e;
      }
    }

    @Override
    public void onError(Throwable error) {
      GrpcWire.StatusException s = GrpcWire.statusOf(error);
      if (s.code == Status.Code.UNKNOWN) {
        log.debug("{} failed", info.methodName(), error);
      }
      end(s.code, s.getMessage());
    }

    @Override
    public void onCompleted() {
      end(Status.Code.OK, null);
    }

    void end(Status.Code code, String description) {
      completed = true;
      loop.execute(() -> {
        finish("200", code, description);
        if (code != Status.Code.OK && !requestsDone && requests != null) {
          markCancelled(description); // the request side cannot go on
        }
      });
    }

    @Override
    public boolean isReady() {
      return !cancelled && !completed && unsentBytes.get() < READY_BYTES
          && channel.isWritable();
    }

    @Override
    public void setOnReadyHandler(Runnable handler) {
      this.onReady = handler;
    }

    @Override
    public void disableAutoRequest() {
      autoRequest = false;
    }

    @Override
    public void request(int count) {
      if (count <= 0) {
        throw new IllegalArgumentException("count: " + count + " (expected: > 0)");
      }
      loop.execute(() -> {
        demand = (int) Math.min(Integer.MAX_VALUE, (long) demand + count);
        deliverInbound();
      });
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) {
      this.onCancel = handler;
    }

    @Override
    public void cancel(String message) {
      completed = true;
      loop.execute(() -> {
        finish("200", Status.Code.CANCELLED, message);
        markCancelled(message);
      });
    }
  }
}
