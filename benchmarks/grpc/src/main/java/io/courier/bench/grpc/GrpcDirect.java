package io.courier.bench.grpc;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

/**
 * Contender {@code grpc-direct}: gRPC-java as its own QPS benchmarks ({@code AsyncServer} and
 * {@code AsyncClient} with {@code --directexecutor}) configure it for unary throughput, setting on
 * both the server and the channel:
 *
 * <ul>
 *   <li>{@code directExecutor()}: handlers and answers run on the Netty event loop that read the
 *       message, with no hand-off to a thread pool (safe here: neither side ever blocks);
 *   <li>{@code flowControlWindow(DEFAULT_FLOW_CONTROL_WINDOW)}: the same 1 MiB window as the
 *       default, but fixed, which turns off the automatic window tuning and the BDP pings it
 *       sends with incoming data; those benchmarks always set the window this way.
 * </ul>
 *
 * <p>They also create their own event loop groups and pick NIO or epoll explicitly; that is left
 * to gRPC's defaults here (epoll where the shaded transport's native library loads, as on Linux),
 * the same for both gRPC contenders.
 */
public final class GrpcDirect extends GrpcContender {

  @Override
  public String name() {
    return "grpc-direct";
  }

  @Override
  void configure(NettyServerBuilder server) {
    server.directExecutor().flowControlWindow(NettyServerBuilder.DEFAULT_FLOW_CONTROL_WINDOW);
  }

  @Override
  void configure(NettyChannelBuilder channel) {
    channel.directExecutor().flowControlWindow(NettyChannelBuilder.DEFAULT_FLOW_CONTROL_WINDOW);
  }
}
