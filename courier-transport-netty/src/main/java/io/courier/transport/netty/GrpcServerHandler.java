package io.courier.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2LocalFlowController;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 end of a gRPC connection: one handler for all its streams. Frames are decoded into
 * calls to this listener, each stream's {@link GrpcServerCall} is kept as a property of the stream
 * (no channel, pipeline or frame object per call), and answers are written straight to the
 * connection's encoder. Writes made while frames are read are flushed once when the read ends;
 * writes from other threads come through the connection's {@link GrpcWriteBatch}, flushed once
 * per batch. Closing the channel sends GOAWAY and waits for the streams in flight (at most the
 * graceful-shutdown timeout), as Netty's HTTP/2 handler does.
 *
 * <p>Not sharable; event loop only.
 */
final class GrpcServerHandler extends Http2ConnectionHandler implements Http2FrameListener {

  private static final Logger log = LoggerFactory.getLogger(GrpcServerHandler.class);

  private final ServerDispatcher dispatcher;
  private final GrpcServices services;
  private final int maxMessageBytes;
  private final int connectionWindowBytes;
  private final Http2Connection.PropertyKey callKey;
  private ChannelHandlerContext ctx;
  private GrpcWriteBatch batch;

  private GrpcServerHandler(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
      Http2Settings settings, ServerDispatcher dispatcher, int connectionWindowBytes) {
    super(decoder, encoder, settings);
    this.dispatcher = dispatcher;
    this.services = dispatcher.grpc();
    this.maxMessageBytes = dispatcher.grpcMaxMessageBytes;
    this.connectionWindowBytes = connectionWindowBytes;
    Http2Connection connection = connection();
    callKey = connection.newKey();
    connection.addListener(new Http2ConnectionAdapter() {
      @Override
      public void onStreamClosed(Http2Stream stream) {
        GrpcServerCall call = stream.removeProperty(callKey);
        if (call != null) {
          call.onStreamClosed();
        }
      }
    });
    encoder.flowController().listener(stream -> {
      GrpcServerCall call = stream.getProperty(callKey);
      if (call != null) {
        call.onWritabilityChanged(encoder().flowController().isWritable(stream));
      }
    });
  }

  /**
   * A handler for a new connection.
   *
   * @param settings the settings the server announces
   * @param gracefulShutdownMillis how long streams in flight may run after GOAWAY
   * @param connectionWindowBytes the connection-level receive window to grow to
   */
  static GrpcServerHandler create(ServerDispatcher dispatcher, Http2Settings settings,
      long gracefulShutdownMillis, int connectionWindowBytes) {
    return new Builder(dispatcher, connectionWindowBytes).initialSettings(settings)
        .gracefulShutdownTimeoutMillis(gracefulShutdownMillis).build();
  }

  private static final class Builder
      extends AbstractHttp2ConnectionHandlerBuilder<GrpcServerHandler, Builder> {
    private final ServerDispatcher dispatcher;
    private final int connectionWindowBytes;

    Builder(ServerDispatcher dispatcher, int connectionWindowBytes) {
      this.dispatcher = dispatcher;
      this.connectionWindowBytes = connectionWindowBytes;
      server(true);
    }

    @Override
    protected Builder initialSettings(Http2Settings settings) {
      return super.initialSettings(settings);
    }

    @Override
    protected Builder gracefulShutdownTimeoutMillis(long millis) {
      return super.gracefulShutdownTimeoutMillis(millis);
    }

    @Override
    protected GrpcServerHandler build() {
      return super.build();
    }

    @Override
    protected GrpcServerHandler build(Http2ConnectionDecoder decoder,
        Http2ConnectionEncoder encoder, Http2Settings initialSettings) {
      GrpcServerHandler h = new GrpcServerHandler(decoder, encoder, initialSettings, dispatcher,
          connectionWindowBytes);
      decoder.frameListener(h);
      return h;
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    this.ctx = ctx;
    this.batch = new GrpcWriteBatch(ctx.channel());
    super.handlerAdded(ctx);
    // the SETTINGS window covers streams only: the connection's own window is grown here
    Http2Stream connectionStream = connection().connectionStream();
    Http2LocalFlowController flow = connection().local().flowController();
    int delta = connectionWindowBytes - flow.windowSize(connectionStream);
    if (delta > 0) {
      flow.incrementWindowSize(connectionStream, delta);
      flush(ctx);
    }
  }

  // ---------------------------------------------------------------- for the calls

  EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  ByteBufAllocator alloc() {
    return ctx.alloc();
  }

  Channel channel() {
    return ctx.channel();
  }

  SocketAddress remoteAddress() {
    return ctx.channel().remoteAddress();
  }

  boolean isActive() {
    return ctx.channel().isActive();
  }

  boolean isWritable(Http2Stream stream) {
    return encoder().flowController().isWritable(stream);
  }

  /** Writes headers (without flushing). */
  void writeHeaders(Http2Stream stream, Http2Headers headers, boolean endStream) {
    encoder().writeHeaders(ctx, stream.id(), headers, 0, endStream, ctx.newPromise());
  }

  /** Writes a DATA frame (without flushing); takes ownership of {@code data}. */
  void writeData(Http2Stream stream, ByteBuf data) {
    encoder().writeData(ctx, stream.id(), data, 0, false, ctx.newPromise());
  }

  /** Sends RST_STREAM (without flushing). */
  void reset(Http2Stream stream, Http2Error error) {
    resetStream(ctx, stream.id(), error.code(), ctx.newPromise());
  }

  /** Returns request bytes to the stream's flow-control window (without flushing). */
  void consumeBytes(Http2Stream stream, int bytes) {
    try {
      connection().local().flowController().consumeBytes(stream, bytes);
    } catch (Http2Exception e) {
      onError(ctx, false, e);
    }
  }

  /** Flushes what was written, the flow-controlled DATA included. */
  void flushNow() {
    flush(ctx);
  }

  // ---------------------------------------------------------------- frames read

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
      int padding, boolean endStream) {
    Http2Stream stream = connection().stream(streamId);
    if (stream == null) {
      return;
    }
    GrpcServerCall call = stream.getProperty(callKey);
    if (call == null) {
      call = new GrpcServerCall(this, stream, dispatcher, services, maxMessageBytes, batch);
      stream.setProperty(callKey, call);
    }
    try {
      call.onHeaders(headers, endStream);
    } catch (RuntimeException e) {
      failed(stream, e);
    }
  }

  /** A call's handling threw (a bug): only its stream is reset, not the connection. */
  private void failed(Http2Stream stream, RuntimeException e) {
    dispatcher.protocolErrors.increment();
    log.warn("[COURIER-G06] a gRPC stream of {} failed; resetting it", remoteAddress(), e);
    dispatcher.internalError(e);
    reset(stream, Http2Error.INTERNAL_ERROR);
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
      int streamDependency, short weight, boolean exclusive, int padding, boolean endStream) {
    onHeadersRead(ctx, streamId, headers, padding, endStream);
  }

  @Override
  public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
      boolean endOfStream) {
    Http2Stream stream = connection().stream(streamId);
    GrpcServerCall call = stream == null ? null : stream.getProperty(callKey);
    int bytes = data.readableBytes() + padding;
    if (call == null) {
      return bytes;
    }
    try {
      return call.onDataFrame(data, padding, endOfStream);
    } catch (RuntimeException e) {
      failed(stream, e);
      return bytes;
    }
  }

  @Override
  public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
    Http2Stream stream = connection().stream(streamId);
    GrpcServerCall call = stream == null ? null : stream.getProperty(callKey);
    if (call != null) {
      call.onReset(errorCode);
    }
  }

  @Override
  public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency,
      short weight, boolean exclusive) {}

  @Override
  public void onSettingsAckRead(ChannelHandlerContext ctx) {}

  @Override
  public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {}

  @Override
  public void onPingRead(ChannelHandlerContext ctx, long data) {}

  @Override
  public void onPingAckRead(ChannelHandlerContext ctx, long data) {}

  @Override
  public void onPushPromiseRead(ChannelHandlerContext ctx, int streamId, int promisedStreamId,
      Http2Headers headers, int padding) {}

  @Override
  public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode,
      ByteBuf debugData) {
    log.debug("gRPC client {} sent GOAWAY (error {})", remoteAddress(), errorCode);
  }

  @Override
  public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
  }

  @Override
  public void onUnknownFrame(ChannelHandlerContext ctx, byte frameType, int streamId,
      Http2Flags flags, ByteBuf payload) {}
}
