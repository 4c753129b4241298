package io.courier.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The entry point of a contender's process, started by the {@link Runner}.
 *
 * <pre>
 * server --contender NAME [--port 0]
 *   prints "READY &lt;port&gt;"; on each "mark" line from stdin prints "MARK &lt;cpu ns&gt;
 *   &lt;allocated bytes&gt;", on "heap" "HEAP &lt;bytes used after a full GC&gt;"; stops on "stop"
 *   or the end of stdin.
 * client --contender NAME --port P [--host 127.0.0.1] [--scenario echo|small] [--payload 64]
 *        [--inflight 1] [--warmup 5] [--duration 10]
 *   after the warm-up prints "WARM &lt;cpu ns&gt; &lt;allocated bytes&gt;", after the window "DONE
 *   &lt;cpu ns&gt; &lt;allocated bytes&gt;", then one "RESULT ..." line, and exits.
 * </pre>
 */
public final class ContenderMain {

  private ContenderMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || !(args[0].equals("server") || args[0].equals("client"))) {
      System.err.println("usage: server|client --contender NAME [options]; see the Javadoc");
      System.exit(2);
    }
    Map<String, String> o = options(args);
    Contender contender = find(o.get("contender"));
    if (args[0].equals("server")) {
      serve(contender, Integer.parseInt(o.getOrDefault("port", "0")));
    } else {
      System.exit(call(contender, o));
    }
  }

  static Map<String, String> options(String[] args) {
    Map<String, String> o = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("option: " + args[i] + " (expected: --name value)");
      }
      o.put(args[i].substring(2), args[++i]);
    }
    return o;
  }

  /** The contender named {@code name} among those on the class path. */
  public static Contender find(String name) {
    StringBuilder names = new StringBuilder();
    for (Contender c : ServiceLoader.load(Contender.class)) {
      if (c.name().equals(name)) {
        return c;
      }
      names.append(' ').append(c.name());
    }
    throw new IllegalArgumentException("contender: " + name + " (expected one of:" + names + ")");
  }

  private static void serve(Contender contender, int port) throws Exception {
    try (Contender.Server server = contender.serve(port);
        BufferedReader in = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
      System.out.println("READY " + server.port());
      System.out.flush();
      String line;
      while ((line = in.readLine()) != null && !line.equals("stop")) {
        if (line.equals("mark")) {
          System.out.println("MARK " + Probe.read());
          System.out.flush();
        } else if (line.equals("heap")) {
          System.out.println("HEAP " + Probe.heapUsedAfterGc());
          System.out.flush();
        }
      }
    }
    System.exit(0);
  }

  private static int call(Contender contender, Map<String, String> o) throws Exception {
    LoadLoop.Scenario scenario = LoadLoop.Scenario.valueOf(
        o.getOrDefault("scenario", "echo").toUpperCase(java.util.Locale.ROOT));
    int payload = Integer.parseInt(o.getOrDefault("payload", "64"));
    int inflight = Integer.parseInt(o.getOrDefault("inflight", "1"));
    Duration warmup = Duration.ofMillis((long) (1000 * Double.parseDouble(
        o.getOrDefault("warmup", "5"))));
    Duration window = Duration.ofMillis((long) (1000 * Double.parseDouble(
        o.getOrDefault("duration", "10"))));
    try (Contender.Client client = contender.connect(o.getOrDefault("host", "127.0.0.1"),
        Integer.parseInt(o.get("port")))) {
      LoadLoop loop = new LoadLoop(client, scenario, payload, inflight);
      LoadLoop.Result r = loop.run(warmup, window, () -> {
        System.out.println("WARM " + Probe.read());
        System.out.flush();
      }, () -> {
        System.out.println("DONE " + Probe.read());
        System.out.flush();
      });
      System.out.println(r.line());
      System.out.flush();
      return 0;
    }
  }
}
