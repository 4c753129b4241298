package io.courier.transport.netty;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC side of a server port: one {@link GrpcServerHandler} for the HTTP/2 connection and all
 * its calls, and a {@link GrpcConnectionHandler} for the connection as a whole. With an idle
 * timeout, a connection that carries no stream and sends and receives nothing for that long is
 * closed gracefully (GOAWAY).
 */
final class GrpcPipeline {

  /** The stream flow-control window the server grants: large messages need few window updates. */
  static final int INITIAL_WINDOW_BYTES = 1 << 20;
  /** The connection's window: room for a few streams' worth of request bytes at once. */
  static final int CONNECTION_WINDOW_BYTES = 2 * INITIAL_WINDOW_BYTES;

  private GrpcPipeline() {}

  /** Adds the gRPC handlers at the end of {@code pipeline}. Event loop only. */
  static void install(ChannelPipeline pipeline, ServerDispatcher dispatcher) {
    ServerConfig c = dispatcher.config;
    Http2Settings settings = Http2Settings.defaultSettings()
        .maxConcurrentStreams(c.maxConcurrentCallsPerConnection())
        .initialWindowSize(INITIAL_WINDOW_BYTES)
        .maxHeaderListSize(Math.max(8192, c.limits().maxMetadataBytes()));
    if (c.idleTimeoutMillis() > 0) {
      pipeline.addLast("grpc-idle",
          new IdleStateHandler(0, 0, c.idleTimeoutMillis(), TimeUnit.MILLISECONDS));
    }
    pipeline.addLast("h2", GrpcServerHandler.create(dispatcher, settings,
        Math.max(0, c.maxConnectionAgeGraceMillis()), CONNECTION_WINDOW_BYTES));
    pipeline.addLast("grpc", new GrpcConnectionHandler(dispatcher));
  }
}
