package io.courier.bench.dubbo;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.bench.Contender;
import io.courier.bench.ContenderMain;
import io.courier.bench.Small;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.dubbo.remoting.Channel;
import org.apache.dubbo.rpc.ProtocolServer;
import org.apache.dubbo.rpc.model.FrameworkModel;
import org.apache.dubbo.rpc.protocol.dubbo.DubboProtocol;
import org.junit.jupiter.api.Test;

/**
 * The Dubbo contender serves and calls the benchmark service: a provider on a free port, a
 * consumer connected to it directly over loopback, echo calls of 64 B and 4 KiB and small calls,
 * several in flight at once. It runs twice in one JVM, to show that a provider and a consumer
 * close completely and a new pair starts after them.
 */
class DubboContenderTest {

  @Test
  void listedUnderItsName() {
    assertThat(ContenderMain.find("dubbo")).isInstanceOf(DubboContender.class);
  }

  @Test
  void callsGoThroughAndPairsStartAgain() throws Exception {
    int first = roundTrip();
    int second = roundTrip();
    assertThat(first).isPositive();
    assertThat(second).isPositive();
  }

  /** One provider and one consumer: checks every answer, closes both, returns the port used. */
  private static int roundTrip() throws Exception {
    Contender dubbo = new DubboContender();
    try (Contender.Server server = dubbo.serve(0);
        Contender.Client client = dubbo.connect("127.0.0.1", server.port())) {
      for (int size : new int[] {64, 4096}) {
        byte[] payload = new byte[size];
        ThreadLocalRandom.current().nextBytes(payload);
        List<CompletableFuture<byte[]>> calls = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
          calls.add(client.echo(payload).toCompletableFuture());
        }
        for (CompletableFuture<byte[]> call : calls) {
          assertThat(call.get(10, TimeUnit.SECONDS)).isEqualTo(payload);
        }
      }
      assertThat(clientsOf(server)).as("the addresses the provider's connections come from")
          .singleElement().satisfies(a -> assertThat(a.getAddress().isLoopbackAddress()).isTrue());
      for (int i = 0; i < 8; i++) {
        Small sent = new Small(42L + i, "widget-" + i, 7 + i, 19.99, i % 2 == 0);
        Small got = client.small(sent).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(got).usingRecursiveComparison().isEqualTo(sent.answer());
      }
      return server.port();
    }
  }

  /** The remote addresses of the connections the provider has accepted. */
  private static List<InetSocketAddress> clientsOf(Contender.Server server) {
    FrameworkModel framework = ((DubboContender.DubboServer) server).framework();
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (ProtocolServer s : DubboProtocol.getDubboProtocol(framework).getServers()) {
      for (Channel channel : s.getRemotingServer().getChannels()) {
        addresses.add(channel.getRemoteAddress());
      }
    }
    return addresses;
  }
}
