package io.courier.bench.courier;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A contender's server in its own JVM, started from this jar, for the Courier experiments. */
final class ServerProcess implements AutoCloseable {

  private final Process process;
  private final BufferedReader out;
  private final Writer in;
  final int port;

  ServerProcess(String contender, String... jvmFlags) throws IOException {
    this(List.of(jvmFlags), "io.courier.bench.ContenderMain", "server", "--contender", contender,
        "--port", "0");
  }

  /**
   * Runs {@code mainClass} of this jar with {@code args}; it must print {@code READY <port>} once
   * it serves, answer commands on its input, and end on {@code stop}.
   */
  ServerProcess(List<String> jvmFlags, String mainClass, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(List.of(args));
    process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8));
    in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
    port = Integer.parseInt(expect("READY").split(" ")[1]);
  }

  /** Sends a command line and returns the answer line starting with {@code word}. */
  String ask(String command, String word) throws IOException {
    in.write(command + "\n");
    in.flush();
    return expect(word);
  }

  private String expect(String word) throws IOException {
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(word + " ")) {
        return line;
      }
    }
    throw new IOException("the server ended before printing " + word);
  }

  @Override
  public void close() throws InterruptedException {
    try {
      in.write("stop\n");
      in.flush();
    } catch (IOException gone) {
      // already ended
    }
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
