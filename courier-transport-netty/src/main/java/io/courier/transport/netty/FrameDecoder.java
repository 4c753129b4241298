package io.courier.transport.netty;

import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.FrameLimits;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Splits the byte stream into {@link InboundFrame}s. Limits are checked from the fixed header, so
 * an oversize frame is refused before its body is buffered. On a framing error it stops reading,
 * discards what it holds and fires a {@link ProtocolViolation} for the connection handler to
 * answer and close.
 *
 * <p>With a non-zero frame timeout it also closes connections that leave a frame unfinished for
 * that long (slow-loris), and that send no complete frame within that time of connecting.
 *
 * <p>One instance per channel (not sharable); runs on the channel's event loop.
 */
final class FrameDecoder extends ByteToMessageDecoder {

  /** Fired when the stream is not valid Courier framing. */
  record ProtocolViolation(ProtocolException cause) {}

  /**
   * Fired for a well-formed frame above the size limits: its bytes are skipped as they arrive
   * (never buffered) and the connection stays open, so the handler can answer on its id.
   */
  record FrameTooLarge(int requestId, boolean response, String description) {}

  /** Fired when a frame stayed incomplete, or no frame came, for the frame timeout. */
  record FrameTimeout(String description) {}

  /** Frames at least this large get their whole size reserved once their header is read. */
  private static final int LARGE_FRAME_BYTES = 256 << 10;

  private final FrameLimits limits;
  private final long frameTimeoutNanos;
  /**
   * Oversize frames up to this size are skipped and answered; larger ones (a length such as
   * 0xFFFFFFFF) are a protocol error that closes the connection, so a peer cannot park it in
   * discard mode.
   */
  private final long maxDiscardBytes;
  private boolean failed;
  private long discarding;
  private long framesDecoded;
  private ScheduledFuture<?> partialTimer;
  private ScheduledFuture<?> firstFrameTimer;

  FrameDecoder(FrameLimits limits, long frameTimeoutMillis) {
    this.limits = limits;
    this.frameTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(frameTimeoutMillis);
    this.maxDiscardBytes = Math.max(64L << 20, 2L * limits.maxBodyBytes());
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (frameTimeoutNanos > 0) {
      firstFrameTimer = ctx.executor().schedule(() -> {
        if (framesDecoded == 0 && ctx.channel().isActive()) {
          ctx.fireUserEventTriggered(new FrameTimeout("no complete frame within "
              + TimeUnit.NANOSECONDS.toMillis(frameTimeoutNanos) + " ms of connecting"));
        }
      }, frameTimeoutNanos, TimeUnit.NANOSECONDS);
    }
    super.channelActive(ctx);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (discarding > 0) {
      int n = (int) Math.min(discarding, in.readableBytes());
      in.skipBytes(n);
      discarding -= n;
      if (discarding == 0) {
        framesDecoded++;
      }
      return;
    }
    InboundFrame frame;
    try {
      frame = FrameCodec.decode(in, limits);
    } catch (ProtocolException e) {
      if (e.frameLength() > 0 && e.frameLength() <= maxDiscardBytes) {
        discarding = e.frameLength();
        ctx.fireUserEventTriggered(
            new FrameTooLarge(e.requestId(), e.isResponse(), e.getMessage()));
        return;
      }
      failed = true;
      in.skipBytes(in.readableBytes());
      ctx.fireUserEventTriggered(new ProtocolViolation(e));
      return;
    }
    if (frame != null) {
      framesDecoded++;
      out.add(frame);
      return;
    }
    reserveForFrame(in);
    if (frameTimeoutNanos > 0 && in.isReadable() && partialTimer == null) {
      armPartialTimer(ctx);
    }
  }

  /**
   * Once the header of a large frame is in (its size already checked against the limits), makes
   * room for the whole frame at once, so the rest arrives without the buffer being regrown and
   * copied at every doubling (an 8 MiB body was otherwise copied about twice over). Only while no
   * earlier frame still shares the buffer, since another thread may be reading that one.
   */
  private static void reserveForFrame(ByteBuf in) {
    int readable = in.readableBytes();
    if (readable < Frame.HEADER_LENGTH || in.refCnt() != 1) {
      return;
    }
    int start = in.readerIndex();
    long total = Frame.HEADER_LENGTH + in.getUnsignedShort(start + Frame.OFF_METADATA_LENGTH)
        + in.getUnsignedInt(start + Frame.OFF_BODY_LENGTH);
    if (total >= LARGE_FRAME_BYTES && total <= Integer.MAX_VALUE
        && in.writableBytes() < total - readable) {
      in.ensureWritable((int) (total - readable));
    }
  }

  private void armPartialTimer(ChannelHandlerContext ctx) {
    long mark = framesDecoded;
    partialTimer = ctx.executor().schedule(() -> {
      partialTimer = null;
      if (!ctx.channel().isActive() || actualReadableBytes() == 0) {
        return;
      }
      if (framesDecoded == mark) {
        ctx.fireUserEventTriggered(new FrameTimeout("a frame stayed incomplete for "
            + TimeUnit.NANOSECONDS.toMillis(frameTimeoutNanos) + " ms"));
      } else {
        armPartialTimer(ctx);
      }
    }, frameTimeoutNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    cancelTimers();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimers();
    super.channelInactive(ctx);
  }

  private void cancelTimers() {
    if (partialTimer != null) {
      partialTimer.cancel(false);
      partialTimer = null;
    }
    if (firstFrameTimer != null) {
      firstFrameTimer.cancel(false);
      firstFrameTimer = null;
    }
  }
}
