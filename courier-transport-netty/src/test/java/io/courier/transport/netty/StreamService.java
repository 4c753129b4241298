package io.courier.transport.netty;

import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.annotation.Timeout;
import io.courier.stream.CallStreamObserver;
import io.courier.stream.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** The streaming service the stream tests call, one method per behaviour under test. */
@ServiceName("test.Streams")
interface StreamService {

  int ping(int x);

  /** Sends 0 .. n-1, then completes. */
  void count(int n, StreamObserver<Integer> out);

  /** Client streaming: answers the sum of the request stream. */
  StreamObserver<Integer> sum(StreamObserver<Integer> out);

  /** Answers each message with {@code "echo:" + message}; completes when the client does. */
  StreamObserver<String> echo(StreamObserver<String> out);

  /** Sends 0 .. n-1 only while the client has room (isReady / on-ready handler). */
  void produce(int n, StreamObserver<Integer> out);

  /** Requests one message and no more until the test asks; answers the count received. */
  StreamObserver<Integer> slowSink(StreamObserver<Integer> out);

  /** Sends "first" and keeps the stream open; counts down {@code cancelled(tag)} on cancel. */
  void hold(String tag, StreamObserver<String> out);

  /** The same as {@link #hold}, as a bidirectional call; the tag is the first message. */
  StreamObserver<String> holdBidi(StreamObserver<String> out);

  /** Sends "one", then cancels the call with {@code message}. */
  void cancelMe(String message, StreamObserver<String> out);

  /** Sends "first" and never ends: the 300 ms deadline does. */
  @Timeout(millis = 300)
  void stall(String tag, StreamObserver<String> out);

  /** Sends "a" and "b", then throws {@code IllegalStateException(message)}. */
  void fail(String message, StreamObserver<String> out);

  /** Sends "x", then ends the call with {@code NOT_FOUND} through {@code onError}. */
  void notFound(String what, StreamObserver<String> out);

  /** Sends "started"; the test ends the stream through {@link Impl#open}. */
  void finishLater(String key, StreamObserver<String> out);

  /** The implementation, with what the tests look at. */
  final class Impl implements StreamService {
    final Map<String, CountDownLatch> cancels = new ConcurrentHashMap<>();
    final Map<String, StreamObserver<String>> open = new ConcurrentHashMap<>();
    final AtomicInteger produced = new AtomicInteger();
    final CountDownLatch producerStalled = new CountDownLatch(1);
    final AtomicInteger sinkReceived = new AtomicInteger();
    final CountDownLatch sinkOpened = new CountDownLatch(1);
    volatile CallStreamObserver<Integer> sink;
    final java.util.Set<String> sumThreads = ConcurrentHashMap.newKeySet();
    volatile boolean sumOverlapped;

    CountDownLatch cancelled(String tag) {
      return cancels.computeIfAbsent(tag, t -> new CountDownLatch(1));
    }

    @Override
    public int ping(int x) {
      return x + 1;
    }

    @Override
    public void count(int n, StreamObserver<Integer> out) {
      for (int i = 0; i < n; i++) {
        out.onNext(i);
      }
      out.onCompleted();
    }

    @Override
    public StreamObserver<Integer> sum(StreamObserver<Integer> out) {
      sumThreads.add(Thread.currentThread().getName());
      AtomicInteger inside = new AtomicInteger();
      return new StreamObserver<>() {
        int total;

        @Override
        public void onNext(Integer value) {
          if (inside.incrementAndGet() != 1) {
            sumOverlapped = true;
          }
          sumThreads.add(Thread.currentThread().getName());
          total += value;
          inside.decrementAndGet();
        }

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {
          out.onNext(total);
          out.onCompleted();
        }
      };
    }

    @Override
    public StreamObserver<String> echo(StreamObserver<String> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(String value) {
          out.onNext("echo:" + value);
        }

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }

    @Override
    public void produce(int n, StreamObserver<Integer> out) {
      CallStreamObserver<Integer> call = (CallStreamObserver<Integer>) out;
      boolean[] done = {false};
      Runnable pump = () -> {
        while (!done[0] && call.isReady() && produced.get() < n) {
          call.onNext(produced.getAndIncrement());
        }
        if (!done[0] && produced.get() == n) {
          done[0] = true;
          call.onCompleted();
        } else if (!done[0] && produced.get() > 0) {
          producerStalled.countDown(); // stopped for want of room, after the first grant
        }
      };
      call.setOnReadyHandler(pump);
      pump.run();
    }

    @Override
    public StreamObserver<Integer> slowSink(StreamObserver<Integer> out) {
      CallStreamObserver<Integer> call = (CallStreamObserver<Integer>) out;
      call.disableAutoRequest();
      call.request(1);
      sink = call;
      sinkOpened.countDown();
      return new StreamObserver<>() {
        @Override
        public void onNext(Integer value) {
          sinkReceived.incrementAndGet();
        }

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {
          out.onNext(sinkReceived.get());
          out.onCompleted();
        }
      };
    }

    @Override
    public void hold(String tag, StreamObserver<String> out) {
      CallStreamObserver<String> call = (CallStreamObserver<String>) out;
      call.setOnCancelHandler(() -> {
        if (call.isCancelled()) {
          cancelled(tag).countDown();
        }
      });
      out.onNext("first");
    }

    @Override
    public StreamObserver<String> holdBidi(StreamObserver<String> out) {
      CallStreamObserver<String> call = (CallStreamObserver<String>) out;
      return new StreamObserver<>() {
        @Override
        public void onNext(String tag) {
          call.setOnCancelHandler(() -> {
            if (call.isCancelled()) {
              cancelled(tag).countDown();
            }
          });
          out.onNext("first");
        }

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {}
      };
    }

    @Override
    public void cancelMe(String message, StreamObserver<String> out) {
      out.onNext("one");
      ((CallStreamObserver<String>) out).cancel(message);
    }

    @Override
    public void stall(String tag, StreamObserver<String> out) {
      hold(tag, out);
    }

    @Override
    public void fail(String message, StreamObserver<String> out) {
      out.onNext("a");
      out.onNext("b");
      throw new IllegalStateException(message);
    }

    @Override
    public void notFound(String what, StreamObserver<String> out) {
      out.onNext("x");
      out.onError(new RpcException(Status.Code.NOT_FOUND.toStatus()
          .withDescription("no such thing: " + what)));
    }

    @Override
    public void finishLater(String key, StreamObserver<String> out) {
      open.put(key, out);
      out.onNext("started");
    }
  }
}
