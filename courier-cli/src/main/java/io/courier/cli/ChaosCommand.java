package io.courier.cli;

import io.courier.cli.chaos.ChaosRun;
import io.courier.cli.chaos.Fault;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code courier chaos}: runs providers and consumers as separate JVMs on a registry, injects
 * faults for a while, and reconciles the consumers' call records with the providers' ledgers
 * (see {@link ChaosRun}). Exit status 0 when nothing was lost and no non-idempotent call ran
 * twice, 1 otherwise, 2 for a malformed command line.
 */
final class ChaosCommand implements Command {

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)?");

  @Override
  public String name() {
    return "chaos";
  }

  @Override
  public String summary() {
    return "run providers and consumers under faults and check no call is lost or run twice";
  }

  @Override
  public String description() {
    return "Starts a registry (an embedded ZooKeeper, as its own process, unless --registry\n"
        + "names one), provider JVMs and consumer JVMs. Each consumer calls a non-idempotent\n"
        + "method (record) and an @Idempotent one (read) at a steady rate, each call with a\n"
        + "unique id; each provider appends the id of every call it runs to its ledger file.\n"
        + "For the duration, faults are injected one after another, in cycles that cover every\n"
        + "chosen fault in an order drawn from the seed:\n"
        + "  kill              SIGKILL a provider, then start a new one in its place\n"
        + "  stop              SIGSTOP a provider for 1 to 2.5 s, then SIGCONT\n"
        + "  registry-restart  stop the embedded registry, start it again 0.5 to 1.5 s later\n"
        + "  slow              add 0.2 to 2.5 s of latency per call on a provider for 2 to 3 s\n"
        + "Then everything is stopped and the calls are reconciled with the ledgers: issued,\n"
        + "succeeded, failed with a typed error (did not run, or outcome unknown), executed\n"
        + "twice, lost. Exit status: 0 when nothing was lost, misreported or run twice against\n"
        + "the rules; 1 when something was (or the run could not be carried out); 2 for an\n"
        + "invalid command line.";
  }

  @Override
  public List<Option> options() {
    return List.of(
        Option.value("providers", "<n>", "3", "provider JVMs (a killed one is replaced)"),
        Option.value("consumers", "<n>", "2", "consumer JVMs"),
        Option.value("duration", "<time>", "60s", "how long load and faults last: 90s, 2m, 500ms"),
        Option.value("seed", "<n>", "random", "seed of the faults' order, targets and lengths"),
        Option.value("registry", "<uri>", "embedded",
            "embedded, or zookeeper://host:port/root or etcd://host:port"),
        Option.value("faults", "<list>", "all",
            "comma-separated: kill,stop,registry-restart,slow; all; or none"),
        Option.value("fault-interval", "<time>", "3s", "mean pause between two faults"),
        Option.value("rate", "<calls/s>", "50", "calls per second of each consumer"),
        Option.value("callers", "<n>", "8", "caller threads of each consumer"),
        Option.value("timeout", "<time>", "2s", "the consumers' call timeout"),
        Option.value("work", "<time>", "20ms", "how long each call works on its provider"),
        Option.value("dir", "<dir>", "a new temporary directory",
            "where logs, ledgers and call records go"));
  }

  @Override
  public int run(Arguments args, PrintStream out, PrintStream err) throws Exception {
    int providers = args.intValue("providers", 1, 64);
    int consumers = args.intValue("consumers", 1, 64);
    Duration duration = duration(args, "duration");
    long seed = args.value("seed").equals("random") ? ThreadLocalRandom.current().nextLong(1L << 32)
        : seed(args.value("seed"));
    String registry = args.value("registry");
    boolean embedded = registry.equals("embedded");
    if (!embedded && !registry.startsWith("zookeeper://") && !registry.startsWith("etcd://")) {
      throw new UsageException("courier chaos: --registry: " + registry
          + " (expected: embedded, zookeeper://host:port[/root], or etcd://host:port)");
    }
    Set<Fault> faults = faults(args.value("faults"), embedded);
    Duration interval = duration(args, "fault-interval");
    int rate = args.intValue("rate", 1, 100_000);
    int callers = args.intValue("callers", 1, 1_000);
    Duration timeout = duration(args, "timeout");
    Duration work = args.value("work").equals("0") ? Duration.ZERO : duration(args, "work");
    Path dir = args.has("dir") ? Path.of(args.value("dir"))
        : Files.createTempDirectory("courier-chaos-");
    ChaosRun.Settings settings = new ChaosRun.Settings(providers, consumers, duration, seed,
        embedded ? null : registry, faults, interval, rate, callers, timeout, work, dir);
    return new ChaosRun(settings, out).run();
  }

  private static long seed(String v) throws UsageException {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException("courier chaos: --seed: " + v
          + " (expected: a whole number, or random)");
    }
  }

  /** A duration option: {@code 60s}, {@code 2m}, {@code 500ms}, or whole seconds; above zero. */
  static Duration duration(Arguments args, String name) throws UsageException {
    String v = args.value(name);
    Matcher m = DURATION.matcher(v);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2);
      Duration d = switch (unit) {
        case "ms" -> Duration.ofMillis(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofSeconds(n);
      };
      if (!d.isZero()) {
        return d;
      }
    }
    throw new UsageException("courier chaos: --" + name + ": " + v
        + " (expected: a time above zero such as 60s, 2m or 500ms)");
  }

  /** The faults of {@code --faults}; {@code all} means those the registry allows. */
  static Set<Fault> faults(String v, boolean embeddedRegistry)
      throws UsageException {
    String valid = Arrays.stream(Fault.values()).map(Fault::option)
        .collect(Collectors.joining(", "));
    if (v.equals("none")) {
      return EnumSet.noneOf(Fault.class);
    }
    if (v.equals("all")) {
      Set<Fault> all = EnumSet.allOf(Fault.class);
      if (!embeddedRegistry) {
        all.remove(Fault.REGISTRY_RESTART); // only a registry the run started can be restarted
      }
      return all;
    }
    Set<Fault> set = EnumSet.noneOf(Fault.class);
    for (String name : v.split(",", -1)) {
      Fault f = Fault.byOption(name.trim()).orElseThrow(() -> new UsageException(
          "courier chaos: --faults: unknown fault '" + name.trim() + "' (expected: "
              + valid + "; all; or none)"));
      set.add(f);
    }
    if (set.contains(Fault.REGISTRY_RESTART) && !embeddedRegistry) {
      throw new UsageException("courier chaos: --faults: registry-restart needs --registry"
          + " embedded (a registry the run starts itself); leave it out for an external one");
    }
    return set;
  }
}
