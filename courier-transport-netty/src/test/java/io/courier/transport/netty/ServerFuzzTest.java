package io.courier.transport.netty;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.courier.internal.protocol.Frame;
import io.courier.internal.protocol.FrameCodec;
import io.courier.internal.protocol.FrameLimits;
import io.courier.internal.protocol.InboundFrame;
import io.courier.internal.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Coverage-guided fuzz tests of everything a server reads from the network. Without
 * {@code JAZZER_FUZZ} (every build) each test replays its committed inputs, in
 * {@code src/test/resources/io/courier/transport/netty/ServerFuzzTestInputs/<method>/}; with it
 * ({@code bin/fuzz}) Jazzer mutates them for as long as it is told. An input fails when the server
 * throws or counts an internal error, leaves a buffer unreleased or a call counted in flight,
 * asks for a buffer above its limits, or can no longer answer a valid call on a new connection
 * (see {@link FuzzServer#serve}); each target adds checks of its own.
 */
class ServerFuzzTest {

  /** The HTTP/2 client preface and an empty SETTINGS frame: how every gRPC client starts. */
  static final byte[] H2_START;

  static {
    byte[] settings = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    H2_START = Arrays.copyOf(ProtocolDetector.HTTP2_PREFACE,
        ProtocolDetector.HTTP2_PREFACE.length + settings.length);
    System.arraycopy(settings, 0, H2_START, ProtocolDetector.HTTP2_PREFACE.length,
        settings.length);
  }

  private static FuzzServer server;

  private static FuzzServer server() {
    if (server == null) {
      server = new FuzzServer();
    }
    return server;
  }

  /**
   * The frame decoder alone: every output is a frame or one of its two events, never an
   * exception; the same bytes give the same frames however they are split into reads; every
   * frame and the cumulation are released.
   */
  @FuzzTest(maxDuration = "5m")
  void frameDecoder(byte[] input) {
    List<String> whole = decode(input, 1);
    List<String> split = decode(input, 3);
    if (!whole.equals(split)) {
      throw new AssertionError("decoded differently when split into reads:\n" + whole + "\n"
          + split);
    }
  }

  /** Decodes {@code input} in {@code reads} parts; describes each frame and event in order. */
  private static List<String> decode(byte[] input, int reads) {
    List<String> seen = new ArrayList<>();
    FuzzServer.Tracking alloc = new FuzzServer.Tracking();
    EmbeddedChannel ch = new EmbeddedChannel(false, false);
    ch.config().setAllocator(alloc);
    ch.pipeline().addLast(new FrameDecoder(
        new FrameLimits(FuzzServer.MAX_BODY, FuzzServer.MAX_METADATA), 0),
        new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            InboundFrame f = (InboundFrame) msg;
            try {
              seen.add("frame " + f.flags + "/" + f.serializerId + "/" + f.compressorId + "/"
                  + f.status + "/" + f.requestId + "/" + f.wordA + "/" + f.wordB + " meta "
                  + ByteBufUtil.hexDump(f.metadata()) + " body " + ByteBufUtil.hexDump(f.body()));
            } finally {
              f.release();
            }
          }

          @Override
          public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (!(evt instanceof FrameDecoder.ProtocolViolation)
                && !(evt instanceof FrameDecoder.FrameTooLarge)) {
              throw new AssertionError("unexpected event " + evt);
            }
            seen.add(evt.toString());
          }
        });
    try {
      ch.register();
      int step = Math.max(1, (input.length + reads - 1) / reads);
      for (int from = 0; from < input.length; from += step) {
        ByteBuf part = Unpooled.wrappedBuffer(input, from, Math.min(step, input.length - from));
        ch.writeInbound(part);
      }
      ch.checkException();
    } catch (Exception e) {
      throw new AssertionError("the decoder threw", e);
    } finally {
      ch.finishAndReleaseAll();
    }
    alloc.checkReleased();
    return seen;
  }

  /**
   * Bytes on a new server connection, as a Courier client would send them (the committed inputs
   * are calls of every kind: unary, one-way, async, streams, pings, cancels, GOAWAY, metadata,
   * compressed bodies, each serializer). Beyond {@link FuzzServer#serve}'s checks, what the
   * server wrote back must be whole Courier frames, each a response or a GOAWAY.
   */
  @FuzzTest(maxDuration = "5m")
  void courierServer(byte[] input) {
    FuzzServer.Answer answer = server().serve(input);
    checkCourierFrames(answer.bytes());
  }

  static void checkCourierFrames(byte[] written) {
    ByteBuf b = Unpooled.wrappedBuffer(written);
    FrameLimits limits = new FrameLimits(Integer.MAX_VALUE, 65535);
    try {
      while (b.isReadable()) {
        InboundFrame f;
        try {
          f = FrameCodec.decode(b, limits);
        } catch (ProtocolException e) {
          throw new AssertionError("the server wrote a malformed frame", e);
        }
        if (f == null) {
          throw new AssertionError("the server wrote part of a frame: " + b.readableBytes()
              + " bytes left");
        }
        try {
          if (!f.has(Frame.FLAG_RESPONSE) && !f.has(Frame.FLAG_GOAWAY)) {
            throw new AssertionError("the server wrote a frame that is neither a response nor"
                + " a GOAWAY: flags " + f.flags);
          }
        } finally {
          f.release();
        }
      }
    } finally {
      b.release();
    }
  }

  /**
   * Bytes after the HTTP/2 preface and SETTINGS on a new server connection: the gRPC server
   * (HTTP/2 frames, HPACK headers, gRPC paths, timeouts, metadata, the 5-byte message framing,
   * gzip). The committed inputs are whole gRPC exchanges: unary, server streaming and
   * bidirectional, gzip, a reset, a deadline.
   */
  @FuzzTest(maxDuration = "5m")
  void grpcServer(byte[] input) {
    server().serve(H2_START, input);
  }

  /**
   * HTTP/1.1 requests on a new server connection: request lines, paths, headers and JSON bodies
   * into the HTTP/JSON bridge. The committed inputs are valid calls of each method, the listing,
   * pipelined requests and chunked bodies.
   */
  @FuzzTest(maxDuration = "5m")
  void httpJson(byte[] input) {
    server().serve(input);
  }
}
