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
public class CourierContender implements Contender {

  private final boolean direct;

  public CourierContender() {
    this(false);
  }

  /**
   * With {@code direct}, methods run on the server's event loop and answers complete on the
   * client's.
   */
  protected CourierContender(boolean direct) {
    this.direct = direct;
  }

  @Override
  public String name() {
    return direct ? "courier-direct" : "courier";
  }

  @Override
  public Server serve(int port) {
    CourierServer.Builder builder = CourierServer.builder().host("127.0.0.1").port(port);
    if (direct) {
      builder.executor(Runnable::run);
    }
    CourierServer server = builder
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
    CourierClient.Builder builder = CourierClient.builder().address(host + ":" + port);
    if (direct) {
      builder.callbackExecutor(Runnable::run);
    }
    CourierClient client = builder.build();
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
