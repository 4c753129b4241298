package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.core.CallIds;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.Frame;
import io.courier.server.CourierServer;
import io.courier.stream.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stream frames byte by byte, as docs/protocol.md describes them, and what the server does with
 * stream frames no Courier client sends: a clear error on the stream, and the connection serves on.
 */
class StreamWireTest {

  static final Class<?>[] BIDI = {StreamObserver.class};
  static final int ECHO = CallIds.callId("test.Streams", "echo", BIDI);
  static final int SINK = CallIds.callId("test.Streams", "slowSink", BIDI);
  static final int COUNT = CallIds.callId("test.Streams", "count",
      new Class<?>[] {int.class, StreamObserver.class});
  static final int PING = CallIds.callId("test.Streams", "ping", new Class<?>[] {int.class});
  static final int RESPONSE_STREAM = Frame.FLAG_RESPONSE | Frame.FLAG_STREAM;

  static CourierServer server;

  @BeforeAll
  static void start() {
    server = CourierServer.builder().host("127.0.0.1").serializers("json")
        .service(StreamService.class, new StreamService.Impl()).build().start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static byte[] open(int id, int callId, String json) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    return RawFrames.frame(Frame.VERSION, Frame.FLAG_STREAM | Frame.FLAG_OPEN_STREAM, 3, 0, 0, 0,
        id, callId, 5_000, new byte[0], body, body.length);
  }

  static byte[] streamFrame(int flags, int id, int type, int wordB, String json) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    return RawFrames.frame(Frame.VERSION, Frame.FLAG_STREAM | flags, json.isEmpty() ? 0 : 3, 0, 0,
        0, id, type, wordB, new byte[0], body, body.length);
  }

  static byte[] message(int id, String json) {
    return streamFrame(0, id, Frame.STREAM_MESSAGE, 0, json);
  }

  static byte[] window(int id, int n) {
    return streamFrame(0, id, Frame.STREAM_WINDOW, n, "");
  }

  static byte[] end(int id) {
    return streamFrame(0, id, Frame.STREAM_END, 0, "");
  }

  private static void assertWindow(RawFrames.Reply r, int id, int n) {
    assertThat(r.flags()).isEqualTo(RESPONSE_STREAM);
    assertThat(r.requestId()).isEqualTo(id);
    assertThat(r.wordA()).isEqualTo(Frame.STREAM_WINDOW);
    assertThat(r.wordB()).isEqualTo(n);
  }

  private static void assertStreamError(RawFrames.Reply r, int flags, int id, int status,
      String reason, String inDescription) {
    assertThat(r.flags()).isEqualTo(flags);
    assertThat(r.requestId()).isEqualTo(id);
    assertThat(r.status()).isEqualTo(status);
    assertThat(r.reason()).isEqualTo(reason);
    assertThat(r.description()).contains(inDescription);
  }

  private static void assertServes(RawFrames c, int id) throws IOException {
    c.send(RawFrames.request(id, PING, "[41]"));
    RawFrames.Reply r = c.read();
    assertThat(r.requestId()).isEqualTo(id);
    assertThat(r.status()).isZero();
    assertThat(r.bodyText()).isEqualTo("42");
  }

  @Test
  void bidirectionalStreamFrameByFrame() throws IOException {
    try (RawFrames c = new RawFrames(server.port())) {
      c.send(open(1, ECHO, ""), window(1, 4));
      assertWindow(c.read(), 1, StreamCall.WINDOW);
      c.send(message(1, "\"hi\""));
      RawFrames.Reply m = c.read();
      assertThat(m.flags()).isEqualTo(RESPONSE_STREAM);
      assertThat(m.wordA()).isEqualTo(Frame.STREAM_MESSAGE);
      assertThat(m.serializer()).isEqualTo(3);
      assertThat(m.bodyText()).isEqualTo("\"echo:hi\"");
      c.send(end(1));
      RawFrames.Reply e = c.read();
      assertThat(e.flags()).isEqualTo(RESPONSE_STREAM);
      assertThat(e.wordA()).isEqualTo(Frame.STREAM_END);
      assertThat(e.status()).isZero();
      assertThat(e.body()).isEmpty();
    }
  }

  @Test
  void serverStreamingSendsOnlyWhatWasGranted() throws IOException {
    try (RawFrames c = new RawFrames(server.port())) {
      c.send(open(1, COUNT, "[5]"), window(1, 2));
      assertThat(c.read().bodyText()).isEqualTo("0");
      assertThat(c.read().bodyText()).isEqualTo("1");
      assertServes(c, 2); // nothing more came: the next frame is the unary answer
      c.send(window(1, 10));
      assertThat(c.read().bodyText()).isEqualTo("2");
      assertThat(c.read().bodyText()).isEqualTo("3");
      assertThat(c.read().bodyText()).isEqualTo("4");
      RawFrames.Reply e = c.read();
      assertThat(e.wordA()).isEqualTo(Frame.STREAM_END);
      assertThat(e.status()).isZero();
    }
  }

  @Test
  void messagesBeyondTheGrantCancelTheStreamOnly() throws IOException {
    try (RawFrames c = new RawFrames(server.port())) {
      c.send(open(3, SINK, ""), window(3, 16));
      assertWindow(c.read(), 3, StreamCall.WINDOW);
      for (int i = 0; i <= StreamCall.WINDOW; i++) {
        c.send(message(3, String.valueOf(i)));
      }
      assertStreamError(c.read(), RESPONSE_STREAM | Frame.FLAG_CANCEL, 3, 13, "PROTOCOL_ERROR",
          "a message beyond the messages granted");
      assertServes(c, 4);
    }
  }

  @Test
  void badWindowsAndUnknownFrameTypesCancelTheStreamOnly() throws IOException {
    try (RawFrames c = new RawFrames(server.port())) {
      c.send(open(5, ECHO, ""));
      assertWindow(c.read(), 5, StreamCall.WINDOW);
      c.send(window(5, 0));
      assertStreamError(c.read(), RESPONSE_STREAM | Frame.FLAG_CANCEL, 5, 13, "PROTOCOL_ERROR",
          "a window update of 0");
      c.send(open(7, ECHO, ""));
      assertWindow(c.read(), 7, StreamCall.WINDOW);
      c.send(streamFrame(0, 7, 9, 0, ""));
      assertStreamError(c.read(), RESPONSE_STREAM | Frame.FLAG_CANCEL, 7, 13, "PROTOCOL_ERROR",
          "unknown stream frame type 9");
      c.send(open(9, ECHO, ""));
      assertWindow(c.read(), 9, StreamCall.WINDOW);
      c.send(end(9));
      RawFrames.Reply first = c.read();
      assertThat(first.wordA()).isEqualTo(Frame.STREAM_END); // the echo ends with the client
      assertThat(first.status()).isZero();
      c.send(end(9)); // reaches a stream that has ended: dropped
      assertServes(c, 10);
    }
  }

  /**
   * A server that predates streams refuses the new flag bits as version 1 always did: a GOAWAY
   * error on the frame's request id, then close. The client stream must fail with it at once.
   */
  @Test
  void aServerThatPredatesStreamsGivesAClearError() throws Exception {
    try (ServerSocket old = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread fake = new Thread(() -> {
        try (Socket s = old.accept()) {
          DataInputStream in = new DataInputStream(s.getInputStream());
          byte[] header = new byte[Frame.HEADER_LENGTH];
          in.readFully(header);
          int flags = header[Frame.OFF_FLAGS] & 0xFF;
          int id = ByteBuffer.wrap(header).getInt(Frame.OFF_REQUEST_ID);
          ByteBuf goAway = FrameCodec.error(UnpooledByteBufAllocator.DEFAULT, Frame.FLAG_GOAWAY,
              id, ErrorReason.PROTOCOL_ERROR, "reserved flag bits set: 0x"
                  + Integer.toHexString(flags));
          byte[] bytes = ByteBufUtil.getBytes(goAway);
          goAway.release();
          s.getOutputStream().write(bytes);
          s.getOutputStream().flush();
          s.getInputStream().read(); // until the client closes
        } catch (IOException ignored) {
          // the client went away
        }
      });
      fake.start();
      try (CourierClient c = CourierClient.builder()
          .address("127.0.0.1:" + old.getLocalPort()).build()) {
        StreamingTest.Recorder<String> r = new StreamingTest.Recorder<>();
        c.stub(StreamService.class).echo(r);
        RpcException e = r.awaitError();
        assertThat(e.reason()).isEqualTo(ErrorReason.PROTOCOL_ERROR);
        assertThat(e.getMessage()).contains("reserved flag bits set: 0x60")
            .contains("predates streaming");
      }
      fake.join(5_000);
    }
  }

  @Test
  void refusedOpensAreAnsweredOnTheStream() throws IOException {
    int end = RESPONSE_STREAM;
    try (RawFrames c = new RawFrames(server.port())) {
      c.send(RawFrames.frame(Frame.VERSION, Frame.FLAG_STREAM | Frame.FLAG_OPEN_STREAM
          | Frame.FLAG_ONE_WAY, 3, 0, 0, 0, 1, ECHO, 0, new byte[0], new byte[0], 0));
      assertStreamError(c.read(), end, 1, 13, "PROTOCOL_ERROR", "cannot open a stream");
      c.send(RawFrames.frame(Frame.VERSION, Frame.FLAG_OPEN_STREAM, 3, 0, 0, 0, 11, ECHO, 0,
          new byte[0], new byte[0], 0));
      assertStreamError(c.read(), end, 11, 13, "PROTOCOL_ERROR", "without STREAM");
      c.send(open(2, PING, "[1]"));
      assertStreamError(c.read(), end, 2, 12, "UNKNOWN_METHOD", "is not a streaming method");
      c.send(open(3, 0x12345678, ""));
      assertStreamError(c.read(), end, 3, 12, "UNKNOWN_METHOD", "no method with call ID");
      c.send(RawFrames.request(4, ECHO, "[]"));
      assertStreamError(c.read(), Frame.FLAG_RESPONSE, 4, 12, "UNKNOWN_METHOD",
          "must be opened as a stream");
      c.send(open(5, COUNT, "[\"not a number\"]"), window(5, 16));
      RawFrames.Reply bad = c.read();
      assertThat(bad.wordA()).isEqualTo(Frame.STREAM_END);
      assertThat(bad.status()).isEqualTo(3);
      assertThat(bad.reason()).isEqualTo("BAD_ARGUMENTS");
      c.send(message(77, "1"), window(78, 3)); // frames of streams that do not exist: dropped
      assertServes(c, 6);
    }
  }
}
