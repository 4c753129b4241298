package io.courier.cluster;

/**
 * What a {@link LoadBalancer} knows of one endpoint when it picks. Implementations are live views:
 * the numbers change as calls come and go.
 */
public interface Candidate {

  /** The endpoint, {@code host:port}. */
  String address();

  /** The configured weight, at least 1 (100 by default). */
  int weight();

  /** Calls sent to this endpoint and not yet answered. */
  int inFlight();

  /**
   * Peak-sensitive moving average of answer latency, in nanoseconds; 0 before the first answer.
   */
  long latencyEwmaNanos();

  /** When the endpoint became usable, {@link System#nanoTime()}; used for warm-up. */
  long upSinceNanos();
}
