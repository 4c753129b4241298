package io.courier.demo;

import io.courier.CallContext;
import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.core.ServiceDescriptor;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Courier's demo: starts a provider in its own JVM, then calls it from this one over loopback
 * TCP and prints each call with its latency: synchronous, asynchronous, one-way, a checked and an
 * unchecked remote exception, a deadline exceeded; then a short burst of calls with percentiles.
 */
public final class Demo {

  private Demo() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(System.out));
  }

  /**
   * Runs the demo, printing to {@code out}.
   *
   * @return the exit code: 0 when every call behaved as shown
   */
  public static int run(PrintStream out) throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator
        + "java";
    Process provider = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        ProviderMain.class.getName())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    int exit = 1;
    try {
      BufferedReader fromProvider = new BufferedReader(
          new InputStreamReader(provider.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = fromProvider.readLine()) != null && !line.startsWith("LISTENING ")) {
        out.println("provider: " + line);
      }
      if (line == null) {
        throw new IllegalStateException("the provider exited before it was serving");
      }
      String address = "127.0.0.1:" + line.substring("LISTENING ".length());
      out.println("Courier demo");
      out.println("provider: pid " + provider.pid() + ", serving on " + address);
      out.print(ServiceDescriptor.of(Greeter.class).describe());
      out.println();
      try (CourierClient client = CourierClient.builder().address(address)
          .timeout(Duration.ofSeconds(2)).build()) {
        exit = calls(client.stub(Greeter.class), out);
      }
    } finally {
      try (OutputStream in = provider.getOutputStream()) {
        in.write("stop\n".getBytes(StandardCharsets.US_ASCII));
      } catch (Exception ignored) {
        // already gone
      }
      if (!provider.waitFor(15, TimeUnit.SECONDS)) {
        provider.destroyForcibly();
      }
    }
    out.println("provider stopped gracefully (exit code " + provider.exitValue() + ")");
    return exit == 0 ? provider.exitValue() : exit;
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
