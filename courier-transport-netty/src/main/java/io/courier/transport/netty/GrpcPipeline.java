package io.courier.transport.netty;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC side of a server port: Netty's HTTP/2 codec, one child channel per stream (each with a
 * {@link GrpcServerStream}), and a {@link GrpcConnectionHandler} for the connection as a whole.
 * With an idle timeout, a connection that carries no stream and sends and receives nothing for
 * that long is closed gracefully (GOAWAY).
 */
final class GrpcPipeline {

  /** The stream flow-control window the server grants: large messages need few window updates. */
  static final int INITIAL_WINDOW_BYTES = 1 << 20;

  private GrpcPipeline() {}

  /** Adds the gRPC handlers at the end of {@code pipeline}. Event loop only. */
  static void install(ChannelPipeline pipeline, ServerDispatcher dispatcher) {
    ServerConfig c = dispatcher.config;
    GrpcServices services = dispatcher.grpc();
    Http2Settings settings = Http2Settings.defaultSettings()
        .maxConcurrentStreams(c.maxConcurrentCallsPerConnection())
        .initialWindowSize(INITIAL_WINDOW_BYTES)
        .maxHeaderListSize(Math.max(8192, c.limits().maxMetadataBytes()));
    Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
        .initialSettings(settings)
        .gracefulShutdownTimeoutMillis(Math.max(0, c.maxConnectionAgeGraceMillis()))
        .build();
    if (c.idleTimeoutMillis() > 0) {
      pipeline.addLast("grpc-idle",
          new IdleStateHandler(0, 0, c.idleTimeoutMillis(), TimeUnit.MILLISECONDS));
    }
    pipeline.addLast("h2", codec);
    GrpcWriteBatch batch = new GrpcWriteBatch(pipeline.channel());
    pipeline.addLast("h2-streams", new Http2MultiplexHandler(
        new ChannelInitializer<Http2StreamChannel>() {
          @Override
          protected void initChannel(Http2StreamChannel ch) {
            ch.pipeline().addLast("grpc-stream", new GrpcServerStream(dispatcher, services,
                dispatcher.grpcMaxMessageBytes, batch));
          }
        }));
    pipeline.addLast("grpc", new GrpcConnectionHandler(dispatcher));
  }
}
