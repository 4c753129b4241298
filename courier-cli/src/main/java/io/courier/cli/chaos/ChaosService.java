package io.courier.cli.chaos;

import io.courier.annotation.Idempotent;
import io.courier.annotation.ServiceName;

/**
 * The service a chaos run calls. Both methods append the call id to the provider's ledger before
 * they return, so the ledgers show how many times each call ran.
 */
@ServiceName("courier.chaos.Ledger")
public interface ChaosService {

  /**
   * Records {@code callId}: not idempotent, so Courier must run one call of it at most once.
   *
   * @return the port of the provider that ran it
   */
  long record(long callId);

  /**
   * Reads under {@code callId}: idempotent, so Courier may run one call of it again on another
   * provider after a connection was lost (each run is still recorded).
   *
   * @return the port of the provider that ran it
   */
  @Idempotent
  long read(long callId);
}
