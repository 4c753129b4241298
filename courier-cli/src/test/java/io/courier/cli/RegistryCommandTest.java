package io.courier.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.courier.core.Registries;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code courier registry} in its own JVM, as users run it: it prints a URI that providers and
 * consumers can use, and stops cleanly with exit status 0 on SIGTERM and on SIGINT.
 */
class RegistryCommandTest {

  @TempDir
  Path dir;

  private CliProcess start() throws IOException {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator
        + "java";
    return CliProcess.start(List.of(java, "-cp", System.getProperty("java.class.path"),
        CourierCli.class.getName(), "registry", "--port", "0",
        "--data-dir", dir.resolve("data").toString()), dir.resolve("stderr.txt"));
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() < end).as("timed out waiting for %s", what).isTrue();
      Thread.sleep(10);
    }
  }

  /** Registers an instance through {@code uri} and finds it from a second registry client. */
  static void registerAndLookUp(String uri) throws InterruptedException {
    ServiceInstance instance = ServiceInstance.builder("cli.Echo", "127.0.0.1", 9001).build();
    try (Registry provider = Registries.open(uri); Registry consumer = Registries.open(uri)) {
      provider.register(instance);
      await(() -> !consumer.lookup("cli.Echo").isEmpty(), "the registration");
      assertThat(consumer.lookup("cli.Echo")).containsExactly(instance);
      provider.unregister(instance);
      await(() -> consumer.lookup("cli.Echo").isEmpty(), "the unregistration");
    }
  }

  @Test
  void providersRegisterAndConsumersFindThemThroughThePrintedUri() throws Exception {
    try (CliProcess registry = start()) {
      String uri = registry.registryUri();
      assertThat(uri).startsWith("zookeeper://127.0.0.1:").doesNotEndWith(":0/courier");
      registerAndLookUp(uri);
      assertThat(Files.isDirectory(dir.resolve("data").resolve("version-2")))
          .as("ZooKeeper keeps its data in --data-dir").isTrue();

      registry.terminate();
      assertThat(registry.awaitExit()).isZero();
      assertThat(registry.nextLine()).isEqualTo("Courier registry stopped");
      assertThat(registry.stderr()).doesNotContain("ERROR", "Exception");
    }
  }

  @Test
  void ctrlCStopsItCleanly() throws Exception {
    assumeTrue(!System.getProperty("os.name").startsWith("Windows"), "POSIX signals");
    try (CliProcess registry = start()) {
      registry.registryUri();
      Process kill = new ProcessBuilder("kill", "-INT", Long.toString(registry.pid())).start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(kill.exitValue()).isZero();
      assertThat(registry.awaitExit()).isZero();
      assertThat(registry.nextLine()).isEqualTo("Courier registry stopped");
    }
  }
}
