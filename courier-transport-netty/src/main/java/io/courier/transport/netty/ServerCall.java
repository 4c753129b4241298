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
import io.courier.spi.Compressor;
import io.courier.spi.Serializer;
import io.netty.buffer.ByteBuf;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * One accepted request on the server: decodes the arguments, runs the method under the caller's
 * deadline and hands the answer to the connection. Runs on the method's executor (or inline on the
 * event loop for non-blocking methods). Skips the work, and sends nothing, when the caller
 * cancelled or the deadline passed.
 */
final class ServerCall implements Runnable {

  private final ServerConnectionHandler connection;
  private final ServerMethod method;
  private final Serializer serializer;
  private final InboundFrame frame;
  final int requestId;
  private final boolean oneWay;
  private final boolean hasDeadline;
  private final long deadlineNanos;
  private final long arrivalNanos;
  private final boolean clamped;
  private long startNanos;
  volatile boolean cancelled;
  /** The authenticated caller, or null; set before the call is handed to its executor. */
  Identity identity;
  /** The call's span, or null when the server traces nothing; set before it is handed on. */
  CallTracer.ServerSpan span;
  /** Whether the call's time feeds the adaptive limit; event loop only. */
  boolean sampled = true;
  /** Told of the call's end; null when calls are not observed. Set before the call runs. */
  CallObserver.ServerMethodObserver observer;
  /** The request's size on the wire, for the observer. */
  final int bytesIn;
  /** The answer's status and failure reason (null for none), for the observer. */
  Status.Code code = Status.Code.OK;
  ErrorReason reason;

  /**
   * @param timeoutMillis the deadline the server enforces, from the frame's arrival; 0 for none
   * @param clamped whether that is the server's maximum, shorter than what the caller asked:
   *     then the caller still waits, and is told when the server's limit passes
   */
  ServerCall(ServerConnectionHandler connection, ServerMethod method, Serializer serializer,
      InboundFrame frame, long timeoutMillis, boolean clamped) {
    this.clamped = clamped;
    this.connection = connection;
    this.method = method;
    this.serializer = serializer;
    this.frame = frame;
    this.requestId = frame.requestId;
    this.oneWay = frame.has(Frame.FLAG_ONE_WAY);
    this.arrivalNanos = frame.arrivalNanos;
    this.hasDeadline = timeoutMillis > 0;
    this.deadlineNanos = arrivalNanos + timeoutMillis * 1_000_000L;
    this.bytesIn = Frame.HEADER_LENGTH + frame.metadata().readableBytes()
        + frame.body().readableBytes();
  }

  /** Reports the call's end to its observer, if any. Event loop, once. */
  void observed(int bytesOut) {
    CallObserver.ServerMethodObserver o = observer;
    if (o != null) {
      o.ended(connection.channel().remoteAddress(), code, reason, true,
          System.nanoTime() - arrivalNanos, bytesIn, bytesOut);
    }
  }

  /** Gives back the call's place under the overload limits, once it is answered. Event loop. */
  void released(Admission admission) {
    admission.release(method, arrivalNanos, sampled);
  }

  /** Whether at least half of the call's time had passed at {@code nanos}; false without one. */
  boolean pastHalfItsDeadline(long nanos) {
    return hasDeadline && nanos - arrivalNanos >= (deadlineNanos - arrivalNanos) / 2;
  }

  private boolean expired() {
    return hasDeadline && System.nanoTime() - deadlineNanos >= 0;
  }

  @Override
  public void run() {
    startNanos = System.nanoTime();
    if (cancelled || expired()) {
      frame.release();
      finishExpired();
      return;
    }
    Object[] args;
    try (InputStream in = Bodies.open(frame.body(), frame.compressorId,
        connection.config().limits().maxBodyBytes())) {
      args = serializer.readArguments(method.parameterTypes(), in);
    } catch (Throwable t) {
      RpcException e = Bodies.readFailure(t, ErrorReason.BAD_ARGUMENTS,
          "cannot decode the arguments of " + method.displayName());
      respondError(e.reason(), e.status().description(), null, null);
      return;
    } finally {
      frame.release();
    }
    String mismatch = method.checkArguments(args);
    if (mismatch != null) {
      respondError(ErrorReason.BAD_ARGUMENTS, mismatch, null, null);
      return;
    }
    Object result;
    CallTracer.Scope traced = span == null ? null : span.makeCurrent();
    try (CallContext.Scope ignored =
            CallContext.replaceDeadline(hasDeadline ? Deadline.atNanoTime(deadlineNanos) : null);
        CallContext.Scope caller = CallContext.enterIdentity(identity)) {
      result = method.invoke(args);
    } catch (Throwable t) {
      respondThrowable(t);
      return;
    } finally {
      if (traced != null) {
        traced.close();
      }
    }
    if (method.descriptor().kind() == MethodDescriptor.Kind.ASYNC) {
      if (result == null) {
        respondError(ErrorReason.BAD_RESULT,
            method.displayName() + " returned null instead of a CompletableFuture", null, null);
        return;
      }
      ((CompletionStage<?>) result).whenComplete((v, t) -> {
        if (t != null) {
          respondThrowable(t);
        } else {
          respondValue(v);
        }
      });
    } else {
      respondValue(result);
    }
  }

  private void respondValue(Object value) {
    if (oneWay || cancelled || expired()) {
      finishExpired(); // no answer: one-way, or nobody waits for it any more
      return;
    }
    ByteBuf buf = FrameCodec.start(connection.alloc(), 128, Frame.FLAG_RESPONSE,
        frame.serializerId, 0, 0, requestId, 0, 0);
    try {
      Compressor c = frame.compressorId == 0 ? null : Compressors.byId(frame.compressorId);
      int used = Bodies.write(buf, out -> serializer.writeValue(value,
          method.descriptor().resultType(), out), c,
          connection.config().compressionThresholdBytes());
      if (buf.readableBytes() - Frame.HEADER_LENGTH > connection.config().limits().maxBodyBytes()) {
        buf.release();
        buf = null;
        respondError(ErrorReason.PAYLOAD_TOO_LARGE, "the result of " + method.displayName()
            + " exceeds the frame limit of " + connection.config().limits().maxBodyBytes()
            + " bytes", null, null);
        return;
      }
      buf.setByte(Frame.OFF_COMPRESSOR, used);
      stampTimes(buf);
      FrameCodec.finish(buf, 0, 0);
      traceEnd(Status.Code.OK, null);
      connection.callDone(this, buf);
      buf = null;
    } catch (Throwable t) {
      if (buf != null) {
        buf.release();
        buf = null;
      }
      respondError(ErrorReason.BAD_RESULT, "cannot encode the result of " + method.displayName()
          + ": " + t, null, null);
    }
  }

  /**
   * Ends a call that will not be answered normally: silently when the caller's own deadline
   * passed (it has given up), with DEADLINE_EXCEEDED when only the server's clamp did.
   */
  private void finishExpired() {
    if (oneWay && !cancelled && !expired()) {
      traceEnd(Status.Code.OK, null); // ran, and needs no answer
    }
    // a caller that cancels at its deadline has the same deadline as this call: say which passed
    traceEnd(cancelled && !expired() ? Status.Code.CANCELLED : Status.Code.DEADLINE_EXCEEDED,
        null);
    // a one-way call that ran to its end is OK; any other call ends here unanswered
    code = cancelled ? Status.Code.CANCELLED
        : expired() || !oneWay ? Status.Code.DEADLINE_EXCEEDED
        : Status.Code.OK;
    if (clamped && !oneWay && !cancelled) {
      respondError(ErrorReason.DEADLINE_EXCEEDED, method.displayName()
          + " exceeded the server's maximum timeout", null, null);
    } else {
      connection.callDone(this, null);
    }
  }

  private void stampTimes(ByteBuf buf) {
    long now = System.nanoTime();
    long start = startNanos == 0 ? now : startNanos;
    buf.setInt(Frame.OFF_WORD_A, (int) Math.min(Integer.MAX_VALUE, (start - arrivalNanos) / 1000));
    buf.setInt(Frame.OFF_WORD_B, (int) Math.min(Integer.MAX_VALUE, (now - start) / 1000));
  }

  private void respondThrowable(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    String stack = null;
    if (connection.config().sendRemoteStack()) {
      StringWriter sw = new StringWriter();
      t.printStackTrace(new PrintWriter(sw));
      stack = sw.toString();
    }
    traceEnd(t instanceof RpcException r0 ? r0.status().code()
        : ErrorReason.APPLICATION_ERROR.code(), t);
    if (t instanceof RpcException r) {
      // the exception's own status: a method may throw PERMISSION_DENIED, NOT_FOUND and the like
      respondError(r.status().code(), r.reason(), r.status().description(), r.remoteClassName(),
          stack);
    } else {
      respondError(ErrorReason.APPLICATION_ERROR, t.getMessage(), t.getClass().getName(), stack);
    }
  }

  /** Sends an error answer (none for one-way calls). Callable before or after the method ran. */
  void respondError(ErrorReason reason, String description, String remoteClass, String stack) {
    respondError(reason.code(), reason, description, remoteClass, stack);
  }

  /** Sends an error answer with a status of its own (none for one-way calls). */
  void respondError(Status.Code code, ErrorReason reason, String description, String remoteClass,
      String stack) {
    traceEnd(code, null);
    this.code = cancelled ? Status.Code.CANCELLED : code;
    this.reason = reason;
    if (oneWay || cancelled) {
      connection.callDone(this, null);
      return;
    }
    ByteBuf buf = FrameCodec.start(connection.alloc(), 128, Frame.FLAG_RESPONSE, 0, 0,
        code.value(), requestId, 0, 0);
    ErrorBody.write(buf, reason, description, remoteClass, stack);
    stampTimes(buf);
    FrameCodec.finish(buf, 0, 0);
    connection.callDone(this, buf);
  }

  /** Ends the call's span, if it has one and it is still open. */
  private void traceEnd(Status.Code code, Throwable error) {
    CallTracer.ServerSpan s = span;
    if (s != null) {
      s.end(code, error);
    }
  }
}
