package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The server's default pool: grows before it queues, but only as far as the tasks need. */
class ExecutorsTest {

  @Test
  void quickTasksAreRunByTheFewThreadsThatKeepUpWithThem() throws Exception {
    ExecutorService pool = Executors2.newBoundedPool("quick", 200, 1024);
    try {
      Set<String> threads = ConcurrentHashMap.newKeySet();
      AtomicInteger done = new AtomicInteger();
      for (int i = 0; i < 20_000; i++) {
        pool.execute(() -> {
          threads.add(Thread.currentThread().getName());
          done.incrementAndGet();
        });
        if (i % 100 == 0) {
          Thread.sleep(0, 1); // a submitter that pauses now and then, as an event loop does
        }
      }
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (done.get() < 20_000 && System.nanoTime() < end) {
        Thread.sleep(1);
      }
      assertThat(done.get()).isEqualTo(20_000);
      // a pool that started a thread per task until it had 200 (as a fixed pool does) fails this
      assertThat(threads.size()).as("threads used: %s", threads).isLessThan(50);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void blockingTasksGetAThreadEachUpToTheLimitThenWaitInTheQueueThenAreRefused()
      throws Exception {
    ExecutorService pool = Executors2.newBoundedPool("blocking", 4, 2);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(4);
    try {
      for (int i = 0; i < 4; i++) {
        pool.execute(() -> {
          started.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
      }
      // all four run at once: none waited in the queue behind a busy thread
      assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(((ThreadPoolExecutor) pool).getPoolSize()).isEqualTo(4);
      CountDownLatch queuedRan = new CountDownLatch(2);
      pool.execute(queuedRan::countDown);
      pool.execute(queuedRan::countDown); // the queue holds two
      assertThatThrownBy(() -> pool.execute(() -> { }))
          .isInstanceOf(RejectedExecutionException.class)
          .hasMessage("blocking: 4 threads busy and 2 tasks queued");
      release.countDown();
      assertThat(queuedRan.await(5, TimeUnit.SECONDS)).isTrue();
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }
}
