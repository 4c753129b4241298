package io.courier.registry.etcd;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real etcd server run as a child process for tests: one member on loopback with free client
 * and peer ports and its own data directory. It can be stopped and started again on the same
 * ports and data, as an outage and a restart would. Needs the {@code etcd} binary on the
 * {@code PATH} (Debian: {@code apt-get install etcd-server}).
 *
 * <pre>{@code
 * try (EtcdServer etcd = EtcdServer.start(tempDir)) {
 *   Registry r = Registries.open(etcd.uri());   // etcd://127.0.0.1:<port>/courier
 * }
 * }</pre>
 *
 * Not thread-safe.
 */
public final class EtcdServer implements AutoCloseable {

  private static final long START_MILLIS = 30_000;

  private final Path binary;
  private final Path dataDir;
  private final Path logFile;
  private final int clientPort;
  private final int peerPort;
  private Process process;

  private EtcdServer(Path binary, Path workDir) throws IOException {
    this.binary = binary;
    this.dataDir = workDir.resolve("data");
    this.logFile = workDir.resolve("etcd.log");
    Files.createDirectories(workDir);
    this.clientPort = freePort();
    int peer = freePort();
    while (peer == clientPort) {
      peer = freePort();
    }
    this.peerPort = peer;
  }

  /**
   * Starts a server with its data and log under {@code workDir} and waits until it is healthy.
   *
   * @throws IllegalStateException when {@code etcd} is not on the {@code PATH} or does not
   *     become healthy
   */
  public static EtcdServer start(Path workDir) {
    try {
      EtcdServer s = new EtcdServer(findBinary(), workDir);
      s.start();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start etcd in " + workDir + ": " + e.getMessage(), e);
    }
  }

  private static Path findBinary() {
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "" : path).split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "etcd");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("etcd is not on the PATH (" + path + "); the etcd registry"
        + " tests run a real etcd server: install it, on Debian or Ubuntu with"
        + " 'apt-get install etcd-server'");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts the server again after {@link #stop()}, on the same ports and data. */
  public void start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("etcd is already running on " + endpoint());
    }
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    ProcessBuilder pb = new ProcessBuilder(List.of(binary.toString(),
        "--name", "courier-test",
        "--data-dir", dataDir.toString(),
        "--listen-client-urls", client,
        "--advertise-client-urls", client,
        "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "courier-test=" + peer,
        "--initial-cluster-state", "new",
        "--logger", "zap",
        "--log-level", "warn"));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + binary + ": " + e.getMessage(), e);
    }
    Process started = process;
    Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
    awaitHealthy();
  }

  private void awaitHealthy() {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MILLIS);
    while (System.nanoTime() < end) {
      if (!process.isAlive()) {
        throw new IllegalStateException("etcd exited with " + process.exitValue()
            + " while starting; log " + logFile + ":\n" + logTail());
      }
      if (healthy()) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for etcd", e);
      }
    }
    stop();
    throw new IllegalStateException("etcd not healthy on " + endpoint() + " after "
        + START_MILLIS + " ms; log " + logFile + ":\n" + logTail());
  }

  private boolean healthy() {
    try {
      HttpURLConnection c = (HttpURLConnection) new URL("http://" + endpoint() + "/health")
          .openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(1_000);
      try (InputStream in = c.getInputStream()) {
        return c.getResponseCode() == 200
            && new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("\"true\"");
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(logFile);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s); its data stays. */
  public void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  /** True while the process runs. */
  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** {@code 127.0.0.1:port}, the client endpoint. */
  public String endpoint() {
    return "127.0.0.1:" + clientPort;
  }

  /** The registry URI: {@code etcd://127.0.0.1:port/courier}. */
  public String uri() {
    return "etcd://" + endpoint() + "/courier";
  }

  /** Stops the server. */
  @Override
  public void close() {
    stop();
  }
}
