package io.courier.it;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link LedgerProvider} JVM started by a test: its address, its ledger file, and the faults a
 * test inflicts on it (graceful stop, SIGKILL, SIGSTOP and SIGCONT).
 */
final class ProviderProcess {

  final String name;
  /** The address the provider binds and registers. */
  final String host;
  final Path ledger;
  final Path log;
  final Process process;
  final int port;
  /** Lines the process printed after {@code LISTENING}, filled by a reader thread. */
  private final BlockingQueue<String> lines;

  private ProviderProcess(String name, String host, Path ledger, Path log, Process process,
      int port, BlockingQueue<String> lines) {
    this.name = name;
    this.host = host;
    this.ledger = ledger;
    this.log = log;
    this.process = process;
    this.port = port;
    this.lines = lines;
  }

  /**
   * Starts a provider that registers in {@code registryUri}, with its ledger and log in
   * {@code dir}, and waits until it prints that it listens (the port is then bound; registered
   * too, unless the registry is down).
   */
  static ProviderProcess start(String name, String registryUri, Path dir) throws IOException {
    return start(name, registryUri, dir, Launch.LOOPBACK);
  }

  /**
   * How a provider JVM is started: a command prefix (such as {@code ip netns exec ...}), extra
   * environment variables (such as libfaketime's), the address it binds and registers, and
   * system properties for {@link LedgerProvider}.
   */
  /** Where Debian puts libfaketime. */
  private static final List<Path> FAKETIME_LIBRARIES = List.of(
      Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
      Path.of("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
      Path.of("/usr/lib/faketime/libfaketime.so.1"));

  record Launch(List<String> prefix, Map<String, String> env, String host,
      List<String> properties) {
    static final Launch LOOPBACK = new Launch(List.of(), Map.of(), "127.0.0.1", List.of());

    /** Runs the provider in {@code ns}, bound to its inside address. */
    static Launch in(NetNamespace ns) {
      return new Launch(ns.command(), Map.of(), ns.inside, List.of());
    }

    /** This launch with a system property {@code -Dkey=value} added. */
    Launch with(String key, String value) {
      List<String> p = new ArrayList<>(properties);
      p.add("-D" + key + "=" + value);
      return new Launch(prefix, env, host, p);
    }

    /**
     * This launch with its wall clock shifted by {@code seconds} (libfaketime; the monotonic
     * clock is left alone, as a host whose clock is off would have it).
     */
    Launch withClockShift(int seconds) {
      Path lib = FAKETIME_LIBRARIES.stream().filter(Files::exists).findFirst()
          .orElseThrow(() -> new IllegalStateException("libfaketime is not installed (looked for "
              + FAKETIME_LIBRARIES + "); .ci/run installs it (Debian package libfaketime)"));
      return withEnv("LD_PRELOAD", lib.toString())
          .withEnv("FAKETIME", (seconds >= 0 ? "+" : "") + seconds + "s")
          .withEnv("FAKETIME_DONT_FAKE_MONOTONIC", "1")
          // the glibc work-around libfaketime applies by default makes timed waits overshoot
          .withEnv("FAKETIME_FORCE_MONOTONIC_FIX", "0");
    }

    /** This launch with an environment variable added. */
    Launch withEnv(String key, String value) {
      Map<String, String> e = new HashMap<>(env);
      e.put(key, value);
      return new Launch(prefix, e, host, properties);
    }
  }

  /** {@link #start(String, String, Path)}, launched as {@code launch} says. */
  static ProviderProcess start(String name, String registryUri, Path dir, Launch launch)
      throws IOException {
    Path ledger = dir.resolve(name + ".ledger");
    Path log = dir.resolve(name + ".log");
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator
        + "java";
    List<String> cmd = new ArrayList<>(launch.prefix());
    cmd.addAll(List.of(java, "-Xmx160m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dit.host=" + launch.host()));
    cmd.addAll(launch.properties());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        LedgerProvider.class.getName(), registryUri, ledger.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(launch.env());
    Process p = pb.start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
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
    String line;
    try {
      // a cold JVM on a busy machine: be generous
      while ((line = lines.poll(60, TimeUnit.SECONDS)) != null
          && !line.startsWith("LISTENING ")) {
        // output before it serves
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting " + name, e);
    }
    if (line == null) {
      p.destroyForcibly();
      throw new IllegalStateException(name + " did not start serving; see " + log + ":\n"
          + Files.readString(log));
    }
    int port = Integer.parseInt(line.substring("LISTENING ".length()).trim());
    return new ProviderProcess(name, launch.host(), ledger, log, p, port, lines);
  }

  String address() {
    return host + ":" + port;
  }

  long pid() {
    return process.pid();
  }

  /**
   * Asks for a graceful stop (unregister, drain) and waits for the process to exit.
   *
   * @throws AssertionError when it does not exit within 30 s or exits with an error
   */
  void stop() throws InterruptedException {
    command("stop");
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(name + " did not stop within 30 s");
    }
    if (process.exitValue() != 0) {
      throw new AssertionError(name + " exited with " + process.exitValue());
    }
  }

  /** SIGKILL: the process dies at once, with calls in flight. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
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
      throw new IllegalStateException("kill " + signal + " " + pid() + " failed: " + out);
    }
  }

  /**
   * Connections the provider's server accepted since it started, how many are open now, and the
   * calls it refused before running them (overload and the like).
   */
  long[] connectionStats() throws IOException, InterruptedException {
    command("stats");
    String line;
    while ((line = lines.poll(30, TimeUnit.SECONDS)) != null && !line.startsWith("STATS ")) {
      // other output
    }
    if (line == null) {
      throw new AssertionError(name + " did not answer 'stats'");
    }
    String[] parts = line.split(" ");
    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2]),
        Long.parseLong(parts[3])};
  }

  private void command(String command) {
    try {
      OutputStream in = process.getOutputStream();
      in.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
      in.flush();
    } catch (IOException alreadyGone) {
      // the process has exited; waitFor tells
    }
  }

  /** The lines of the provider's log (its standard error) that contain {@code text}. */
  List<String> logLines(String text) throws IOException {
    if (!Files.exists(log)) {
      return List.of();
    }
    return Files.readAllLines(log, StandardCharsets.UTF_8).stream()
        .filter(l -> l.contains(text)).toList();
  }

  /** Ends the process whatever its state (cleanup after a test). */
  void destroy() {
    if (process.isAlive()) {
      try {
        resume(); // a stopped process cannot die of SIGTERM, but SIGKILL works in any state
      } catch (Exception ignored) {
        // best effort
      }
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return name + "@" + address() + "(pid " + pid() + ")";
  }
}
