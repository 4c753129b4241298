package io.courier.bench.courier;

import io.courier.bench.Contender;
import io.courier.bench.Small;
import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import java.util.concurrent.CompletionStage;

/**
 * Courier with its defaults, as a user who changes nothing gets it: the Fory serializer, methods on
 * the server's bounded pool, one multiplexed connection, answers completed on the client's
 * callback pool.
 */
public final class CourierContender implements Contender {

  @Override
  public String name() {
    return "courier";
  }

  @Override
  public Server serve(int port) {
    CourierServer server = CourierServer.builder().host("127.0.0.1").port(port)
        .service(Bench.class, new Bench() {
          @Override
          public byte[] echo(byte[] payload) {
            return payload;
          }

          @Override
          public Small small(Small value) {
            return value.answer();
          }
        })
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
  public Client connect(String host, int port) {
    CourierClient client = CourierClient.builder().address(host + ":" + port).build();
    BenchAsync stub = client.stub(BenchAsync.class);
    return new Client() {
      @Override
      public CompletionStage<byte[]> echo(byte[] payload) {
        return stub.echo(payload);
      }

      @Override
      public CompletionStage<Small> small(Small value) {
        return stub.small(value);
      }

      @Override
      public void close() {
        client.close();
      }
    };
  }
}
