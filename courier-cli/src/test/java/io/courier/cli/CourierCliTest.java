package io.courier.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dispatcher in this JVM: help, version, and every usage error with its exit status. */
class CourierCliTest {

  @TempDir
  Path data;

  /** What one run printed and returned. */
  private record Result(int status, String out, String err) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      status = CourierCli.run(args, o, e);
    }
    return new Result(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void helpListsTheCommandsAndOptions() {
    for (String flag : new String[] {"--help", "-h", "help"}) {
      Result r = run(flag);
      assertThat(r.status()).isZero();
      assertThat(r.err()).isEmpty();
      assertThat(r.out()).startsWith("Usage: courier <command> [options]")
          .contains("  registry  run a registry (an embedded ZooKeeper server) for development")
          .contains("-V, --version")
          .contains("Exit status: 0 success, 1 failure, 2 invalid command line, 3 server or"
              + " registry unreachable.");
    }
  }

  @Test
  void commandHelpShowsItsOptionsWithTheirDefaults() {
    Result r = run("registry", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.out()).startsWith("Usage: courier registry [options]")
        .contains("--host <address>", "(default: 127.0.0.1)")
        .contains("--port <port>", "(default: 2181)")
        .contains("--data-dir <dir>", "(default: ./courier-registry-data)")
        .contains("-h, --help");
    assertThat(run("help", "registry").out()).isEqualTo(r.out());
    // --help wins over the rest of the line, and nothing is started
    assertThat(run("registry", "--port", "1", "-h").out()).isEqualTo(r.out());
  }

  @Test
  void versionIsTheBuildVersion() {
    Result r = run("--version");
    assertThat(r.status()).isZero();
    assertThat(r.out()).matches("courier \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\R");
    assertThat(run("-V").out()).isEqualTo(r.out());
  }

  @Test
  void noCommandPrintsTheHelpAsAnError() {
    Result r = run();
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("Usage: courier <command> [options]");
  }

  @Test
  void unknownCommandNamesTheValidOnes() {
    Result r = run("regsitry");
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier: unknown command 'regsitry' (commands: registry, list,"
        + " describe, call, bench, chaos)")
        .contains("Run 'courier --help' for usage.");
    assertThat(run("help", "nothing").status()).isEqualTo(CourierCli.EXIT_USAGE);
  }

  @Test
  void unknownOptionsNameTheValidOnes() {
    Result global = run("--port", "2181");
    assertThat(global.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(global.err()).startsWith("courier: unknown option --port (valid: --help,"
        + " --version;");

    Result r = run("registry", "--prot", "2181");
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("courier registry: unknown option --prot (valid: --host,"
        + " --port, --data-dir, --help)")
        .contains("Run 'courier registry --help' for its options.");
    assertThat(run("registry", "--prot=2181").err())
        .startsWith("courier registry: unknown option --prot (valid:");
    assertThat(run("registry", "-p", "2181").err())
        .startsWith("courier registry: unknown option -p (valid:");
  }

  @Test
  void malformedValuesAreUsageErrors() {
    Result r = run("registry", "--port", "http");
    assertThat(r.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(r.err()).startsWith("courier registry: --port: http (expected: 0 to 65535)");
    assertThat(run("registry", "--port=70000").err())
        .startsWith("courier registry: --port: 70000 (expected: 0 to 65535)");
    Result missing = run("registry", "--port");
    assertThat(missing.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(missing.err()).startsWith("courier registry: --port needs a value <port>");
    Result twice = run("registry", "--port", "1", "--port", "2");
    assertThat(twice.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(twice.err()).startsWith("courier registry: --port is given more than once");
    Result operand = run("registry", "2181");
    assertThat(operand.status()).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(operand.err()).startsWith("courier registry: unexpected argument '2181'");
  }

  @Test
  void aPortInUseFailsWithAClearMessage() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      Result r = run("registry", "--host", "127.0.0.1", "--port", Integer.toString(port),
          "--data-dir", data.toString());
      assertThat(r.status()).isEqualTo(CourierCli.EXIT_FAILURE);
      assertThat(r.out()).isEmpty();
      assertThat(r.err()).isEqualTo("courier registry: cannot listen on 127.0.0.1:" + port
          + ": the port is already in use (another registry running? choose another port with"
          + " --port)" + System.lineSeparator());
    }
  }

  @Test
  void theAdvertisedUriNamesAnAddressClientsCanReach() {
    assertThat(RegistryCommand.uri("127.0.0.1", 2181))
        .isEqualTo("zookeeper://127.0.0.1:2181/courier");
    assertThat(RegistryCommand.uri("::1", 2181)).isEqualTo("zookeeper://[::1]:2181/courier");
    assertThat(RegistryCommand.uri("0.0.0.0", 2181))
        .doesNotContain("0.0.0.0").endsWith(":2181/courier");
  }
}
