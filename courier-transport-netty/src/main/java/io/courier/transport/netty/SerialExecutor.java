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
 * streaming call never overlap, whichever threads submit them. When the delegate refuses work,
 * the queued tasks are dropped, {@code onRejected} runs once on the submitting thread, and later
 * tasks are dropped too. Thread-safe.
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
    schedule();
  }

  private void schedule() {
    if (!scheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      delegate.execute(this);
    } catch (RejectedExecutionException e) {
      dead = true;
      tasks.clear();
      scheduled.set(false);
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
          log.warn("[COURIER-S02] a stream callback failed", t);
        }
      }
    } finally {
      scheduled.set(false);
      if (!tasks.isEmpty()) {
        schedule();
      }
    }
  }
}
