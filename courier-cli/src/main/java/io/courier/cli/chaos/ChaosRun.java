package io.courier.cli.chaos;

import io.courier.cli.CourierCli;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One chaos run: a registry, provider JVMs and consumer JVMs under a steady load, faults injected
 * for the run's duration in an order drawn from the seed, then the reconciliation of what the
 * consumers saw with what the providers' ledgers say ran ({@link ChaosLedger}). Not thread-safe:
 * {@link #run} is called once.
 */
public final class ChaosRun {

  /**
   * What a run does.
   *
   * @param providers provider JVMs kept running (a killed one is replaced)
   * @param consumers consumer JVMs
   * @param duration how long the load and the faults last
   * @param seed the seed of the faults' order, targets and lengths
   * @param registry a registry URI; null for an embedded ZooKeeper run as a child process
   * @param faults the faults to inject; empty for a run without faults
   * @param faultInterval the mean pause between two faults
   * @param rate calls per second of each consumer
   * @param callers caller threads of each consumer
   * @param timeout the consumers' call timeout
   * @param work how long each call works on its provider
   * @param dir where the logs, ledgers and call records go
   */
  public record Settings(int providers, int consumers, Duration duration, long seed,
      String registry, Set<Fault> faults, Duration faultInterval, int rate, int callers,
      Duration timeout, Duration work, Path dir) {}

  /** ZooKeeper session timeout of the embedded registry's clients: a killed provider leaves. */
  private static final int SESSION_TIMEOUT_MS = 4_000;
  private static final long START_SECONDS = 60;

  private final Settings s;
  private final PrintStream out;
  private final Random random;
  private final long origin = System.nanoTime();
  private final List<Child> children = Collections.synchronizedList(new ArrayList<>());
  private final List<Path> ledgers = new ArrayList<>();
  private final Map<Fault, Integer> fired = new EnumMap<>(Fault.class);
  private Child registry;
  private int registryPort;
  private String registryUri;
  private final List<Child> providers = new ArrayList<>();
  private final int[] generation;
  private int registryStarts;

  /** A run with {@code settings}, reporting to {@code out}. */
  public ChaosRun(Settings settings, PrintStream out) {
    this.s = settings;
    this.out = out;
    this.random = new Random(settings.seed());
    this.generation = new int[settings.providers()];
  }

  /**
   * Runs: starts everything, injects the faults, stops everything, reconciles and prints the
   * table and the verdict.
   *
   * @return {@link CourierCli#EXIT_OK} when nothing was lost, misreported or run twice against
   *     the rules, else {@link CourierCli#EXIT_FAILURE}
   * @throws IllegalStateException when a process of the run could not be started
   */
  public int run() throws IOException, InterruptedException {
    Files.createDirectories(s.dir());
    Thread cleanup = new Thread(this::destroyAll, "courier-chaos-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      return runCluster();
    } finally {
      destroyAll();
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
    }
  }

  private int runCluster() throws IOException, InterruptedException {
    out.printf("courier chaos: %d providers, %d consumers (%d calls/s each, %d ms of work per"
        + " call), %d s, seed %d, faults %s%n", s.providers(), s.consumers(), s.rate(),
        s.work().toMillis(), s.duration().toSeconds(),
        s.seed(), s.faults().isEmpty() ? "none"
            : s.faults().stream().map(Fault::option).collect(Collectors.joining(",")));
    out.println("  logs, ledgers and call records in " + s.dir().toAbsolutePath());
    if (s.registry() == null) {
      startRegistry(0);
      registryUri = "zookeeper://127.0.0.1:" + registryPort + "/courier?sessionTimeout="
          + SESSION_TIMEOUT_MS;
      event("registry (embedded ZooKeeper) at " + registryUri + ", " + registry);
    } else {
      registryUri = s.registry();
      event("registry " + registryUri);
    }
    List<Child> starting = new ArrayList<>();
    for (int i = 0; i < s.providers(); i++) {
      starting.add(launchProvider(i));
    }
    for (Child p : starting) {
      p.await("LISTENING ", START_SECONDS);
      providers.add(p);
    }
    event(s.providers() + " providers serving: " + providers);
    List<Child> consumers = new ArrayList<>();
    List<Path> records = new ArrayList<>();
    for (int i = 0; i < s.consumers(); i++) {
      Path record = s.dir().resolve("c" + (i + 1) + ".calls");
      records.add(record);
      consumers.add(spawn("c" + (i + 1), ChaosConsumer.class, List.of(registryUri,
          record.toString(), s.dir().resolve("cache-c" + (i + 1)).toString(),
          Long.toString((i + 1) * 1_000_000_000L), Integer.toString(s.rate()),
          Integer.toString(s.callers()), Long.toString(s.timeout().toMillis()))));
    }
    for (Child c : consumers) {
      c.await("STARTED", START_SECONDS);
    }
    long loadStart = System.nanoTime();
    long end = loadStart + s.duration().toNanos();
    event(s.consumers() + " consumers calling");

    injectFaults(end);
    long left = end - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }

    event("stopping the consumers");
    for (Child c : consumers) {
      c.send("stop");
    }
    long wait = s.timeout().toSeconds() + 30;
    for (Child c : consumers) {
      int status = c.waitFor(wait);
      if (status != 0) {
        throw new IllegalStateException("consumer " + c + (status < 0
            ? " did not stop within " + wait + " s" : " exited with status " + status)
            + "; its log " + c.log + ":\n" + c.tail());
      }
    }
    event("stopping the providers");
    for (Child p : providers) {
      p.send("stop");
    }
    for (Child p : providers) {
      if (p.waitFor(30) != 0) {
        event(p + " did not stop cleanly within 30 s; killed (its ledger still counts)");
        p.kill();
      }
    }
    if (registry != null) {
      registry.terminate(30);
    }

    List<CallRecord> calls = new ArrayList<>();
    for (Path r : records) {
      for (String line : Files.readAllLines(r, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          calls.add(CallRecord.parse(line));
        }
      }
    }
    ChaosLedger ledger = ChaosLedger.reconcile(calls, ledgers);
    report(ledger);
    return ledger.clean() ? CourierCli.EXIT_OK : CourierCli.EXIT_FAILURE;
  }

  private void report(ChaosLedger ledger) {
    out.println();
    out.println("Faults fired: " + (s.faults().isEmpty() ? "none" : s.faults().stream()
        .map(f -> f.option() + " " + fired.getOrDefault(f, 0))
        .collect(Collectors.joining(", "))));
    out.println();
    out.print(ledger.table());
    out.println();
    out.println("Typed failures by reason (status): " + ledger.reasons());
    if (!ledger.idempotentRepeats.isEmpty()) {
      out.println("Idempotent calls run more than once (allowed): "
          + ledger.idempotentRepeats.size());
      ledger.idempotentRepeats.stream().limit(10).forEach(r -> out.println("  " + r));
    }
    if (!ledger.clean()) {
      out.println("Violations: " + ledger.violations.size());
      ledger.violations.stream().limit(50).forEach(v -> out.println("  " + v));
    }
    out.println();
    if (ledger.clean()) {
      out.println("Verdict: PASS: " + ledger.issued[ChaosLedger.TOTAL]
          + " calls, nothing lost, no non-idempotent call ran twice");
    } else {
      out.println("Verdict: FAIL: " + ledger.lost[ChaosLedger.TOTAL] + " lost, "
          + ledger.ranTwice[ChaosLedger.RECORD] + " non-idempotent calls ran twice, "
          + ledger.violations.size() + " violations in all");
    }
    out.flush();
  }

  /** Injects faults, in cycles that each cover every fault in a seeded order, until {@code end}. */
  private void injectFaults(long end) throws IOException, InterruptedException {
    if (s.faults().isEmpty()) {
      return;
    }
    List<Fault> cycle = new ArrayList<>();
    Fault last = null;
    while (true) {
      long pause = (long) (s.faultInterval().toNanos() * (0.5 + random.nextDouble()));
      if (System.nanoTime() + pause - end >= 0) {
        return;
      }
      TimeUnit.NANOSECONDS.sleep(pause);
      if (cycle.isEmpty()) {
        cycle.addAll(s.faults());
        Collections.shuffle(cycle, random);
        if (cycle.size() > 1 && cycle.get(0) == last) {
          Collections.swap(cycle, 0, cycle.size() - 1); // not the same fault twice in a row
        }
      }
      Fault f = cycle.remove(0);
      last = f;
      inject(f);
      fired.merge(f, 1, Integer::sum);
    }
  }

  private void inject(Fault f) throws IOException, InterruptedException {
    int i = random.nextInt(providers.size());
    Child p = providers.get(i);
    switch (f) {
      case KILL -> {
        event("kill: SIGKILL " + p);
        p.kill();
        Thread.sleep(500);
        Child next = launchProvider(i);
        next.await("LISTENING ", START_SECONDS);
        providers.set(i, next);
        event("kill: " + next + " started in its place");
      }
      case STOP -> {
        long millis = 1_000 + random.nextInt(1_500);
        event("stop: SIGSTOP " + p + " for " + millis + " ms");
        p.pause();
        Thread.sleep(millis);
        p.resume();
        event("stop: SIGCONT " + p);
      }
      case REGISTRY_RESTART -> {
        long millis = 500 + random.nextInt(1_000);
        event("registry-restart: stopping the registry " + registry + ", down " + millis
            + " ms");
        if (!registry.terminate(30)) {
          registry.kill();
        }
        Thread.sleep(millis);
        startRegistry(registryPort);
        event("registry-restart: registry serving again, " + registry);
      }
      case SLOW -> {
        long latency = 200 + random.nextInt(2_300);
        long millis = 2_000 + random.nextInt(1_000);
        event("slow: +" + latency + " ms per call on " + p + " for " + millis + " ms");
        p.send("slow " + latency);
        Thread.sleep(millis);
        p.send("slow 0");
        event("slow: " + p + " back to normal");
      }
    }
  }

  /** Starts the embedded registry on {@code port} (0: any) and waits until it serves. */
  private void startRegistry(int port) throws IOException, InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      registryStarts++;
      Child r = spawn("registry-" + registryStarts, CourierCli.class, List.of("registry",
          "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir",
          s.dir().resolve("registry-data").toString()));
      try {
        String line = r.await("Courier registry at ", START_SECONDS);
        String uri = line.substring("Courier registry at ".length()).split(" ")[0];
        registryPort = Integer.parseInt(uri.substring(uri.lastIndexOf(':') + 1,
            uri.indexOf('/', "zookeeper://".length())));
        registry = r;
        return;
      } catch (IllegalStateException notYet) {
        r.destroy();
        if (port == 0 || System.nanoTime() - end > 0) {
          throw notYet; // the port of a stopped registry may take a moment to be free again
        }
        Thread.sleep(200);
      }
    }
  }

  private Child launchProvider(int slot) throws IOException {
    generation[slot]++;
    String name = "p" + (slot + 1) + (generation[slot] == 1 ? "" : "." + generation[slot]);
    Path ledger = s.dir().resolve(name + ".ledger");
    ledgers.add(ledger);
    return spawn(name, ChaosProvider.class, List.of(registryUri, ledger.toString(),
        Long.toString(TimeUnit.NANOSECONDS.toMicros(s.work().toNanos()))));
  }

  private Child spawn(String name, Class<?> main, List<String> args) throws IOException {
    Child c = Child.start(name, s.dir(), main.getName(), args);
    children.add(c);
    return c;
  }

  private void event(String what) {
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - origin);
    out.printf("  +%6.1f s  %s%n", ms / 1000.0, what);
    out.flush();
  }

  private void destroyAll() {
    synchronized (children) {
      for (Child c : children) {
        c.destroy();
      }
    }
  }
}
