package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.internal.protocol.ErrorBody;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.InboundFrame;
import io.courier.observe.CallObserver;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of one multiplexed connection: gives each request an id, matches answers to
 * requests by id (in any order), enforces deadlines with event-loop timers (sending CANCEL to the
 * server), sends heartbeats when idle and closes after missed ones, and honours GOAWAY.
 *
 * <p>Not sharable; the table of pending calls is confined to the event loop. Application threads
 * reach it only through {@link #send(ClientCall)} and {@link #cancel(ClientCall)}.
 */
final class ClientConnectionHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ClientConnectionHandler.class);

  private final Endpoint endpoint;
  /** Whether this connection's opening was reported to the client's observer. */
  private boolean observedOpen;
  private final long heartbeatMillis;
  private final CallTable<ClientCall> pending = new CallTable<>();
  private final List<ClientCall> unflushed = new ArrayList<>();
  final LongAdder unsolicitedAnswers = new LongAdder();
  final ClientStreams streams = new ClientStreams(this);
  private Channel channel;
  private Queue out;
  private int nextId = 1;
  private volatile boolean closed;
  private volatile boolean goingAway;
  private String closeReason = "connection closed";
  /** Set when the connection ended in a way known to have run no call: TLS refused it. */
  private ErrorReason closeFailure;
  private boolean answered; // the server sent a frame other than GOAWAY
  private int silentIntervals; // heartbeat intervals without data from the server
  private long unsentAtLastIdle; // the channel's unsent bytes at the last one

  ClientConnectionHandler(Endpoint endpoint, long heartbeatMillis) {
    this.endpoint = endpoint;
    this.heartbeatMillis = heartbeatMillis;
  }

  /** Whether new calls may be sent here: connected, and the server has not said GOAWAY. */
  boolean usable() {
    return !closed && !goingAway && channel != null && channel.isActive();
  }

  long pendingBytes() {
    return out.pendingBytes();
  }

  Channel channel() {
    return channel;
  }

  String endpointName() {
    return endpoint.toString();
  }

  /** Queues a frame of a streaming call. Any thread. */
  void write(WriteQueue.Command command) {
    out.enqueue(command, command.bytes());
  }

  /** A stream ended: forget it, and close a drained connection. Any thread. */
  void streamEnded(int requestId, ClientStream s) {
    streams.remove(requestId, s);
    if (goingAway && !channel.eventLoop().isShuttingDown()) {
      channel.eventLoop().execute(this::closeIfDrained);
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    out = new Queue(channel);
  }

  /** Queues a call's request; the event loop gives it an id and writes it. Any thread. */
  void send(ClientCall call) {
    call.connection = this;
    out.enqueue(call, call.requestBytes);
  }

  /** The caller gave up the call: forget it and tell the server. Any thread. */
  void cancel(ClientCall call) {
    call.cancelled = true;
    if (channel.eventLoop().isShuttingDown()) {
      return; // the connection is going away and fails its calls itself
    }
    channel.eventLoop().execute(() -> {
      if (call.requestId != 0 && pending.get(call.requestId) == call) {
        pending.remove(call.requestId);
        if (call.timer != null) {
          call.timer.cancel(false);
        }
        sendControl(Frame.FLAG_CANCEL, call.requestId);
        call.fail(new RpcException(ErrorReason.CANCELLED, "cancelled by the caller"));
        closeIfDrained();
      }
    });
  }

  private void sendControl(int flags, int id) {
    if (channel.isActive()) {
      out.enqueue(FrameCodec.control(channel.alloc(), flags, id), Frame.HEADER_LENGTH);
    }
  }

  /** A request id no call or stream in flight uses. Event loop. */
  int allocateId() {
    int id;
    do {
      id = nextId++;
      if (nextId == 0) {
        nextId = 1;
      }
    } while (id == 0 || pending.containsKey(id) || streams.contains(id));
    return id;
  }

  private final class Queue extends WriteQueue {
    Queue(Channel channel) {
      super(channel);
    }

    @Override
    protected boolean process(Object command) {
      if (command instanceof ClientCall c) {
        return write(c);
      }
      return writeFrame((ByteBuf) command);
    }

    @Override
    protected int bytesOf(Object command) {
      return command instanceof ClientCall c ? c.requestBytes
          : ((ByteBuf) command).readableBytes();
    }

    @Override
    protected void discard(Object command) {
      if (command instanceof ClientCall c) {
        notSent(c, closeReason);
      } else {
        ((ByteBuf) command).release();
      }
    }

    @Override
    protected void afterFlush() {
      if (!unflushed.isEmpty()) {
        long now = System.nanoTime();
        for (ClientCall c : unflushed) {
          c.flushedNanos = now;
        }
        unflushed.clear();
      }
    }
  }

  private void notSent(ClientCall c, String why) {
    ByteBuf req = c.request;
    c.request = null;
    if (req != null) {
      req.release();
    }
    c.fail(closeFailure != null ? new RpcException(closeFailure, why)
        : new RpcException(ErrorReason.NOT_SENT, "request not sent: " + why));
  }

  private boolean write(ClientCall c) {
    if (closed || !channel.isActive()) {
      notSent(c, closeReason);
      return false;
    }
    if (c.cancelled) {
      ByteBuf req = c.request;
      c.request = null;
      req.release();
      c.fail(new RpcException(ErrorReason.CANCELLED, "cancelled by the caller before it was sent"));
      return false;
    }
    long now = System.nanoTime();
    if (c.expired(now)) {
      ByteBuf req = c.request;
      c.request = null;
      req.release();
      c.fail(new RpcException(ErrorReason.DEADLINE_EXCEEDED,
          "deadline passed before the request was written"));
      return false;
    }
    ByteBuf req = c.request;
    c.request = null;
    int id = allocateId();
    c.requestId = id;
    req.setInt(Frame.OFF_REQUEST_ID, id);
    if (!c.method.oneWay) {
      pending.put(id, c);
      if (c.hasDeadline) {
        c.timer = channel.eventLoop().schedule(() -> onDeadline(c), c.deadlineNanos - now,
            TimeUnit.NANOSECONDS);
      }
    }
    unflushed.add(c);
    channel.write(req, channel.voidPromise());
    return true;
  }

  private void onDeadline(ClientCall c) {
    if (pending.get(c.requestId) != c) {
      return;
    }
    pending.remove(c.requestId);
    sendControl(Frame.FLAG_CANCEL, c.requestId);
    long budget = (c.deadlineNanos - c.startNanos) / 1_000_000;
    c.fail(new RpcException(ErrorReason.DEADLINE_EXCEEDED, "deadline of " + budget
        + " ms exceeded waiting for " + c.method.displayName));
    closeIfDrained();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    InboundFrame f = (InboundFrame) msg;
    if (f.has(Frame.FLAG_HEARTBEAT)) {
      if (!f.isResponse()) {
        sendControl(Frame.FLAG_HEARTBEAT | Frame.FLAG_RESPONSE, f.requestId);
      }
      f.release();
      return;
    }
    if (f.has(Frame.FLAG_GOAWAY)) {
      onGoAway(f);
      return;
    }
    answered = true;
    if ((f.flags & (Frame.FLAG_STREAM | Frame.FLAG_OPEN_STREAM)) != 0) {
      streams.onFrame(f);
      return;
    }
    if (!f.isResponse()) {
      unsolicitedAnswers.increment(); // servers do not call clients on this protocol
      f.release();
      return;
    }
    ClientCall c = pending.remove(f.requestId);
    if (c == null) {
      unsolicitedAnswers.increment(); // late answer after a deadline, or a bogus id
      f.release();
      return;
    }
    if (c.timer != null) {
      c.timer.cancel(false);
    }
    c.responseNanos = f.arrivalNanos;
    c.complete(f);
    closeIfDrained();
  }

  private void onGoAway(InboundFrame f) {
    try {
      goingAway = true;
      endpoint.onGoAway(this);
      if (f.status != 0) {
        ErrorBody.Info info = ErrorBody.read(f.body());
        closeReason = "server closed the connection: " + info.description();
        if (f.requestId == 0 && info.reason() == ErrorReason.TLS_HANDSHAKE_FAILED && !answered) {
          closeFailure = ErrorReason.TLS_HANDSHAKE_FAILED; // a TLS port refused plaintext
          closeReason = endpoint + ": " + info.description();
        }
        ClientCall c = f.requestId == 0 ? null : pending.remove(f.requestId);
        if (c != null) {
          if (c.timer != null) {
            c.timer.cancel(false);
          }
          c.fail(new RpcException(info.reason(), info.description()));
        } else if (f.requestId != 0) {
          streams.onConnectionError(f.requestId, info);
        }
        log.debug("connection error from {}: {}", endpoint, info.description());
        channel.close();
      } else {
        closeIfDrained();
      }
    } finally {
      f.release();
    }
  }

  private void closeIfDrained() {
    if (goingAway && pending.isEmpty() && streams.isEmpty() && channel.isActive()) {
      channel.close();
    }
  }

  /**
   * Whether the peer's TCP acknowledged bytes of ours within the last heartbeat interval while
   * more are in flight: it is alive and reading, only busy. Known with the epoll transport only
   * (from the kernel's TCP_INFO); with NIO, false.
   */
  private boolean peerAcknowledgesOurData() {
    if (channel instanceof EpollSocketChannel ec && ec.isActive()) {
      EpollTcpInfo info = ec.tcpInfo();
      return info.unacked() > 0 && info.lastAckRecv() < heartbeatMillis;
    }
    return false;
  }

  /** Bytes written to the channel that the socket has not taken yet. Event loop only. */
  private long unsentBytes() {
    ChannelOutboundBuffer b = channel.unsafe().outboundBuffer();
    return b == null ? 0 : b.totalPendingWriteBytes();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent e && e.state() == IdleState.READER_IDLE) {
      // fired after each heartbeat interval without data from the server: ping, and give up
      // after the third silent interval
      // a large request crawling out over a slow link gets no answer until it is all sent, and a
      // ping would wait behind it (and reach the server in a burst with the others): while the
      // peer takes our bytes, the link is alive and no ping is sent
      long unsent = unsentBytes();
      boolean busy = (unsent > 0 && unsent < unsentAtLastIdle) || peerAcknowledgesOurData();
      unsentAtLastIdle = unsent;
      if (busy) {
        silentIntervals = 0;
        return;
      }
      silentIntervals = e.isFirst() ? 1 : silentIntervals + 1;
      if (silentIntervals >= 3) {
        closeReason = "no data from " + endpoint + " for " + 3 * heartbeatMillis
            + " ms (3 heartbeats missed)";
        log.debug(closeReason);
        ctx.close();
      } else {
        sendControl(Frame.FLAG_HEARTBEAT, 0);
      }
    } else if (evt instanceof FrameDecoder.FrameTooLarge t && streams.contains(t.requestId())) {
      streams.tooLarge(t.requestId(), t.description());
    } else if (evt instanceof FrameDecoder.FrameTooLarge t) {
      ClientCall c = t.response() ? pending.remove(t.requestId()) : null;
      if (c != null) {
        if (c.timer != null) {
          c.timer.cancel(false);
        }
        c.fail(new RpcException(ErrorReason.PAYLOAD_TOO_LARGE, "the answer was refused: "
            + t.description() + " (client maxFrameBytes)"));
      }
    } else if (evt instanceof FrameDecoder.ProtocolViolation v) {
      closeReason = "bad frame from the server: " + v.cause().getMessage();
      log.warn("[COURIER-C01] {}: {}", endpoint, closeReason);
      ctx.close();
    } else {
      super.userEventTriggered(ctx, evt);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      out.resume();
      streams.onWritable();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    CallObserver o = endpoint.client().observer();
    if (o != null) {
      observedOpen = true;
      o.connectionOpened(CallObserver.Side.CLIENT);
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (observedOpen) {
      observedOpen = false;
      CallObserver o = endpoint.client().observer();
      if (o != null) {
        o.connectionClosed(CallObserver.Side.CLIENT);
      }
    }
    closed = true;
    if (!pending.isEmpty()) {
      String why = closeReason;
      for (ClientCall c : pending.values()) {
        if (c.timer != null) {
          c.timer.cancel(false);
        }
        c.fail(closeFailure != null ? new RpcException(closeFailure, why)
            : new RpcException(ErrorReason.CONNECTION_CLOSED, why
                + " before the answer came; the call may or may not have run"));
      }
      pending.clear();
    }
    unflushed.clear();
    streams.onClosed(closeReason);
    out.drainOnClose();
    endpoint.onClosed(this);
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    closeReason = "connection failed: " + cause;
    if (!answered && TlsContexts.isTlsFailure(cause)) {
      // with TLS 1.3 the server judges the client's certificate after the client's handshake
      // has ended: its refusal arrives here, and no call sent before it ran
      closeFailure = ErrorReason.TLS_HANDSHAKE_FAILED;
      closeReason = TlsContexts.describeClientFailure(endpoint.toString(), cause,
          endpoint.client().tlsConfig());
    }
    if (cause instanceof IOException || closeFailure != null) {
      log.debug("connection to {} failed: {}", endpoint, cause.toString());
    } else {
      log.warn("[COURIER-C02] unexpected error on connection to {}", endpoint, cause);
    }
    ctx.close();
  }
}
