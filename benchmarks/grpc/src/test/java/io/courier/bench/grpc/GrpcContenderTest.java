package io.courier.bench.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.bench.Contender;
import io.courier.bench.ContenderMain;
import io.courier.bench.Small;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each gRPC contender, found by name as the benchmark finds it, serves on a free loopback port
 * and answers its client's echo and small calls, one at a time and many at once.
 */
class GrpcContenderTest {

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "grpc-direct"})
  @SuppressWarnings("try") // the contract's close() may throw InterruptedException: fine here
  void servesAndAnswers(String name) throws Exception {
    Contender contender = ContenderMain.find(name);
    assertThat(contender.name()).isEqualTo(name);
    try (Contender.Server server = contender.serve(0);
        Contender.Client client = contender.connect("127.0.0.1", server.port())) {
      assertThat(server.port()).isPositive();
      Random random = new Random(7);
      for (int size : new int[] {64, 4096, 0, 1}) {
        byte[] payload = new byte[size];
        random.nextBytes(payload);
        assertThat(get(client.echo(payload))).as("echo of %d bytes", size).isEqualTo(payload);
      }

      Small answer = get(client.small(new Small(42L, "widget-42", 7, 19.99, true)));
      assertThat(answer).usingRecursiveComparison()
          .isEqualTo(new Small(42L, "widget-42", 8, 19.99, true));
      Small negative = get(client.small(new Small(-1L, "ünï", -9, -0.5, false)));
      assertThat(negative).usingRecursiveComparison()
          .isEqualTo(new Small(-1L, "ünï", -8, -0.5, false));

      List<CompletableFuture<byte[]>> echoes = new ArrayList<>();
      List<byte[]> sent = new ArrayList<>();
      for (int i = 0; i < 256; i++) {
        byte[] payload = new byte[i % 2 == 0 ? 64 : 4096];
        random.nextBytes(payload);
        sent.add(payload);
        echoes.add(client.echo(payload).toCompletableFuture());
      }
      for (int i = 0; i < echoes.size(); i++) {
        assertThat(echoes.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(sent.get(i));
      }
    }
  }

  private static <T> T get(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
