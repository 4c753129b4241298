package io.courier.grpc.interop;

import io.courier.client.GrpcClient;
import io.courier.server.CourierServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The interop scenarios with Courier's gRPC client against a Courier server serving
 * {@link InteropTestService}: the Courier-to-Courier gRPC path, metadata and compression
 * included.
 */
class GrpcClientCourierScenariosTest extends AbstractGrpcClientScenarios {

  private static CourierServer server;
  private static GrpcClient client;

  @BeforeAll
  static void start() {
    server = CourierServer.builder().host("127.0.0.1")
        .service(InteropTestService.class, new InteropTestServiceImpl(), "protobuf")
        .drainTimeout(Duration.ofSeconds(1)).build().start();
    client = GrpcClient.builder().address("127.0.0.1:" + server.port())
        .timeout(Duration.ofSeconds(WAIT_SECONDS)).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Override
  GrpcClient client() {
    return client;
  }
}
