package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.auth.Identity;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.server.ServerMethod;
import io.courier.spi.CallTracer;
import io.courier.spi.Serializer;
import io.netty.channel.Channel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The streaming calls open on one server connection: routes stream frames to them by request
 * id, opens new ones once the connection has admitted them (the same checks as a unary request),
 * and ends them all when the connection closes. Frames arrive on the event loop; streams leave
 * the table from any thread when they end.
 */
final class ServerStreams {

  private static final int NOT_ON_STREAMS =
      Frame.FLAG_ONE_WAY | Frame.FLAG_HEARTBEAT | Frame.FLAG_GOAWAY;

  private final ServerConnectionHandler connection;
  private final ServerDispatcher dispatcher;
  private final Map<Integer, ServerStream> open = new ConcurrentHashMap<>();

  ServerStreams(ServerConnectionHandler connection, ServerDispatcher dispatcher) {
    this.connection = connection;
    this.dispatcher = dispatcher;
  }

  /** Whether a stream has this id; cheap when no stream is open (the unary call path). */
  boolean contains(int requestId) {
    return !open.isEmpty() && open.containsKey(requestId);
  }

  int size() {
    return open.size();
  }

  /**
   * Handles a frame with {@link Frame#FLAG_STREAM} or {@link Frame#FLAG_OPEN_STREAM}; returns true when the frame was handed on
   * (the caller must not release it). Event loop.
   */
  boolean onFrame(InboundFrame f) {
    int id = f.requestId;
    if (!f.has(Frame.FLAG_STREAM)) {
      connection.rejectStream(id, ErrorReason.PROTOCOL_ERROR,
          "OPEN_STREAM (0x40) without STREAM (0x20)");
      return false;
    }
    if (f.has(Frame.FLAG_OPEN_STREAM)) {
      if ((f.flags & (NOT_ON_STREAMS | Frame.FLAG_CANCEL)) != 0) {
        connection.rejectStream(id, ErrorReason.PROTOCOL_ERROR, "flags 0x"
            + Integer.toHexString(f.flags) + " cannot open a stream (ONE_WAY, HEARTBEAT, CANCEL"
            + " and GOAWAY are not stream flags)");
        return false;
      }
      return connection.onRequest(f);
    }
    ServerStream s = open.get(id);
    if (f.has(Frame.FLAG_CANCEL)) {
      if (!connection.cancelFlood(f) && s != null) {
        s.abort(new RpcException(ErrorReason.CANCELLED, "cancelled by the client"), false);
      }
      return false;
    }
    if ((f.flags & NOT_ON_STREAMS) != 0) {
      String what = "flags 0x" + Integer.toHexString(f.flags) + " on a stream frame";
      if (s != null) {
        s.protocolError(what);
      } else {
        connection.rejectStream(id, ErrorReason.PROTOCOL_ERROR, what);
      }
      return false;
    }
    if (s == null) {
      // a frame the client sent before it learnt that the stream ended here
      dispatcher.unsolicitedFrames.increment();
      return false;
    }
    switch (f.wordA) {
      case Frame.STREAM_MESSAGE -> {
        s.onMessage(f);
        return true;
      }
      case Frame.STREAM_WINDOW -> s.onWindow(f.wordB);
      case Frame.STREAM_END -> s.onPeerHalfClose();
      default -> s.protocolError("unknown stream frame type " + f.wordA
          + " (expected: 1 message, 2 window, 3 end)");
    }
    return false;
  }

  /** Opens an admitted stream; it owns {@code f} from now on. Event loop. */
  void start(ServerMethod method, Serializer serializer, InboundFrame f, long timeoutMillis,
      Identity identity, java.util.Map<String, String> metadata) {
    Channel ch = connection.channel();
    ServerStream s = new ServerStream(this, ch, connection.config(), method, serializer, f,
        timeoutMillis);
    s.identity = identity;
    CallTracer tracer = dispatcher.tracer;
    if (tracer != null) {
      s.span = tracer.startServer(CallTracer.Protocol.COURIER,
          method.descriptor().serviceName(), method.descriptor().name(), metadata::get,
          ch.localAddress(), ch.remoteAddress());
    }
    ServerObservers observers = dispatcher.observers;
    if (observers != null && (s.observer = observers.courier(method)) != null) {
      s.observer.started();
    }
    open.put(f.requestId, s);
    dispatcher.inFlight.incrementAndGet();
    s.start();
  }

  /** A frame of an open stream was too large to read: the stream is cancelled. */
  void tooLarge(int requestId, String description) {
    ServerStream s = open.get(requestId);
    if (s != null) {
      s.abort(new RpcException(ErrorReason.PAYLOAD_TOO_LARGE, description), true);
    }
  }

  void write(WriteQueue.Command command) {
    connection.write(command);
  }

  void remove(ServerStream s) {
    open.remove(s.requestId, s);
  }

  /** A stream's last frame is out (or it was cancelled): it no longer holds up draining. */
  void released(ServerMethod method) {
    dispatcher.admission.release(method, 0, false);
    dispatcher.inFlight.decrementAndGet();
  }

  /** The connection became writable: producers waiting on it may go on. */
  void onWritable() {
    for (ServerStream s : open.values()) {
      s.onWritable();
    }
  }

  /** The connection is gone: every open stream is cancelled. */
  void onClosed() {
    for (ServerStream s : open.values()) {
      s.abort(new RpcException(ErrorReason.CONNECTION_CLOSED,
          "the connection closed during the stream"), false);
    }
  }
}
