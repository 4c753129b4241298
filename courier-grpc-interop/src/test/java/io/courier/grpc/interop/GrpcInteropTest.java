package io.courier.grpc.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.server.CourierServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * grpc-java's official interop client ({@code io.grpc.testing.integration.TestServiceClient},
 * plaintext) against a Courier server serving {@link InteropTestService}. The client ends with
 * {@code System.exit}, so each case runs in a child JVM with this test's classpath; the children
 * start together (a few at a time) when the class starts, and each case waits for its own.
 */
class GrpcInteropTest {

  /** The cases the issue names, in the order of gRPC's interop test descriptions. */
  static final List<String> CASES = List.of("empty_unary", "large_unary", "client_streaming",
      "server_streaming", "ping_pong", "empty_stream", "custom_metadata",
      "status_code_and_message", "special_status_message", "unimplemented_method",
      "unimplemented_service", "cancel_after_begin", "cancel_after_first_response",
      "timeout_on_sleeping_server", "very_large_request", "server_compressed_unary",
      "server_compressed_streaming", "client_compressed_unary", "client_compressed_streaming");

  /** Cases known not to pass yet, with the reason; none at the moment. */
  static final Map<String, String> NOT_YET = Map.of();

  private static final int PARALLEL_CLIENTS = 3;
  private static final long CASE_TIMEOUT_SECONDS = 60;

  private static CourierServer server;
  private static ExecutorService runner;
  private static final Map<String, CompletableFuture<Result>> RESULTS = new LinkedHashMap<>();

  record Result(int exitCode, String output) {}

  static List<String> cases() {
    return CASES;
  }

  @BeforeAll
  static void startServerAndClients() {
    server = CourierServer.builder()
        .host("127.0.0.1")
        .service(InteropTestService.class, new InteropTestServiceImpl(), "protobuf")
        .drainTimeout(Duration.ofSeconds(2))
        .build()
        .start();
    runner = Executors.newFixedThreadPool(PARALLEL_CLIENTS);
    for (String c : CASES) {
      if (!NOT_YET.containsKey(c)) {
        RESULTS.put(c, CompletableFuture.supplyAsync(() -> runClient(c), runner));
      }
    }
  }

  @AfterAll
  static void stop() {
    if (runner != null) {
      runner.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void officialClientPasses(String testCase) throws Exception {
    assumeTrue(!NOT_YET.containsKey(testCase), () -> NOT_YET.get(testCase));
    Result r = RESULTS.get(testCase).get(CASE_TIMEOUT_SECONDS + 10, TimeUnit.SECONDS);
    assertThat(r.exitCode())
        .withFailMessage("interop case %s exited with %d; client output:%n%s", testCase,
            r.exitCode(), r.output())
        .isZero();
    assertThat(r.output()).contains("Test completed.");
  }

  private static Result runClient(String testCase) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"),
        "io.grpc.testing.integration.TestServiceClient",
        "--server_host=127.0.0.1", "--server_port=" + server.port(), "--use_tls=false",
        "--test_case=" + testCase));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Thread pump = new Thread(() -> copy(p.getInputStream(), out), "interop-" + testCase);
      pump.start();
      if (!p.waitFor(CASE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        pump.join(1000);
        return new Result(-1, "timed out after " + CASE_TIMEOUT_SECONDS + " s\n"
            + out.toString(StandardCharsets.UTF_8));
      }
      pump.join(5000);
      return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    } catch (IOException | InterruptedException e) {
      return new Result(-2, "cannot run the client: " + e);
    }
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        synchronized (out) {
          out.write(buf, 0, n);
        }
      }
    } catch (IOException ignored) {
      // the process ended
    }
  }
}
