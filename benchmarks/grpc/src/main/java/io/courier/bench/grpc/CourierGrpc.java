package io.courier.bench.grpc;

import com.google.protobuf.BytesValue;
import io.courier.annotation.ServiceName;
import io.courier.server.CourierServer;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

/**
 * Contender {@code courier-grpc}: a Courier server with its defaults, speaking gRPC on its one
 * port, called by the same grpc-java client as {@code grpc-direct} (direct executor, fixed flow
 * control window), so the two differ only in the server. The service is a plain Java interface;
 * {@code bytes payload = 1} is the wire form of protobuf's {@code BytesValue}, so the client's
 * hand-written messages and Courier's parsed ones are the same bytes. Echo only: the small-object
 * message has no protobuf class here.
 */
public final class CourierGrpc extends GrpcContender {

  /** {@code /bench.Bench/Echo} as a Courier service. */
  @ServiceName(BenchService.NAME)
  public interface ProtoBench {
    BytesValue echo(BytesValue payload);
  }

  @Override
  public String name() {
    return "courier-grpc";
  }

  @Override
  public Server serve(int port) {
    CourierServer server = CourierServer.builder().host("127.0.0.1").port(port)
        .service(ProtoBench.class, payload -> payload)
        .build().start();
    return new Server() {
      @Override
      public int port() {
        return server.port();
      }

      @Override
      public void close() {
        server.close();
      }
    };
  }

  @Override
  void configure(NettyServerBuilder server) {
    throw new UnsupportedOperationException("the server is Courier's");
  }

  @Override
  void configure(NettyChannelBuilder channel) {
    channel.directExecutor().flowControlWindow(NettyChannelBuilder.DEFAULT_FLOW_CONTROL_WINDOW);
  }
}
