package io.courier.transport.netty;

import io.netty.channel.Channel;
import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-loop work of one gRPC connection's calls (response messages, trailers, demand), run in
 * batches: tasks are queued without a lock, one drain task runs every task queued so far on the
 * connection's event loop, and the connection is flushed once at the end of the batch instead of
 * once per response. With many calls in flight this turns one socket write per call into one per
 * batch.
 *
 * <p>Tasks run in the order they were queued. Thread-safe: {@link #execute} from any thread.
 */
final class GrpcWriteBatch implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(GrpcWriteBatch.class);
  /** Tasks run per turn before the batch is flushed and the event loop gets to other work. */
  private static final int MAX_BATCH = 1024;

  private final Channel connection;
  private final Queue<Runnable> tasks = PlatformDependent.newMpscQueue();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  /** @param connection the HTTP/2 connection (the parent of the stream channels) */
  GrpcWriteBatch(Channel connection) {
    this.connection = connection;
  }

  /**
   * Queues a task for the event loop; the connection is flushed after it.
   *
   * @throws java.util.concurrent.RejectedExecutionException if the event loop is shut down
   */
  void execute(Runnable task) {
    tasks.add(task);
    if (scheduled.compareAndSet(false, true)) {
      try {
        connection.eventLoop().execute(this);
      } catch (RuntimeException e) {
        scheduled.set(false);
        throw e;
      }
    }
  }

  @Override
  public void run() {
    try {
      for (int i = 0; i < MAX_BATCH; i++) {
        Runnable task = tasks.poll();
        if (task == null) {
          break;
        }
        try {
          task.run();
        } catch (Throwable t) {
          log.warn("[COURIER-G05] a gRPC write task failed", t);
        }
      }
      connection.flush();
    } finally {
      scheduled.set(false);
      if (!tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
        connection.eventLoop().execute(this);
      }
    }
  }
}
