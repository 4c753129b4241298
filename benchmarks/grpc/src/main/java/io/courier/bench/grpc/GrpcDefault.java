package io.courier.bench.grpc;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

/**
 * Contender {@code grpc}: gRPC-java as a user gets it without tuning. Nothing is added to the
 * builders, so the server runs each call's handler on gRPC's default executor (a shared cached
 * thread pool) and the channel delivers answers on its own default executor (the same kind of
 * pool); HTTP/2 flow control windows start at 1 MiB and are tuned automatically by BDP pings.
 */
public final class GrpcDefault extends GrpcContender {

  @Override
  public String name() {
    return "grpc";
  }

  @Override
  void configure(NettyServerBuilder server) {
    // the defaults
  }

  @Override
  void configure(NettyChannelBuilder channel) {
    // the defaults, plaintext only
  }
}
