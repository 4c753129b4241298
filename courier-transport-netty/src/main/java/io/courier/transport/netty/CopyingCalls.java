package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.cluster.ClusterPolicy;
import io.courier.spi.CallTracer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The policies that send one call to several providers: forking (to several at once, first
 * success wins), hedged (a copy to another provider each time a delay passes without an answer,
 * first success wins) and broadcast (to every provider, all must succeed). Each copy is one
 * attempt on one endpoint, through the client's asynchronous call path; losing copies are
 * cancelled, which cancels them on their servers. Thread-safe.
 */
final class CopyingCalls {

  private final NettyClient client;

  CopyingCalls(NettyClient client) {
    this.client = client;
  }

  /** Starts the call under its method's policy; the future completes with its outcome. */
  CompletableFuture<Object> call(ClientMethod m, Object[] args, Cluster cluster) {
    long start = System.nanoTime();
    long deadline = client.deadlineFor(m, start);
    try {
      switch (m.policy.kind()) {
        case FORKING:
          return forking(m, args, cluster, start, deadline);
        case HEDGED:
          cluster.retryBudget.deposit();
          return new Hedge(m, args, cluster, start, deadline).start();
        case BROADCAST:
          return broadcast(m, args, cluster, start, deadline);
        default:
          throw new IllegalStateException("not a copying policy: " + m.policy);
      }
    } catch (RpcException r) { // no provider at all
      return CompletableFuture.failedFuture(r);
    }
  }

  /** Whether a failed copy may be followed by another: it did not run, or may run again. */
  private static boolean nonFatal(Throwable t) {
    return t instanceof RpcException r
        && (r.isRetryable() || r.reason() == ErrorReason.CONNECTION_CLOSED);
  }

  private CompletableFuture<Object> forking(ClientMethod m, Object[] args, Cluster cluster,
      long start, long deadline) {
    List<Endpoint> picked = new ArrayList<>(m.policy.count());
    picked.add(cluster.pick(args, null));
    while (picked.size() < m.policy.count() && picked.size() < cluster.endpoints.size()) {
      Endpoint e = cluster.pick(args, picked);
      if (picked.contains(e) || !e.available()) {
        break; // no other provider can take a copy now
      }
      picked.add(e);
    }
    CompletableFuture<Object> result = new CompletableFuture<>();
    List<CompletableFuture<Object>> copies = new ArrayList<>(picked.size());
    for (int i = 0; i < picked.size(); i++) {
      copies.add(client.copy(m, args, cluster, picked.get(i), i + 1, start, deadline,
          client.currentSpan()));
    }
    AtomicInteger left = new AtomicInteger(copies.size());
    for (CompletableFuture<Object> f : copies) {
      f.whenComplete((v, t) -> {
        if (t == null) {
          result.complete(v);
        } else if (left.decrementAndGet() == 0) {
          result.completeExceptionally(NettyClient.unwrap(t)); // every copy failed: the last
        }
      });
    }
    result.whenComplete((v, t) -> copies.forEach(f -> f.cancel(false)));
    return result;
  }

  private CompletableFuture<Object> broadcast(ClientMethod m, Object[] args, Cluster cluster,
      long start, long deadline) {
    List<Endpoint> all = cluster.endpoints;
    if (all.isEmpty()) {
      cluster.pick(args, null); // throws the no-provider error
    }
    int n = all.size();
    Object[] results = new Object[n];
    Throwable[] failures = new Throwable[n];
    List<CompletableFuture<Object>> copies = new ArrayList<>(n);
    CompletableFuture<Object> result = new CompletableFuture<>();
    AtomicInteger left = new AtomicInteger(n);
    for (int i = 0; i < n; i++) {
      copies.add(client.copy(m, args, cluster, all.get(i), 1, start, deadline,
          client.currentSpan()));
    }
    for (int i = 0; i < n; i++) {
      int at = i;
      copies.get(i).whenComplete((v, t) -> {
        synchronized (results) {
          results[at] = v;
          failures[at] = t == null ? null : NettyClient.unwrap(t);
        }
        if (left.decrementAndGet() == 0) {
          synchronized (results) {
            complete(result, results, failures);
          }
        }
      });
    }
    result.whenComplete((v, t) -> {
      if (t instanceof CancellationException) {
        copies.forEach(f -> f.cancel(false));
      }
    });
    return result;
  }

  /** Broadcast's outcome: the first provider's answer, or the first failure, counted. */
  private static void complete(CompletableFuture<Object> result, Object[] results,
      Throwable[] failures) {
    int failed = 0;
    Throwable first = null;
    for (Throwable t : failures) {
      if (t != null) {
        failed++;
        first = first == null ? t : first;
      }
    }
    if (first == null) {
      result.complete(results[0]);
    } else if (first instanceof RpcException r) {
      String what = "broadcast to " + failures.length + " providers, " + failed + " failed; first: "
          + (r.status().description() == null ? "" : r.status().description());
      result.completeExceptionally(new RpcException(r.status().withDescription(what), r.reason(),
          r.remoteClassName(), r.remoteStack(), r.endpoint(), r.attempt(), r.timings(),
          r.getCause()));
    } else {
      result.completeExceptionally(first);
    }
  }

  /**
   * A hedged call: copy 1 at once, another to a provider not used yet each time the delay passes
   * without an answer or a copy fails without having run, up to the policy's copies and within
   * the retry budget. The first success wins; a failure that says the call ran (an application
   * error, a bad argument, the deadline) ends it at once.
   */
  private final class Hedge {
    final ClientMethod m;
    final Object[] args;
    final Cluster cluster;
    final long start;
    final long deadline;
    final CompletableFuture<Object> result = new CompletableFuture<>();
    private final List<Endpoint> used = new ArrayList<>(); // guarded by this
    private final List<CompletableFuture<Object>> copies = new ArrayList<>(); // guarded by this
    private int failed; // guarded by this
    private Throwable lastFailure; // guarded by this
    private ScheduledFuture<?> timer; // guarded by this
    /** The call's span, taken on the calling thread: later copies leave from a timer. */
    private final CallTracer.ClientSpan span;

    Hedge(ClientMethod m, Object[] args, Cluster cluster, long start, long deadline) {
      this.span = client.currentSpan();
      this.m = m;
      this.args = args;
      this.cluster = cluster;
      this.start = start;
      this.deadline = deadline;
    }

    CompletableFuture<Object> start() {
      launch(); // throws when there is no provider at all
      result.whenComplete((v, t) -> {
        List<CompletableFuture<Object>> all;
        synchronized (this) {
          if (timer != null) {
            timer.cancel(false);
          }
          all = new ArrayList<>(copies);
        }
        all.forEach(f -> f.cancel(false));
      });
      return result;
    }

    /** Sends the next copy if one may go; returns whether it did. */
    private boolean launch() {
      CompletableFuture<Object> f;
      synchronized (this) {
        if (result.isDone() || copies.size() >= m.policy.count()) {
          return false;
        }
        Endpoint e;
        if (copies.isEmpty()) {
          e = cluster.pick(args, null);
        } else {
          e = cluster.pick(args, used);
          if (used.contains(e) || !e.available() || !cluster.retryBudget.tryWithdraw()) {
            return false; // no other provider, or retries are spent
          }
        }
        used.add(e);
        f = client.copy(m, args, cluster, e, copies.size() + 1, start, deadline, span);
        copies.add(f);
        if (copies.size() < m.policy.count()) {
          if (timer != null) {
            timer.cancel(false);
          }
          timer = client.group().schedule(
              () -> client.callbackExecutor().execute(this::onDelay),
              m.policy.delay().toNanos(), TimeUnit.NANOSECONDS);
        }
      }
      f.whenComplete(this::onCopy);
      return true;
    }

    private void onDelay() {
      if (!result.isDone()) {
        try {
          launch();
        } catch (RpcException noProvider) {
          // the providers went away since the first copy: wait for the copies sent
        }
      }
    }

    private void onCopy(Object value, Throwable t) {
      if (t == null) {
        result.complete(value);
        return;
      }
      Throwable x = NettyClient.unwrap(t);
      if (x instanceof CancellationException) {
        return; // this hedge cancelled it
      }
      if (!nonFatal(x)) {
        result.completeExceptionally(x);
        return;
      }
      synchronized (this) {
        failed++;
        lastFailure = x;
      }
      boolean next;
      try {
        next = launch();
      } catch (RpcException noProvider) {
        next = false;
      }
      synchronized (this) {
        if (!next && failed == copies.size()) {
          result.completeExceptionally(lastFailure); // every copy sent has failed
        }
      }
    }
  }
}
