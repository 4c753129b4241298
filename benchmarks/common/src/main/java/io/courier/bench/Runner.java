package io.courier.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs every contender through every scenario, each as a server JVM and a client JVM on loopback,
 * interleaved (round 1: every scenario, every contender; round 2: the same, in another order), and
 * prints the medians of the rounds with their ratios to raw Netty and to Courier.
 *
 * <pre>
 * java -jar benchmarks/common/target/bench-runner.jar [--mode quick|full] [--rounds n]
 *     [--warmup s] [--duration s] [--contenders a,b] [--scenarios echo64x1,...] [--out file]
 *     [--also label=contender@path/to/jar,...]
 * </pre>
 *
 * <p>{@code --also} adds contenders from other jars under their own label, for example the same
 * contender built from an earlier commit: {@code --also before=courier@/tmp/bench-courier.jar}.
 */
public final class Runner {

  /** The contenders and the jar each lives in, in table order. */
  static final Map<String, String> CONTENDERS = new LinkedHashMap<>();

  static {
    CONTENDERS.put("netty", "courier");
    CONTENDERS.put("courier", "courier");
    CONTENDERS.put("courier-direct", "courier");
    CONTENDERS.put("grpc", "grpc");
    CONTENDERS.put("grpc-direct", "grpc");
    CONTENDERS.put("courier-grpc", "grpc");
    CONTENDERS.put("dubbo", "dubbo");
  }

  /** A load shape: what each call sends and how many are kept in flight. */
  record Scenario(String name, String call, int payload, int inflight) {
    String title() {
      return call.equals("echo") ? bytes(payload) + ", " + inflight + " in flight"
          : "small object, " + inflight + " in flight";
    }

    private static String bytes(int n) {
      return n >= 1024 && n % 1024 == 0 ? n / 1024 + " KiB" : n + " B";
    }
  }

  static final List<Scenario> SCENARIOS = List.of(
      new Scenario("echo64x1", "echo", 64, 1),
      new Scenario("echo64x256", "echo", 64, 256),
      new Scenario("echo4kx32", "echo", 4096, 32),
      new Scenario("smallx256", "small", 0, 256));

  /** One run's figures. */
  record Run(double throughput, double p50, double p99, double p999, double cpuMicrosPerCall,
      double clientAllocPerCall, double serverAllocPerCall, long errors, String firstError) {}

  private final Path jars;
  /** Label to {contender name, jar} for contenders added with --also. */
  private final Map<String, String[]> extra;
  private final int rounds;
  private final double warmup;
  private final double duration;
  private final List<String> contenders;
  private final List<Scenario> scenarios;
  private final List<String> jvmFlags;

  Runner(Path jars, Map<String, String[]> extra, int rounds, double warmup, double duration,
      List<String> contenders, List<Scenario> scenarios, List<String> jvmFlags) {
    this.jars = jars;
    this.extra = extra;
    this.rounds = rounds;
    this.warmup = warmup;
    this.duration = duration;
    this.contenders = contenders;
    this.scenarios = scenarios;
    this.jvmFlags = jvmFlags;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> o = ContenderMain.options(prepend(args));
    boolean quick = o.getOrDefault("mode", "quick").equals("quick");
    int rounds = Integer.parseInt(o.getOrDefault("rounds", quick ? "2" : "3"));
    double warmup = Double.parseDouble(o.getOrDefault("warmup", quick ? "1" : "5"));
    double duration = Double.parseDouble(o.getOrDefault("duration", quick ? "1.5" : "10"));
    Path jars = Path.of(o.getOrDefault("jars", "benchmarks"));
    List<String> contenders = new ArrayList<>();
    // quick mode leaves courier-direct out to stay under three minutes
    String all = String.join(",", CONTENDERS.keySet());
    for (String c : o.getOrDefault("contenders", quick ? all.replace(",courier-direct", "") : all)
        .split(",")) {
      if (!CONTENDERS.containsKey(c)) {
        throw new IllegalArgumentException("contender: " + c + " (expected one of "
            + CONTENDERS.keySet() + ")");
      }
      if (Files.exists(jar(jars, c))) {
        contenders.add(c);
      } else {
        System.err.println("skipping " + c + ": " + jar(jars, c) + " is not built");
      }
    }
    Map<String, String[]> extra = new LinkedHashMap<>();
    if (o.containsKey("also")) {
      for (String spec : o.get("also").split(",")) {
        String[] labelRest = spec.split("=", 2);
        String[] nameJar = labelRest[1].split("@", 2);
        if (!Files.exists(Path.of(nameJar[1]))) {
          throw new IllegalArgumentException("also: " + spec + " (no such jar)");
        }
        extra.put(labelRest[0], nameJar);
        contenders.add(labelRest[0]);
      }
    }
    List<Scenario> scenarios = new ArrayList<>();
    String wanted = o.getOrDefault("scenarios", quick ? "echo64x1,echo64x256,echo4kx32"
        : "echo64x1,echo64x256,echo4kx32,smallx256");
    for (String s : wanted.split(",")) {
      scenarios.add(SCENARIOS.stream().filter(x -> x.name.equals(s)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("scenario: " + s + " (expected one of "
              + SCENARIOS.stream().map(Scenario::name).toList() + ")")));
    }
    List<String> flags = List.of(o.getOrDefault("jvm", "-Xms512m -Xmx512m").split(" "));
    Runner runner = new Runner(jars, extra, rounds, warmup, duration, contenders, scenarios,
        flags);
    String report = runner.run();
    System.out.println();
    System.out.println(report);
    String out = o.get("out");
    if (out != null) {
      Files.writeString(Path.of(out), report);
      System.out.println("written to " + out);
    }
  }

  private static String[] prepend(String[] args) {
    String[] all = new String[args.length + 1];
    all[0] = "runner";
    System.arraycopy(args, 0, all, 1, args.length);
    return all;
  }

  static Path jar(Path dir, String contender) {
    String module = CONTENDERS.get(contender);
    return dir.resolve(module).resolve("target").resolve("bench-" + module + ".jar");
  }

  String run() throws Exception {
    Map<String, List<Run>> results = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      List<String> order = new ArrayList<>(contenders);
      if (round % 2 == 0) {
        Collections.reverse(order); // drift of the machine hits every contender alike
      }
      for (Scenario s : scenarios) {
        for (String c : order) {
          if ((contenderOf(c).equals("netty") || contenderOf(c).equals("courier-grpc"))
              && !s.call.equals("echo")) {
            continue; // raw Netty only echoes bytes; courier-grpc has no small-object message
          }
          Run r = runOnce(c, s);
          System.out.printf(Locale.ROOT, "round %d  %-12s %-26s %10.0f calls/s  p50 %7.1f µs"
              + "  p99 %8.1f µs  cpu %6.1f µs/call  alloc %6.0f/%6.0f B/call%s%n", round, c,
              s.title(), r.throughput, r.p50, r.p99, r.cpuMicrosPerCall, r.clientAllocPerCall,
              r.serverAllocPerCall, r.errors == 0 ? "" : "  ERRORS " + r.errors + " "
                  + r.firstError);
          results.computeIfAbsent(s.name + "/" + c, k -> new ArrayList<>()).add(r);
        }
      }
    }
    return report(results);
  }

  private Process start(List<String> command) throws IOException {
    List<String> full = new ArrayList<>();
    full.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    full.addAll(jvmFlags);
    full.addAll(command);
    return new ProcessBuilder(full).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private String contenderOf(String label) {
    String[] e = extra.get(label);
    return e == null ? label : e[0];
  }

  private Run runOnce(String label, Scenario s) throws Exception {
    String[] e = extra.get(label);
    String contender = e == null ? label : e[0];
    Path jar = e == null ? jar(jars, label) : Path.of(e[1]);
    Process server = start(List.of("-jar", jar.toString(), "server", "--contender", contender,
        "--port", "0"));
    try {
      BufferedReader fromServer = reader(server);
      Writer toServer = new OutputStreamWriter(server.getOutputStream(),
          StandardCharsets.US_ASCII);
      String ready = expect(fromServer, "READY", server);
      String port = ready.split(" ")[1];
      Process client = start(List.of("-jar", jar.toString(), "client", "--contender", contender,
          "--port", port, "--scenario", s.call, "--payload", Integer.toString(s.payload),
          "--inflight", Integer.toString(s.inflight), "--warmup", Double.toString(warmup),
          "--duration", Double.toString(duration)));
      try {
        BufferedReader fromClient = reader(client);
        long[] clientWarm = figures(expect(fromClient, "WARM", client));
        long[] serverWarm = mark(toServer, fromServer, server);
        long[] clientDone = figures(expect(fromClient, "DONE", client));
        long[] serverDone = mark(toServer, fromServer, server);
        Map<String, String> r = parse(expect(fromClient, "RESULT", client));
        client.waitFor(30, TimeUnit.SECONDS);
        long calls = Math.max(1, Long.parseLong(r.get("calls")));
        double cpuNanos = (clientDone[0] - clientWarm[0]) + (serverDone[0] - serverWarm[0]);
        return new Run(Double.parseDouble(r.get("throughput")), Double.parseDouble(r.get("p50us")),
            Double.parseDouble(r.get("p99us")), Double.parseDouble(r.get("p999us")),
            cpuNanos / calls / 1000.0, (double) (clientDone[1] - clientWarm[1]) / calls,
            (double) (serverDone[1] - serverWarm[1]) / calls, Long.parseLong(r.get("errors")),
            r.get("firstError"));
      } finally {
        client.destroy();
      }
    } finally {
      try (PrintWriter w = new PrintWriter(server.getOutputStream(), true)) {
        w.println("stop");
      } catch (RuntimeException ignored) {
        // already gone
      }
      // the figures are in: a server that takes its time to stop gracefully is not waited for
      if (!server.waitFor(2, TimeUnit.SECONDS)) {
        server.destroyForcibly();
        server.waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  private static BufferedReader reader(Process p) {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  private static long[] mark(Writer toServer, BufferedReader fromServer, Process server)
      throws IOException {
    toServer.write("mark\n");
    toServer.flush();
    return figures(expect(fromServer, "MARK", server));
  }

  /** Reads lines until one starts with {@code word}; the process's other output is echoed. */
  private static String expect(BufferedReader in, String word, Process p) throws IOException {
    String line;
    while ((line = in.readLine()) != null) {
      if (line.startsWith(word + " ") || line.equals(word)) {
        return line;
      }
      System.out.println("  | " + line);
    }
    throw new IOException("process " + p.pid() + " ended before printing " + word);
  }

  private static long[] figures(String line) {
    String[] parts = line.split(" ");
    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
  }

  private static Map<String, String> parse(String resultLine) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String kv : resultLine.substring("RESULT ".length()).split(" ")) {
      int eq = kv.indexOf('=');
      m.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return m;
  }

  private static double median(List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
    double[] v = runs.stream().mapToDouble(f).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private String report(Map<String, List<Run>> results) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "Medians of %d rounds; warm-up %.1f s, measured %.1f s"
        + " per run; server and client in separate JVMs (%s) on loopback.%n%n", rounds, warmup,
        duration, String.join(" ", jvmFlags)));
    for (Scenario s : scenarios) {
      sb.append("### ").append(s.title()).append("\n\n");
      sb.append("| contender | calls/s | × raw Netty | × Courier | p50 µs | p99 µs | p99.9 µs"
          + " | CPU µs/call | client B/call | server B/call | errors |\n");
      sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      List<Run> netty = results.get(s.name + "/netty");
      List<Run> courier = results.get(s.name + "/courier");
      for (String c : contenders) {
        List<Run> runs = results.get(s.name + "/" + c);
        if (runs == null) {
          continue;
        }
        double tput = median(runs, Run::throughput);
        sb.append(String.format(Locale.ROOT,
            "| %s | %,.0f | %s | %s | %.1f | %.1f | %.1f | %.1f | %,.0f | %,.0f | %d |%n", c, tput,
            ratio(tput, netty), ratio(tput, courier), median(runs, Run::p50),
            median(runs, Run::p99), median(runs, Run::p999), median(runs, Run::cpuMicrosPerCall),
            median(runs, Run::clientAllocPerCall), median(runs, Run::serverAllocPerCall),
            runs.stream().mapToLong(Run::errors).sum()));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static String ratio(double value, List<Run> base) {
    if (base == null) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.2f", value / median(base, Run::throughput));
  }
}
