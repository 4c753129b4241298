package io.courier.transport.netty;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Executors for service methods: a bounded pool, or virtual threads where the runtime has them. */
public final class Executors2 {

  private static final MethodHandle VIRTUAL = findVirtual();

  private Executors2() {}

  private static MethodHandle findVirtual() {
    try {
      return MethodHandles.publicLookup().findStatic(java.util.concurrent.Executors.class,
          "newVirtualThreadPerTaskExecutor", MethodType.methodType(ExecutorService.class));
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }

  /** Whether this runtime offers virtual threads (Java 21 and later). */
  public static boolean virtualThreadsAvailable() {
    return VIRTUAL != null;
  }

  /**
   * A new virtual-thread-per-task executor.
   *
   * @throws UnsupportedOperationException on a runtime without virtual threads
   */
  public static ExecutorService newVirtualThreadExecutor() {
    if (VIRTUAL == null) {
      throw new UnsupportedOperationException("virtual threads need Java 21 or later; this is "
          + Runtime.version() + ": use a bounded pool instead");
    }
    try {
      return (ExecutorService) VIRTUAL.invokeExact();
    } catch (Throwable t) {
      throw new IllegalStateException("cannot create a virtual thread executor", t);
    }
  }

  /**
   * A bounded pool of daemon threads: at most {@code threads} run at once and {@code queue} more
   * wait; past that, {@code execute} throws {@link java.util.concurrent.RejectedExecutionException}
   * and the call is refused with OVERLOADED rather than queued without bound.
   *
   * <p>It grows before it queues, but only as far as it must: a task goes to an idle thread when
   * there is one, else to a new thread while fewer than {@code threads} exist, else to the queue.
   * Quick tasks are therefore run by the few threads that keep up with them (warm caches, few
   * context switches), while tasks that block get a thread each, up to the limit, without
   * waiting behind a queue. Threads idle for 60 s end.
   */
  public static ExecutorService newBoundedPool(String name, int threads, int queue) {
    AtomicInteger n = new AtomicInteger();
    GrowFirstQueue tasks = new GrowFirstQueue(queue);
    ThreadPoolExecutor pool = new ThreadPoolExecutor(0, threads, 60, TimeUnit.SECONDS, tasks,
        r -> {
          Thread t = new Thread(r, name + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        },
        (task, p) -> {
          // the last thread was started by another caller between the queue's check and ours
          if (p.isShutdown() || !tasks.queue(task)) {
            throw new RejectedExecutionException(name + ": " + threads + " threads busy and "
                + queue + " tasks queued");
          }
        });
    tasks.pool = pool;
    return pool;
  }

  /**
   * The pool's queue: it takes a task only when a thread is idle and waiting for one, or when
   * the pool has all its threads; otherwise it refuses, which makes the pool start a thread.
   */
  private static final class GrowFirstQueue extends LinkedBlockingQueue<Runnable> {
    private final AtomicInteger idle = new AtomicInteger();
    private volatile ThreadPoolExecutor pool;

    GrowFirstQueue(int capacity) {
      super(capacity);
    }

    @Override
    public boolean offer(Runnable task) {
      ThreadPoolExecutor p = pool;
      if (idle.get() == 0 && p.getPoolSize() < p.getMaximumPoolSize()) {
        return false; // no thread free: the pool starts one for this task
      }
      return super.offer(task);
    }

    /** Queues a task whatever the threads are doing; false when the queue is full. */
    boolean queue(Runnable task) {
      return super.offer(task);
    }

    @Override
    public Runnable take() throws InterruptedException {
      idle.incrementAndGet();
      try {
        return super.take();
      } finally {
        idle.decrementAndGet();
      }
    }

    @Override
    public Runnable poll(long timeout, TimeUnit unit) throws InterruptedException {
      idle.incrementAndGet();
      try {
        return super.poll(timeout, unit);
      } finally {
        idle.decrementAndGet();
      }
    }
  }
}
