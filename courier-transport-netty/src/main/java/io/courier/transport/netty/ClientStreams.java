package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.internal.protocol.ErrorBody;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.InboundFrame;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The streaming calls open on one client connection: routes the server's stream frames to them
 * by request id, and fails them all when the connection closes. Frames arrive on the event loop;
 * streams leave the table from any thread when they end.
 */
final class ClientStreams {

  private final ClientConnectionHandler connection;
  private final Map<Integer, ClientStream> open = new ConcurrentHashMap<>();

  ClientStreams(ClientConnectionHandler connection) {
    this.connection = connection;
  }

  /** Whether a stream has this id; cheap when no stream is open (the unary call path). */
  boolean contains(int requestId) {
    return !open.isEmpty() && open.containsKey(requestId);
  }

  boolean isEmpty() {
    return open.isEmpty();
  }

  void put(int requestId, ClientStream s) {
    open.put(requestId, s);
  }

  void remove(int requestId, ClientStream s) {
    open.remove(requestId, s);
  }

  /**
   * Handles a frame with {@link Frame#FLAG_STREAM} or {@link Frame#FLAG_OPEN_STREAM}; takes
   * ownership of it. Event loop.
   */
  void onFrame(InboundFrame f) {
    ClientStream s = f.isResponse() && f.has(Frame.FLAG_STREAM) ? open.get(f.requestId) : null;
    if (s == null) {
      connection.unsolicitedAnswers.increment(); // a server never opens streams; or a late frame
      f.release();
      return;
    }
    try {
      if (f.has(Frame.FLAG_CANCEL)) {
        s.abort(f.status == 0
            ? new RpcException(ErrorReason.CANCELLED, "cancelled by the server")
            : error(f, s), false);
        return;
      }
      if ((f.flags & (Frame.FLAG_ONE_WAY | Frame.FLAG_HEARTBEAT | Frame.FLAG_OPEN_STREAM)) != 0) {
        s.protocolError("flags 0x" + Integer.toHexString(f.flags) + " on a stream frame");
        return;
      }
      switch (f.wordA) {
        case Frame.STREAM_MESSAGE -> {
          InboundFrame taken = f;
          f = null;
          s.onMessage(taken);
        }
        case Frame.STREAM_WINDOW -> s.onWindow(f.wordB);
        case Frame.STREAM_END -> s.onPeerEnd(f.status == 0 ? null : error(f, s));
        default -> s.protocolError("unknown stream frame type " + f.wordA
            + " (expected: 1 message, 2 window, 3 end)");
      }
    } finally {
      if (f != null) {
        f.release();
      }
    }
  }

  private RpcException error(InboundFrame f, ClientStream s) {
    ErrorBody.Info info = ErrorBody.read(f.body());
    String description = info.description();
    if (info.reason() == ErrorReason.UNKNOWN_METHOD) {
      description = s.displayName + " is not served by " + connection.endpointName() + ": "
          + description;
    }
    return new RpcException(Status.Code.of(f.status).toStatus().withDescription(description),
        info.reason(), info.remoteClass(), info.remoteStack(), connection.endpointName(), 1, null,
        null);
  }

  /** The server closed the connection naming this request id: that stream fails with why. */
  void onConnectionError(int requestId, ErrorBody.Info info) {
    ClientStream s = open.get(requestId);
    if (s != null) {
      String hint = info.reason() == ErrorReason.PROTOCOL_ERROR
          ? " (a server that predates streaming over the Courier protocol refuses its frames)"
          : "";
      s.abort(new RpcException(info.reason(), s.displayName + ": the server closed the"
          + " connection: " + info.description() + hint), false);
    }
  }

  /** A frame of an open stream was too large to read: the stream is cancelled. */
  void tooLarge(int requestId, String description) {
    ClientStream s = open.get(requestId);
    if (s != null) {
      s.abort(new RpcException(ErrorReason.PAYLOAD_TOO_LARGE, "a message was refused: "
          + description + " (client maxFrameBytes)"), true);
    }
  }

  void onWritable() {
    for (ClientStream s : open.values()) {
      s.onWritable();
    }
  }

  /** The connection is gone: every open stream fails with CONNECTION_CLOSED. */
  void onClosed(String why) {
    for (ClientStream s : open.values()) {
      s.abort(new RpcException(ErrorReason.CONNECTION_CLOSED, s.displayName + ": " + why
          + " during the stream"), false);
    }
    open.clear();
  }
}
