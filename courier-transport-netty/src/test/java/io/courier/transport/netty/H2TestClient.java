package io.courier.transport.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bare HTTP/2 client on Netty's codec, for sending what a gRPC library would not (wrong
 * content-types, broken message prefixes, resets) and reading the exact answer.
 */
final class H2TestClient implements AutoCloseable {

  private final EventLoopGroup group = Transports.newGroup(1, "h2-test-client");
  private final Channel channel;
  final BlockingQueue<Http2GoAwayFrame> goAways = new LinkedBlockingQueue<>();

  H2TestClient(int port) {
    channel = new Bootstrap().group(group).channel(Transports.clientChannel())
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2GoAwayFrame g) {
                  goAways.add(g.retain());
                }
                ReferenceCountUtil.release(msg);
              }
            });
          }
        })
        .connect("127.0.0.1", port).syncUninterruptibly().channel();
  }

  /** What came back on one stream. */
  static final class Answer {
    final List<Http2Headers> headers = new ArrayList<>();
    /** Synchronized: read by the test while the event loop writes. */
    final ByteArrayOutputStream data = new ByteArrayOutputStream();
    Http2Error reset;

    /** The first headers frame (response headers, or the only one of a trailers-only answer). */
    Http2Headers first() {
      return headers.get(0);
    }

    /** The last headers frame: the trailers. */
    Http2Headers trailers() {
      return headers.get(headers.size() - 1);
    }

    int grpcStatus() {
      CharSequence s = trailers().get("grpc-status");
      return s == null ? -1 : Integer.parseInt(s.toString());
    }

    String grpcMessage() {
      CharSequence m = trailers().get("grpc-message");
      return m == null ? null
          : URLDecoder.decode(m.toString().replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The messages of the data, prefixes removed (compressed ones as sent). */
    List<byte[]> messages() {
      ByteBuf b = Unpooled.wrappedBuffer(data.toByteArray());
      List<byte[]> out = new ArrayList<>();
      while (b.readableBytes() >= 5) {
        b.readByte();
        byte[] m = new byte[b.readInt()];
        b.readBytes(m);
        out.add(m);
      }
      return out;
    }

    /** The compressed flags of the messages, in order. */
    List<Boolean> compressedFlags() {
      ByteBuf b = Unpooled.wrappedBuffer(data.toByteArray());
      List<Boolean> out = new ArrayList<>();
      while (b.readableBytes() >= 5) {
        out.add(b.readByte() == 1);
        b.skipBytes(b.readInt());
      }
      return out;
    }
  }

  /** One open stream: send more on it, or wait for its end. */
  final class Call {
    final Http2StreamChannel stream;
    final CompletableFuture<Answer> done = new CompletableFuture<>();
    final Answer answer = new Answer();
    final CompletableFuture<Http2Headers> firstHeaders = new CompletableFuture<>();

    Call(Http2StreamChannel stream) {
      this.stream = stream;
    }

    /** Sends data; a stream the server already ended drops it, as a real client would. */
    Call data(byte[] bytes, boolean end) {
      stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), end))
          .awaitUninterruptibly();
      return this;
    }

    Call reset() {
      stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)).awaitUninterruptibly();
      return this;
    }

    Answer await() throws Exception {
      return done.get(10, TimeUnit.SECONDS);
    }
  }

  /** Standard gRPC request headers for {@code path}. */
  static Http2Headers grpcHeaders(String path) {
    Http2Headers h = new DefaultHttp2Headers();
    h.method("POST").scheme("http").path(path).authority("127.0.0.1");
    h.set("content-type", "application/grpc");
    h.set("te", "trailers");
    return h;
  }

  /** A message with its 5-byte prefix. */
  static byte[] frame(byte[] message, boolean compressed) {
    ByteBuf b = Unpooled.buffer(5 + message.length);
    b.writeByte(compressed ? 1 : 0).writeInt(message.length).writeBytes(message);
    return b.array();
  }

  /** Opens a stream and sends the headers. */
  Call start(Http2Headers headers, boolean endStream) {
    return start(headers, endStream, true);
  }

  /**
   * Opens a stream and sends the headers; with {@code autoRead} false the stream reads nothing
   * (and so grants no flow-control window) until told to.
   */
  Call start(Http2Headers headers, boolean endStream, boolean autoRead) {
    Http2StreamChannel stream = new Http2StreamChannelBootstrap(channel).open()
        .syncUninterruptibly().getNow();
    stream.config().setAutoRead(autoRead);
    Call call = new Call(stream);
    stream.pipeline().addLast(new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
          boolean end = false;
          if (msg instanceof Http2HeadersFrame h) {
            call.answer.headers.add(h.headers());
            call.firstHeaders.complete(h.headers());
            end = h.isEndStream();
          } else if (msg instanceof Http2DataFrame d) {
            byte[] b = new byte[d.content().readableBytes()];
            d.content().readBytes(b);
            call.answer.data.writeBytes(b);
            end = d.isEndStream();
          } else if (msg instanceof Http2ResetFrame r) {
            call.answer.reset = Http2Error.valueOf(r.errorCode());
            end = true;
          }
          if (end) {
            call.done.complete(call.answer);
          }
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        call.done.complete(call.answer);
      }
    });
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, endStream)).syncUninterruptibly();
    return call;
  }

  /** A unary call: headers, one message, end of stream; waits for the answer. */
  Answer unary(String path, byte[] message) throws Exception {
    return start(grpcHeaders(path), false).data(frame(message, false), true).await();
  }

  boolean isOpen() {
    return channel.isActive();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    Http2GoAwayFrame g;
    while ((g = goAways.poll()) != null) {
      g.release();
    }
  }
}
