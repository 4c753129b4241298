package io.courier.transport.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection-level end of a gRPC connection: drains it on shutdown (GOAWAY, then close once
 * the streams in flight are done), closes it when idle or at the maximum connection age (the
 * same graceful way; streams still running after the grace period end with the connection), and
 * logs failures. Not sharable; event
 * loop only.
 */
final class GrpcConnectionHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(GrpcConnectionHandler.class);

  private final ServerDispatcher dispatcher;
  private ChannelHandlerContext ctx;
  private boolean draining;
  private ScheduledFuture<?> ageTimer;

  GrpcConnectionHandler(ServerDispatcher dispatcher) {
    this.dispatcher = dispatcher;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    if (dispatcher.draining) {
      ctx.executor().execute(this::drain);
      return;
    }
    long maxAge = dispatcher.config.maxConnectionAgeMillis();
    if (maxAge > 0) {
      long age = ServerConnectionHandler.jittered(maxAge, ThreadLocalRandom.current().nextDouble());
      ageTimer = ctx.executor().schedule(() -> {
        ageTimer = null;
        if (!draining && ctx.channel().isActive()) {
          dispatcher.connectionsAged.increment();
          log.debug("gRPC connection {} reached its maximum age ({} ms); sending GOAWAY",
              ctx.channel().remoteAddress(), age);
          drain(); // streams in flight get the grace period (the codec's shutdown timeout)
        }
      }, age, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (ageTimer != null) {
      ageTimer.cancel(false);
      ageTimer = null;
    }
    super.channelInactive(ctx);
  }

  /**
   * Sends GOAWAY (streams the client opened already still run; new ones are refused) and closes the
   * connection when the last stream ends. Event loop only.
   */
  void drain() {
    if (draining || !ctx.channel().isActive()) {
      return;
    }
    draining = true;
    // the HTTP/2 codec turns a close into a graceful shutdown: GOAWAY, wait for the active
    // streams (at most its graceful-shutdown timeout), then close
    ctx.channel().close();
  }

  /** Idle both ways: closed gracefully unless a stream is open (it may be waiting for events). */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      Http2ConnectionHandler codec = ctx.pipeline().get(Http2ConnectionHandler.class);
      if (codec != null && codec.connection().numActiveStreams() == 0) {
        log.debug("closing idle gRPC connection {} ({} ms without traffic)",
            ctx.channel().remoteAddress(), dispatcher.config.idleTimeoutMillis());
        drain();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      log.debug("gRPC connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    } else {
      // HTTP/2 protocol errors are answered by the codec and never reach this handler: what
      // does is a failure of Courier's own code while it handled a frame
      dispatcher.protocolErrors.increment();
      dispatcher.internalError(cause);
      log.warn("[COURIER-G07] closing gRPC connection {} after an unexpected error",
          ctx.channel().remoteAddress(), cause);
    }
    ctx.close();
  }
}
