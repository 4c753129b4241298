package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.testing.LeakDetectionExtension;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorImpl;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Large requests travel over a connection of their own, so they do not hold up small calls. */
@ExtendWith(LeakDetectionExtension.class)
class BulkLaneTest {

  @Test
  void largeRequestsGoOverASecondConnectionAndSmallOnesStayOnTheFirst() throws Exception {
    try (CourierServer server = CourierServer.builder().host("127.0.0.1")
        .service(Calculator.class, new CalculatorImpl()).build().start();
        CourierClient client = CourierClient.builder().address("127.0.0.1:" + server.port())
            .bulkLaneThreshold(4096).build()) {
      Calculator k = client.stub(Calculator.class);
      for (int i = 0; i < 20; i++) {
        assertThat(k.add(i, 1)).isEqualTo(i + 1);
      }
      assertThat(server.counters().connectionsAccepted()).isEqualTo(1);
      byte[] big = new byte[100_000];
      big[99_999] = 7;
      assertThat(k.echoBytes(big)).isEqualTo(big); // synchronous: over the bulk lane
      assertThat(server.counters().connectionsAccepted()).isEqualTo(2);
      for (int i = 0; i < 20; i++) {
        assertThat(k.echoBytes(big)).isEqualTo(big);
        assertThat(k.add(i, 2)).isEqualTo(i + 2);
      }
      assertThat(server.counters().connectionsAccepted()).isEqualTo(2); // both reused
    }
  }

  @Test
  void asynchronousAndOneWayRequestsUseTheLaneToo() throws Exception {
    CalculatorImpl impl = new CalculatorImpl();
    try (CourierServer server = CourierServer.builder().host("127.0.0.1")
        .service(Calculator.class, impl).build().start();
        CourierClient client = CourierClient.builder().address("127.0.0.1:" + server.port())
            .bulkLaneThreshold(4096).build()) {
      Calculator k = client.stub(Calculator.class);
      String large = "x".repeat(50_000);
      assertThat(k.delayedEcho(large, 1).get(5, TimeUnit.SECONDS)).isEqualTo(large);
      k.record(large);
      assertThat(impl.events.poll(5, TimeUnit.SECONDS)).isEqualTo(large);
      assertThat(k.addAsync(1, 2).get(5, TimeUnit.SECONDS)).isEqualTo(3);
      assertThat(server.counters().connectionsAccepted()).isEqualTo(2);
    }
  }

  @Test
  void withTheLaneOffEverythingSharesOneConnection() throws Exception {
    try (CourierServer server = CourierServer.builder().host("127.0.0.1")
        .service(Calculator.class, new CalculatorImpl()).build().start();
        CourierClient client = CourierClient.builder().address("127.0.0.1:" + server.port())
            .bulkLaneThreshold(0).build()) {
      Calculator k = client.stub(Calculator.class);
      byte[] big = new byte[1 << 20];
      assertThat(k.echoBytes(big)).hasSize(1 << 20);
      assertThat(k.add(1, 1)).isEqualTo(2);
      assertThat(server.counters().connectionsAccepted()).isEqualTo(1);
    }
  }
}
