package io.courier.cli.chaos;

import io.courier.ErrorReason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The call ledger of reliability catalogue 5b, shared by {@code courier chaos} and the cluster
 * fault tests: a provider appends the id of every call it runs to its ledger file, one line
 * ({@code <id>\n}) per execution, and the ledgers are later read back to count how many times each
 * call ran. Stateless; {@link #append} may be called from any thread.
 */
public final class CallLedger {

  private CallLedger() {}

  /**
   * Appends {@code callId} to {@code ledger} (opened for appending) with one {@code write} system
   * call per attempt: once written, the line survives a SIGKILL of the process (the kernel holds
   * the data), so a killed provider's ledger still counts what it ran. No fsync: a crash of the
   * machine is not a fault the ledger has to survive.
   */
  public static void append(FileChannel ledger, long callId) throws IOException {
    ByteBuffer b = ByteBuffer.wrap((callId + "\n").getBytes(StandardCharsets.US_ASCII));
    synchronized (ledger) {
      while (b.hasRemaining()) {
        ledger.write(b);
      }
    }
  }

  /**
   * The call ids in {@code ledger}, one per execution, in the order they ran; empty when the file
   * does not exist (a provider that never started).
   */
  public static List<Long> read(Path ledger) throws IOException {
    List<Long> ids = new ArrayList<>();
    if (!Files.exists(ledger)) {
      return ids;
    }
    for (String line : Files.readAllLines(ledger, StandardCharsets.US_ASCII)) {
      if (!line.isBlank()) {
        ids.add(Long.parseLong(line.trim()));
      }
    }
    return ids;
  }

  /**
   * Whether a failure with {@code reason} says the call did not run (it was never sent, was
   * refused, or found no provider), so that the ledgers must not show it.
   */
  public static boolean didNotRun(ErrorReason reason) {
    return reason.isRetryable(); // NOT_SENT, CONNECT_FAILED, SHUTTING_DOWN, OVERLOADED, NO_PROVIDER
  }
}
