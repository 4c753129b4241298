package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.transport.netty.ProtocolDetector.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The first bytes of a connection and the protocol they are taken for. */
class ProtocolDetectorTest {

  private static Protocol detect(byte[] bytes) {
    ByteBuf b = Unpooled.wrappedBuffer(bytes);
    try {
      Protocol p = ProtocolDetector.detect(b);
      assertThat(b.readerIndex()).isZero(); // never consumes
      return p;
    } finally {
      b.release();
    }
  }

  private static Protocol detect(String ascii) {
    return detect(ascii.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void courierMagicIsDecidedByTheFirstByte() {
    assertThat(detect(new byte[] {(byte) 0xC0})).isEqualTo(Protocol.COURIER);
    assertThat(detect(new byte[] {(byte) 0xC0, 0x1E, 1, 0})).isEqualTo(Protocol.COURIER);
  }

  @Test
  void http2PrefaceNeedsAllOfItsBytes() {
    String preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    for (int i = 1; i < preface.length(); i++) {
      assertThat(detect(preface.substring(0, i))).as("%d bytes", i)
          .isEqualTo(Protocol.UNDECIDED);
    }
    assertThat(detect(preface)).isEqualTo(Protocol.GRPC);
    assertThat(detect(preface + "\0\0\0\4")).isEqualTo(Protocol.GRPC);
  }

  @Test
  void http1RequestLines() {
    for (String m : new String[] {"GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH"}) {
      assertThat(detect(m + " /x HTTP/1.1\r\n")).as(m).isEqualTo(Protocol.HTTP1);
      assertThat(detect(m)).as(m + " without the space yet").isEqualTo(Protocol.UNDECIDED);
    }
  }

  @Test
  void anythingElseGoesToCourier() {
    assertThat(detect(new byte[] {0x16, 0x03, 0x01})).isEqualTo(Protocol.COURIER); // TLS
    assertThat(detect("PRI * HTTP/1.1\r\n")).isEqualTo(Protocol.COURIER);
    assertThat(detect("FETCH / HTTP/1.1")).isEqualTo(Protocol.COURIER);
    assertThat(detect("GETTINGLONG")).isEqualTo(Protocol.COURIER);
    assertThat(detect("get / HTTP/1.1")).isEqualTo(Protocol.COURIER);
    assertThat(detect(new byte[0])).isEqualTo(Protocol.UNDECIDED);
  }
}
