package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.core.MethodDescriptor;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.spi.CallTracer;
import io.courier.stream.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A streaming call on the client. It is the request observer a bidirectional stub returns, and it
 * delivers the server's messages to the caller's observer on the client's callback executor, one
 * callback at a time. The endpoint is picked like a unary call's; once the opening frame is sent
 * the call is never retried. The call's deadline (the method's or the client's timeout) covers the
 * whole stream.
 */
final class ClientStream extends StreamCall {

  private final NettyClient client;
  private final ClientMethod method;
  private final long startNanos;
  private final long deadlineNanos;
  private Endpoint endpoint;
  private boolean started;
  private ClientConnectionHandler connection;
  private List<ByteBuf> early = new ArrayList<>();
  private ByteBuf openFrame;
  private ScheduledFuture<?> timer;
  /** The stream's span, or null when not traced; set before it opens. */
  private CallTracer.ClientSpan span;

  private ClientStream(NettyClient client, ClientMethod method, long startNanos,
      long deadlineNanos) {
    super(method.displayName, method.serializer, method.serializerId,
        method.descriptor.requestType(), method.resultType, method.compressor,
        client.config().compressionThresholdBytes(), client.config().maxFrameBytes(),
        client.callbackExecutor());
    this.client = client;
    this.method = method;
    this.startNanos = startNanos;
    this.deadlineNanos = deadlineNanos;
  }

  /**
   * Starts a streaming call from a stub: returns at once; the outcome reaches the observer in
   * {@code args}. Returns the request observer (for a server-streaming call, already ended).
   */
  @SuppressWarnings("unchecked")
  static ClientStream start(NettyClient client, ClientMethod m, Cluster cluster, Object[] args) {
    boolean serverStreaming = m.descriptor.kind() == MethodDescriptor.Kind.SERVER_STREAMING;
    StreamObserver<Object> responses = (StreamObserver<Object>) Objects.requireNonNull(
        args[serverStreaming ? 1 : 0], "responses");
    long start = System.nanoTime();
    ClientStream s = new ClientStream(client, m, start, client.deadlineFor(m, start));
    CallTracer tracer = client.tracer();
    if (tracer != null) {
      s.span = tracer.startClient(CallTracer.Protocol.COURIER, m.descriptor.serviceName(),
          m.descriptor.name());
    }
    s.target(responses);
    if (serverStreaming) {
      s.sendNothing();
    }
    try {
      Endpoint e = cluster.pick(args, null);
      synchronized (s) {
        s.endpoint = e;
      }
      if (s.span != null) {
        s.span.server(e.host, e.port);
      }
      s.openFrame = s.encodeOpen(serverStreaming ? args[0] : null);
      synchronized (s) {
        if (s.isCancelled()) {
          s.openFrame.release();
          return s;
        }
        s.started = true;
        e.callStarted();
      }
      Endpoint.Slot slot = e.pick();
      ClientConnectionHandler h = slot.ready();
      if (h != null) {
        s.attach(h);
      } else {
        slot.get().whenComplete((c, t) -> {
          if (t != null) {
            s.failToOpen((RpcException) NettyClient.unwrap(t));
          } else {
            s.attach(c);
          }
        });
      }
    } catch (RpcException r) {
      s.failToOpen(r);
    }
    return s;
  }

  @Override
  void ended(RpcException error) {
    CallTracer.ClientSpan s = span;
    if (s != null) {
      s.end(error == null ? Status.Code.OK : error.status().code(), error);
    }
  }

  private void sendNothing() {
    noOutbound(); // the opening frame carries the one request; nothing else goes out
  }

  private void failToOpen(RpcException r) {
    ByteBuf open;
    synchronized (this) {
      open = openFrame;
      openFrame = null;
    }
    if (open != null) {
      open.release();
    }
    String description = r.status().description();
    abort(new RpcException(r.status().withDescription(displayName + ": "
        + (description == null ? r.reason().name() : description)), r.reason(), null, null,
        endpoint == null ? null : endpoint.toString(), 1, null, r.getCause()), false);
  }

  private ByteBuf encodeOpen(Object request) {
    long timeoutMillis = 0;
    if (deadlineNanos != 0) {
      long remaining = deadlineNanos - System.nanoTime();
      if (remaining <= 0) {
        throw new RpcException(ErrorReason.DEADLINE_EXCEEDED,
            "deadline passed before " + displayName + " was sent");
      }
      timeoutMillis = Math.min(0xFFFFFFFFL, (remaining + 999_999) / 1_000_000);
    }
    ByteBuf buf = FrameCodec.start(PooledByteBufAllocator.DEFAULT, 128,
        Frame.FLAG_STREAM | Frame.FLAG_OPEN_STREAM, serializerId, 0, 0, 0,
        method.descriptor.callId(), (int) timeoutMillis);
    if (client.hasCredentials() || span != null) {
      client.writeMetadata(buf, displayName, span);
    }
    if (method.descriptor.kind() != MethodDescriptor.Kind.SERVER_STREAMING) {
      FrameCodec.finish(buf, 0, buf.getUnsignedShort(Frame.OFF_METADATA_LENGTH));
      return buf;
    }
    return OutboundBodies.finish(buf, out -> method.serializer.writeArguments(
        new Object[] {request}, new Type[] {method.descriptor.requestType()}, out),
        method.compressor, client.config().compressionThresholdBytes(), maxFrameBytes,
        displayName, "request to ", ErrorReason.BAD_ARGUMENTS, "cannot encode the request of ");
  }

  /** The connection is ready: queue the opening frame, the first grant, and what waited. */
  private void attach(ClientConnectionHandler h) {
    synchronized (this) {
      if (isCancelled() || openFrame == null) {
        if (openFrame != null) {
          openFrame.release();
          openFrame = null;
        }
        return;
      }
      connection = h;
      ByteBuf open = openFrame;
      openFrame = null;
      h.write(new Open(open, h));
      grant(WINDOW);
      for (ByteBuf b : early) {
        h.write(new StreamWrite(this, b, null));
      }
      early = null;
    }
  }

  /** Writes the opening frame: the stream gets its id here, on the event loop. */
  private final class Open implements WriteQueue.Command {
    private final ByteBuf frame;
    private final ClientConnectionHandler h;

    Open(ByteBuf frame, ClientConnectionHandler h) {
      this.frame = frame;
      this.h = h;
    }

    @Override
    public boolean run(WriteQueue queue) {
      ClientStream s = ClientStream.this;
      synchronized (s) {
        if (isCancelled()) {
          frame.release();
          return false;
        }
        if (!h.channel().isActive()) {
          frame.release();
        } else {
          int id = h.allocateId();
          requestId = id;
          h.streams.put(id, s);
          frame.setInt(Frame.OFF_REQUEST_ID, id);
          if (deadlineNanos != 0) {
            timer = h.channel().eventLoop().schedule(s::onDeadline,
                deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
          }
          return queue.writeFrame(frame);
        }
      }
      failToOpen(new RpcException(ErrorReason.NOT_SENT, "request not sent: connection closed"));
      return false;
    }

    @Override
    public int bytes() {
      return frame.readableBytes();
    }

    @Override
    public void discard() {
      frame.release();
      failToOpen(new RpcException(ErrorReason.NOT_SENT, "request not sent: connection closed"));
    }
  }

  private void onDeadline() {
    long budget = (deadlineNanos - startNanos) / 1_000_000;
    abort(new RpcException(ErrorReason.DEADLINE_EXCEEDED, "deadline of " + budget
        + " ms exceeded during the stream of " + displayName), true);
  }

  @Override
  public void onError(Throwable error) {
    abort(new RpcException(ErrorReason.CANCELLED, "cancelled by the client: " + error, error),
        true);
  }

  @Override
  int direction() {
    return 0;
  }

  @Override
  ByteBufAllocator alloc() {
    return PooledByteBufAllocator.DEFAULT;
  }

  @Override
  void enqueue(ByteBuf frame, Runnable afterWrite) {
    if (connection == null) {
      if (early == null) {
        frame.release();
        return;
      }
      early.add(frame); // ended or cancelled before the connection was ready
      return;
    }
    connection.write(new StreamWrite(this, frame, afterWrite));
  }

  @Override
  boolean writable() {
    ClientConnectionHandler h = connection;
    return h != null && h.channel().isWritable();
  }

  @Override
  ByteBuf cancelFrame(RpcException why) {
    if (connection == null) {
      return null; // not sent: nothing to cancel on the wire
    }
    ByteBuf buf = FrameCodec.control(alloc(), Frame.FLAG_STREAM | Frame.FLAG_CANCEL, requestId);
    return buf;
  }

  @Override
  void onClosed(boolean endQueued) {
    if (timer != null) {
      timer.cancel(false);
    }
    if (early != null && connection == null) {
      for (ByteBuf b : early) {
        b.release();
      }
      early = null;
    }
    ClientConnectionHandler h = connection;
    if (h != null && requestId != 0) {
      h.streamEnded(requestId, this);
    }
    if (started) {
      started = false;
      endpoint.callEnded();
    }
  }

  @Override
  ErrorReason encodeFailure() {
    return ErrorReason.BAD_ARGUMENTS;
  }

  @Override
  ErrorReason decodeFailure() {
    return ErrorReason.BAD_RESULT;
  }

  @Override
  RpcException observerFailed(Throwable t) {
    return new RpcException(ErrorReason.CANCELLED, "the response observer of " + displayName
        + " threw " + t, t);
  }

  @Override
  public String toString() {
    return "ClientStream[" + displayName + ", id " + requestId + "]";
  }
}
