package io.courier.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code courier chaos}'s help and usage errors, in this JVM (nothing is started). */
class ChaosCommandTest {

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
  void helpDescribesTheFaultsOptionsAndExitStatus() {
    assertThat(run("--help").out()).contains("  chaos     run providers and consumers under"
        + " faults and check no call is lost or run twice");
    Result r = run("chaos", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.out()).startsWith("Usage: courier chaos [options]")
        .contains("--providers <n>", "--consumers <n>", "--duration <time>", "--seed <n>",
            "--registry <uri>", "--faults <list>", "--fault-interval <time>", "--rate <calls/s>",
            "--timeout <time>", "--work <time>", "--dir <dir>")
        .contains("kill ", "stop ", "registry-restart ", "slow ")
        .contains("Exit status: 0 when nothing was lost");
  }

  private static void assertUsage(String message, String... args) {
    Result r = run(args);
    assertThat(r.status()).as("%s", r).isEqualTo(CourierCli.EXIT_USAGE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo(message + "\nRun 'courier chaos --help' for its options.\n");
  }

  @Test
  void malformedOptionsAreUsageErrorsNamingWhatIsValid() {
    assertUsage("courier chaos: --faults: unknown fault 'crash' (expected: kill, stop,"
        + " registry-restart, slow; all; or none)", "chaos", "--faults", "kill,crash");
    assertUsage("courier chaos: --faults: registry-restart needs --registry embedded (a registry"
        + " the run starts itself); leave it out for an external one", "chaos", "--registry",
        "etcd://127.0.0.1:2379", "--faults", "registry-restart,kill");
    assertUsage("courier chaos: --registry: consul://x (expected: embedded,"
        + " zookeeper://host:port[/root], or etcd://host:port)", "chaos", "--registry",
        "consul://x");
    assertUsage("courier chaos: --duration: 0s (expected: a time above zero such as 60s, 2m or"
        + " 500ms)", "chaos", "--duration", "0s");
    assertUsage("courier chaos: --fault-interval: 1h (expected: a time above zero such as 60s,"
        + " 2m or 500ms)", "chaos", "--fault-interval=1h");
    assertUsage("courier chaos: --providers: 0 (expected: 1 to 64)", "chaos", "--providers", "0");
    assertUsage("courier chaos: --seed: x1 (expected: a whole number, or random)", "chaos",
        "--seed", "x1");
  }
}
