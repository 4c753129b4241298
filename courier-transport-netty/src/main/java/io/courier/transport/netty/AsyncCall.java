package io.courier.transport.netty;

import io.courier.internal.protocol.InboundFrame;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One attempt of an asynchronous call. It carries what the attempt's continuation needs, and
 * when its answer or failure comes it hands itself to the callback executor, which decodes and
 * completes the caller's future: no intermediate future and no continuation object per call.
 */
final class AsyncCall extends ClientCall implements Runnable {

  private static final AtomicIntegerFieldUpdater<AsyncCall> ENDED =
      AtomicIntegerFieldUpdater.newUpdater(AsyncCall.class, "ended");

  final Object[] args;
  final Endpoint endpoint;
  final Cluster cluster;
  final List<Endpoint> tried;
  final CallFuture result;
  private final NettyClient client;
  private final Executor executor;
  private volatile int ended;
  /** Set once, before the hand-off to the executor; read by {@link #run()}. */
  InboundFrame answer;
  Throwable failure;

  AsyncCall(ClientMethod method, int attempt, long startNanos, long deadlineNanos,
      boolean hasDeadline, Object[] args, Endpoint endpoint, Cluster cluster, List<Endpoint> tried,
      CallFuture result, NettyClient client, Executor executor) {
    super(method, attempt, startNanos, deadlineNanos, hasDeadline, null);
    this.args = args;
    this.endpoint = endpoint;
    this.cluster = cluster;
    this.tried = tried;
    this.result = result;
    this.client = client;
    this.executor = executor;
  }

  @Override
  void complete(InboundFrame frame) {
    if (!ENDED.compareAndSet(this, 0, 1)) {
      frame.release();
      return;
    }
    answer = frame;
    dispatch();
  }

  @Override
  void fail(Throwable t) {
    if (ENDED.compareAndSet(this, 0, 1)) {
      failure = t;
      dispatch();
    }
  }

  private void dispatch() {
    try {
      executor.execute(this);
    } catch (RejectedExecutionException closing) {
      run(); // the client is closing: finish here rather than leave the caller waiting
    }
  }

  @Override
  public void run() {
    client.onAsyncOutcome(this);
  }
}
