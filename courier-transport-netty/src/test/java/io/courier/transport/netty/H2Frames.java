package io.courier.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.GZIPOutputStream;

/**
 * Encodes HTTP/2 client frames to bytes, for fuzz inputs: Netty's frame writer with every header
 * a literal (never indexed, never Huffman-coded), so the encoder keeps no state between frames
 * and header text stays readable in the bytes for mutation. Not thread-safe.
 */
final class H2Frames {

  private final EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
  private final ChannelHandlerContext ctx = ch.pipeline().firstContext();
  private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter(
      new DefaultHttp2HeadersEncoder((name, value) -> true, false, 16, Integer.MAX_VALUE));

  private byte[] take() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ch.flushOutbound();
    for (Object o; (o = ch.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      try {
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        out.writeBytes(bytes);
      } finally {
        b.release();
      }
    }
    return out.toByteArray();
  }

  /** The HEADERS frame, or nothing when the encoder refuses the headers (a fuzzed name). */
  byte[] headers(int stream, Http2Headers h, boolean end) {
    try {
      writer.writeHeaders(ctx, stream, h, 0, end, ctx.newPromise());
    } catch (RuntimeException refused) {
      // nothing written
    }
    return take();
  }

  byte[] data(int stream, byte[] bytes, boolean end) {
    writer.writeData(ctx, stream, Unpooled.wrappedBuffer(bytes), 0, end, ctx.newPromise());
    return take();
  }

  byte[] reset(int stream) {
    return reset(stream, Http2Error.CANCEL.code());
  }

  byte[] reset(int stream, long code) {
    writer.writeRstStream(ctx, stream, code, ctx.newPromise());
    return take();
  }

  byte[] ping() {
    writer.writePing(ctx, false, 42, ctx.newPromise());
    return take();
  }

  byte[] windowUpdate(int stream) {
    return windowUpdate(stream, 1 << 16);
  }

  byte[] windowUpdate(int stream, int increment) {
    writer.writeWindowUpdate(ctx, stream, increment, ctx.newPromise());
    return take();
  }

  byte[] settings() {
    return settings(new Http2Settings().initialWindowSize(1 << 20));
  }

  byte[] settings(Http2Settings settings) {
    writer.writeSettings(ctx, settings, ctx.newPromise());
    return take();
  }

  byte[] settingsAck() {
    writer.writeSettingsAck(ctx, ctx.newPromise());
    return take();
  }

  byte[] goAway(int lastStream, long code) {
    writer.writeGoAway(ctx, lastStream, code, Unpooled.EMPTY_BUFFER, ctx.newPromise());
    return take();
  }

  /** Releases the encoder's channel. */
  void close() {
    ch.finishAndReleaseAll();
  }

  /** A gRPC length-prefixed message: the compressed flag, the length, the bytes. */
  static byte[] message(byte[] payload, boolean compressed) {
    return message(payload, compressed, payload.length);
  }

  /** The same with any declared length. */
  static byte[] message(byte[] payload, boolean compressed, int declaredLength) {
    ByteBuf b = Unpooled.buffer(5 + payload.length);
    try {
      b.writeByte(compressed ? 1 : 0).writeInt(declaredLength).writeBytes(payload);
      byte[] out = new byte[b.readableBytes()];
      b.readBytes(out);
      return out;
    } finally {
      b.release();
    }
  }

  static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(raw);
    }
    return out.toByteArray();
  }
}
