package io.courier.transport.netty;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import io.courier.CallContext;
import io.courier.Deadline;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.ServerCallInfo;
import io.courier.Status;
import io.courier.auth.Identity;
import io.courier.core.MethodDescriptor;
import io.courier.observe.CallObserver;
import io.courier.spi.CallTracer;
import io.courier.stream.CallStreamObserver;
import io.courier.stream.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
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
 * One gRPC call on one HTTP/2 stream, kept by {@link GrpcServerHandler} as a property of the
 * stream. On the event loop it checks the request headers, splits the DATA bytes into
 * length-prefixed messages and writes the answer through the connection's encoder; the
 * method, and every callback of its streams, runs on the method's executor through a
 * {@link SerialExecutor} (or on the event loop for non-blocking methods), never two at once.
 *
 * <p>Fields without {@code volatile} are confined to the event loop.
 */
final class GrpcServerCall {

  private static final Logger log = LoggerFactory.getLogger(GrpcServerCall.class);
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
  /** The connection's event-loop work from other threads, flushed once per batch. */
  private final GrpcWriteBatch batch;

  private final GrpcServerHandler conn;
  private final Http2Stream stream;
  private final EventLoop loop;
  /** The stream's flow-control window and the connection can take more bytes. */
  private volatile boolean writable;
  /** Too many request messages wait: DATA bytes are not returned to the flow-control window. */
  private boolean paused;
  private int unconsumedBytes;
  private GrpcServices.GrpcMethod method;
  private ServerCallInfo info;
  /** The call's span, or null when the server traces nothing. */
  private CallTracer.ServerSpan span;
  /** What the method failed with, for the span. */
  private volatile Throwable spanError;
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
  /** When the call was admitted under the overload limits, and whether its time is a sample. */
  private long admittedNanos;
  private boolean sampled = true;
  private boolean gzipIn;
  private boolean acceptsGzip;
  private ScheduledFuture<?> deadlineTimer;
  /** Told of the call's end; null when calls are not observed. Event loop only, as below. */
  private CallObserver.ServerMethodObserver observer;
  private boolean observerStarted;
  private ErrorReason observedReason;
  private long arrivalNanos;
  private long bytesIn;
  private long bytesOut;

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

  GrpcServerCall(GrpcServerHandler conn, Http2Stream stream, ServerDispatcher dispatcher,
      GrpcServices services, int maxMessageBytes, GrpcWriteBatch batch) {
    this.conn = conn;
    this.stream = stream;
    this.loop = conn.eventLoop();
    this.dispatcher = dispatcher;
    this.services = services;
    this.maxMessageBytes = maxMessageBytes;
    this.batch = batch;
    this.writable = conn.isWritable(stream);
  }

  private record Inbound(ByteBuf bytes, boolean compressed) {}

  /** A HEADERS frame of the stream. Event loop only. */
  void onHeaders(Http2Headers headers, boolean endStream) {
    endPending |= endStream;
    if (!started) {
      started = true;
      onRequestHeaders(headers);
    }
    if (endStream) {
      onRemoteEnd();
    }
  }

  /**
   * A DATA frame of the stream (not kept: what is needed is retained). Returns the bytes to hand
   * back to the flow-control window now; the rest is handed back when the method catches up.
   * Event loop only.
   */
  int onDataFrame(ByteBuf data, int padding, boolean endStream) {
    int bytes = data.readableBytes() + padding;
    endPending |= endStream;
    if (observer != null) {
      bytesIn += bytes;
    }
    if (!finished && started) {
      onData(data);
    }
    if (endStream) {
      onRemoteEnd();
    }
    if (paused && !finished) {
      unconsumedBytes += bytes;
      return 0;
    }
    return bytes;
  }

  /** The client reset the stream. Event loop only. */
  void onReset(long errorCode) {
    remoteEnded = true;
    onCancelled(Status.Code.CANCELLED, "the client cancelled the call (RST_STREAM " + errorCode
        + ")", false);
  }

  /** The stream is closed (both sides ended, reset, or the connection is gone). Event loop only. */
  void onStreamClosed() {
    onCancelled(Status.Code.CANCELLED, "the stream closed before the call ended", false);
  }

  /** The stream's writability changed. Event loop only. */
  void onWritabilityChanged(boolean nowWritable) {
    writable = nowWritable;
    if (nowWritable && responses != null && responses.unsentBytes.get() < READY_BYTES) {
      fireOnReady();
    }
  }

  // ---------------------------------------------------------------- request headers

  private void onRequestHeaders(Http2Headers h) {
    if (dispatcher.observers != null) {
      arrivalNanos = System.nanoTime();
    }
    CharSequence httpMethod = h.method();
    if (httpMethod == null || !"POST".contentEquals(httpMethod)) {
      reject("405", Status.Code.INTERNAL, "HTTP method " + httpMethod + " is not allowed"
          + " (expected: POST)");
      return;
    }
    CharSequence contentType = h.get(GrpcWire.CONTENT_TYPE_HEADER);
    if (!GrpcWire.isGrpcContentType(contentType)) {
      reject("415", Status.Code.INTERNAL, contentType == null
          ? "content-type is missing (expected: application/grpc)"
          : "content-type '" + contentType + "' is not gRPC (expected: application/grpc)");
      return;
    }
    CharSequence rawPath = h.path();
    method = rawPath == null ? null : services.get(rawPath);
    if (method == null) {
      String path = rawPath == null ? "" : rawPath.toString();
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
    ServerObservers observers = dispatcher.observers;
    if (observers != null) {
      observer = observers.grpc(method.method());
    }
    CharSequence encoding = h.get(GrpcWire.ENCODING_HEADER);
    if (encoding != null && !GrpcWire.IDENTITY.contentEquals(encoding)) {
      if (!GrpcWire.GZIP.contentEquals(encoding)) {
        reject("200", Status.Code.UNIMPLEMENTED, "grpc-encoding '" + encoding
            + "' is not supported (expected: identity or gzip)");
        return;
      }
      gzipIn = true;
    }
    CharSequence accept = h.get(GrpcWire.ACCEPT_ENCODING_HEADER);
    acceptsGzip = accept != null && GrpcWire.acceptsGzip(accept);
    long timeoutNanos = -1;
    CharSequence timeout = h.get(GrpcWire.TIMEOUT_HEADER);
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
    Identity identity = null;
    AccessControl access = dispatcher.access;
    if (access != null) {
      try {
        identity = access.check(method.method(), new AccessControl.Request("grpc",
            method.method(), key -> {
              CharSequence v = h.get(key);
              return v == null ? null : v.toString();
            }, conn.channel()));
      } catch (AccessControl.Refused r) {
        observedReason = r.reason;
        reject("200", r.reason.code(), r.getMessage());
        return;
      }
    }
    String shed = dispatcher.admission.admit(method.method());
    if (shed != null) {
      observedReason = ErrorReason.OVERLOADED;
      reject("200", Status.Code.RESOURCE_EXHAUSTED, shed);
      return;
    }
    admittedNanos = System.nanoTime();
    // the metadata is built only if the method asks for it: the decoded headers stay as they are
    info = new ServerCallInfo(method.fullName(), () -> GrpcWire.requestMetadata(h));
    if (identity != null) {
      info.identity(identity);
    }
    CallTracer tracer = dispatcher.tracer;
    if (tracer != null) {
      String name = method.fullName();
      int slash = name.lastIndexOf('/');
      span = tracer.startServer(CallTracer.Protocol.GRPC, name.substring(0, slash),
          name.substring(slash + 1), key -> {
            CharSequence v = h.get(key);
            return v == null ? null : v.toString();
          }, conn.channel().localAddress(), conn.channel().remoteAddress());
    }
    Executor executor = method.method().executor();
    serial = new SerialExecutor(executor == null ? loop : executor);
    responses = new ResponseObserver();
    counted = true;
    dispatcher.inFlight.incrementAndGet();
    if (observer != null) {
      observerStarted = true;
      observer.started();
    }
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
    log.debug("gRPC call on {} refused: {} {}", conn.remoteAddress(), code,
        description);
    finish(httpStatus, code, description);
  }

  // ---------------------------------------------------------------- request messages

  /**
   * Splits DATA bytes into messages. A message that lies whole in one frame is passed on as a
   * slice of it (no copy); only bytes of a message split across frames are gathered.
   */
  private void onData(ByteBuf data) {
    if (method == null) {
      return;
    }
    ByteBuf in;
    if (cumulation != null && cumulation.isReadable()) {
      cumulation.addComponent(true, data.retain());
      in = cumulation;
    } else {
      in = data;
    }
    while (!finished) {
      if (pendingLength < 0) {
        if (in.readableBytes() < GrpcWire.PREFIX_BYTES) {
          break;
        }
        int flags = in.readUnsignedByte();
        long length = in.readUnsignedInt();
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
      if (in.readableBytes() < pendingLength) {
        break;
      }
      ByteBuf message;
      if (in == data) {
        message = data.readRetainedSlice(pendingLength);
      } else { // copied: discarding read components would move what a slice sees
        message = conn.alloc().buffer(pendingLength);
        in.readBytes(message, pendingLength);
      }
      pendingLength = -1;
      onMessage(message, pendingCompressed);
    }
    if (finished) {
      return; // cleanUp released the cumulation
    }
    if (in == data) {
      if (data.isReadable()) {
        if (cumulation == null) {
          cumulation = conn.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        cumulation.addComponent(true, data.retain()); // only its unread bytes
      }
    } else {
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
        paused = true; // HTTP/2 flow control pushes back on the client
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
      // no cumulation when the stream ended right after a prefix that came whole in one frame
      int held = cumulation == null ? 0 : cumulation.readableBytes();
      String where = pendingLength >= 0
          ? "inside a message (" + held + " of " + pendingLength + " bytes received)"
          : "inside a message's 5-byte prefix (" + held + " bytes)";
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
    if (paused && inbound.size() < MAX_QUEUED_MESSAGES / 2) {
      paused = false;
      if (unconsumedBytes > 0 && !finished) {
        int n = unconsumedBytes;
        unconsumedBytes = 0;
        conn.consumeBytes(stream, n); // flushed with the read or the write batch
      }
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
      sampled = false;
      observedReason = ErrorReason.OVERLOADED;
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
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info);
        CallTracer.Scope traced = span == null ? null : span.makeCurrent()) {
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
      responses.onOnly(value);
    } catch (RuntimeException e) {
      // cancelled meanwhile, or already answered with the failure
    }
  }

  /** Bidi and client streaming: run the method for the request observer. */
  @SuppressWarnings("unchecked")
  private void startStreamingRequests() {
    if (responses.cancelled) {
      return;
    }
    Object result;
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info);
        CallTracer.Scope traced = span == null ? null : span.makeCurrent()) {
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
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info);
        CallTracer.Scope traced = span == null ? null : span.makeCurrent()) {
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
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info);
        CallTracer.Scope traced = span == null ? null : span.makeCurrent()) {
      requests.onCompleted();
    } catch (Throwable t) {
      responses.onError(t);
    }
  }

  /** After a cancel: tell the method (its cancel handler, then its request observer). */
  private void notifyCancelled(String why) {
    Runnable handler = responses.onCancel;
    try (CallContext.Scope ignored = CallContext.enterCall(deadline, info);
        CallTracer.Scope traced = span == null ? null : span.makeCurrent()) {
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
    traceEnd(code);
    observeEnd(code);
    if (sendReset && conn.isActive()) {
      conn.reset(stream, Http2Error.CANCEL);
      conn.flushNow();
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
    finish(httpStatus, code, description, true);
  }

  /** {@link #finish(String, Status.Code, String)}, leaving the flush to the caller if asked. */
  private void finish(String httpStatus, Status.Code code, String description, boolean flush) {
    if (finished) {
      return;
    }
    finished = true;
    traceEnd(code);
    observeEnd(code);
    boolean plainOk = headersSent && code == Status.Code.OK
        && (description == null || description.isEmpty())
        && (info == null || info.responseTrailers().isEmpty());
    Http2Headers t = plainOk ? GrpcWire.OK_TRAILERS : new DefaultHttp2Headers();
    if (!headersSent) {
      headersSent = true;
      t.status(httpStatus);
      t.set(GrpcWire.CONTENT_TYPE_HEADER, GrpcWire.CONTENT_TYPE);
      t.set(GrpcWire.ACCEPT_ENCODING_HEADER, GrpcWire.GZIP);
      if (info != null) {
        GrpcWire.addMetadata(t, info.responseHeaders());
      }
    }
    if (!plainOk) {
      t.set(GrpcWire.STATUS_HEADER, Integer.toString(code.value()));
      if (description != null && !description.isEmpty()) {
        t.set(GrpcWire.MESSAGE_HEADER, GrpcWire.percentEncode(description));
      }
      if (info != null) {
        GrpcWire.addMetadata(t, info.responseTrailers());
      }
    }
    if (conn.isActive()) {
      boolean reset = !remoteEnded && !endPending;
      conn.writeHeaders(stream, t, true);
      if (reset) {
        conn.reset(stream, Http2Error.NO_ERROR);
      }
      if (flush) {
        conn.flushNow();
      }
    }
    cleanUp();
  }

  /** Ends the call's span, if it has one. */
  private void traceEnd(Status.Code code) {
    if (span != null) {
      span.end(code, code == Status.Code.OK ? null : spanError);
    }
  }

  /** Reports the call's end to its observer, if any: once, from where {@code finished} is set. */
  private void observeEnd(Status.Code code) {
    CallObserver.ServerMethodObserver o = observer;
    if (o != null) {
      observer = null;
      o.ended(conn.remoteAddress(), code, observedReason, observerStarted,
          System.nanoTime() - arrivalNanos, bytesIn, bytesOut);
    }
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
      dispatcher.admission.release(method.method(), admittedNanos, sampled);
      dispatcher.inFlight.decrementAndGet();
    }
  }

  /**
   * Writes one framed response message (headers first if none went out), without flushing: the
   * write batch flushes. Event loop only.
   */
  private void writeMessage(ByteBuf framed) {
    int size = framed.readableBytes();
    bytesOut += size;
    long left = responses.unsentBytes.addAndGet(-size);
    if (finished || !conn.isActive()) {
      framed.release();
      return;
    }
    if (!headersSent) {
      headersSent = true;
      Http2Headers h;
      if (info.responseHeaders().isEmpty()) {
        h = acceptsGzip ? GrpcWire.RESPONSE_HEADERS_GZIP : GrpcWire.RESPONSE_HEADERS;
      } else {
        h = new DefaultHttp2Headers();
        h.status(GrpcWire.HTTP_OK);
        h.set(GrpcWire.CONTENT_TYPE_HEADER, GrpcWire.CONTENT_TYPE);
        if (acceptsGzip) {
          h.set(GrpcWire.ENCODING_HEADER, GrpcWire.GZIP);
        }
        h.set(GrpcWire.ACCEPT_ENCODING_HEADER, GrpcWire.GZIP);
        GrpcWire.addMetadata(h, info.responseHeaders());
      }
      conn.writeHeaders(stream, h, false);
    }
    conn.writeData(stream, framed);
    if (left < READY_BYTES && left + size >= READY_BYTES && writable) {
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
      ByteBuf framed = encode(value);
      if (framed != null) {
        batch.execute(() -> writeMessage(framed));
      }
    }

    /**
     * A unary call's answer: the message and the OK trailers written and flushed in one turn of
     * the event loop. Same contract as {@code onNext} then {@code onCompleted}.
     */
    void onOnly(Object value) {
      ByteBuf framed = encode(value);
      if (framed == null) {
        onCompleted();
        return;
      }
      completed = true;
      batch.execute(() -> {
        writeMessage(framed);
        finish("200", Status.Code.OK, null, false);
      });
    }

    /** The framed message to send, or null to drop it (cancelled, with an onCancel handler). */
    private ByteBuf encode(Object value) {
      if (completed) {
        throw new IllegalStateException("onNext after the response stream ended");
      }
      if (cancelled) {
        if (onCancel == null) {
          throw new RpcException(ErrorReason.CANCELLED, "the call was cancelled; set an"
              + " onCancelHandler to drop messages silently instead");
        }
        return null;
      }
      ByteBuf framed;
      try {
        framed = frame((Message) value);
      } catch (Throwable t) {
        end(Status.Code.INTERNAL, "cannot encode a response of " + info.methodName() + ": " + t);
        throw new RpcException(ErrorReason.BAD_RESULT, "cannot encode a response: " + t, t);
      }
      unsentBytes.addAndGet(framed.readableBytes());
      return framed;
    }

    private ByteBuf frame(Message m) throws IOException {
      boolean compress = acceptsGzip && info.compressResponses();
      int size = m.getSerializedSize();
      ByteBuf buf = conn.alloc().buffer(GrpcWire.PREFIX_BYTES + size);
      try {
        if (compress) {
          buf.writeByte(1);
          buf.writeInt(0);
          try (OutputStream out = new GZIPOutputStream(new ByteBufOutputStream(buf))) {
            m.writeTo(out);
          }
          buf.setInt(1, buf.readableBytes() - GrpcWire.PREFIX_BYTES);
          return buf;
        }
        buf.writeByte(0);
        buf.writeInt(size);
        // straight into the buffer, no intermediate array
        int at = buf.writerIndex();
        buf.ensureWritable(size);
        CodedOutputStream out = buf.nioBufferCount() == 1
            ? CodedOutputStream.newInstance(buf.internalNioBuffer(at, size))
            : null;
        if (out == null) {
          m.writeTo(new ByteBufOutputStream(buf));
        } else {
          m.writeTo(out);
          out.checkNoSpaceLeft();
          buf.writerIndex(at + size);
        }
        return buf;
      } catch (IOException | RuntimeException e) {
        buf.release();
        throw e;
      }
    }

    @Override
    public void onError(Throwable error) {
      GrpcWire.StatusException s = GrpcWire.statusOf(error);
      spanError = error;
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
      batch.execute(() -> {
        finish("200", code, description, false);
        if (code != Status.Code.OK && !requestsDone && requests != null) {
          markCancelled(description); // the request side cannot go on
        }
      });
    }

    @Override
    public boolean isReady() {
      return !cancelled && !completed && unsentBytes.get() < READY_BYTES
          && writable;
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
      batch.execute(() -> {
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
      batch.execute(() -> {
        finish("200", Status.Code.CANCELLED, message, false);
        markCancelled(message);
      });
    }
  }
}
