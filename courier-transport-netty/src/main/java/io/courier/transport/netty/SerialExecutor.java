package io.courier.transport.netty;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks on a delegate executor one at a time, in submission order: the callbacks of one
 * streaming call (Courier protocol or gRPC) never overlap, whichever threads submit them.
 *
 * <p>When the delegate refuses to start a run, one of two things happens, chosen at construction:
 * with an {@code onRejected} action, the queued tasks are dropped, the action runs once on the
 * submitting thread and later tasks are dropped too; without one, {@link #execute} throws the
 * {@link RejectedExecutionException} and the task is not queued. Thread-safe.
 */
final class SerialExecutor implements Executor, Runnable {

  private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);
  /** Tasks run per turn on the delegate before yielding it to other work. */
  private static final int BATCH = 64;

  private final Executor delegate;
  private final Runnable onRejected;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile boolean dead;

  /** Refusals surface as {@link RejectedExecutionException} from {@link #execute}. */
  SerialExecutor(Executor delegate) {
    this(delegate, null);
  }

  /** Refusals drop every task, now and later, and run {@code onRejected} once. */
  SerialExecutor(Executor delegate, Runnable onRejected) {
    this.delegate = delegate;
    this.onRejected = onRejected;
  }

  @Override
  public void execute(Runnable task) {
    if (dead) {
      return;
    }
    tasks.add(task);
    try {
      schedule();
    } catch (RejectedExecutionException e) {
      tasks.remove(task);
      throw e;
    }
  }

  private void schedule() {
    if (!scheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      delegate.execute(this);
    } catch (RejectedExecutionException e) {
      scheduled.set(false);
      if (onRejected == null) {
        throw e;
      }
      dead = true;
      tasks.clear();
      onRejected.run();
    }
  }

  @Override
  public void run() {
    try {
      for (int i = 0; i < BATCH; i++) {
        Runnable r = tasks.poll();
        if (r == null) {
          break;
        }
        try {
          r.run();
        } catch (Throwable t) {
          log.warn("[COURIER-G03] a callback of a streaming call threw past Courier", t);
        }
      }
    } finally {
      scheduled.set(false);
      if (!tasks.isEmpty()) {
        try {
          schedule();
        } catch (RejectedExecutionException e) {
          log.warn("[COURIER-G04] the executor refused the queued callbacks of a call: {}",
              e.toString());
        }
      }
    }
  }
}
