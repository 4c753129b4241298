package io.courier.internal.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.spi.InMemoryOutput;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BodiesTest {

  @Test
  void smallBodiesStayUncompressedLargeOnesAreGzipped() throws Exception {
    GzipCompressor gzip = new GzipCompressor();
    ByteBuf small = Unpooled.buffer();
    ByteBuf large = Unpooled.buffer();
    try {
      assertThat(Bodies.write(small, out -> out.write("hi".getBytes()), gzip, 1024)).isZero();
      assertThat(small.readableBytes()).isEqualTo(2);
      String text = "courier ".repeat(1000);
      assertThat(Bodies.write(large, out -> out.write(text.getBytes()), gzip, 1024)).isEqualTo(1);
      assertThat(large.readableBytes()).isLessThan(200);
      try (InputStream in = Bodies.open(large, 1, 1 << 20)) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(text);
      }
    } finally {
      small.release();
      large.release();
    }
  }

  @Test
  void serializersMayWriteIntoTheFrameInPlace() throws Exception {
    ByteBuf frame = Unpooled.directBuffer(16);
    try {
      frame.writeBytes(new byte[] {9, 9});
      int compressor = Bodies.write(frame, out -> {
        InMemoryOutput mem = (InMemoryOutput) out;
        ByteBuffer view = mem.reserve(10_000);
        assertThat(view.remaining()).isGreaterThanOrEqualTo(10_000);
        for (int i = 0; i < 10_000; i++) {
          view.put(i, (byte) i);
        }
        assertThatThrownBy(() -> mem.commit(view.remaining() + 1))
            .isInstanceOf(IllegalArgumentException.class);
        mem.commit(10_000);
        out.write(7); // the stream goes on after what was committed
      }, null, 0);
      assertThat(compressor).isZero();
      assertThat(frame.readableBytes()).isEqualTo(2 + 10_000 + 1);
      assertThat(frame.getByte(2 + 300)).isEqualTo((byte) 300);
      assertThat(frame.getByte(2 + 10_000)).isEqualTo((byte) 7);
      assertThatThrownBy(() -> Bodies.write(frame, out -> ((InMemoryOutput) out).reserve(-1),
          null, 0)).isInstanceOf(IllegalArgumentException.class);
    } finally {
      frame.release();
    }
  }

  @Test
  void decompressionStopsAtTheLimit() throws Exception {
    ByteBuf bomb = Unpooled.buffer();
    try {
      byte[] zeros = new byte[1 << 20];
      Bodies.write(bomb, out -> {
        for (int i = 0; i < 16; i++) {
          out.write(zeros);
        }
      }, new GzipCompressor(), 1);
      assertThat(bomb.readableBytes()).isLessThan(64 * 1024);
      assertThatThrownBy(() -> {
        try (InputStream in = Bodies.open(bomb, 1, 1 << 20)) {
          in.readAllBytes();
        }
      }).isInstanceOf(RpcException.class)
          .satisfies(e -> assertThat(((RpcException) e).reason())
              .isEqualTo(ErrorReason.PAYLOAD_TOO_LARGE))
          .hasMessageContaining("decompressed body exceeds the limit of 1048576 bytes");
    } finally {
      bomb.release();
    }
  }

  @Test
  void unknownCompressorIsNamed() {
    ByteBuf b = Unpooled.buffer();
    try {
      assertThatThrownBy(() -> Bodies.open(b, 77, 100))
          .hasMessageContaining("compressor id 77 is not available here");
    } finally {
      b.release();
    }
  }
}
