package io.courier.transport.netty;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
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
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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

  private static final String[] PATHS = {"/fuzz.Grpc/Echo", "/fuzz.Grpc/Fill",
      "/fuzz.Grpc/Join", "/fuzz.Grpc/Nope", "/fuzz.Shop/Add", "/fuzz.Grpc/", "/", ""};
  private static final String[] CONTENT_TYPES = {"application/grpc", "application/grpc+proto",
      "application/grpc;charset=utf-8", "application/json", ""};
  private static final String[] ENCODINGS = {"gzip", "identity", "deflate", "GZIP"};
  private static final String[] TIMEOUTS = {"1S", "100m", "1n", "99999999H", "0S", "5", "-1S",
      "123456789S"};

  /**
   * The gRPC server again, from frames built to be valid HTTP/2 (so the input reaches the gRPC
   * layer rather than the frame codec): a script of HEADERS with chosen or fuzzed paths, content
   * types, encodings, timeouts and metadata; DATA carrying gRPC messages, whole, split across
   * frames, gzip-compressed or not, with true or false lengths; raw DATA; RST_STREAM,
   * WINDOW_UPDATE, SETTINGS, PING, GOAWAY; and breaks between reads.
   */
  @FuzzTest(maxDuration = "5m")
  void grpcFrames(FuzzedDataProvider data) throws IOException {
    List<byte[]> reads = new ArrayList<>();
    reads.add(H2_START);
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    H2Frames h2 = new H2Frames();
    try {
      for (int ops = 0; ops < 48 && data.remainingBytes() > 0; ops++) {
        int stream = data.pickValue(new int[] {1, 1, 1, 3, 3, 5, 7, 0, 2});
        switch (data.consumeInt(0, 9)) {
          case 0, 1 -> read.writeBytes(h2.headers(stream, headers(data), data.consumeBoolean()));
          case 2, 3 -> message(data, h2, stream, read);
          case 4 -> read.writeBytes(h2.data(stream, data.consumeBytes(data.consumeInt(0, 64)),
              data.consumeBoolean()));
          case 5 -> read.writeBytes(h2.reset(stream, data.consumeInt(0, 15)));
          case 6 -> read.writeBytes(h2.windowUpdate(stream, data.consumeInt(1, Integer.MAX_VALUE)));
          case 7 -> read.writeBytes(switch (data.consumeInt(0, 3)) {
            case 0 -> h2.settings(new Http2Settings()
                .initialWindowSize(data.consumeInt(0, Integer.MAX_VALUE))
                .maxFrameSize(data.consumeInt(16384, 16777215)));
            case 1 -> h2.settingsAck();
            case 2 -> h2.ping();
            default -> h2.goAway(stream, data.consumeInt(0, 15));
          });
          case 8 -> {
            reads.add(read.toByteArray()); // what follows comes in a read of its own
            read.reset();
          }
          default -> read.writeBytes(data.consumeBytes(data.consumeInt(0, 16))); // anything
        }
      }
    } finally {
      h2.close();
    }
    reads.add(read.toByteArray());
    server().serve(reads.toArray(new byte[0][]));
  }

  private static Http2Headers headers(FuzzedDataProvider data) {
    Http2Headers h = new DefaultHttp2Headers(false) // fuzzed values are not checked here
        .method(data.consumeBoolean() ? "POST" : data.pickValue(new String[] {"GET", "PUT", ""}))
        .scheme("http").authority("fuzz");
    h.path(data.consumeBoolean() ? data.pickValue(PATHS) : data.consumeAsciiString(24));
    if (data.consumeBoolean()) {
      h.add("content-type", data.consumeBoolean() ? CONTENT_TYPES[0]
          : data.pickValue(CONTENT_TYPES));
    }
    h.add("te", "trailers");
    if (data.consumeBoolean()) {
      h.add("grpc-encoding", data.pickValue(ENCODINGS));
    }
    if (data.consumeBoolean()) {
      h.add("grpc-accept-encoding", data.consumeBoolean() ? "gzip" : data.consumeAsciiString(12));
    }
    if (data.consumeBoolean()) {
      h.add("grpc-timeout", data.consumeBoolean() ? data.pickValue(TIMEOUTS)
          : data.consumeAsciiString(10));
    }
    int extra = data.consumeInt(0, 3);
    for (int i = 0; i < extra; i++) {
      String name = data.consumeBoolean() ? "x-meta-bin" : "x-meta";
      if (data.consumeBoolean()) {
        name = data.consumeAsciiString(12).toLowerCase(java.util.Locale.ROOT);
      }
      if (!name.isEmpty()) {
        h.add(name, data.consumeAsciiString(32));
      }
    }
    return h;
  }

  private static void message(FuzzedDataProvider data, H2Frames h2, int stream,
      ByteArrayOutputStream read) throws IOException {
    byte[] payload = switch (data.consumeInt(0, 2)) {
      case 0 -> StringValue.of(data.consumeString(32)).toByteArray();
      case 1 -> Int32Value.of(data.consumeInt(-2, 10)).toByteArray();
      default -> data.consumeBytes(data.consumeInt(0, 64));
    };
    boolean compressed = data.consumeBoolean();
    if (compressed && data.consumeBoolean()) {
      payload = H2Frames.gzip(payload);
    }
    int declared = payload.length + (data.consumeBoolean() ? 0 : data.consumeInt(-6, 6));
    byte[] message = H2Frames.message(payload, compressed, declared);
    boolean end = data.consumeBoolean();
    if (data.consumeBoolean()) { // split across two DATA frames
      int cut = data.consumeInt(0, message.length);
      read.writeBytes(h2.data(stream, Arrays.copyOf(message, cut), false));
      read.writeBytes(h2.data(stream, Arrays.copyOfRange(message, cut, message.length), end));
    } else {
      read.writeBytes(h2.data(stream, message, end));
    }
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
