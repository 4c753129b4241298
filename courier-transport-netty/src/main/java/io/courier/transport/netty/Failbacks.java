package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failback policy's background retries: a call that failed without having run (or that is
 * idempotent) is sent again after a delay that doubles each time, up to the policy's retries. At
 * most {@link #MAX_WAITING} calls wait at once; a call that cannot wait, or that fails its last
 * retry, is given up with a warning, never silently. Thread-safe.
 */
final class Failbacks {

  /** Calls that may wait for a background retry at once, per client. */
  static final int MAX_WAITING = 10_000;

  private static final Logger log = LoggerFactory.getLogger(Failbacks.class);
  private static final long MAX_DELAY_NANOS = TimeUnit.SECONDS.toNanos(60);

  private final NettyClient client;
  private final AtomicInteger waiting = new AtomicInteger();

  Failbacks(NettyClient client) {
    this.client = client;
  }

  /** Calls waiting for a background retry now. */
  int waiting() {
    return waiting.get();
  }

  /**
   * A failback call failed with {@code failure}: schedules background retry number
   * {@code retry} (1 after the caller's own attempt), or gives the call up.
   */
  void failed(ClientMethod m, Object[] args, Cluster cluster, Throwable failure, int retry) {
    boolean safe = failure instanceof RpcException r && (r.isRetryable()
        || m.idempotent && r.reason() == ErrorReason.CONNECTION_CLOSED);
    if (!safe) {
      // it ran (an application error), or may have: sending it again could run it twice
      log.debug("failback: {} failed and is not sent again: {}", m.displayName, failure);
      return;
    }
    if (retry > m.policy.count()) {
      log.warn("[COURIER-C06] failback gave up {} after {} background retries: {}",
          m.displayName, m.policy.count(), failure.toString());
      return;
    }
    if (client.isClosed()) {
      log.warn("[COURIER-C06] failback gave up {}: the client is closed; last failure: {}",
          m.displayName, failure.toString());
      return;
    }
    if (waiting.incrementAndGet() > MAX_WAITING) {
      waiting.decrementAndGet();
      log.warn("[COURIER-C06] failback gave up {}: {} calls already wait for a retry; last"
          + " failure: {}", m.displayName, MAX_WAITING, failure.toString());
      return;
    }
    long delay = Math.min(MAX_DELAY_NANOS, m.policy.delay().toNanos() << Math.min(20, retry - 1));
    try {
      client.group().schedule(() -> client.callbackExecutor().execute(() -> {
        waiting.decrementAndGet();
        retry(m, args, cluster, retry);
      }), delay, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closing) {
      waiting.decrementAndGet();
      log.warn("[COURIER-C06] failback gave up {}: the client is closing; last failure: {}",
          m.displayName, failure.toString());
    }
  }

  private void retry(ClientMethod m, Object[] args, Cluster cluster, int retry) {
    if (m.oneWay) {
      try {
        client.callOneWay(m, args, cluster);
      } catch (RuntimeException e) {
        failed(m, args, cluster, e, retry + 1);
      }
      return;
    }
    client.callAsync(m, args, cluster).whenComplete((v, t) -> {
      if (t != null) {
        failed(m, args, cluster, NettyClient.unwrap(t), retry + 1);
      }
    });
  }

  /** Gives up the calls still waiting (the client is closing), with a warning. */
  void close() {
    int n = waiting.get();
    if (n > 0) {
      log.warn("[COURIER-C06] failback gave up {} calls waiting for a background retry: the"
          + " client is closing", n);
    }
  }
}
