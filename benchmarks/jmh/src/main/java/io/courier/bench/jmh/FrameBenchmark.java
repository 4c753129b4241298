package io.courier.bench.jmh;

import io.courier.internal.codec.Bodies;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.FrameLimits;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.protocol.ProtocolException;
import io.courier.spi.Serializer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Request frames built the way the client builds them and split the way the server does.
 *
 * <ul>
 *   <li>{@code encode}: {@link FrameCodec#start} into a pooled direct buffer, the arguments written
 *       by the Fory serializer through {@link Bodies#write} (no compressor), then
 *       {@link FrameCodec#finish}; the frame is released afterwards, as the channel would after
 *       writing it. The serializer's cost is included, as it is on the caller's thread.
 *   <li>{@code decode}: {@link FrameCodec#decode} over a complete frame, the parsing entry point
 *       the transport's {@code FrameDecoder} calls: header checks and retained slices of metadata
 *       and body, then {@link InboundFrame#release()}. The body is not deserialized (the event
 *       loop never does that).
 *   <li>{@code decodePipeline}: the same frame written into an {@link EmbeddedChannel} whose
 *       {@link ByteToMessageDecoder} calls {@link FrameCodec#decode} as {@code FrameDecoder} does
 *       (that class is package-private, so a decoder with the same decode step stands in for it,
 *       without its slow-loris timers); adds the pipeline and the cumulation buffer's handling.
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class FrameBenchmark {

  /** Timeout sent in word B, as a call with a one-second deadline would. */
  private static final int TIMEOUT_MILLIS = 1000;

  @Param({"small", "medium"})
  public String size;

  private Serializer serializer;
  private Type[] types;
  private Object[] args;
  private int serializerId;
  private int callId;
  private ByteBuf frame;
  private EmbeddedChannel channel;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Payloads.Call call = Payloads.call("fory", size);
    serializer = call.serializer();
    types = call.types();
    args = call.args();
    serializerId = call.provider().id();
    callId = call.method().callId();
    frame = encodeFrame();
    channel = new EmbeddedChannel(new SplittingDecoder(FrameLimits.DEFAULT));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (channel.finishAndReleaseAll()) {
      throw new IllegalStateException("frames were left unread in the channel");
    }
    Leaks.releaseLast(frame, "the encoded frame");
  }

  private ByteBuf encodeFrame() throws IOException {
    ByteBuf buf = FrameCodec.start(PooledByteBufAllocator.DEFAULT, 256, 0, serializerId, 0, 0, 0,
        callId, TIMEOUT_MILLIS);
    try {
      int used = Bodies.write(buf, out -> serializer.writeArguments(args, types, out), null,
          Integer.MAX_VALUE);
      buf.setByte(Frame.OFF_COMPRESSOR, used);
      FrameCodec.finish(buf, 0, 0);
      return buf;
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw e;
    }
  }

  /** Builds a request frame and releases it; returns its length. */
  @Benchmark
  public int encode() throws IOException {
    ByteBuf buf = encodeFrame();
    int length = buf.readableBytes();
    buf.release();
    return length;
  }

  /** Parses the frame and releases what parsing retained. */
  @Benchmark
  public void decode(Blackhole bh) throws ProtocolException {
    frame.readerIndex(0);
    InboundFrame f = FrameCodec.decode(frame, FrameLimits.DEFAULT);
    consume(bh, f);
  }

  /** Passes the frame through a channel pipeline's frame decoder. */
  @Benchmark
  public void decodePipeline(Blackhole bh) {
    channel.writeInbound(frame.retainedDuplicate());
    InboundFrame f = channel.readInbound();
    consume(bh, f);
  }

  private static void consume(Blackhole bh, InboundFrame f) {
    try {
      bh.consume(f.requestId);
      bh.consume(f.wordA);
      bh.consume(f.wordB);
      bh.consume(f.body().readableBytes());
    } finally {
      f.release();
    }
  }

  /** The decode step of the transport's frame decoder, without its timers. */
  static final class SplittingDecoder extends ByteToMessageDecoder {
    private final FrameLimits limits;

    SplittingDecoder(FrameLimits limits) {
      this.limits = limits;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
        throws ProtocolException {
      InboundFrame frame = FrameCodec.decode(in, limits);
      if (frame != null) {
        out.add(frame);
      }
    }
  }
}
