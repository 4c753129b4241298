package io.courier.transport.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Turns a connection into an HTTP/1.1 JSON endpoint: the HTTP codec, a body aggregator capped at
 * the server's largest frame body (a larger request is answered 413),
 * and {@link HttpCallHandler}. Used for a connection whose first bytes are an HTTP/1.x request
 * line, and by the separate HTTP port.
 */
final class Http1Pipeline {

  private Http1Pipeline() {}

  /** Adds the HTTP/JSON handlers at the end of {@code pipeline}. */
  static void install(ChannelPipeline pipeline, ServerDispatcher dispatcher) {
    pipeline.addLast("http-codec", new HttpServerCodec());
    pipeline.addLast("http-body", new BodyAggregator(dispatcher.config.limits().maxBodyBytes()));
    pipeline.addLast("http-calls", new HttpCallHandler(dispatcher));
  }

  /**
   * Aggregates request bodies. An oversized request is passed on as
   * {@link HttpCallHandler.Oversized}, so that its 413 answer keeps its place among pipelined
   * answers. When its declared length is too large, the body is read and dropped as it arrives
   * and a keep-alive connection stays open.
   */
  private static final class BodyAggregator extends HttpObjectAggregator {
    BodyAggregator(int maxBytes) {
      super(maxBytes);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      if (!(oversized instanceof HttpRequest)) {
        ctx.close();
        return;
      }
      // A chunked body found too large part way (a FullHttpMessage by then) may have more
      // chunks coming that the aggregator cannot skip cleanly: answer, then close.
      boolean keepAlive = HttpUtil.isKeepAlive(oversized)
          && !(oversized instanceof FullHttpMessage);
      ctx.fireChannelRead(new HttpCallHandler.Oversized(oversized.protocolVersion(), keepAlive,
          maxContentLength()));
    }
  }
}
