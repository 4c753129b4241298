package io.courier.cli;

import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.client.GenericService;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * {@code courier bench}: loads a running service with calls by name from a number of
 * concurrent callers for a while, prints progress each second and then throughput, latency
 * percentiles and errors by status.
 */
final class BenchCommand implements Command {

  /** Latencies above this are recorded as this (one hour). */
  private static final long MAX_NANOS = TimeUnit.HOURS.toNanos(1);

  @Override
  public String name() {
    return "bench";
  }

  @Override
  public String summary() {
    return "load a running service and print throughput and latency percentiles";
  }

  @Override
  public String description() {
    return "Calls <service>.<method> with the JSON arguments from --concurrency callers, each\n"
        + "sending its next call when the last one answers, for --duration; with --rate, calls\n"
        + "start on a fixed schedule instead and latency counts from the scheduled start, so a\n"
        + "slow server cannot hide its queueing. One call is made first: if it fails, nothing\n"
        + "is loaded and the failure is reported as 'courier call' would. A progress line\n"
        + "(calls/s, errors, p50 and p99 so far) is printed each second, in place on a\n"
        + "terminal; then the summary: calls, throughput, p50/p90/p99/p99.9/max latency and\n"
        + "the errors by status.\n\n"
        + "Example: courier bench demo.Shop.add '[1, 2]' --address 127.0.0.1:9000"
        + " --concurrency 16 --duration 10s\n\n"
        + "Exit status: 0 every call succeeded; 1 some failed (see the summary) or the first\n"
        + "call failed; 2 invalid command line; 3 the server or registry could not be reached.";
  }

  @Override
  public String operands() {
    return "<service>.<method> ['<json args>']";
  }

  @Override
  public List<Option> options() {
    List<Option> options = new ArrayList<>(Target.options("5s"));
    options.add(Option.value("concurrency", "<n>", "8", "calls in flight at once"));
    options.add(Option.value("duration", "<duration>", "10s", "how long to load, e.g. 30s"));
    options.add(Option.value("rate", "<calls/s>", "0",
        "start calls at this rate in total; 0 for as fast as answers come"));
    return options;
  }

  @Override
  public int run(Arguments args, PrintStream out, PrintStream err) throws Exception {
    String prefix = "courier bench";
    CallCommand.Invocation call = CallCommand.Invocation.of(prefix, args);
    int concurrency = args.intValue("concurrency", 1, 10_000);
    Duration duration = Target.duration(prefix, "duration", args.value("duration"));
    if (duration.isZero()) {
      throw new UsageException(prefix + ": --duration: 0 (expected: > 0, e.g. 10s)");
    }
    int rate = args.intValue("rate", 0, 10_000_000);
    try (CourierClient client = Target.client(name(), args)) {
      GenericService service;
      try {
        service = client.generic(call.target().service());
        service.invokeJson(call.target().method(), call.arguments()).get();
      } catch (ExecutionException e) {
        return Target.failed(prefix, "the first call to " + call.target() + " failed",
            e.getCause(), args, err);
      } catch (RuntimeException e) {
        return Target.failed(prefix, "the first call to " + call.target() + " failed", e, args,
            err);
      }
      Run run = new Run(service, call, concurrency, duration.toNanos(), rate);
      run.start();
      boolean tty = out == System.out && System.console() != null;
      Histogram total = new Histogram(MAX_NANOS, 3);
      long begin = run.begin;
      while (!run.await(TimeUnit.SECONDS.toNanos(1))) {
        run.latencies.getIntervalHistogramInto(run.interval);
        total.add(run.interval);
        show(out, tty, progress(System.nanoTime() - begin, run, total));
      }
      run.latencies.getIntervalHistogramInto(run.interval);
      total.add(run.interval);
      if (tty) {
        out.println();
      }
      out.print(summary(call, concurrency, rate, run, total));
      return run.failed.sum() == 0 ? CourierCli.EXIT_OK : CourierCli.EXIT_FAILURE;
    }
  }

  /**
   * Prints a progress line: on a terminal over the previous one (carriage return, then erase to
   * the end of the line), elsewhere (a file, a pipe, a CI log) as a line of its own.
   */
  static void show(PrintStream out, boolean tty, String line) {
    if (tty) {
      out.print("\r" + line + "\u001b[K");
    } else {
      out.println(line);
    }
    out.flush();
  }

  private static String progress(long elapsedNanos, Run run, Histogram total) {
    double seconds = elapsedNanos / 1e9;
    long calls = run.ok.sum() + run.failed.sum();
    return String.format(Locale.ROOT, "%5.1fs  %,d calls  %,.0f calls/s  %,d errors"
            + "  p50 %s  p99 %s", seconds, calls, calls / seconds, run.failed.sum(),
        millis(total.getValueAtPercentile(50)), millis(total.getValueAtPercentile(99)));
  }

  static String summary(CallCommand.Invocation call, int concurrency, int rate, Run run,
      Histogram total) {
    long ok = run.ok.sum();
    long failed = run.failed.sum();
    double seconds = (run.end - run.begin) / 1e9;
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%s: %,d calls in %.1f s from %d callers%s%n",
        call.target(), ok + failed, seconds, concurrency,
        rate > 0 ? String.format(Locale.ROOT, " at %,d calls/s", rate) : ""));
    b.append(String.format(Locale.ROOT, "  succeeded   %,d%n", ok));
    b.append(String.format(Locale.ROOT, "  failed      %,d%n", failed));
    b.append(String.format(Locale.ROOT, "  throughput  %,.1f calls/s%n", (ok + failed) / seconds));
    if (total.getTotalCount() > 0) {
      b.append(String.format(Locale.ROOT,
          "  latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s%n",
          millis(total.getValueAtPercentile(50)), millis(total.getValueAtPercentile(90)),
          millis(total.getValueAtPercentile(99)), millis(total.getValueAtPercentile(99.9)),
          millis(total.getMaxValue())));
    }
    if (failed > 0) {
      b.append("  errors\n");
      for (Map.Entry<String, LongAdder> e : new TreeMap<>(run.errors).entrySet()) {
        b.append(String.format(Locale.ROOT, "    %-40s %,d%n", e.getKey(), e.getValue().sum()));
      }
    }
    return b.toString();
  }

  /** Nanoseconds as milliseconds, with three significant digits or more. */
  static String millis(long nanos) {
    double ms = nanos / 1e6;
    return String.format(Locale.ROOT, ms < 1 ? "%.3f ms" : ms < 100 ? "%.2f ms" : "%.0f ms", ms);
  }

  /** One load run: its callers, counts and latencies. */
  static final class Run {

    final GenericService service;
    final CallCommand.Invocation call;
    final int concurrency;
    final long durationNanos;
    final long intervalNanos;
    final LongAdder ok = new LongAdder();
    final LongAdder failed = new LongAdder();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    /** Latencies of the calls that succeeded, in nanoseconds. */
    final Recorder latencies = new Recorder(MAX_NANOS, 3);
    Histogram interval = new Histogram(MAX_NANOS, 3);
    private final List<Thread> callers = new ArrayList<>();
    private final AtomicLong nextStart = new AtomicLong();
    long begin;
    volatile long end;

    Run(GenericService service, CallCommand.Invocation call, int concurrency,
        long durationNanos, int rate) {
      this.service = service;
      this.call = call;
      this.concurrency = concurrency;
      this.durationNanos = durationNanos;
      this.intervalNanos = rate > 0 ? TimeUnit.SECONDS.toNanos(1) / rate : 0;
    }

    void start() {
      begin = System.nanoTime();
      nextStart.set(begin);
      for (int i = 0; i < concurrency; i++) {
        Thread t = new Thread(this::load, "courier-bench-" + i);
        t.setDaemon(true);
        callers.add(t);
        t.start();
      }
    }

    /** Waits at most {@code nanos} for the callers to finish; true when they have. */
    boolean await(long nanos) throws InterruptedException {
      long deadline = System.nanoTime() + nanos;
      for (Thread t : callers) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedJoin(t, left);
        if (t.isAlive()) {
          return false;
        }
      }
      if (end == 0) {
        end = System.nanoTime();
      }
      return true;
    }

    private void load() {
      long stop = begin + durationNanos;
      while (true) {
        long start;
        if (intervalNanos > 0) {
          start = nextStart.getAndAdd(intervalNanos);
          if (start - stop >= 0) {
            return;
          }
          long wait;
          while ((wait = start - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
          }
        } else {
          start = System.nanoTime();
          if (start - stop >= 0) {
            return;
          }
        }
        try {
          service.invokeJson(call.target().method(), call.arguments()).get();
          latencies.recordValue(Math.min(MAX_NANOS, System.nanoTime() - start));
          ok.increment();
        } catch (ExecutionException e) {
          error(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (RuntimeException e) {
          error(e);
        }
      }
    }

    private void error(Throwable t) {
      String key = t instanceof RpcException e
          ? e.status().code().name() + " (" + e.reason().name() + ")"
          : t.getClass().getSimpleName();
      errors.computeIfAbsent(key, k -> new LongAdder()).increment();
      failed.increment();
    }
  }
}
