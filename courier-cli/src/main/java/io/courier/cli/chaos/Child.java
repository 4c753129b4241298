package io.courier.cli.chaos;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A JVM a chaos run starts (registry, provider or consumer) with the current {@code java} and class
 * path: its standard output line by line, its standard error in a log file, commands on its
 * standard input, and the faults the run inflicts (SIGKILL, SIGSTOP, SIGCONT, SIGTERM).
 * Used by the run's thread only, except the output reader.
 */
final class Child {

  final String name;
  final Path log;
  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private Child(String name, Path log, Process process) {
    this.name = name;
    this.log = log;
    this.process = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the process is gone
      }
    }, "out-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code mainClass} with {@code args}; its standard error goes to dir/NAME.log. */
  static Child start(String name, Path dir, String mainClass, List<String> args)
      throws IOException {
    Path log = dir.resolve(name + ".log");
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator
        + "java";
    List<String> command = new ArrayList<>(List.of(java, "-Xmx128m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        "-cp", System.getProperty("java.class.path"), mainClass));
    command.addAll(args);
    Process p = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    return new Child(name, log, p);
  }

  /**
   * Waits for a line starting with {@code prefix} and returns it.
   *
   * @throws IllegalStateException when none comes within {@code seconds} or the process ends
   */
  String await(String prefix, long seconds) throws InterruptedException, IOException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      String line = lines.poll(100, TimeUnit.MILLISECONDS);
      if (line != null && line.startsWith(prefix)) {
        return line;
      }
      if (line == null && (!process.isAlive() && lines.isEmpty()
          || System.nanoTime() - end > 0)) {
        String why = process.isAlive() ? "did not print '" + prefix + "' within " + seconds + " s"
            : "exited with status " + process.exitValue();
        throw new IllegalStateException(name + " " + why + "; its log " + log + ":\n"
            + tail());
      }
    }
  }

  /** The last lines of the log, for an error message. */
  String tail() throws IOException {
    if (!Files.exists(log)) {
      return "(empty)";
    }
    List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", all.subList(Math.max(0, all.size() - 20), all.size()));
  }

  /** Writes a command line to the process's standard input. */
  void send(String command) {
    try {
      OutputStream in = process.getOutputStream();
      in.write((command + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    } catch (IOException alreadyGone) {
      // the process has exited; waiting for it tells
    }
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL, and waits until the process is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, and waits up to {@code seconds} for the exit; false if it did not exit. */
  boolean terminate(long seconds) throws InterruptedException {
    process.toHandle().destroy();
    return process.waitFor(seconds, TimeUnit.SECONDS);
  }

  /** SIGSTOP: the process freezes; its sockets stay open and the kernel still accepts data. */
  void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process k = new ProcessBuilder("kill", signal, Long.toString(pid()))
        .redirectErrorStream(true).start();
    String out = new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (k.waitFor() != 0) {
      throw new IllegalStateException("kill " + signal + " " + pid() + " failed: " + out.trim());
    }
  }

  /** Waits up to {@code seconds} for the process to exit; its status, or -1 if still running. */
  int waitFor(long seconds) throws InterruptedException {
    return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
  }

  /** Ends the process whatever its state (SIGCONT first: cleanup after a run). */
  void destroy() {
    if (process.isAlive()) {
      try {
        resume();
      } catch (Exception ignored) {
        // SIGKILL works in any state anyway
      }
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + ")";
  }
}
