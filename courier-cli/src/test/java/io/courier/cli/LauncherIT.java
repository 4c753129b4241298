package io.courier.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.server.CourierServer;
import io.courier.testing.LeakDetectionExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/courier} and the shaded {@code courier.jar}, run after packaging exactly as users
 * run them: the jar is self-contained (registries, serializers, the JSON checks of
 * {@code call}) and the script passes arguments, signals and exit status through.
 */
@ExtendWith(LeakDetectionExtension.class)
class LauncherIT {

  private static Path root;

  @TempDir
  Path dir;

  @BeforeAll
  static void locate() {
    assumeTrue(!System.getProperty("os.name").startsWith("Windows"), "a bash script");
    root = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize().getParent();
    assertThat(root.resolve("courier-cli/target/courier.jar")).exists();
  }

  private CliProcess courier(Path script, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    return CliProcess.start(command, dir.resolve("stderr.txt"));
  }

  @Test
  void versionAndExitStatusPassThroughTheScript() throws Exception {
    try (CliProcess version = courier(root.resolve("bin/courier"), "--version")) {
      assertThat(version.nextLine()).isEqualTo("courier " + CourierCli.version());
      assertThat(version.awaitExit()).isZero();
    }
    try (CliProcess wrong = courier(root.resolve("bin/courier"), "nope")) {
      assertThat(wrong.awaitExit()).isEqualTo(CourierCli.EXIT_USAGE);
      assertThat(wrong.stderr()).startsWith("courier: unknown command 'nope'");
    }
  }

  @Test
  void theShadedJarRunsARegistryThatStopsOnSigterm() throws Exception {
    try (CliProcess registry = courier(root.resolve("bin/courier"), "registry", "--port", "0",
        "--data-dir", dir.resolve("data").toString())) {
      RegistryCommandTest.registerAndLookUp(registry.registryUri());
      registry.terminate(); // the script exec'd java: the signal reaches the JVM
      assertThat(registry.awaitExit()).isZero();
      assertThat(registry.nextLine()).isEqualTo("Courier registry stopped");
    }
  }

  @Test
  void callAndDescribeThroughTheScript() throws Exception {
    try (CourierServer server = CourierServer.builder().host("127.0.0.1").port(0)
        .service(Greeter.class, new GreeterImpl()).build().start()) {
      String address = "127.0.0.1:" + server.port();
      try (CliProcess call = courier(root.resolve("bin/courier"), "call", "cli.Greeter.greet",
          "[\"Ada\"]", "--address", address)) {
        assertThat(call.nextLine()).isEqualTo("\"Hello, Ada\"");
        assertThat(call.awaitExit()).isZero();
      }
      try (CliProcess describe = courier(root.resolve("bin/courier"), "describe", "cli.Greeter",
          "--address", address, "--json")) {
        assertThat(describe.awaitExit()).isZero();
        assertThat(describe.nextLine()).isEqualTo("{");
      }
      try (CliProcess bad = courier(root.resolve("bin/courier"), "call", "cli.Greeter.subtract",
          "[1, 2]", "--address", address)) {
        assertThat(bad.awaitExit()).isEqualTo(CourierCli.EXIT_FAILURE);
        assertThat(bad.stderr()).startsWith("courier call: cli.Greeter.subtract failed:"
            + " UNIMPLEMENTED (UNKNOWN_METHOD)");
      }
    }
    String nobody = "127.0.0.1:" + ServiceCommandsTest.freePort();
    try (CliProcess down = courier(root.resolve("bin/courier"), "call", "cli.Greeter.add",
        "[1, 2]", "--address", nobody)) {
      assertThat(down.awaitExit()).isEqualTo(CourierCli.EXIT_UNAVAILABLE);
      assertThat(down.stderr()).contains("cannot connect to " + nobody);
    }
  }

  @Test
  void aMissingJarSaysHowToBuildIt() throws Exception {
    Path script = dir.resolve("checkout/bin/courier");
    Files.createDirectories(script.getParent());
    Files.copy(root.resolve("bin/courier"), script, StandardCopyOption.COPY_ATTRIBUTES);
    try (CliProcess missing = courier(script, "--version")) {
      assertThat(missing.awaitExit()).isEqualTo(1);
      assertThat(missing.stderr()).contains("courier-cli/target/courier.jar is missing")
          .contains("./mvnw -q -B package -DskipTests -pl courier-cli -am");
    }
  }
}
