package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.testing.fixtures.Calculator;
import io.courier.testing.fixtures.CalculatorException;
import io.courier.testing.fixtures.CalculatorImpl;
import io.courier.testing.fixtures.Point;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Courier protocol over Unix domain sockets, with real sockets. */
class UnixSocketTest {

  @TempDir
  Path dir;

  @BeforeEach
  void needsEpoll() {
    assumeTrue(Transports.isEpoll(), "Unix domain sockets need the native epoll transport");
  }

  private CourierServer serve(Path socket, CalculatorImpl impl) {
    return CourierServer.builder().unixSocket(socket).drainTimeout(Duration.ofSeconds(1))
        .service(Calculator.class, impl).build().start();
  }

  private static CourierClient connect(Path socket) {
    return CourierClient.builder().address("unix://" + socket).build();
  }

  @Test
  void callsOfEveryShapeOverADomainSocket() throws Exception {
    Path socket = dir.resolve("calc.sock");
    CalculatorImpl impl = new CalculatorImpl();
    try (CourierServer server = serve(socket, impl); CourierClient client = connect(socket)) {
      assertThat(server.port()).isEqualTo(-1);
      Calculator calc = client.stub(Calculator.class);
      assertThat(calc.add(1, 2)).isEqualTo(3);
      assertThat(calc.move(new Point(1, 2), 3, 4)).isEqualTo(new Point(4, 6));
      assertThat(calc.addAsync(20, 22).get(5, TimeUnit.SECONDS)).isEqualTo(42);
      calc.record("over uds");
      assertThat(impl.events.poll(5, TimeUnit.SECONDS)).isEqualTo("over uds");
      byte[] big = new byte[1 << 20];
      big[12345] = 7;
      assertThat(calc.echoBytes(big)).isEqualTo(big);
      assertThatThrownBy(() -> calc.divide(1, 0)).isInstanceOf(CalculatorException.class);
      assertThat(client.generic("test.Calculator").call("add", List.of(2, 3))).isEqualTo(5);
      RpcException late = catchThrowableOfType(RpcException.class, () -> {
        try (CourierClient quick = CourierClient.builder().address("unix://" + socket)
            .timeout(Duration.ofMillis(100)).build()) {
          quick.stub(Calculator.class).sleep(500); // ends within the drain
        }
      });
      assertThat(late.reason()).isEqualTo(ErrorReason.DEADLINE_EXCEEDED);
      assertThat(late.endpoint()).isEqualTo("unix://" + socket);
    }
    assertThat(socket).doesNotExist(); // removed on close
  }

  @Test
  void noServerAtThePathIsConnectFailed() {
    Path socket = dir.resolve("nobody.sock");
    try (CourierClient client = connect(socket)) {
      RpcException e = catchThrowableOfType(RpcException.class,
          () -> client.stub(Calculator.class).add(1, 2));
      assertThat(e.reason()).isEqualTo(ErrorReason.CONNECT_FAILED);
      assertThat(e.getMessage()).contains("unix://" + socket);
    }
  }

  @Test
  void staleSocketFileIsReplaced() throws Exception {
    Path socket = dir.resolve("stale.sock");
    // A socket file whose server is gone: bound, then closed without removing the file.
    ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    dead.bind(UnixDomainSocketAddress.of(socket));
    dead.close();
    assertThat(socket).exists();
    try (CourierServer server = serve(socket, new CalculatorImpl());
        CourierClient client = connect(socket)) {
      assertThat(client.stub(Calculator.class).add(2, 2)).isEqualTo(4);
    }
  }

  @Test
  void pathInUseOrNotASocketIsAClearError() throws Exception {
    Path socket = dir.resolve("busy.sock");
    try (CourierServer first = serve(socket, new CalculatorImpl())) {
      assertThatThrownBy(() -> serve(socket, new CalculatorImpl()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("is in use");
      try (CourierClient client = connect(socket)) {
        assertThat(client.stub(Calculator.class).add(1, 1)).isEqualTo(2); // first one unharmed
      }
    }
    Path file = Files.writeString(dir.resolve("data.txt"), "keep me");
    assertThatThrownBy(() -> serve(file, new CalculatorImpl()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is not a socket");
    assertThat(Files.readString(file)).isEqualTo("keep me");
  }

  @Test
  void badAddressesAndCombinationsAreRefused() {
    assertThatThrownBy(() -> CourierClient.builder().address("unix://relative.sock").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unix:///absolute/path/to.sock");
    assertThatThrownBy(() -> CourierServer.builder().unixSocket(dir.resolve("r.sock"))
        .registry("zookeeper://127.0.0.1:1/courier")
        .service(Calculator.class, new CalculatorImpl()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot be combined");
  }
}
