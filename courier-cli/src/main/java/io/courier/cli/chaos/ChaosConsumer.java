package io.courier.cli.chaos;

import io.courier.RpcException;
import io.courier.client.CourierClient;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A consumer of a chaos run, in its own JVM: callers share a steady rate of calls to
 * {@link ChaosService}, alternating the non-idempotent {@code record} (even ids) and the
 * idempotent {@code read} (odd ids). Every call is recorded before it is made and gets exactly
 * one outcome when it returns or throws. Prints {@code STARTED} once its client is built; on
 * {@code stop} (or the end of its standard input) it stops issuing calls, waits for the calls in
 * flight (up to the call timeout + 10 s), writes one line per call to its record file (see
 * {@link CallRecord}) and exits 0. A call still in flight then is written as {@code PENDING}.
 */
public final class ChaosConsumer {

  private ChaosConsumer() {}

  /**
   * Arguments: registry URI, record file, provider cache directory, first call id, calls per
   * second, caller threads, call timeout in milliseconds.
   */
  public static void main(String[] args) throws Exception {
    String registry = args[0];
    Path recordFile = Path.of(args[1]);
    Path cacheDir = Path.of(args[2]);
    long idBase = Long.parseLong(args[3]);
    int rate = Integer.parseInt(args[4]);
    int callers = Integer.parseInt(args[5]);
    long timeoutMillis = Long.parseLong(args[6]);

    CourierClient client = CourierClient.builder()
        .registry(registry)
        .registryCacheDir(cacheDir)
        .timeout(Duration.ofMillis(timeoutMillis))
        .warmup(Duration.ZERO)
        .ioThreads(1)
        .build();
    ChaosService stub = client.stub(ChaosService.class);
    Load load = new Load(stub, idBase, rate, callers);
    load.start();
    System.out.println("STARTED");
    System.out.flush();
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null && !line.equals("stop")) {
        // no other command
      }
    }
    load.stop(TimeUnit.MILLISECONDS.toNanos(timeoutMillis) + TimeUnit.SECONDS.toNanos(10));
    try (BufferedWriter w = Files.newBufferedWriter(recordFile, StandardCharsets.UTF_8)) {
      for (CallRecord r : load.records()) {
        w.write(r.format());
        w.newLine();
      }
    }
    System.out.println("DONE " + load.issued.get());
    System.out.flush();
    Thread closer = new Thread(client::close, "close-client");
    closer.setDaemon(true);
    closer.start();
    closer.join(5_000);
    System.exit(0);
  }

  /** The callers: a shared rate, no burst to catch up after a hold-up. */
  private static final class Load {
    private final ChaosService stub;
    private final long intervalNanos;
    private final int callers;
    private final AtomicLong nextId;
    private final AtomicLong nextSlot = new AtomicLong();
    final AtomicLong issued = new AtomicLong();
    private final Map<Long, CallRecord> calls = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    Load(ChaosService stub, long idBase, int rate, int callers) {
      this.stub = stub;
      this.intervalNanos = TimeUnit.SECONDS.toNanos(1) / rate;
      this.callers = callers;
      this.nextId = new AtomicLong(idBase);
    }

    void start() {
      nextSlot.set(System.nanoTime());
      for (int i = 0; i < callers; i++) {
        Thread t = new Thread(this::run, "caller-" + i);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }

    private void run() {
      while (!stopped) {
        long slot = nextSlot.getAndAdd(intervalNanos);
        long now = System.nanoTime();
        if (now - slot > TimeUnit.MILLISECONDS.toNanos(200)) {
          nextSlot.accumulateAndGet(now, Math::max); // held up: no burst to catch up
        }
        while (slot - now > 0 && !stopped) {
          LockSupport.parkNanos(slot - now);
          now = System.nanoTime();
        }
        if (stopped) {
          return;
        }
        call();
      }
    }

    private void call() {
      long id = nextId.getAndIncrement();
      boolean idempotent = (id & 1) == 1;
      long start = System.nanoTime();
      CallRecord r = new CallRecord(id, idempotent);
      calls.put(id, r);
      issued.incrementAndGet();
      try {
        long port = idempotent ? stub.read(id) : stub.record(id);
        r.succeeded(port, System.nanoTime() - start);
      } catch (RpcException e) {
        r.failed(e.reason(), e.endpoint(), e.getMessage(), System.nanoTime() - start);
      } catch (Throwable t) {
        r.untyped(t.toString(), System.nanoTime() - start);
      }
    }

    /** Stops issuing and waits, up to {@code limitNanos}, for the calls in flight. */
    void stop(long limitNanos) throws InterruptedException {
      stopped = true;
      long end = System.nanoTime() + limitNanos;
      for (Thread t : threads) {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
      }
    }

    List<CallRecord> records() {
      List<CallRecord> list = new ArrayList<>(calls.values());
      list.sort((a, b) -> Long.compare(a.id(), b.id()));
      return list;
    }
  }
}
