package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.Status;
import io.courier.auth.Identity;
import io.courier.core.CallIds;
import io.courier.internal.codec.Compressors;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.protocol.Metadata;
import io.courier.internal.protocol.ProtocolException;
import io.courier.internal.server.ServerMethod;
import io.courier.observe.CallObserver;
import io.courier.spi.CallTracer;
import io.courier.spi.Serializer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of one connection. On the event loop it reads each frame's header, finds the
 * method by call ID and checks the serializer <em>before</em> any body byte is decoded, enforces
 * the per-connection limits, and hands accepted calls to their executor. Answers come back through
 * a {@link WriteQueue}, which also keeps the table of calls in flight. With a maximum connection
 * age, it retires the connection when the age is reached: a graceful GOAWAY first, then, after
 * the grace period, a close whatever is still running.
 *
 * <p>Not sharable; all state is confined to the channel's event loop.
 */
final class ServerConnectionHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ServerConnectionHandler.class);

  private final ServerDispatcher dispatcher;
  private final CallTable<ServerCall> inFlight = new CallTable<>();
  private final ServerStreams streams;
  private Channel channel;
  private Queue out;
  private boolean draining;
  private final RateWindow pings = new RateWindow();
  private final RateWindow cancels = new RateWindow();
  private ScheduledFuture<?> ageTimer;
  private ScheduledFuture<?> graceTimer;
  private long ageMillis;

  ServerConnectionHandler(ServerDispatcher dispatcher) {
    this.dispatcher = dispatcher;
    this.streams = new ServerStreams(this, dispatcher);
  }

  Channel channel() {
    return channel;
  }

  /** Queues a frame of a streaming call. Any thread. */
  void write(WriteQueue.Command command) {
    out.enqueue(command, command.bytes());
  }

  ServerConfig config() {
    return dispatcher.config;
  }

  ByteBufAllocator alloc() {
    return channel.alloc();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    out = new Queue(channel);
    long maxAge = dispatcher.config.maxConnectionAgeMillis();
    if (maxAge > 0) {
      ageMillis = jittered(maxAge, ThreadLocalRandom.current().nextDouble());
      ageTimer = ctx.executor().schedule(this::onMaxAge, ageMillis, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * The age limit of one connection: {@code maxAgeMillis} moved by up to 10% either way, so that
   * connections opened together (a fleet of clients started at once, or reconnecting after a
   * restart) do not all reconnect together again.
   *
   * @param random uniform in [0, 1)
   */
  static long jittered(long maxAgeMillis, double random) {
    return Math.max(1, Math.round(maxAgeMillis * (0.9 + 0.2 * random)));
  }

  /** The connection reached its age: stop taking calls here, let those in flight finish. */
  private void onMaxAge() {
    ageTimer = null;
    if (draining || !channel.isActive()) {
      return; // the server is shutting down and drains this connection already
    }
    dispatcher.connectionsAged.increment();
    log.debug("connection {} reached its maximum age ({} ms); sending GOAWAY",
        channel.remoteAddress(), ageMillis);
    drain();
    graceTimer = channel.eventLoop().schedule(this::onGraceOver,
        dispatcher.config.maxConnectionAgeGraceMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The grace period of an aged connection is over and the peer has not closed it: the
   * connection is closed with a GOAWAY error saying why, and calls still in flight are cancelled
   * (their callers see CONNECTION_CLOSED).
   */
  private void onGraceOver() {
    graceTimer = null;
    if (!channel.isActive()) {
      return;
    }
    dispatcher.agedConnectionsClosed.increment();
    String why = "maximum connection age (" + ageMillis + " ms) and grace period ("
        + dispatcher.config.maxConnectionAgeGraceMillis() + " ms) passed, " + inFlight.size()
        + " calls still in flight";
    log.debug("closing {}: {}", channel.remoteAddress(), why);
    channel.writeAndFlush(FrameCodec.error(channel.alloc(), Frame.FLAG_GOAWAY, 0,
        ErrorReason.CONNECTION_CLOSED, why));
    channel.close(); // now: a peer that does not read must not hold the connection open
  }

  /** A finished call: {@code answer} is its frame, or null when nothing is to be sent. */
  void callDone(ServerCall call, ByteBuf answer) {
    out.enqueue(new Done(call, answer), answer == null ? 0 : answer.readableBytes());
  }

  private record Done(ServerCall call, ByteBuf answer) {}

  private final class Queue extends WriteQueue {
    Queue(Channel channel) {
      super(channel);
    }

    @Override
    protected boolean process(Object command) {
      ByteBuf buf;
      if (command instanceof Done d) {
        if (inFlight.get(d.call.requestId) == d.call) {
          inFlight.remove(d.call.requestId);
        }
        d.call.released(dispatcher.admission);
        dispatcher.inFlight.decrementAndGet();
        buf = d.answer;
        d.call.observed(buf == null ? 0 : buf.readableBytes());
      } else {
        buf = (ByteBuf) command;
      }
      return buf != null && writeFrame(buf);
    }

    @Override
    protected int bytesOf(Object command) {
      if (command instanceof Done d) {
        return d.answer == null ? 0 : d.answer.readableBytes();
      }
      return ((ByteBuf) command).readableBytes();
    }

    @Override
    protected void discard(Object command) {
      if (command instanceof Done d) {
        d.call.released(dispatcher.admission);
        dispatcher.inFlight.decrementAndGet();
        d.call.code = Status.Code.CANCELLED; // the connection closed before it was answered
        d.call.observed(0);
        if (d.answer != null) {
          d.answer.release();
        }
      } else {
        ((ByteBuf) command).release();
      }
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    InboundFrame f = (InboundFrame) msg;
    boolean owned = true;
    try {
      if (f.isResponse()) {
        if (!f.has(Frame.FLAG_HEARTBEAT)) {
          dispatcher.unsolicitedFrames.increment(); // a server never asks; drop it
        }
        return;
      }
      if ((f.flags & (Frame.FLAG_STREAM | Frame.FLAG_OPEN_STREAM)) != 0) {
        owned = !streams.onFrame(f);
        return;
      }
      if (f.has(Frame.FLAG_HEARTBEAT)) {
        onPing(f);
        return;
      }
      if (f.has(Frame.FLAG_CANCEL)) {
        ServerCall c = inFlight.get(f.requestId);
        // only cancels of calls that still had most of their time count towards a flood: a
        // client giving up on calls past their deadline (an overloaded server) is no attack
        if (c != null && !c.pastHalfItsDeadline(f.arrivalNanos) && cancelFlood(f)) {
          return;
        }
        if (c != null) {
          c.cancelled = true;
        }
        return;
      }
      if (f.has(Frame.FLAG_GOAWAY)) {
        return; // the client will open no new calls here; nothing to do
      }
      owned = !onRequest(f);
    } finally {
      if (owned) {
        f.release();
      }
    }
  }

  /**
   * Counts a CANCEL; on a request-and-cancel flood (the Rapid Reset pattern) stops the work and
   * closes the connection, and returns true.
   */
  boolean cancelFlood(InboundFrame f) {
    if (!cancels.exceeded(f.arrivalNanos, dispatcher.config.maxCancelsPerSecond())) {
      return false;
    }
    for (ServerCall c : inFlight.values()) {
      c.cancelled = true;
    }
    goAwayAndClose(ErrorReason.PROTOCOL_ERROR, 0, "too many cancels: more than "
        + dispatcher.config.maxCancelsPerSecond() + " in one second");
    return true;
  }

  private void onPing(InboundFrame f) {
    if (pings.exceeded(f.arrivalNanos, dispatcher.config.maxPingsPerSecond())) {
      goAwayAndClose(ErrorReason.PROTOCOL_ERROR, 0, "too many pings: more than "
          + dispatcher.config.maxPingsPerSecond() + " heartbeats in one second");
      return;
    }
    out.enqueue(FrameCodec.control(channel.alloc(), Frame.FLAG_HEARTBEAT | Frame.FLAG_RESPONSE,
        f.requestId), Frame.HEADER_LENGTH);
  }

  /**
   * Admits a request or the opening frame of a stream. Returns true when the frame was handed to
   * a call (which then owns it).
   */
  boolean onRequest(InboundFrame f) {
    int id = f.requestId;
    boolean oneWay = f.has(Frame.FLAG_ONE_WAY);
    int stream = f.flags & Frame.FLAG_STREAM;
    if (inFlight.containsKey(id) || streams.contains(id)) {
      // The first call with this id is still running; answering this one on the same id would be
      // taken as the first call's answer. Drop it and count it.
      dispatcher.duplicateRequests.increment();
      return false;
    }
    if (draining || dispatcher.draining) {
      reject(oneWay, stream, id, ErrorReason.SHUTTING_DOWN, dispatcher.draining
          ? "server is shutting down; retry on another provider or a new connection"
          : "connection reached its maximum age and takes no new calls; retry on a new"
              + " connection");
      return false;
    }
    if (inFlight.size() + streams.size() >= dispatcher.config.maxConcurrentCallsPerConnection()) {
      reject(oneWay, stream, id, ErrorReason.OVERLOADED,
          "too many calls in flight on this connection"
          + " (limit " + dispatcher.config.maxConcurrentCallsPerConnection() + ")");
      return false;
    }
    ServerMethod m = dispatcher.lookup(f.wordA);
    if (m == null) {
      reject(oneWay, stream, id, ErrorReason.UNKNOWN_METHOD, "no method with call ID "
          + CallIds.toHex(f.wordA) + " on this server (services: " + dispatcher.serviceNames + ")");
      return false;
    }
    if (m.descriptor().kind().isStreaming() != (stream != 0)) {
      refuse(m, f, oneWay, stream, id, ErrorReason.UNKNOWN_METHOD, stream != 0
          ? m.displayName() + " is not a streaming method; call it without opening a stream"
          : m.displayName() + " is a streaming method; it must be opened as a stream");
      return false;
    }
    Serializer s = m.serializer(f.serializerId);
    if (s == null) {
      refuse(m, f, oneWay, stream, id, ErrorReason.SERIALIZER_UNSUPPORTED,
          "serializer id " + f.serializerId
          + " is not enabled for " + m.descriptor().serviceName() + " (enabled: "
          + m.enabledSerializers() + ")");
      return false;
    }
    if (f.compressorId != 0 && Compressors.byId(f.compressorId) == null) {
      refuse(m, f, oneWay, stream, id, ErrorReason.COMPRESSOR_UNSUPPORTED,
          "compressor id " + f.compressorId
          + " is not available on this server (available: " + Compressors.names() + ")");
      return false;
    }
    Map<String, String> metadata = Map.of();
    if (f.metadata().isReadable()) {
      try {
        metadata = Metadata.read(f.metadata(), id);
      } catch (ProtocolException e) {
        refuse(m, f, oneWay, stream, id, ErrorReason.PROTOCOL_ERROR, e.getMessage());
        return false;
      }
    }
    Identity identity = null;
    AccessControl access = dispatcher.access;
    if (access != null) {
      try {
        identity = access.check(m, new AccessControl.Request("courier", m, metadata::get,
            channel));
      } catch (AccessControl.Refused r) {
        refuse(m, f, oneWay, stream, id, r.reason, r.getMessage());
        return false;
      }
    }
    String shed = dispatcher.admission.admit(m);
    if (shed != null) {
      refuse(m, f, oneWay, stream, id, ErrorReason.OVERLOADED, shed);
      return false;
    }
    long timeout = f.wordB & 0xFFFFFFFFL;
    long max = dispatcher.config.maxTimeoutMillis();
    boolean clamped = max > 0 && (timeout == 0 || timeout > max);
    if (clamped) {
      timeout = max;
    }
    if (stream != 0) {
      streams.start(m, s, f, timeout, identity, metadata);
      return true;
    }
    ServerCall call = new ServerCall(this, m, s, f, timeout, clamped);
    call.identity = identity;
    CallTracer tracer = dispatcher.tracer;
    if (tracer != null) {
      call.span = tracer.startServer(CallTracer.Protocol.COURIER,
          m.descriptor().serviceName(), m.descriptor().name(), metadata::get,
          channel.localAddress(), channel.remoteAddress());
    }
    ServerObservers observers = dispatcher.observers;
    if (observers != null && (call.observer = observers.courier(m)) != null) {
      call.observer.started();
    }
    inFlight.put(id, call);
    dispatcher.inFlight.incrementAndGet();
    Executor executor = m.executor();
    if (executor == null) {
      call.run();
      return true;
    }
    try {
      executor.execute(call);
    } catch (RejectedExecutionException e) {
      dispatcher.rejectedCalls.increment();
      call.sampled = false; // it waited for nothing: its time says nothing of the load
      call.respondError(ErrorReason.OVERLOADED, "server executor is saturated", null, null);
      f.release();
    }
    return true;
  }

  /** Refuses a call whose method is known, and tells the method's observer. */
  private void refuse(ServerMethod m, InboundFrame f, boolean oneWay, int stream, int id,
      ErrorReason reason, String description) {
    ServerObservers observers = dispatcher.observers;
    CallObserver.ServerMethodObserver o = observers == null ? null : observers.courier(m);
    if (o != null) {
      o.ended(channel.remoteAddress(), reason.code(), reason, false,
          System.nanoTime() - f.arrivalNanos, Frame.HEADER_LENGTH + f.metadata().readableBytes()
              + f.body().readableBytes(), 0);
    }
    reject(oneWay, stream, id, reason, description);
  }

  private void reject(boolean oneWay, int id, ErrorReason reason, String description) {
    reject(oneWay, 0, id, reason, description);
  }

  /** Refuses a stream before it opened: a stream END frame with the error status. */
  void rejectStream(int id, ErrorReason reason, String description) {
    reject(false, Frame.FLAG_STREAM, id, reason, description);
  }

  private void reject(boolean oneWay, int stream, int id, ErrorReason reason,
      String description) {
    dispatcher.rejectedCalls.increment();
    if (oneWay) {
      log.debug("dropping one-way call {}: {}", id, description);
      return;
    }
    ByteBuf buf = FrameCodec.error(channel.alloc(), Frame.FLAG_RESPONSE | stream, id, reason,
        description);
    if (stream != 0) {
      buf.setInt(Frame.OFF_WORD_A, Frame.STREAM_END);
    }
    out.enqueue(buf, buf.readableBytes());
  }

  /** Starts draining: sends GOAWAY and refuses new calls. Event loop only. */
  void drain() {
    if (draining || !channel.isActive()) {
      return;
    }
    draining = true;
    out.enqueue(FrameCodec.control(channel.alloc(), Frame.FLAG_GOAWAY, 0), Frame.HEADER_LENGTH);
  }

  private void goAwayAndClose(ErrorReason reason, int requestId, String description) {
    dispatcher.protocolErrors.increment();
    log.debug("closing {}: {}", channel.remoteAddress(), description);
    ByteBuf buf = FrameCodec.error(channel.alloc(), Frame.FLAG_GOAWAY, requestId, reason,
        description);
    channel.writeAndFlush(buf).addListener(ChannelFutureListener.CLOSE);
    // a peer that does not read never lets that write complete: close regardless, soon
    channel.eventLoop().schedule(() -> {
      channel.close();
    }, 1, TimeUnit.SECONDS);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof FrameDecoder.ProtocolViolation v) {
      goAwayAndClose(v.cause().reason(), v.cause().requestId(), v.cause().getMessage());
    } else if (evt instanceof FrameDecoder.FrameTooLarge t) {
      if (streams.contains(t.requestId())) {
        streams.tooLarge(t.requestId(), t.description());
      } else if (!t.response() && t.requestId() != 0) {
        reject(false, t.requestId(), ErrorReason.PAYLOAD_TOO_LARGE, t.description());
      }
    } else if (evt instanceof FrameDecoder.FrameTimeout t) {
      goAwayAndClose(ErrorReason.PROTOCOL_ERROR, 0, t.description());
    } else if (evt instanceof IdleStateEvent) {
      goAwayAndClose(ErrorReason.CONNECTION_CLOSED, 0, "connection idle for "
          + dispatcher.config.idleTimeoutMillis() + " ms");
    } else {
      super.userEventTriggered(ctx, evt);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    boolean writable = ctx.channel().isWritable();
    // A client that does not read its answers stops being read: TCP pushes back on its
    // requests, so answers waiting for it stay bounded by the calls in flight. If it never
    // reads again, the idle timeout closes the connection.
    ctx.channel().config().setAutoRead(writable);
    if (writable) {
      out.resume();
      streams.onWritable();
    }
    super.channelWritabilityChanged(ctx);
  }

  /** Removed when the connection turns out to speak another protocol: stop the age timers. */
  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (ageTimer != null) {
      ageTimer.cancel(false);
      ageTimer = null;
    }
    if (graceTimer != null) {
      graceTimer.cancel(false);
      graceTimer = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (ageTimer != null) {
      ageTimer.cancel(false);
    }
    if (graceTimer != null) {
      graceTimer.cancel(false);
    }
    for (ServerCall c : inFlight.values()) {
      c.cancelled = true; // nobody can receive the answer
    }
    streams.onClosed();
    out.drainOnClose();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      log.debug("connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    } else {
      log.warn("[COURIER-S01] unexpected error on connection {}", ctx.channel().remoteAddress(),
          cause);
      dispatcher.internalError(cause);
    }
    ctx.close();
  }
}
