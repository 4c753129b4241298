package io.courier.cli.chaos;

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
 * A provider of a chaos run, in its own JVM: serves {@link ChaosService} on a free loopback port,
 * registers in the registry it is given, prints {@code LISTENING <port>}, and reads commands on
 * its standard input: {@code slow <ms>} adds that much latency to every call from now on
 * ({@code slow 0} ends it), {@code stop} (or the end of input) stops it gracefully (unregister,
 * drain, exit 0).
 *
 * <p>Every execution is appended to the ledger file ({@code <id>\n}) with one {@code write}
 * system call before the method returns: what the kernel was given survives a SIGKILL of the
 * process, so the ledger counts every run even of a provider killed a moment later.
 */
public final class ChaosProvider {

  private ChaosProvider() {}

  /**
   * Arguments: registry URI, ledger file, and the work of each call in microseconds (half of it
   * before the call is recorded, half after, so that a kill finds calls in flight on both sides).
   */
  public static void main(String[] args) throws Exception {
    String registry = args[0];
    Path ledgerFile = Path.of(args[1]);
    long workMicros = args.length > 2 ? Long.parseLong(args[2]) : 0;
    try (FileChannel ledger = FileChannel.open(ledgerFile, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      Service service = new Service(ledger, workMicros);
      CourierServer server = CourierServer.builder()
          .host("127.0.0.1")
          .port(0)
          .ioThreads(1)
          .registry(registry)
          .unregisterDelay(Duration.ofMillis(500))
          .drainTimeout(Duration.ofSeconds(10))
          .service(ChaosService.class, service)
          .build();
      server.start();
      service.port = server.port();
      System.out.println("LISTENING " + server.port());
      System.out.flush();
      try (BufferedReader in = new BufferedReader(
          new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null && !line.equals("stop")) {
          if (line.startsWith("slow ")) {
            service.delayMillis = Long.parseLong(line.substring(5).trim());
          }
        }
      }
      service.delayMillis = 0;
      server.close();
    }
    System.out.println("STOPPED");
    System.out.flush();
    System.exit(0); // whatever threads a library left behind, a stopped provider exits
  }

  /** Appends each execution to the ledger, after the latency a slow fault adds. */
  private static final class Service implements ChaosService {
    private final FileChannel ledger;
    private final long halfWorkNanos;
    volatile long port;
    volatile long delayMillis;

    Service(FileChannel ledger, long workMicros) {
      this.ledger = ledger;
      this.halfWorkNanos = TimeUnit.MICROSECONDS.toNanos(workMicros) / 2;
    }

    @Override
    public long record(long callId) {
      return run(callId);
    }

    @Override
    public long read(long callId) {
      return run(callId);
    }

    private long run(long callId) {
      long before = TimeUnit.MILLISECONDS.toNanos(delayMillis) + halfWorkNanos;
      if (before > 0) {
        LockSupport.parkNanos(before);
      }
      try {
        CallLedger.append(ledger, callId);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (halfWorkNanos > 0) {
        LockSupport.parkNanos(halfWorkNanos);
      }
      return port;
    }
  }
}
