package io.courier.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP/1.1 side of a server port: for now it answers every request with
 * {@code 501 Not Implemented} and closes the connection.
 */
final class Http1Pipeline {

  private Http1Pipeline() {}

  /** Adds the HTTP/1.1 handlers at the end of {@code pipeline}. Event loop only. */
  static void install(ChannelPipeline pipeline, ServerDispatcher dispatcher) {
    pipeline.addLast("http1-codec", new HttpServerCodec());
    pipeline.addLast("http1-not-implemented", new NotImplemented());
  }

  private static final class NotImplemented extends ChannelInboundHandlerAdapter {
    private boolean answered;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpRequest && !answered) {
          answered = true;
          ByteBuf body = Unpooled.copiedBuffer(
              "HTTP/1.1 is not implemented on this port yet; use the Courier protocol or gRPC\n",
              StandardCharsets.UTF_8);
          FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
              HttpResponseStatus.NOT_IMPLEMENTED, body);
          r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
          r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
          r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
          ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
