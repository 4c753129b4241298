package io.courier.it;

import io.courier.CallContext;
import io.courier.Deadline;
import io.courier.cli.chaos.CallLedger;
import io.courier.server.CourierServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A provider process of the fault tests, run as its own JVM: serves {@link LedgerService} on a
 * free loopback port, registers in the registry it is given (any registry URI Courier opens:
 * {@code zookeeper://...}, {@code etcd://...?ttl=...}), prints {@code LISTENING <port>}, and
 * shuts down gracefully (unregister, drain) when its standard input says {@code stop} or closes.
 * {@code stats} prints the server's counters as {@code STATS <accepted> <open> <rejected>}:
 * connections accepted, connections open, calls refused before they ran.
 * System properties: {@code it.host}, the address to bind and register (default loopback);
 * {@code it.maxThreads} and {@code it.queueCapacity}, a small worker pool for overload tests.
 *
 * <p>Every execution of {@link LedgerService#work} is written to the ledger file with one
 * {@code write} system call before the method returns, so the ledger holds every call that ran,
 * even when the process is killed with SIGKILL a moment later (the kernel keeps written data).
 */
public final class LedgerProvider {

  private LedgerProvider() {}

  /** Arguments: registry URI, ledger file. */
  public static void main(String[] args) throws Exception {
    String registry = args[0];
    Path ledgerFile = Path.of(args[1]);
    try (FileChannel ledger = FileChannel.open(ledgerFile, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      Service service = new Service(ledger);
      CourierServer.Builder builder = CourierServer.builder();
      if (Integer.getInteger("it.maxThreads") != null) {
        builder.maxThreads(Integer.getInteger("it.maxThreads"))
            .queueCapacity(Integer.getInteger("it.queueCapacity", 1));
      }
      CourierServer server = builder
          .host(System.getProperty("it.host", "127.0.0.1"))
          .port(0)
          .ioThreads(2)
          .registry(registry)
          .unregisterDelay(Duration.ofMillis(500))
          .drainTimeout(Duration.ofSeconds(10))
          .service(LedgerService.class, service)
          .build();
      server.start();
      service.port = server.port();
      System.out.println("LISTENING " + server.port());
      System.out.flush();
      try (BufferedReader in = new BufferedReader(
          new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null && !line.equals("stop")) {
          if (line.equals("stats")) {
            var c = server.counters();
            System.out.println("STATS " + c.connectionsAccepted() + " " + c.openConnections() + " "
                + c.rejectedCalls());
            System.out.flush();
          }
        }
      }
      server.close();
    }
    System.out.println("STOPPED");
    System.out.flush();
    System.exit(0); // whatever threads a library left behind, a stopped provider exits
  }

  /** Appends each executed call id to the ledger. */
  private static final class Service implements LedgerService {
    private final FileChannel ledger;
    volatile long port;

    Service(FileChannel ledger) {
      this.ledger = ledger;
    }

    @Override
    public long work(long callId, long sleepMicros) {
      try {
        CallLedger.append(ledger, callId);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (sleepMicros > 0) {
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(sleepMicros));
      }
      return port;
    }

    @Override
    public long store(long callId, byte[] data) {
      return work(callId, 0);
    }

    @Override
    public long ping() {
      return port;
    }

    @Override
    public long wallClockMillis() {
      return System.currentTimeMillis();
    }

    @Override
    public long budgetMicros() {
      Deadline d = CallContext.currentDeadline();
      return d == null ? -1 : Math.max(0, d.remainingNanos() / 1_000);
    }
  }
}
