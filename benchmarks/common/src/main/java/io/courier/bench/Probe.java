package io.courier.bench;

import java.lang.management.ManagementFactory;

/**
 * This process's CPU time and the bytes its threads have allocated so far, read at the start and
 * the end of a measurement window. Allocation counts threads alive when read; the servers and
 * clients measured keep their threads, so threads ending in between are negligible.
 */
final class Probe {

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private Probe() {}

  /** {@code <cpu nanoseconds> <allocated bytes>}, as the runner reads it. */
  static String read() {
    return OS.getProcessCpuTime() + " " + allocatedBytes();
  }

  static long allocatedBytes() {
    long sum = 0;
    for (long b : THREADS.getThreadAllocatedBytes(THREADS.getAllThreadIds())) {
      if (b > 0) {
        sum += b;
      }
    }
    return sum;
  }

  /** Heap in use after asking for full collections until it stops shrinking. */
  static long heapUsedAfterGc() {
    java.lang.management.MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      long now = memory.getHeapMemoryUsage().getUsed();
      if (now >= used) {
        break;
      }
      used = now;
    }
    return used;
  }
}
