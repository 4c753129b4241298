package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.FrameLimits;
import io.courier.internal.protocol.InboundFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The fuzz harness itself: valid inputs reach the methods and are answered, and each of its
 * checks fails when what it looks for happens (so a quiet fuzz run means something).
 */
class FuzzServerTest {

  private final FuzzServer server = new FuzzServer();

  private static byte[] seed(String method, String name) throws IOException {
    try (InputStream in = FuzzServerTest.class.getResourceAsStream(
        "ServerFuzzTestInputs/" + method + "/" + name)) {
      assertThat(in).as(method + "/" + name).isNotNull();
      return in.readAllBytes();
    }
  }

  @Test
  void aCourierCallIsAnsweredOk() throws Exception {
    FuzzServer.Answer answer = server.serve(seed("courierServer", "add-fory"));
    ByteBuf b = Unpooled.wrappedBuffer(answer.bytes());
    InboundFrame f = FrameCodec.decode(b, new FrameLimits(1 << 20, 8192));
    try {
      assertThat(f).isNotNull();
      assertThat(f.requestId).isEqualTo(1);
      assertThat(f.status).isZero();
      assertThat(f.has(Frame.FLAG_RESPONSE)).isTrue();
    } finally {
      f.release();
      b.release();
    }
  }

  @Test
  void aGrpcCallIsAnswered() throws Exception {
    FuzzServer.Answer answer = server.serve(ServerFuzzTest.H2_START, seed("grpcServer", "unary"));
    assertThat(new String(answer.bytes(), StandardCharsets.ISO_8859_1)).contains("echo:hello");
  }

  @Test
  void anHttpCallIsAnswered() throws Exception {
    FuzzServer.Answer answer = server.serve(seed("httpJson", "add-array"));
    String text = new String(answer.bytes(), StandardCharsets.UTF_8);
    assertThat(text).startsWith("HTTP/1.1 200 OK").endsWith("\r\n\r\n3");
  }

  @Test
  void aMalformedPercentEscapeInThePathIsAnswered400() {
    byte[] request = ("POST /fuzz.Shop/ech%zz HTTP/1.1\r\nHost: fuzz\r\n"
        + "Content-Type: application/json\r\nContent-Length: 6\r\n\r\n[\"hi\"]")
        .getBytes(StandardCharsets.UTF_8);
    String text = new String(server.serve(request).bytes(), StandardCharsets.UTF_8);
    assertThat(text).startsWith("HTTP/1.1 400 Bad Request")
        .contains("malformed percent-encoding in the request path");
  }

  @Test
  void anInternalErrorFailsTheInput() {
    server.dispatcher.internalError(new IllegalStateException("a bug"));
    assertThatThrownBy(server::checkNoInternalError).isInstanceOf(AssertionError.class)
        .hasMessageContaining("a bug");
  }

  @Test
  void aBufferStillHeldFailsTheInput() {
    FuzzServer.Tracking alloc = new FuzzServer.Tracking();
    ByteBuf held = alloc.directBuffer(16);
    assertThatThrownBy(alloc::checkReleased).isInstanceOf(AssertionError.class)
        .hasMessageContaining("still held");
    assertThat(held.refCnt()).isZero(); // released by the check, so the class does not leak
  }

  @Test
  void aBufferAboveTheLimitFailsTheInput() {
    FuzzServer.Tracking alloc = new FuzzServer.Tracking();
    assertThatThrownBy(() -> alloc.heapBuffer(FuzzServer.MAX_ALLOCATION + 1))
        .isInstanceOf(AssertionError.class).hasMessageContaining("was asked for");
  }

  @Test
  void serverFramesThatAreNotAnswersFailTheCourierTarget() {
    byte[] request = FuzzServer.frame(0, 1, 3, 5, 0, new byte[0]);
    assertThatThrownBy(() -> ServerFuzzTest.checkCourierFrames(request))
        .hasMessageContaining("neither a response nor a GOAWAY");
    byte[] cut = java.util.Arrays.copyOf(request, 20);
    assertThatThrownBy(() -> ServerFuzzTest.checkCourierFrames(cut))
        .hasMessageContaining("part of a frame");
  }
}
