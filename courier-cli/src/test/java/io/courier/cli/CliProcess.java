package io.courier.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A {@code courier} process: its output line by line, its errors in a file, its exit. */
final class CliProcess implements AutoCloseable {

  private static final Pattern URI = Pattern.compile("zookeeper://\\S+/courier");

  private final Process process;
  private final Path stderr;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private CliProcess(Process process, Path stderr) {
    this.process = process;
    this.stderr = stderr;
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "courier-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code command}; its standard error goes to {@code stderr}. */
  static CliProcess start(List<String> command, Path stderr) throws IOException {
    return new CliProcess(new ProcessBuilder(command).redirectError(stderr.toFile()).start(),
        stderr);
  }

  /** The next line of standard output; fails after 30 s without one. */
  String nextLine() throws InterruptedException, IOException {
    String line = lines.poll(30, TimeUnit.SECONDS);
    assertThat(line).as("a line from courier; its stderr: %s", stderr()).isNotNull();
    return line;
  }

  /** Reads the registry's first line and returns the URI it names. */
  String registryUri() throws InterruptedException, IOException {
    String line = nextLine();
    Matcher m = URI.matcher(line);
    assertThat(m.find()).as("the first line names the URI: %s", line).isTrue();
    return m.group();
  }

  /** Everything written to standard error so far. */
  String stderr() throws IOException {
    return Files.exists(stderr) ? Files.readString(stderr) : "";
  }

  long pid() {
    return process.pid();
  }

  /**
   * Sends SIGTERM. ({@link Process#destroy()} would also close this end of its output, losing
   * what it prints while stopping.)
   */
  void terminate() {
    assertThat(process.toHandle().destroy()).isTrue();
  }

  /** Waits up to 20 s for the exit and returns the status. */
  int awaitExit() throws InterruptedException, IOException {
    assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("exited; stderr: %s", stderr())
        .isTrue();
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
