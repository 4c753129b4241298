package io.courier.it;

import io.courier.annotation.ServiceName;

/**
 * The service the fault tests call. {@link #work} is deliberately not idempotent: every execution
 * is appended to the provider's ledger, so running one call twice shows up as a duplicate.
 */
@ServiceName("it.Ledger")
public interface LedgerService {

  /**
   * Records {@code callId} in the provider's ledger, then works for {@code sleepMicros}.
   *
   * @return the port of the provider that ran the call
   */
  long work(long callId, long sleepMicros);

  /**
   * Records {@code callId} in the provider's ledger, like {@link #work}; {@code data} is a large
   * payload that is only received.
   *
   * @return the port of the provider that ran the call
   */
  long store(long callId, byte[] data);

  /** Returns the provider's port; records nothing. */
  long ping();

  /**
   * The time left until the call's deadline as the provider sees it, in microseconds, or -1 when
   * the call has none; records nothing.
   */
  long budgetMicros();

  /** The provider's wall clock, {@code System.currentTimeMillis()}; records nothing. */
  long wallClockMillis();

}
