package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class WriteQueueTest {

  /** Counts the flushes that reach the channel. */
  private static final class FlushCounter extends ChannelOutboundHandlerAdapter {
    int flushes;

    @Override
    public void flush(ChannelHandlerContext ctx) {
      flushes++;
      ctx.flush();
    }
  }

  @Test
  void everyFlushIsFollowedByAfterFlushEvenWhenTheChannelFillsUp() {
    FlushCounter counter = new FlushCounter();
    EmbeddedChannel channel = new EmbeddedChannel(counter);
    // two 64-byte frames exceed the high-water mark, so the queue flushes mid-batch
    channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(50, 100));
    int[] afterFlushes = new int[1];
    WriteQueue queue = new WriteQueue(channel) {
      @Override
      protected boolean process(Object command) {
        return writeFrame((ByteBuf) command);
      }

      @Override
      protected int bytesOf(Object command) {
        return ((ByteBuf) command).readableBytes();
      }

      @Override
      protected void discard(Object command) {
        ((ByteBuf) command).release();
      }

      @Override
      protected void afterFlush() {
        afterFlushes[0]++;
      }
    };
    for (int i = 0; i < 6; i++) {
      queue.enqueue(Unpooled.wrappedBuffer(new byte[64]), 64);
    }
    channel.runPendingTasks();
    assertThat(counter.flushes).isGreaterThan(1);
    assertThat(afterFlushes[0]).isEqualTo(counter.flushes);
    assertThat(queue.pendingBytes()).isZero();
    int frames = 0;
    for (Object m; (m = channel.readOutbound()) != null; frames++) {
      ((ByteBuf) m).release();
    }
    assertThat(frames).isEqualTo(6);
    channel.finishAndReleaseAll();
  }
}
