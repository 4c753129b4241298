package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.courier.ErrorReason;
import io.courier.internal.protocol.ErrorBody;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.FrameLimits;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.protocol.Metadata;
import io.courier.internal.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The frame codec on an EmbeddedChannel: framing, cumulation, limits, errors. */
class FrameDecoderTest {

  /** Records the decoder's user events. */
  private static final class Events extends ChannelInboundHandlerAdapter {
    final List<Object> seen = new ArrayList<>();

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      seen.add(evt);
    }
  }

  private Events events;

  private EmbeddedChannel channel(int maxBody) {
    events = new Events();
    return new EmbeddedChannel(new FrameDecoder(new FrameLimits(maxBody, 8192), 0), events);
  }

  private static ByteBuf request(int id, String body, Map<String, String> metadata) {
    ByteBuf buf = FrameCodec.start(ByteBufAllocator.DEFAULT, 64, Frame.FLAG_ONE_WAY, 3, 1, 0, id,
        0x1234, 250);
    int meta = Metadata.write(buf, metadata);
    buf.writeCharSequence(body, StandardCharsets.UTF_8);
    FrameCodec.finish(buf, 0, meta);
    return buf;
  }

  @Test
  void roundTripsEveryHeaderFieldMetadataAndBody() throws Exception {
    EmbeddedChannel ch = channel(1024);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("trace-id", "abc");
    meta.put("tenant", "ünïcode");
    ch.writeInbound(request(42, "[1,2]", meta));
    InboundFrame f = ch.readInbound();
    try {
      assertThat(f.flags).isEqualTo(Frame.FLAG_ONE_WAY);
      assertThat(f.serializerId).isEqualTo(3);
      assertThat(f.compressorId).isEqualTo(1);
      assertThat(f.requestId).isEqualTo(42);
      assertThat(f.wordA).isEqualTo(0x1234);
      assertThat(f.wordB).isEqualTo(250);
      assertThat(Metadata.read(f.metadata(), 42)).isEqualTo(meta);
      assertThat(f.body().toString(StandardCharsets.UTF_8)).isEqualTo("[1,2]");
    } finally {
      f.release();
    }
    assertFalse(ch.finish());
  }

  @Test
  void oneBytePerReadAndManyFramesPerRead() {
    EmbeddedChannel ch = channel(1024);
    ByteBuf one = request(1, "[1,2]", Map.of());
    while (one.isReadable()) {
      ch.writeInbound(one.readRetainedSlice(1));
    }
    one.release();
    InboundFrame f = ch.readInbound();
    assertThat(f.requestId).isEqualTo(1);
    f.release();
    ByteBuf many = Unpooled.buffer();
    for (int i = 1; i <= 100; i++) {
      ByteBuf r = request(i, "[" + i + "]", Map.of());
      many.writeBytes(r);
      r.release();
    }
    ch.writeInbound(many);
    for (int i = 1; i <= 100; i++) {
      InboundFrame g = ch.readInbound();
      assertThat(g.requestId).isEqualTo(i);
      assertThat(g.body().toString(StandardCharsets.UTF_8)).isEqualTo("[" + i + "]");
      g.release();
    }
    assertThat((Object) ch.readInbound()).isNull();
    assertFalse(ch.finish());
  }

  @Test
  void badMagicIsAViolationAndNothingIsDecoded() {
    EmbeddedChannel ch = channel(1024);
    ch.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII));
    assertThat((Object) ch.readInbound()).isNull();
    assertThat(events.seen).singleElement().isInstanceOf(FrameDecoder.ProtocolViolation.class);
    // what follows is discarded, even a valid frame
    ch.writeInbound(request(1, "[]", Map.of()));
    assertThat((Object) ch.readInbound()).isNull();
    assertFalse(ch.finish());
  }

  @Test
  void versionFlagsAndReservedByteAreChecked() {
    for (int[] patch : new int[][] {{Frame.OFF_VERSION, 2}, {Frame.OFF_FLAGS, 0x80},
        {Frame.OFF_RESERVED, 1}}) {
      EmbeddedChannel ch = channel(1024);
      ByteBuf f = request(1, "[]", Map.of());
      f.setByte(patch[0], patch[1]);
      ch.writeInbound(f);
      assertThat((Object) ch.readInbound()).isNull();
      assertThat(events.seen).singleElement()
          .isInstanceOfSatisfying(FrameDecoder.ProtocolViolation.class,
              v -> assertThat(v.cause().reason()).isEqualTo(ErrorReason.PROTOCOL_ERROR));
      assertFalse(ch.finish());
    }
  }

  @Test
  void oversizeBodyIsSkippedAsItArrivesAndTheNextFrameStillDecodes() {
    EmbeddedChannel ch = channel(16);
    ByteBuf big = request(7, "x".repeat(100), Map.of());
    ch.writeInbound(big.readRetainedSlice(40)); // header and part of the body
    assertThat(events.seen).singleElement()
        .isInstanceOfSatisfying(FrameDecoder.FrameTooLarge.class, t -> {
          assertThat(t.requestId()).isEqualTo(7);
          assertThat(t.description()).contains("frame body of 100 bytes exceeds the limit of 16");
        });
    ch.writeInbound(big); // the rest, skipped
    ch.writeInbound(request(8, "ok", Map.of()));
    InboundFrame next = ch.readInbound();
    assertThat(next.requestId).isEqualTo(8);
    next.release();
    assertFalse(ch.finish());
  }

  @Test
  void absurdLengthIsAViolation() {
    EmbeddedChannel ch = channel(1024);
    ByteBuf f = request(3, "", Map.of());
    f.setInt(Frame.OFF_BODY_LENGTH, 0xFFFFFFFF);
    ch.writeInbound(f);
    assertThat(events.seen).singleElement()
        .isInstanceOfSatisfying(FrameDecoder.ProtocolViolation.class, v -> {
          assertThat(v.cause().reason()).isEqualTo(ErrorReason.PAYLOAD_TOO_LARGE);
          assertThat(v.cause().requestId()).isEqualTo(3);
        });
    assertFalse(ch.finish());
  }

  @Test
  void randomBytesYieldFramesOrViolationsNeverExceptionsOrLeaks() {
    java.util.Random random = new java.util.Random(11);
    for (int i = 0; i < 5_000; i++) {
      EmbeddedChannel ch = channel(4096);
      byte[] junk = new byte[random.nextInt(200)];
      random.nextBytes(junk);
      if (random.nextBoolean() && junk.length >= 3) { // often start like a real frame
        junk[0] = (byte) 0xC0;
        junk[1] = 0x1E;
        junk[2] = 1;
      }
      ch.writeInbound(Unpooled.wrappedBuffer(junk));
      for (Object o; (o = ch.readInbound()) != null; ) {
        ((InboundFrame) o).release();
      }
      for (Object e : events.seen) {
        assertThat(e).isInstanceOfAny(FrameDecoder.ProtocolViolation.class,
            FrameDecoder.FrameTooLarge.class);
      }
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void truncatedFrameThenCloseEmitsNothingAndLeaksNothing() {
    EmbeddedChannel ch = channel(1024);
    ByteBuf f = request(1, "[1,2,3]", Map.of());
    ch.writeInbound(f.readRetainedSlice(f.readableBytes() - 3));
    f.release();
    assertThat((Object) ch.readInbound()).isNull();
    assertFalse(ch.finish());
  }

  @Test
  void malformedMetadataIsRefused() {
    ByteBuf overrun = Unpooled.buffer().writeByte(5).writeBytes("ab".getBytes());
    ByteBuf badKey = Unpooled.buffer().writeByte(1).writeByte('A').writeShort(0);
    ByteBuf badUtf8 = Unpooled.buffer().writeByte(1).writeByte('k').writeShort(2)
        .writeByte(0xC3).writeByte(0x28);
    try {
      assertThatThrownBy(() -> Metadata.read(overrun, 1)).isInstanceOf(ProtocolException.class)
          .hasMessageContaining("overruns");
      assertThatThrownBy(() -> Metadata.read(badKey, 1)).hasMessageContaining("metadata key");
      assertThatThrownBy(() -> Metadata.read(badUtf8, 1)).hasMessageContaining("UTF-8");
    } finally {
      overrun.release();
      badKey.release();
      badUtf8.release();
    }
  }

  @Test
  void errorBodiesRoundTripAndTruncatedOnesAreFlagged() {
    ByteBuf b = Unpooled.buffer();
    try {
      ErrorBody.write(b, ErrorReason.BAD_ARGUMENTS, "expected int", "java.lang.Foo", "at x");
      ErrorBody.Info info = ErrorBody.read(b.duplicate());
      assertThat(info).isEqualTo(new ErrorBody.Info(ErrorReason.BAD_ARGUMENTS, "expected int",
          "java.lang.Foo", "at x"));
      ErrorBody.Info cut = ErrorBody.read(b.slice(0, b.readableBytes() - 3));
      assertThat(cut.reason()).isEqualTo(ErrorReason.PROTOCOL_ERROR);
    } finally {
      b.release();
    }
  }
}
