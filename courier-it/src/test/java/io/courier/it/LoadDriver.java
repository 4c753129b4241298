package io.courier.it;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.cli.chaos.CallLedger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Steady, bounded load on {@link LedgerService#work}: a number of caller threads share a rate
 * limit and spread over one or more consumers (stubs of different clients). Every call gets a
 * unique id, is recorded before it is made, and gets exactly one outcome when it returns or
 * throws. When callers are held up (a frozen provider), the rate is not caught up in a burst.
 * Thread-safe.
 */
final class LoadDriver implements AutoCloseable {

  /** How a call ended. */
  enum Outcome {
    /** Answered. */
    OK,
    /** Failed with a reason that says it did not run (never sent, refused, no provider). */
    FAILED,
    /** Failed after it may have run: connection lost after send, deadline, cancelled. */
    UNKNOWN,
    /** Threw something that is not an {@link RpcException}: always a test failure. */
    UNEXPECTED
  }

  /** One call: recorded when issued, completed once with its outcome. */
  static final class Call {
    final long id;
    final int consumer;
    final long startNanos;
    volatile long endNanos;
    volatile Outcome outcome;
    volatile ErrorReason reason;
    volatile String endpoint;
    volatile long servedBy;
    volatile Throwable error;

    Call(long id, int consumer, long startNanos) {
      this.id = id;
      this.consumer = consumer;
      this.startNanos = startNanos;
    }

    long latencyNanos() {
      return endNanos - startNanos;
    }

    @Override
    public String toString() {
      return "call " + id + " (consumer " + consumer + "): " + outcome
          + (reason == null ? "" : " " + reason + " from " + endpoint)
          + (outcome == Outcome.OK ? " served by port " + servedBy : "")
          + (endNanos == 0 ? " pending" : " after " + latencyNanos() / 1_000_000 + " ms")
          + (error == null ? "" : ": " + error);
    }
  }

  /** Reasons that mean the call provably did not run. */
  static boolean didNotRun(ErrorReason r) {
    return CallLedger.didNotRun(r);
  }

  /** Reasons after which the call may or may not have run once. */
  static boolean outcomeUnknown(ErrorReason r) {
    return r == ErrorReason.CONNECTION_CLOSED || r == ErrorReason.DEADLINE_EXCEEDED
        || r == ErrorReason.CANCELLED;
  }

  private final List<LedgerService> consumers;
  private final int callers;
  private final long intervalNanos;
  private final long sleepMicros;
  final Duration timeout;
  private final long originNanos;
  private final AtomicLong ids;
  private final AtomicLong issued = new AtomicLong();
  private final AtomicLong nextSlot = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Map<Long, Call> calls = new ConcurrentHashMap<>();
  private final Map<Long, AtomicLong> okByPort = new ConcurrentHashMap<>();
  /** Per consumer (by index): calls answered by the provider on each port. */
  private final List<Map<Long, AtomicLong>> okByConsumerAndPort;
  private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;
  private volatile boolean paused;

  /**
   * @param consumers stubs to spread the callers over (caller i uses consumer i mod size)
   * @param callers concurrent caller threads
   * @param ratePerSecond calls started per second, at most
   * @param timeout the consumers' call timeout (for the "not pending past its deadline" check)
   * @param sleepMicros how long each call works on the provider
   * @param ids call ids, shared by every driver of a test so that the ledgers tell them apart
   * @param originNanos the start of the test's time axis
   */
  LoadDriver(List<LedgerService> consumers, int callers, int ratePerSecond, Duration timeout,
      long sleepMicros, AtomicLong ids, long originNanos) {
    this.ids = ids;
    this.originNanos = originNanos;
    this.consumers = List.copyOf(consumers);
    List<Map<Long, AtomicLong>> byConsumer = new ArrayList<>();
    for (int i = 0; i < consumers.size(); i++) {
      byConsumer.add(new ConcurrentHashMap<>());
    }
    this.okByConsumerAndPort = List.copyOf(byConsumer);
    this.callers = callers;
    this.intervalNanos = TimeUnit.SECONDS.toNanos(1) / ratePerSecond;
    this.timeout = timeout;
    this.sleepMicros = sleepMicros;
  }

  /** Starts the callers. */
  LoadDriver start() {
    nextSlot.set(System.nanoTime());
    for (int i = 0; i < callers; i++) {
      int consumer = i % consumers.size();
      Thread t = new Thread(() -> run(consumer), "caller-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    event("load started: " + callers + " callers, " + TimeUnit.SECONDS.toNanos(1) / intervalNanos
        + " calls/s at most, " + consumers.size() + " consumer(s)");
    return this;
  }

  private void run(int consumer) {
    LedgerService stub = consumers.get(consumer);
    while (!stopped) {
      if (paused) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        continue;
      }
      long slot = nextSlot.getAndAdd(intervalNanos);
      long now = System.nanoTime();
      if (now - slot > TimeUnit.MILLISECONDS.toNanos(200)) {
        nextSlot.accumulateAndGet(now, Math::max); // held up: no burst to catch up
      }
      while (slot - now > 0 && !stopped) {
        LockSupport.parkNanos(slot - now);
        now = System.nanoTime();
      }
      inFlight.incrementAndGet(); // before the last look at the flags: pause() sees it
      if (stopped || paused) {
        inFlight.decrementAndGet();
        continue;
      }
      try {
        call(stub, consumer);
      } finally {
        inFlight.decrementAndGet();
      }
    }
  }

  private void call(LedgerService stub, int consumer) {
    Call c = new Call(ids.incrementAndGet(), consumer, System.nanoTime());
    calls.put(c.id, c);
    issued.incrementAndGet();
    try {
      long port = stub.work(c.id, sleepMicros);
      c.servedBy = port;
      c.outcome = Outcome.OK;
      okByPort.computeIfAbsent(port, p -> new AtomicLong()).incrementAndGet();
      okByConsumerAndPort.get(consumer).computeIfAbsent(port, p -> new AtomicLong())
          .incrementAndGet();
    } catch (RpcException e) {
      c.reason = e.reason();
      c.endpoint = e.endpoint();
      c.error = e;
      c.outcome = didNotRun(e.reason()) ? Outcome.FAILED
          : outcomeUnknown(e.reason()) ? Outcome.UNKNOWN : Outcome.UNEXPECTED;
    } catch (Throwable t) {
      c.error = t;
      c.outcome = Outcome.UNEXPECTED;
    } finally {
      c.endNanos = System.nanoTime();
    }
  }

  /** Calls answered by the provider on {@code port} so far. */
  long okFrom(int port) {
    AtomicLong n = okByPort.get((long) port);
    return n == null ? 0 : n.get();
  }

  /** Calls of consumer {@code consumer} (its index) answered by the provider on {@code port}. */
  long okFrom(int consumer, int port) {
    AtomicLong n = okByConsumerAndPort.get(consumer).get((long) port);
    return n == null ? 0 : n.get();
  }

  /** Calls issued so far. */
  long issued() {
    return issued.get();
  }

  /** Calls that ended in an error so far. */
  long errors() {
    return calls.values().stream()
        .filter(c -> c.outcome != null && c.outcome != Outcome.OK).count();
  }

  /** Milliseconds since the driver was created: the time axis of the report. */
  long millis() {
    return millisAt(System.nanoTime());
  }

  long millisAt(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos - originNanos);
  }

  /** Notes a fault or a step on the report's time axis. */
  void event(String what) {
    events.add(new Event(System.nanoTime(), what));
  }

  /** Something that happened during the run, for the report. */
  record Event(long nanos, String what) {}

  List<Event> events() {
    return List.copyOf(events);
  }

  /** Holds the callers and waits until no call is in flight. */
  void pause() throws InterruptedException {
    paused = true;
    long end = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(30);
    while (inFlight.get() > 0 && System.nanoTime() - end < 0) {
      Thread.sleep(5);
    }
    event("load paused");
  }

  /** Lets the callers go on after {@link #pause()}. */
  void resume() {
    nextSlot.set(System.nanoTime());
    paused = false;
    event("load resumed");
  }

  /**
   * Stops issuing calls and waits for the callers to finish the calls they are in (a call that
   * never ends stays pending, which the reconciliation reports).
   */
  void stop() throws InterruptedException {
    if (stopped) {
      return;
    }
    stopped = true;
    long end = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(30);
    for (Thread t : threads) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
    }
    event("load stopped");
  }

  /** Every call issued, in id order. */
  List<Call> calls() {
    List<Call> list = new ArrayList<>(calls.values());
    list.sort((a, b) -> Long.compare(a.id, b.id));
    return Collections.unmodifiableList(list);
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
