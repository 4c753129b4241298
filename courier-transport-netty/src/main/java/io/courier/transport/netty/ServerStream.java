package io.courier.transport.netty;

import io.courier.CallContext;
import io.courier.Deadline;
import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.auth.Identity;
import io.courier.core.MethodDescriptor;
import io.courier.observe.CallObserver;
import io.courier.internal.codec.Bodies;
import io.courier.internal.codec.Compressors;
import io.courier.internal.protocol.ErrorBody;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.server.ServerMethod;
import io.courier.spi.CallTracer;
import io.courier.spi.Serializer;
import io.courier.stream.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Type;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A streaming call on the server. It is the response observer handed to the method; the method
 * and every callback of the call (the request observer's, the ready and cancel handlers) run on
 * the method's executor, one at a time. The call ends when the method ends the response stream
 * (the END frame carries the status), when the client cancels, when the deadline passes (the
 * client is sent CANCEL with DEADLINE_EXCEEDED), or when the connection closes.
 */
final class ServerStream extends StreamCall {

  private final ServerStreams streams;
  private final ServerMethod method;
  private final Serializer serializer;
  private final Channel channel;
  private final boolean sendStack;
  private final boolean hasDeadline;
  private final long deadlineNanos;
  private InboundFrame open;
  private ScheduledFuture<?> timer;
  private boolean countReleased;
  /** The authenticated caller, or null; set before {@link #start()}. */
  Identity identity;
  /** The stream's span, or null when the server traces nothing; set before it starts. */
  CallTracer.ServerSpan span;
  /** Told of the stream's end; null when calls are not observed. Set before {@link #start()}. */
  CallObserver.ServerMethodObserver observer;
  private final long arrivalNanos;

  ServerStream(ServerStreams streams, Channel channel, ServerConfig config, ServerMethod method,
      Serializer serializer, InboundFrame open, long timeoutMillis) {
    super(method.displayName(), serializer, open.serializerId,
        method.descriptor().resultType(), method.descriptor().requestType(),
        open.compressorId == 0 ? null : Compressors.byId(open.compressorId),
        config.compressionThresholdBytes(), config.limits().maxBodyBytes(),
        method.executor() == null ? channel.eventLoop() : method.executor());
    this.streams = streams;
    this.method = method;
    this.serializer = serializer;
    this.channel = channel;
    this.sendStack = config.sendRemoteStack();
    this.open = open;
    this.requestId = open.requestId;
    this.hasDeadline = timeoutMillis > 0;
    this.deadlineNanos = open.arrivalNanos + timeoutMillis * 1_000_000L;
    this.arrivalNanos = open.arrivalNanos;
  }

  /** Starts the call: arms the deadline and runs the method on its executor. Event loop. */
  void start() {
    if (method.descriptor().kind() == MethodDescriptor.Kind.SERVER_STREAMING) {
      noInbound(); // the opening frame carried the one request
    }
    if (hasDeadline) {
      synchronized (this) {
        timer = channel.eventLoop().schedule(() -> abort(new RpcException(
            ErrorReason.DEADLINE_EXCEEDED, "deadline exceeded during the stream of "
                + displayName), true), deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
      }
    }
    callbacks.execute(this::invoke);
  }

  private void invoke() {
    InboundFrame f = open;
    open = null;
    if (isCancelled()) {
      f.release();
      return;
    }
    try (CallContext.Scope ignored =
            CallContext.replaceDeadline(hasDeadline ? Deadline.atNanoTime(deadlineNanos) : null);
        CallContext.Scope caller = CallContext.enterIdentity(identity);
        CallTracer.Scope traced = enterSpan()) {
      if (method.descriptor().kind() == MethodDescriptor.Kind.SERVER_STREAMING) {
        Object[] decoded;
        try (InputStream in = Bodies.open(f.body(), f.compressorId, maxFrameBytes)) {
          decoded = serializerReadRequest(in);
        } catch (Throwable t) {
          failCall(Bodies.readFailure(t, ErrorReason.BAD_ARGUMENTS,
              "cannot decode the request of " + displayName));
          return;
        } finally {
          f.release();
        }
        Object[] args = {decoded[0], this};
        String mismatch = method.checkArguments(args);
        if (mismatch != null) {
          failCall(new RpcException(ErrorReason.BAD_ARGUMENTS, mismatch));
          return;
        }
        method.invoke(args);
      } else {
        f.release();
        Object requests = method.invoke(new Object[] {this});
        if (!(requests instanceof StreamObserver<?>)) {
          failCall(new RpcException(ErrorReason.BAD_RESULT, displayName
              + " returned null instead of a StreamObserver for the request stream"));
          return;
        }
        @SuppressWarnings("unchecked")
        StreamObserver<Object> target = (StreamObserver<Object>) requests;
        target(target);
        grant(WINDOW);
      }
    } catch (Throwable t) {
      failCall(statusOf(t));
    }
  }

  /** Reads the single request of a server-streaming call. */
  private Object[] serializerReadRequest(InputStream in) throws java.io.IOException {
    return serializer.readArguments(new Type[] {method.descriptor().requestType()}, in);
  }

  /** Ends the call with an error status, unless the method already ended it. */
  private void failCall(RpcException e) {
    if (!outboundEnded()) {
      try {
        end(e);
      } catch (IllegalStateException ignored) {
        // ended meanwhile from another thread
      }
    }
  }

  @Override
  public void onError(Throwable error) {
    end(statusOf(error));
  }

  /** The status a throwable ends the call with, as unary calls report it. */
  private RpcException statusOf(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    String stack = null;
    if (sendStack) {
      StringWriter sw = new StringWriter();
      t.printStackTrace(new PrintWriter(sw));
      stack = sw.toString();
    }
    if (t instanceof RpcException r) {
      return new RpcException(r.status(), r.reason(), r.remoteClassName(), stack, null, 0, null,
          null);
    }
    ErrorReason reason = ErrorReason.APPLICATION_ERROR;
    return new RpcException(reason.code().toStatus().withDescription(t.getMessage()), reason,
        t.getClass().getName(), stack, null, 0, null, null);
  }

  @Override
  void ended(RpcException error) {
    CallTracer.ServerSpan s = span;
    if (s != null) {
      s.end(error == null ? Status.Code.OK : error.status().code(), error);
    }
  }

  @Override
  CallTracer.Scope enterSpan() {
    CallTracer.ServerSpan s = span;
    return s == null ? null : s.makeCurrent();
  }

  @Override
  int direction() {
    return Frame.FLAG_RESPONSE;
  }

  @Override
  ByteBufAllocator alloc() {
    return channel.alloc();
  }

  @Override
  void enqueue(ByteBuf frame, Runnable afterWrite) {
    streams.write(new StreamWrite(this, frame, afterWrite));
  }

  @Override
  boolean writable() {
    return channel.isWritable();
  }

  @Override
  ByteBuf cancelFrame(RpcException why) {
    ByteBuf buf = FrameCodec.start(channel.alloc(), 128,
        Frame.FLAG_RESPONSE | Frame.FLAG_STREAM | Frame.FLAG_CANCEL, 0, 0,
        why.status().code().value(), requestId, 0, 0);
    ErrorBody.write(buf, why.reason(), why.status().description(), why.remoteClassName(), null);
    FrameCodec.finish(buf, 0, 0);
    return buf;
  }

  @Override
  Runnable afterLastFrame() {
    return this::releaseCount;
  }

  @Override
  void onClosed(boolean endQueued) {
    if (timer != null) {
      timer.cancel(false);
    }
    streams.remove(this);
    if (!endQueued) {
      releaseCount();
    }
    CallObserver.ServerMethodObserver o = observer;
    if (o != null) {
      observer = null;
      RpcException e = closedWith();
      o.ended(channel.remoteAddress(), e == null ? Status.Code.OK : e.status().code(),
          e == null ? null : e.reason(), true, System.nanoTime() - arrivalNanos, 0, 0);
    }
  }

  private synchronized void releaseCount() {
    if (!countReleased) {
      countReleased = true;
      streams.released(method);
    }
  }

  @Override
  ErrorReason encodeFailure() {
    return ErrorReason.BAD_RESULT;
  }

  @Override
  ErrorReason decodeFailure() {
    return ErrorReason.BAD_ARGUMENTS;
  }

  @Override
  RpcException observerFailed(Throwable t) {
    return statusOf(t);
  }
}
