package io.courier.transport.netty;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in order, on an underlying executor: the callbacks of one streaming
 * call never overlap, whichever pool threads run them. Thread-safe.
 */
final class SerialExecutor implements Executor {

  private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

  private final Executor executor;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean running = new AtomicBoolean();

  SerialExecutor(Executor executor) {
    this.executor = executor;
  }

  /**
   * Queues {@code task}.
   *
   * @throws RejectedExecutionException when the underlying executor refuses to start a run; the
   *     task is then not queued (it will never run)
   */
  @Override
  public void execute(Runnable task) {
    tasks.add(task);
    try {
      schedule();
    } catch (RejectedExecutionException e) {
      tasks.remove(task);
      throw e;
    }
  }

  private void schedule() {
    if (running.compareAndSet(false, true)) {
      try {
        executor.execute(this::drain);
      } catch (RejectedExecutionException e) {
        running.set(false);
        throw e;
      }
    }
  }

  private void drain() {
    try {
      Runnable r;
      while ((r = tasks.poll()) != null) {
        try {
          r.run();
        } catch (Throwable t) {
          log.warn("[COURIER-G03] a call callback failed", t);
        }
      }
    } finally {
      running.set(false);
    }
    if (!tasks.isEmpty()) {
      try {
        schedule();
      } catch (RejectedExecutionException e) {
        log.warn("[COURIER-G04] executor refused queued call callbacks: {}", e.toString());
      }
    }
  }
}
