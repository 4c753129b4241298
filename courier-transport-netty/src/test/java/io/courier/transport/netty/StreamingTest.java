package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.Status;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.server.CourierServer;
import io.courier.stream.CallStreamObserver;
import io.courier.stream.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Streaming calls over the Courier protocol, between a real server and client on loopback. */
class StreamingTest {

  static StreamService.Impl impl;
  static CourierServer server;
  static CourierClient client;
  static StreamService stub;

  @BeforeAll
  static void start() {
    impl = new StreamService.Impl();
    server = CourierServer.builder().host("127.0.0.1").port(0)
        .service(StreamService.class, impl).build().start();
    client = CourierClient.builder().address("127.0.0.1:" + server.port())
        .timeout(Duration.ofSeconds(20)).build();
    stub = client.stub(StreamService.class);
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  /** Records what an observer receives, and whether two callbacks ever overlapped. */
  static class Recorder<T> implements StreamObserver<T> {
    final List<T> values = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch done = new CountDownLatch(1);
    final AtomicInteger inside = new AtomicInteger();
    volatile boolean overlapped;
    volatile Throwable error;
    volatile boolean completed;
    volatile String thread;

    private void enter() {
      thread = Thread.currentThread().getName();
      if (inside.incrementAndGet() != 1) {
        overlapped = true;
      }
    }

    @Override
    public void onNext(T value) {
      enter();
      values.add(value);
      inside.decrementAndGet();
    }

    @Override
    public void onError(Throwable t) {
      enter();
      error = t;
      inside.decrementAndGet();
      done.countDown();
    }

    @Override
    public void onCompleted() {
      enter();
      completed = true;
      inside.decrementAndGet();
      done.countDown();
    }

    List<T> awaitCompleted() throws InterruptedException {
      assertThat(done.await(10, TimeUnit.SECONDS)).as("stream ended").isTrue();
      assertThat(error).as("error").isNull();
      assertThat(completed).isTrue();
      assertThat(overlapped).as("callbacks overlapped").isFalse();
      return values;
    }

    RpcException awaitError() throws InterruptedException {
      assertThat(done.await(10, TimeUnit.SECONDS)).as("stream ended").isTrue();
      assertThat(completed).as("completed instead of failing").isFalse();
      assertThat(error).isInstanceOf(RpcException.class);
      return (RpcException) error;
    }
  }

  @Test
  void serverStreamingDeliversManyMessagesInOrderOnTheCallbackExecutor() throws Exception {
    Recorder<Integer> r = new Recorder<>();
    stub.count(5000, r);
    assertThat(r.awaitCompleted()).isEqualTo(IntStream.range(0, 5000).boxed().toList());
    assertThat(r.thread).startsWith("courier-callback");
    assertThat(stub.ping(1)).isEqualTo(2); // unary calls share the connection
  }

  @Test
  void clientStreamingSumsTheRequestStream() throws Exception {
    Recorder<Integer> r = new Recorder<>();
    StreamObserver<Integer> requests = stub.sum(r);
    for (int i = 1; i <= 1000; i++) {
      requests.onNext(i);
    }
    requests.onCompleted();
    assertThat(r.awaitCompleted()).containsExactly(500500);
    // the method and its request observer ran on the service executor, one callback at a time
    assertThat(impl.sumThreads).isNotEmpty().allMatch(t -> t.startsWith("courier-server"));
    assertThat(impl.sumOverlapped).isFalse();
  }

  @Test
  void bidirectionalPingPong() throws Exception {
    int rounds = 200;
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch done = new CountDownLatch(1);
    Throwable[] failure = new Throwable[1];
    @SuppressWarnings("unchecked")
    StreamObserver<String>[] out = new StreamObserver[1];
    out[0] = stub.echo(new StreamObserver<>() {
      @Override
      public void onNext(String value) {
        got.add(value);
        if (got.size() < rounds) {
          out[0].onNext("ping-" + got.size());
        } else {
          out[0].onCompleted();
        }
      }

      @Override
      public void onError(Throwable t) {
        failure[0] = t;
        done.countDown();
      }

      @Override
      public void onCompleted() {
        done.countDown();
      }
    });
    out[0].onNext("ping-0");
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(failure[0]).isNull();
    assertThat(got).isEqualTo(IntStream.range(0, rounds).mapToObj(i -> "echo:ping-" + i)
        .toList());
  }

  @Test
  void slowClientHoldsTheServerProducerBack() throws Exception {
    int n = 300;
    CountDownLatch release = new CountDownLatch(1);
    Recorder<Integer> r = new Recorder<>() {
      @Override
      public void onNext(Integer value) {
        try {
          release.await(10, TimeUnit.SECONDS); // a consumer stuck on its first message
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        super.onNext(value);
      }
    };
    stub.produce(n, r);
    assertThat(impl.producerStalled.await(10, TimeUnit.SECONDS)).as("producer saw !isReady")
        .isTrue();
    // nothing was delivered, so the server may not have sent beyond the initial window
    assertThat(impl.produced.get()).isLessThanOrEqualTo(StreamCall.WINDOW).isPositive();
    assertThat(r.values).isEmpty();
    release.countDown();
    assertThat(r.awaitCompleted()).isEqualTo(IntStream.range(0, n).boxed().toList());
  }

  @Test
  void manualRequestOnTheServerHoldsTheClientProducerBack() throws Exception {
    Recorder<Integer> r = new Recorder<>();
    @SuppressWarnings("unchecked")
    CallStreamObserver<Integer> requests = (CallStreamObserver<Integer>) stub.slowSink(r);
    Semaphore ready = new Semaphore(0);
    requests.setOnReadyHandler(ready::release);
    int total = 200;
    int sent = 0;
    boolean stalled = false;
    while (sent < total) {
      if (requests.isReady()) {
        requests.onNext(sent++);
        continue;
      }
      if (sent > 0 && !stalled) {
        stalled = true;
        // the server asked for one message: the client may have sent only the window
        assertThat(impl.sinkOpened.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(sent).isLessThanOrEqualTo(StreamCall.WINDOW);
        assertThat(impl.sinkReceived.get()).isLessThanOrEqualTo(1);
        impl.sink.request(total);
      }
      assertThat(ready.tryAcquire(10, TimeUnit.SECONDS)).as("on-ready after " + sent).isTrue();
    }
    requests.onCompleted();
    assertThat(stalled).isTrue();
    assertThat(r.awaitCompleted()).containsExactly(total);
  }

  @Test
  void clientCancelReachesTheServer() throws Exception {
    Recorder<String> r = new Recorder<>();
    @SuppressWarnings("unchecked")
    CallStreamObserver<String> requests = (CallStreamObserver<String>) stub.holdBidi(r);
    CountDownLatch cancelHandler = new CountDownLatch(1);
    requests.setOnCancelHandler(cancelHandler::countDown);
    requests.onNext("bidi-cancel");
    awaitValues(r, 1);
    requests.cancel("enough for today");
    assertThat(impl.cancelled("bidi-cancel").await(10, TimeUnit.SECONDS)).isTrue();
    RpcException e = r.awaitError();
    assertThat(e.status().code()).isEqualTo(Status.Code.CANCELLED);
    assertThat(e.getMessage()).contains("enough for today");
    assertThat(requests.isCancelled()).isTrue();
    assertThat(cancelHandler.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void onErrorOnTheRequestStreamCancelsTheCall() throws Exception {
    Recorder<String> r = new Recorder<>();
    StreamObserver<String> requests = stub.holdBidi(r);
    requests.onNext("bidi-onerror");
    awaitValues(r, 1);
    requests.onError(new IllegalArgumentException("changed my mind"));
    assertThat(impl.cancelled("bidi-onerror").await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(r.awaitError().reason()).isEqualTo(ErrorReason.CANCELLED);
  }

  @Test
  void observerThrowingCancelsAServerStream() throws Exception {
    Recorder<String> r = new Recorder<>() {
      @Override
      public void onNext(String value) {
        super.onNext(value);
        throw new IllegalStateException("cannot take it");
      }
    };
    stub.hold("observer-threw", r);
    assertThat(impl.cancelled("observer-threw").await(10, TimeUnit.SECONDS)).isTrue();
    RpcException e = r.awaitError();
    assertThat(e.reason()).isEqualTo(ErrorReason.CANCELLED);
    assertThat(e.getCause()).hasMessage("cannot take it");
  }

  @Test
  void serverCancelReachesTheClient() throws Exception {
    Recorder<String> r = new Recorder<>();
    stub.cancelMe("the server gave up", r);
    RpcException e = r.awaitError();
    assertThat(e.status().code()).isEqualTo(Status.Code.CANCELLED);
    assertThat(e.getMessage()).contains("the server gave up");
  }

  @Test
  void deadlineEndsTheStreamOnBothSides() throws Exception {
    Recorder<String> r = new Recorder<>();
    stub.stall("deadline", r);
    RpcException e = r.awaitError();
    assertThat(e.status().code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(impl.cancelled("deadline").await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void implementationThrowingBecomesTheStatus() throws Exception {
    Recorder<String> r = new Recorder<>();
    stub.fail("broken producer", r);
    RpcException e = r.awaitError();
    assertThat(r.values).containsExactly("a", "b");
    assertThat(e.reason()).isEqualTo(ErrorReason.APPLICATION_ERROR);
    assertThat(e.remoteClassName()).isEqualTo(IllegalStateException.class.getName());
    assertThat(e.getMessage()).contains("broken producer");
  }

  @Test
  void onErrorOnTheResponseStreamBecomesTheStatus() throws Exception {
    Recorder<String> r = new Recorder<>();
    stub.notFound("unicorn", r);
    RpcException e = r.awaitError();
    assertThat(r.values).containsExactly("x");
    assertThat(e.status().code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(e.getMessage()).contains("no such thing: unicorn");
  }

  /** A streaming method this server does not have. */
  @ServiceName("test.Streams")
  interface Unserved {
    void missing(String s, StreamObserver<String> out);
  }

  @Test
  void unknownStreamingMethodIsRefused() throws Exception {
    Recorder<String> r = new Recorder<>();
    client.stub(Unserved.class).missing("x", r);
    RpcException e = r.awaitError();
    assertThat(e.status().code()).isEqualTo(Status.Code.UNIMPLEMENTED);
    assertThat(e.reason()).isEqualTo(ErrorReason.UNKNOWN_METHOD);
    assertThat(e.getMessage()).contains("missing");
  }

  @Test
  void drainingLetsOpenStreamsFinish() throws Exception {
    StreamService.Impl own = new StreamService.Impl();
    CourierServer s = CourierServer.builder().host("127.0.0.1").port(0)
        .drainTimeout(Duration.ofSeconds(10)).service(StreamService.class, own).build().start();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
        .timeout(Duration.ofSeconds(20)).build()) {
      Recorder<String> r = new Recorder<>();
      c.stub(StreamService.class).finishLater("drain", r);
      awaitValues(r, 1);
      Thread closer = new Thread(s::close);
      closer.start();
      awaitRefusingConnections(s.port()); // shutting down: now draining
      StreamObserver<String> out = own.open.get("drain");
      out.onNext("still here");
      out.onCompleted();
      assertThat(r.awaitCompleted()).containsExactly("started", "still here");
      closer.join(10_000);
      assertThat(closer.isAlive()).isFalse();
    }
  }

  @Test
  void serverClosedMidStreamFailsTheClientStream() throws Exception {
    StreamService.Impl own = new StreamService.Impl();
    CourierServer s = CourierServer.builder().host("127.0.0.1").port(0)
        .drainTimeout(Duration.ZERO).service(StreamService.class, own).build().start();
    try (CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
        .timeout(Duration.ofSeconds(20)).build()) {
      Recorder<String> r = new Recorder<>();
      c.stub(StreamService.class).hold("killed", r);
      awaitValues(r, 1);
      s.close();
      RpcException e = r.awaitError();
      assertThat(e.status().code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.reason()).isEqualTo(ErrorReason.CONNECTION_CLOSED);
    } finally {
      s.close();
    }
  }

  @Test
  void clientGoneCancelsTheServerStream() throws Exception {
    CourierClient c = CourierClient.builder().address("127.0.0.1:" + server.port())
        .timeout(Duration.ofSeconds(20)).build();
    Recorder<String> r = new Recorder<>();
    c.stub(StreamService.class).hold("client-gone", r);
    awaitValues(r, 1);
    c.close();
    assertThat(impl.cancelled("client-gone").await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void openStreamsCountAgainstTheConnectionsCallLimit() throws Exception {
    StreamService.Impl own = new StreamService.Impl();
    try (CourierServer s = CourierServer.builder().host("127.0.0.1").port(0)
            .maxConcurrentCallsPerConnection(2).service(StreamService.class, own).build().start();
        CourierClient c = CourierClient.builder().address("127.0.0.1:" + s.port())
            .timeout(Duration.ofSeconds(20)).build()) {
      StreamService k = c.stub(StreamService.class);
      Recorder<String> first = new Recorder<>();
      Recorder<String> second = new Recorder<>();
      k.hold("limit-1", first);
      k.hold("limit-2", second);
      awaitValues(first, 1);
      awaitValues(second, 1);
      Recorder<String> third = new Recorder<>();
      k.hold("limit-3", third);
      RpcException e = third.awaitError();
      assertThat(e.reason()).isEqualTo(ErrorReason.OVERLOADED);
      assertThat(e.status().code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    }
  }

  private static void awaitRefusingConnections(int port) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
        Thread.sleep(5);
      } catch (java.io.IOException refused) {
        return;
      }
    }
    throw new AssertionError("the server kept accepting connections");
  }

  private static void awaitValues(Recorder<?> r, int n) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (r.values.size() < n && r.done.getCount() > 0 && System.nanoTime() < end) {
      Thread.sleep(5);
    }
    assertThat(r.values).hasSizeGreaterThanOrEqualTo(n);
  }
}
