package io.courier.transport.netty;

import io.courier.internal.protocol.Frame;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Hand-built frames over a raw socket, for tests that must send what no client would. */
final class RawFrames implements AutoCloseable {

  /** A frame as read back from the server. */
  record Reply(int flags, int serializer, int compressor, int status, int requestId, int wordA,
      int wordB, byte[] metadata, byte[] body) {

    boolean isGoAway() {
      return (flags & Frame.FLAG_GOAWAY) != 0;
    }

    /** The reason name of an error body. */
    String reason() {
      ByteBuffer b = ByteBuffer.wrap(body);
      byte[] r = new byte[b.get() & 0xFF];
      b.get(r);
      return new String(r, StandardCharsets.US_ASCII);
    }

    /** The description of an error body. */
    String description() {
      ByteBuffer b = ByteBuffer.wrap(body);
      b.position(1 + (b.get(0) & 0xFF));
      byte[] d = new byte[b.getShort() & 0xFFFF];
      b.get(d);
      return new String(d, StandardCharsets.UTF_8);
    }

    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  final Socket socket;
  private final DataInputStream in;

  RawFrames(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(5_000);
    socket.setTcpNoDelay(true);
    in = new DataInputStream(socket.getInputStream());
  }

  /** A frame with every header field given. */
  static byte[] frame(int version, int flags, int serializer, int compressor, int status,
      int reserved, int requestId, int wordA, int wordB, byte[] metadata, byte[] body,
      long declaredBodyLength) {
    ByteBuffer b = ByteBuffer.allocate(Frame.HEADER_LENGTH + metadata.length + body.length);
    b.putShort((short) Frame.MAGIC).put((byte) version).put((byte) flags).put((byte) serializer)
        .put((byte) compressor).put((byte) status).put((byte) reserved).putInt(requestId)
        .putInt(wordA).putInt(wordB).putShort((short) metadata.length)
        .putInt((int) declaredBodyLength).put(metadata).put(body);
    return b.array();
  }

  /** A body-less frame (heartbeat, cancel, a stray response). */
  static byte[] control(int flags, int requestId) {
    return frame(Frame.VERSION, flags, 0, 0, 0, 0, requestId, 0, 0, new byte[0], new byte[0], 0);
  }

  /** A request with a JSON body (serializer 3). */
  static byte[] request(int requestId, int callId, String json) {
    return request(0, 3, requestId, callId, json.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] request(int flags, int serializer, int requestId, int callId, byte[] body) {
    return frame(Frame.VERSION, flags, serializer, 0, 0, 0, requestId, callId, 5_000,
        new byte[0], body, body.length);
  }

  void send(byte[]... frames) throws IOException {
    for (byte[] f : frames) {
      socket.getOutputStream().write(f);
    }
    socket.getOutputStream().flush();
  }

  Reply read() throws IOException {
    byte[] h = new byte[Frame.HEADER_LENGTH];
    in.readFully(h);
    ByteBuffer b = ByteBuffer.wrap(h);
    if ((b.getShort() & 0xFFFF) != Frame.MAGIC) {
      throw new IOException("bad magic from server");
    }
    b.get(); // version
    int flags = b.get() & 0xFF;
    int ser = b.get() & 0xFF;
    int comp = b.get() & 0xFF;
    int status = b.get() & 0xFF;
    b.get();
    int id = b.getInt();
    int a = b.getInt();
    int w = b.getInt();
    byte[] meta = new byte[b.getShort() & 0xFFFF];
    byte[] body = new byte[b.getInt()];
    in.readFully(meta);
    in.readFully(body);
    return new Reply(flags, ser, comp, status, id, a, w, meta, body);
  }

  /** Reads frames until the server's GOAWAY and returns it. */
  Reply readUntilGoAway() throws IOException {
    Reply r;
    do {
      r = read();
    } while (!r.isGoAway());
    return r;
  }

  /** Whether the server closed the connection (EOF within the socket timeout). */
  boolean closedByServer() throws IOException {
    try {
      while (true) {
        int b = in.read();
        if (b < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
