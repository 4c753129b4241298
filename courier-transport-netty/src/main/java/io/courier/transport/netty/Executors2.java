package io.courier.transport.netty;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
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
   */
  public static ExecutorService newBoundedPool(String name, int threads, int queue) {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(queue), r -> {
          Thread t = new Thread(r, name + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }
}
