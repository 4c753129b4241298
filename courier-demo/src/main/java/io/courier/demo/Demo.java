package io.courier.demo;

import io.courier.CallContext;
import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.core.ServiceDescriptor;
import io.courier.core.cluster.LoadBalancers;
import io.courier.registry.embedded.EmbeddedZooKeeper;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Courier's demo: an embedded registry and three provider JVMs on loopback. It calls one provider
 * and prints each call with its latency (synchronous, asynchronous, one-way, a checked and an
 * unchecked remote exception, a deadline exceeded, then a burst with percentiles); then a
 * consumer finds all three through the registry, spreads calls over them, and keeps being
 * answered while one is killed and the other two are restarted one by one.
 */
public final class Demo {

  private Demo() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(System.out));
  }

  /** A provider JVM of the demo. */
  private static final class Provider {
    final String name;
    final Process process;
    final String address;

    Provider(String name, String registry) throws Exception {
      this.name = name;
      String java = System.getProperty("java.home") + File.separator + "bin" + File.separator
          + "java";
      process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          ProviderMain.class.getName(), name, registry)
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      BufferedReader fromProvider = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = fromProvider.readLine()) != null && !line.startsWith("LISTENING ")) {
        // the provider's own output before it serves
      }
      if (line == null) {
        throw new IllegalStateException(name + " exited before it was serving");
      }
      address = "127.0.0.1:" + line.substring("LISTENING ".length());
    }

    /** Asks for a graceful stop; returns the exit code, or -1 when it had to be killed. */
    int stop() throws InterruptedException {
      try (OutputStream in = process.getOutputStream()) {
        in.write("stop\n".getBytes(StandardCharsets.US_ASCII));
      } catch (Exception ignored) {
        // already gone
      }
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return -1;
      }
      return process.exitValue();
    }
  }

  /**
   * Runs the demo, printing to {@code out}: an embedded registry, three provider JVMs, the call
   * showcase against one of them, then a consumer that finds all three through the registry,
   * spreads calls over them, and keeps being answered when one is killed.
   *
   * @return the exit code: 0 when every call behaved as shown
   */
  public static int run(PrintStream out) throws Exception {
    Path data = Files.createTempDirectory("courier-demo-registry");
    List<Provider> providers = new ArrayList<>();
    int exit = 1;
    EmbeddedZooKeeper registry = EmbeddedZooKeeper.start("127.0.0.1", 0, data);
    try {
      out.println("Courier demo");
      out.println("registry: embedded ZooKeeper at " + registry.uri());
      for (int i = 1; i <= 3; i++) {
        Provider p = new Provider("provider-" + i, registry.uri());
        providers.add(p);
        out.println(p.name + ": pid " + p.process.pid() + ", serving on " + p.address
            + ", registered");
      }
      out.print(ServiceDescriptor.of(Greeter.class).describe());
      out.println();
      out.println("-- every kind of call, to " + providers.get(0).name + " by address --");
      try (CourierClient client = CourierClient.builder().address(providers.get(0).address)
          .timeout(Duration.ofSeconds(2)).build()) {
        exit = calls(client.stub(Greeter.class), out);
      }
      out.println();
      out.println("-- a cluster found through the registry --");
      // round robin, so the spread is easy to read (the default balancer favours the fastest)
      try (CourierClient client = CourierClient.builder().registry(registry.uri())
          .registryCacheDir(data.resolve("provider-cache"))
          .loadBalancer(LoadBalancers.roundRobin()).warmup(Duration.ZERO)
          .timeout(Duration.ofSeconds(2)).build()) {
        exit |= cluster(client.stub(Greeter.class), providers, registry.uri(), out);
      }
    } finally {
      for (Provider p : providers) {
        if (p.process.isAlive()) {
          int code = p.stop();
          out.println(p.name + " stopped gracefully (exit code " + code + ")");
          if (code != 0) {
            exit = 1;
          }
        }
      }
      registry.close();
    }
    return exit;
  }

  private static int cluster(Greeter greeter, List<Provider> providers, String registry,
      PrintStream out) throws Exception {
    out.println("300 calls, round robin: " + spread(greeter, 300).spread);
    out.println("a consumer thread now calls node() in a loop while providers come and go:");
    CallLoop loop = new CallLoop(greeter);
    loop.start();
    try {
      Thread.sleep(500);
      out.println("  steady           " + loop.phase());
      Provider victim = providers.get(1);
      victim.process.destroyForcibly(); // SIGKILL: no goodbye, no unregistration
      victim.process.waitFor();
      out.println(victim.name + " killed (SIGKILL)");
      Thread.sleep(500);
      out.println("  after the kill   " + loop.phase());
      int next = providers.size() + 1;
      for (int i : new int[] {0, 2}) { // a rolling restart of the two that are left
        Provider old = providers.get(i);
        int code = old.stop();
        out.println(old.name + " stopped gracefully (exit code " + code + ")");
        Provider fresh = new Provider("provider-" + next++, registry);
        providers.set(i, fresh);
        out.println(fresh.name + ": pid " + fresh.process.pid() + ", serving on " + fresh.address
            + ", registered");
        loop.awaitAnswerFrom(fresh.name, Duration.ofSeconds(10));
        out.println("  during restarts  " + loop.phase());
      }
      Thread.sleep(500);
      out.println("  after restarts   " + loop.phase());
    } finally {
      loop.stopLoop();
    }
    out.println(loop.total + " calls in the loop, " + loop.failed + " failed"
        + (loop.failed == 0 ? "" : " (first: " + loop.firstFailure + ")"));
    boolean ok = loop.failed == 0;
    out.println(ok ? "the consumer kept being answered through a kill and a rolling restart"
        : "UNEXPECTED: calls were lost");
    return ok ? 0 : 1;
  }

  /**
   * Calls node() in a loop on its own thread; counts answers per provider since the last
   * {@link #phase()}, and failures.
   */
  private static final class CallLoop extends Thread {
    private final Greeter greeter;
    private final Map<String, Integer> counts = new TreeMap<>();
    private volatile boolean running = true;
    volatile long total;
    volatile long failed;
    volatile String firstFailure;

    CallLoop(Greeter greeter) {
      super("demo-call-loop");
      this.greeter = greeter;
      setDaemon(true);
    }

    @Override
    public void run() {
      while (running) {
        try {
          String node = greeter.node();
          synchronized (counts) {
            counts.merge(node, 1, Integer::sum);
          }
        } catch (RpcException e) {
          if (failed++ == 0) {
            firstFailure = e.getMessage();
          }
        }
        total++;
      }
    }

    /** The answers per provider since the last phase, and the failures so far. */
    String phase() {
      synchronized (counts) {
        String s = counts + ", " + failed + " failed";
        counts.clear();
        return s;
      }
    }

    void awaitAnswerFrom(String provider, Duration max) throws InterruptedException {
      long end = System.nanoTime() + max.toNanos();
      while (System.nanoTime() < end) {
        synchronized (counts) {
          if (counts.containsKey(provider)) {
            return;
          }
        }
        Thread.sleep(10);
      }
    }

    void stopLoop() throws InterruptedException {
      running = false;
      join();
    }
  }

  private record Spread(Map<String, Integer> spread, int failed, String firstFailure) {}

  /** Calls node() {@code n} times; counts answers per provider and failures. */
  private static Spread spread(Greeter greeter, int n) {
    Map<String, Integer> counts = new TreeMap<>();
    int failed = 0;
    String first = null;
    for (int i = 0; i < n; i++) {
      try {
        counts.merge(greeter.node(), 1, Integer::sum);
      } catch (RpcException e) {
        failed++;
        if (first == null) {
          first = e.status().code() + " " + e.reason();
        }
      }
    }
    return new Spread(counts, failed, first);
  }

  private static int calls(Greeter greeter, PrintStream out) throws Exception {
    show(out, "sync", "greet(\"Ada\")", () -> greeter.greet("Ada"));
    show(out, "async", "greetAsync(Person[Grace, 1906-12-09])", () -> {
      CompletableFuture<Greeting> f = greeter.greetAsync(
          new Person("Grace", LocalDate.of(1906, 12, 9)));
      return f.join();
    });
    show(out, "one-way", "audit(\"login\") x3", () -> {
      for (int i = 0; i < 3; i++) {
        greeter.audit("login");
      }
      return "(returned without waiting)";
    });
    show(out, "sync", "audited() once the one-way calls ran", () -> {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      int seen;
      while ((seen = greeter.audited()) < 3 && System.nanoTime() < end) {
        Thread.onSpinWait();
      }
      return seen;
    });
    show(out, "checked", "divide(1, 0)", () -> {
      try {
        return greeter.divide(1, 0);
      } catch (DemoException e) {
        return "threw " + e.getClass().getSimpleName() + ": " + e.getMessage();
      }
    });
    show(out, "remote", "explode(\"disk full\")", () -> greeter.explode("disk full"));
    show(out, "deadline", "slow(500) within 100 ms", () -> {
      try (CallContext.Scope ignored = CallContext.withTimeout(Duration.ofMillis(100))) {
        return greeter.slow(500);
      }
    });

    int n = 2_000;
    long[] micros = new long[n];
    for (int i = 0; i < n; i++) {
      long t = System.nanoTime();
      greeter.greet("n" + i);
      micros[i] = (System.nanoTime() - t) / 1000;
    }
    Arrays.sort(micros);
    out.printf("%n%d sequential sync calls: p50 %d µs, p99 %d µs, max %d µs%n", n,
        micros[n / 2], micros[n * 99 / 100], micros[n - 1]);

    int m = 20_000;
    Semaphore window = new Semaphore(64);
    long start = System.nanoTime();
    CompletableFuture<?>[] all = new CompletableFuture<?>[m];
    Person p = new Person("Linus", LocalDate.of(1969, 12, 28));
    for (int i = 0; i < m; i++) {
      window.acquire();
      all[i] = greeter.greetAsync(p).whenComplete((r, t) -> window.release());
    }
    CompletableFuture.allOf(all).get(30, TimeUnit.SECONDS);
    double secs = (System.nanoTime() - start) / 1e9;
    out.printf("%d async calls, 64 in flight on one connection: %.0f calls/s%n", m,
        m / secs);
    out.println("(a demo run on a warming JVM, not a benchmark: see docs/benchmarks.md)");
    return 0;
  }

  private static void show(PrintStream out, String kind, String call, Supplier<Object> body) {
    long t = System.nanoTime();
    String result;
    try {
      Object r = body.get();
      result = r instanceof String s && !s.startsWith("(") && !s.startsWith("threw")
          ? '"' + s + '"' : String.valueOf(r);
    } catch (RpcException e) {
      result = "RpcException " + e.getMessage();
    }
    long us = (System.nanoTime() - t) / 1000;
    out.printf("%-9s %-40s %7d µs  -> %s%n", kind, call, us, result);
  }
}
