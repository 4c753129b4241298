package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.internal.codec.Bodies;
import io.courier.internal.protocol.ErrorBody;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.InboundFrame;
import io.courier.spi.CallTracer;
import io.courier.spi.Compressor;
import io.courier.spi.Serializer;
import io.courier.stream.CallStreamObserver;
import io.courier.stream.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * One end of a streaming call, the part both sides share. It is the outbound observer handed to
 * the application (messages are encoded on the calling thread and written while the peer's grant
 * lasts; beyond it they wait in memory and {@link #isReady()} is false), and it feeds inbound
 * messages to the application's observer on a {@link SerialExecutor}, decoding each as it is
 * delivered and granting the peer one more message per delivered one (in batches of half the
 * window). Received but undelivered messages are bounded by the window: the peer may never send
 * beyond what was granted, and a message that does is a protocol error that cancels the call.
 *
 * <p>Thread-safe: the state is guarded by {@code this}; frames arrive on the event loop, the
 * application calls in from any thread, callbacks run on the serial executor. Frames are handed
 * to the connection's write queue while the lock is held, so they leave in order.
 */
abstract class StreamCall implements CallStreamObserver<Object> {

  /** The window each receiver grants; credit is returned in batches of half of it. */
  static final int WINDOW = Frame.INITIAL_STREAM_WINDOW;

  final String displayName;
  private final Serializer serializer;
  final int serializerId;
  private final Type outType;
  private final Type inType;
  private final Compressor compressor;
  private final int compressionThreshold;
  final int maxFrameBytes;
  final SerialExecutor callbacks;
  volatile int requestId;

  // outbound, guarded by this
  private int credit;
  private final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
  private ByteBuf endFrame;
  private boolean outClosed;
  private boolean closed;
  private boolean aborted;
  private volatile boolean cancelled;
  private Runnable readyHandler;
  private Runnable cancelHandler;

  // inbound, guarded by this
  private final ArrayDeque<InboundFrame> inbound = new ArrayDeque<>();
  private StreamObserver<Object> target;
  private int granted;
  private int unreturned;
  private boolean autoRequest = true;
  private int demand;
  private boolean inEnded;
  private RpcException inError;
  /** The error status the outbound direction was ended with, if any (for observers). */
  private RpcException endError;
  private boolean targetClosed;

  StreamCall(String displayName, Serializer serializer, int serializerId, Type outType,
      Type inType, Compressor compressor, int compressionThreshold, int maxFrameBytes,
      Executor executor) {
    this.displayName = displayName;
    this.serializer = serializer;
    this.serializerId = serializerId;
    this.outType = outType;
    this.inType = inType;
    this.compressor = compressor;
    this.compressionThreshold = compressionThreshold;
    this.maxFrameBytes = maxFrameBytes;
    this.callbacks = new SerialExecutor(executor, () -> abort(new RpcException(
        ErrorReason.OVERLOADED, "the executor of " + displayName + " refused its callbacks"),
        true));
  }

  // ---- what each side supplies

  /** {@link Frame#FLAG_RESPONSE} on the server, 0 on the client. */
  abstract int direction();

  abstract ByteBufAllocator alloc();

  /** Hands a frame to the connection; called with the lock held. */
  abstract void enqueue(ByteBuf frame, Runnable afterWrite);

  /** Whether the connection takes writes now. */
  abstract boolean writable();

  /** The frame telling the peer the call is cancelled, or null when there is none to send. */
  abstract ByteBuf cancelFrame(RpcException why);

  /** The call is over on the wire (ended or cancelled); called once, with the lock held. */
  abstract void onClosed(boolean endQueued);

  /** Runs once the server's END has been written (or dropped with the connection). */
  Runnable afterLastFrame() {
    return null;
  }

  /** What a message that cannot be encoded reports. */
  abstract ErrorReason encodeFailure();

  /** What a message that cannot be decoded reports. */
  abstract ErrorReason decodeFailure();

  /** The inbound observer threw; the call ends with the error returned. */
  abstract RpcException observerFailed(Throwable t);

  // ---- outbound: the application sends

  @Override
  public void onNext(Object value) {
    synchronized (this) {
      if (closed) {
        return; // cancelled or over: the producer learns it from isCancelled or the handler
      }
      if (outClosed) {
        throw new IllegalStateException("onNext after onCompleted or onError on the stream of "
            + displayName);
      }
    }
    ByteBuf buf;
    try {
      buf = encode(value);
    } catch (RpcException e) {
      abort(e, true);
      throw e;
    }
    synchronized (this) {
      if (closed) {
        buf.release();
      } else if (credit > 0 && waiting.isEmpty()) {
        credit--;
        enqueue(buf, null);
      } else {
        waiting.add(buf);
      }
    }
  }

  @Override
  public void onCompleted() {
    end(null);
  }

  /**
   * The call ended with {@code error} (null: OK): ends its span, if it is traced. Only the first
   * call counts.
   */
  void ended(RpcException error) {}

  /** Makes the call's span current for a callback; null when it is not traced. */
  CallTracer.Scope enterSpan() {
    return null;
  }

  /** Ends the outbound direction, normally or (server only) with an error status. */
  final void end(RpcException error) {
    synchronized (this) {
      if (closed) {
        return;
      }
      if (outClosed) {
        throw new IllegalStateException("the stream of " + displayName + " was already ended");
      }
      outClosed = true;
      if (direction() != 0) {
        ended(error); // the server's END ends the call
      }
      endError = error;
      ByteBuf end = endFrame(error);
      if (waiting.isEmpty()) {
        queueEnd(end);
      } else {
        endFrame = end; // after the messages still waiting for the peer's grant
      }
    }
  }

  /**
   * How the call ended: null when normally, else the error it was ended or aborted with. For
   * {@link #onClosed}, which runs with the lock held.
   */
  final synchronized RpcException closedWith() {
    return aborted ? inError : endError;
  }

  /** Whether the application already ended the outbound direction. */
  final synchronized boolean outboundEnded() {
    return outClosed;
  }

  private void queueEnd(ByteBuf end) {
    boolean last = direction() != 0; // the server's END is the call's last frame
    enqueue(end, last ? afterLastFrame() : null);
    if (last) {
      closed = true;
      releaseInbound();
      targetClosed = true;
      onClosed(true);
    }
  }

  private ByteBuf endFrame(RpcException error) {
    ByteBuf buf = FrameCodec.start(alloc(), error == null ? Frame.HEADER_LENGTH : 128,
        direction() | Frame.FLAG_STREAM, 0, 0,
        error == null ? 0 : error.status().code().value(), requestId, Frame.STREAM_END, 0);
    if (error != null) {
      ErrorBody.write(buf, error.reason(), error.status().description(), error.remoteClassName(),
          error.remoteStack());
    }
    FrameCodec.finish(buf, 0, 0);
    return buf;
  }

  ByteBuf windowFrame(int n) {
    ByteBuf buf = FrameCodec.control(alloc(), direction() | Frame.FLAG_STREAM, requestId);
    buf.setInt(Frame.OFF_WORD_A, Frame.STREAM_WINDOW);
    buf.setInt(Frame.OFF_WORD_B, n);
    return buf;
  }

  private ByteBuf encode(Object value) {
    ByteBuf buf = FrameCodec.start(alloc(), 128, direction() | Frame.FLAG_STREAM, serializerId,
        0, 0, requestId, Frame.STREAM_MESSAGE, 0);
    return OutboundBodies.finish(buf, out -> serializer.writeValue(value, outType, out),
        compressor, compressionThreshold, maxFrameBytes, displayName, "a message of ",
        encodeFailure(), "cannot encode a message of ");
  }

  @Override
  public synchronized boolean isReady() {
    return !closed && !outClosed && credit > 0 && writable();
  }

  @Override
  public synchronized void setOnReadyHandler(Runnable handler) {
    readyHandler = handler;
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  @Override
  public synchronized void setOnCancelHandler(Runnable handler) {
    cancelHandler = handler;
  }

  @Override
  public void cancel(String message) {
    abort(new RpcException(ErrorReason.CANCELLED, message), true);
  }

  // ---- inbound: the application receives

  @Override
  public synchronized void disableAutoRequest() {
    autoRequest = false;
  }

  @Override
  public void request(int count) {
    if (count <= 0) {
      throw new IllegalArgumentException("count: " + count + " (expected: > 0)");
    }
    synchronized (this) {
      demand = (int) Math.min(Integer.MAX_VALUE, (long) demand + count);
    }
    scheduleDelivery();
  }

  /** Sets the observer inbound messages go to and starts delivering. */
  final void target(StreamObserver<Object> observer) {
    synchronized (this) {
      target = observer;
    }
    scheduleDelivery();
  }

  /** This end sends no messages (the request side of a server-streaming call, on the client). */
  final synchronized void noOutbound() {
    outClosed = true;
  }

  /** This end receives no messages (the request side of a server-streaming call). */
  final synchronized void noInbound() {
    inEnded = true;
    targetClosed = true;
  }

  /** Grants the peer {@code n} more messages. */
  final synchronized void grant(int n) {
    if (closed) {
      return;
    }
    granted += n;
    enqueue(windowFrame(n), null);
  }

  /** A message frame arrived (event loop); takes ownership of {@code f}. */
  final void onMessage(InboundFrame f) {
    String violation = null;
    synchronized (this) {
      if (closed) {
        f.release(); // the call is over here; the peer had not heard yet
        return;
      }
      if (inEnded) {
        violation = "a message after the end of the stream";
      } else if (granted <= 0) {
        violation = "a message beyond the messages granted";
      } else {
        granted--;
        inbound.add(f);
      }
    }
    if (violation != null) {
      f.release();
      protocolError(violation);
      return;
    }
    scheduleDelivery();
  }

  /** A window update arrived (event loop). */
  final void onWindow(int n) {
    if (n <= 0) {
      protocolError("a window update of " + (n & 0xFFFFFFFFL) + " (expected: 1 to 2147483647)");
      return;
    }
    boolean ready;
    synchronized (this) {
      if (closed) {
        return;
      }
      if ((long) credit + n > Integer.MAX_VALUE) {
        ready = false;
      } else {
        boolean before = credit > 0;
        credit += n;
        while (credit > 0 && !waiting.isEmpty()) {
          credit--;
          enqueue(waiting.poll(), null);
        }
        if (waiting.isEmpty() && endFrame != null) {
          ByteBuf end = endFrame;
          endFrame = null;
          queueEnd(end);
        }
        ready = !before && credit > 0 && !outClosed;
        n = 0;
      }
    }
    if (n != 0) {
      protocolError("window updates granting more than 2147483647 messages");
    } else if (ready) {
      notifyReady();
    }
  }

  /** The peer ended its direction (the client's half-close, on the server). */
  final void onPeerHalfClose() {
    String violation = null;
    synchronized (this) {
      if (closed) {
        return;
      }
      if (inEnded) {
        violation = "a second end of stream";
      } else {
        inEnded = true;
      }
    }
    if (violation != null) {
      protocolError(violation);
    } else {
      scheduleDelivery();
    }
  }

  /**
   * The peer ended the call (the server's final status, on the client): buffered messages are
   * still delivered, then {@code error} or completion.
   */
  final void onPeerEnd(RpcException error) {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      outClosed = true;
      releaseOutbound();
      inEnded = true;
      inError = error;
      onClosed(false);
    }
    ended(error);
    scheduleDelivery();
  }

  /** The peer broke the stream's rules: the call is cancelled both ways with PROTOCOL_ERROR. */
  final void protocolError(String what) {
    abort(new RpcException(ErrorReason.PROTOCOL_ERROR, "stream " + requestId + " of "
        + displayName + ": the peer sent " + what), true);
  }

  /** The connection is writable again: tell a waiting producer. */
  final void onWritable() {
    if (isReady()) {
      notifyReady();
    }
  }

  private void notifyReady() {
    callbacks.execute(() -> {
      Runnable h;
      synchronized (this) {
        h = closed || outClosed ? null : readyHandler;
      }
      if (h != null) {
        h.run();
      }
    });
  }

  /**
   * Ends the call at once with {@code why}: waiting and buffered messages are dropped, the peer
   * is told when {@code tellPeer}, the cancel handler runs and the inbound observer gets
   * {@code why}. Idempotent.
   */
  final void abort(RpcException why, boolean tellPeer) {
    Runnable handler = null;
    synchronized (this) {
      if (aborted || closed && targetClosed) {
        return;
      }
      aborted = true;
      releaseInbound();
      inEnded = true;
      inError = why;
      if (!closed) {
        cancelled = true;
        handler = cancelHandler;
        closed = true;
        outClosed = true;
        releaseOutbound();
        if (tellPeer) {
          ByteBuf c = cancelFrame(why);
          if (c != null) {
            try {
              enqueue(c, null);
            } catch (RuntimeException e) {
              c.release(); // the event loop is shutting down: the connection goes with it
            }
          }
        }
        onClosed(false);
        ended(why);
      }
    }
    if (handler != null) {
      callbacks.execute(handler);
    }
    scheduleDelivery();
  }

  private void releaseOutbound() {
    ByteBuf b;
    while ((b = waiting.poll()) != null) {
      b.release();
    }
    if (endFrame != null) {
      endFrame.release();
      endFrame = null;
    }
  }

  private void releaseInbound() {
    InboundFrame f;
    while ((f = inbound.poll()) != null) {
      f.release();
    }
  }

  final void scheduleDelivery() {
    callbacks.execute(this::deliver);
  }

  /** Delivers what the application asked for; runs on the serial executor. */
  private void deliver() {
    while (true) {
      InboundFrame f = null;
      RpcException error = null;
      StreamObserver<Object> t;
      synchronized (this) {
        t = target;
        if (t == null || targetClosed) {
          return;
        }
        if (!inbound.isEmpty() && (autoRequest || demand > 0)) {
          f = inbound.poll();
          if (!autoRequest) {
            demand--;
          }
        } else if (inbound.isEmpty() && inEnded) {
          targetClosed = true;
          error = inError;
        } else {
          return;
        }
      }
      if (f == null) {
        try (CallTracer.Scope s = enterSpan()) {
          if (error == null) {
            t.onCompleted();
          } else {
            t.onError(error);
          }
        } catch (Throwable x) {
          org.slf4j.LoggerFactory.getLogger(StreamCall.class).warn(
              "[COURIER-S05] the observer of {} threw from its last callback", displayName, x);
        }
        return;
      }
      Object value;
      try {
        value = decode(f);
      } catch (RpcException e) {
        abort(e, true);
        continue;
      } finally {
        f.release();
      }
      try (CallTracer.Scope s = enterSpan()) {
        t.onNext(value);
      } catch (Throwable x) {
        abort(observerFailed(x), true);
        continue;
      }
      returnCredit();
    }
  }

  private Object decode(InboundFrame f) {
    if (f.serializerId != serializerId) {
      throw new RpcException(ErrorReason.PROTOCOL_ERROR, "a message of " + displayName
          + " uses serializer id " + f.serializerId + ", the stream uses " + serializerId);
    }
    try (InputStream in = Bodies.open(f.body(), f.compressorId, maxFrameBytes)) {
      return serializer.readValue(inType, in);
    } catch (Throwable t) {
      throw Bodies.readFailure(t, decodeFailure(), "cannot decode a message of " + displayName);
    }
  }

  private synchronized void returnCredit() {
    if (closed) {
      return;
    }
    if (++unreturned >= WINDOW / 2) {
      int n = unreturned;
      unreturned = 0;
      granted += n;
      enqueue(windowFrame(n), null);
    }
  }
}
