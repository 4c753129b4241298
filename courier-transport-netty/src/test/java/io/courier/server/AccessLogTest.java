package io.courier.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.auth.Authenticator;
import io.courier.auth.CallCredentials;
import io.courier.auth.Identity;
import io.courier.client.CourierClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The access log, read from what the SLF4J simple logger prints (System.err) while real calls
 * reach a real server over each protocol.
 */
class AccessLogTest {

  static final String SECRET = "s3cr3t-access-token-5b1c";

  @ServiceName("test.Greeter")
  public interface Greeter {
    String hello(String name);

    String fail(String why);
  }

  static final class GreeterImpl implements Greeter {
    @Override
    public String hello(String name) {
      return "hello " + name;
    }

    @Override
    public String fail(String why) {
      throw new IllegalArgumentException(why);
    }
  }

  PrintStream original;
  ByteArrayOutputStream captured;
  CourierServer server;

  @BeforeEach
  void capture() {
    original = System.err;
    captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    if (server != null) {
      server.close();
    }
    System.setErr(original);
  }

  /** The access log's lines printed so far, without the simple logger's prefix. */
  private List<String> lines() {
    String marker = AccessLog.LOGGER + " - ";
    return Arrays.stream(captured.toString(StandardCharsets.UTF_8).split("\n"))
        .filter(l -> l.contains(marker))
        .map(l -> l.substring(l.indexOf(marker) + marker.length()))
        .toList();
  }

  private CourierServer start(AccessLog log) {
    server = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Greeter.class, new GreeterImpl()).accessLog(log).build().start();
    return server;
  }

  private static int post(int port, String path, String json, String authorization)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json").header("x-tenant", "tenant-7f3e")
        .POST(BodyPublishers.ofString(json));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
        .send(b.build(), BodyHandlers.ofString()).statusCode();
  }

  @Test
  void aLineHasEveryFieldInOrder() {
    assertThat(AccessLog.line(Instant.parse("2026-11-25T15:04:05.123456Z"), " protocol=grpc",
        new InetSocketAddress("127.0.0.1", 53122), " service=demo.Calculator method=add",
        Status.Code.OK, null, 212_999, 41, 22))
        .isEqualTo("time=2026-11-25T15:04:05.123456Z protocol=grpc peer=127.0.0.1:53122"
            + " service=demo.Calculator method=add status=OK reason=- duration_us=212"
            + " bytes_in=41 bytes_out=22");
    assertThat(AccessLog.line(Instant.parse("2026-11-25T15:04:05Z"), " protocol=http",
        new InetSocketAddress("::1", 80), " service=s method=m", Status.Code.RESOURCE_EXHAUSTED,
        ErrorReason.OVERLOADED, 5_000, 10, 0))
        .contains(" peer=[0:0:0:0:0:0:0:1]:80 ")
        .contains(" status=RESOURCE_EXHAUSTED reason=OVERLOADED duration_us=5 ");
  }

  @Test
  void atRateOneEveryCallIsLoggedOnEachProtocol() throws Exception {
    start(AccessLog.builder().sampleRate(1).build());
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + server.port())
        .build()) {
      assertThat(c.stub(Greeter.class).hello("ann")).isEqualTo("hello ann");
    }
    assertThat(post(server.port(), "/test.Greeter/hello", "[\"bob\"]", null)).isEqualTo(200);
    List<String> lines = lines();
    assertThat(lines).hasSize(2);
    String fields = " peer=127\\.0\\.0\\.1:\\d+ service=test\\.Greeter method=hello status=OK"
        + " reason=- duration_us=\\d+ bytes_in=[1-9]\\d* bytes_out=[1-9]\\d*";
    assertThat(lines.get(0)).matches("time=\\S+Z protocol=courier" + fields);
    assertThat(lines.get(1)).matches("time=\\S+Z protocol=http" + fields);
    assertThat(Instant.parse(lines.get(0).substring(5, lines.get(0).indexOf(' '))))
        .isBeforeOrEqualTo(Instant.now());
  }

  @Test
  void atRateZeroOnlyFailuresAreLogged() throws Exception {
    start(AccessLog.builder().sampleRate(0).build());
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + server.port())
        .build()) {
      Greeter g = c.stub(Greeter.class);
      for (int i = 0; i < 20; i++) {
        g.hello("n" + i);
      }
      assertThatThrownBy(() -> g.fail("bad input")).isInstanceOf(RpcException.class);
    }
    assertThat(post(server.port(), "/test.Greeter/hello", "[1, 2, 3]", null)).isEqualTo(400);
    assertThat(post(server.port(), "/test.Greeter/hello", "[\"ok\"]", null)).isEqualTo(200);
    List<String> lines = lines();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).contains(" protocol=courier ")
        .contains(" method=fail status=UNKNOWN reason=APPLICATION_ERROR ")
        .doesNotContain("bad input");
    assertThat(lines.get(1)).contains(" protocol=http ")
        .contains(" method=hello status=INVALID_ARGUMENT reason=BAD_ARGUMENTS ");
  }

  @Test
  void noCredentialOrMetadataValueReachesTheAccessLog() throws Exception {
    server = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Greeter.class, new GreeterImpl())
        .authenticator(Authenticator.bearer(Map.of(SECRET, Identity.of("ann", "reader"))))
        .accessLog(AccessLog.builder().build()).build().start();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + server.port())
        .credentials(CallCredentials.bearer(SECRET)).build()) {
      assertThat(c.stub(Greeter.class).hello("ann")).isEqualTo("hello ann");
    }
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + server.port())
        .credentials(CallCredentials.bearer("wrong-" + SECRET)).build()) {
      assertThatThrownBy(() -> c.stub(Greeter.class).hello("eve"))
          .isInstanceOfSatisfying(RpcException.class, e ->
              assertThat(e.status().code()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }
    assertThat(post(server.port(), "/test.Greeter/hello", "[\"bob\"]", "Bearer " + SECRET))
        .isEqualTo(200);
    List<String> lines = lines();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).contains(" protocol=courier ").contains(" status=OK ");
    assertThat(lines.get(1)).contains(" protocol=courier ")
        .contains(" status=UNAUTHENTICATED reason=UNAUTHENTICATED ");
    assertThat(lines.get(2)).contains(" protocol=http ").contains(" status=OK ");
    String all = captured.toString(StandardCharsets.UTF_8);
    assertThat(all).doesNotContain(SECRET).doesNotContain("tenant-7f3e")
        .doesNotContain("hello ann").doesNotContain("\"bob\"");
  }

  @Test
  void theSampleRateIsChecked() {
    assertThatThrownBy(() -> AccessLog.builder().sampleRate(1.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sampleRate: 1.5 (expected: 0 to 1)");
    assertThatThrownBy(() -> AccessLog.builder().sampleRate(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(AccessLog.builder().build().sampleRate()).isEqualTo(1.0);
  }
}
