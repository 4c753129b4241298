package io.courier.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector (paranoid in the build) reports a buffer that was
 * garbage-collected without being released. Registered for every test class through
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension}.
 */
public final class LeakDetectionExtension implements AfterAllCallback {

  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
      @Override
      public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource,
          int samplingInterval, long maxActive) {
        return new ResourceLeakDetector<>(resource, samplingInterval) {
          @Override
          protected void reportTracedLeak(String resourceType, String records) {
            LEAKS.add(resourceType + records);
            super.reportTracedLeak(resourceType, records);
          }

          @Override
          protected void reportUntracedLeak(String resourceType) {
            LEAKS.add(resourceType);
            super.reportUntracedLeak(resourceType);
          }
        };
      }
    });
  }

  /** Forces collection and a poll of the leak queue, then returns the leaks seen so far. */
  public static List<String> collectLeaks() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      System.runFinalization();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      // allocations poll the detector's reference queue and report what was collected
      for (int j = 0; j < 16; j++) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        b.release();
        ByteBuf u = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
        u.release();
      }
    }
    return List.copyOf(LEAKS);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    List<String> leaks = collectLeaks();
    LEAKS.clear();
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.size() + " ByteBuf leak(s) in "
          + context.getDisplayName() + ":\n" + String.join("\n----\n", leaks));
    }
  }
}
