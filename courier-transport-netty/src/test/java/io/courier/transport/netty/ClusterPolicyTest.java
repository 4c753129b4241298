package io.courier.transport.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.annotation.Idempotent;
import io.courier.annotation.OneWay;
import io.courier.annotation.ServiceName;
import io.courier.client.CourierClient;
import io.courier.cluster.ClusterPolicy;
import io.courier.core.cluster.LoadBalancers;
import io.courier.server.CourierServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster policies, each against real servers on loopback: what runs where, how often, and
 * what the caller sees.
 */
class ClusterPolicyTest {

  /** A service with idempotent reads, a non-idempotent write, and calls that return nothing. */
  @ServiceName("test.Directory")
  interface Directory {
    @Idempotent
    String who(long delayMillis);

    @Idempotent
    CompletableFuture<String> whoAsync(long delayMillis);

    /** Not idempotent: runs at most once per call. */
    String take(long delayMillis);

    @Idempotent
    int broken();

    @Idempotent
    void refresh();

    void notify(String event);

    @OneWay
    void post(String event);
  }

  /** Records every call; {@link #failing} makes {@code refresh} and {@code notify} throw. */
  static final class DirectoryImpl implements Directory {
    final String name;
    final AtomicInteger calls = new AtomicInteger();
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    volatile long extraDelayMillis;
    volatile boolean failing;

    DirectoryImpl(String name) {
      this.name = name;
    }

    private void sleep(long millis) {
      try {
        Thread.sleep(millis + extraDelayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public String who(long delayMillis) {
      calls.incrementAndGet();
      sleep(delayMillis);
      return name;
    }

    @Override
    public CompletableFuture<String> whoAsync(long delayMillis) {
      return CompletableFuture.completedFuture(who(delayMillis));
    }

    @Override
    public String take(long delayMillis) {
      return who(delayMillis);
    }

    @Override
    public int broken() {
      calls.incrementAndGet();
      throw new IllegalStateException("broken on " + name);
    }

    @Override
    public void refresh() {
      calls.incrementAndGet();
      if (failing) {
        throw new IllegalStateException("cannot refresh " + name);
      }
    }

    @Override
    public void notify(String event) {
      calls.incrementAndGet();
      if (failing) {
        throw new IllegalStateException("cannot take " + event);
      }
      events.add(event);
    }

    @Override
    public void post(String event) {
      calls.incrementAndGet();
      events.add(event);
    }
  }

  private final List<CourierServer> servers = new ArrayList<>();
  private final List<DirectoryImpl> impls = new ArrayList<>();
  private final List<AutoCloseable> others = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    servers.forEach(CourierServer::close);
    for (AutoCloseable c : others) {
      c.close();
    }
  }

  private String start(String name) {
    return start(name, 0);
  }

  private String start(String name, int port) {
    DirectoryImpl impl = new DirectoryImpl(name);
    CourierServer s = CourierServer.builder().host("127.0.0.1").port(port)
        .service(Directory.class, impl).build().start();
    servers.add(s);
    impls.add(impl);
    return "127.0.0.1:" + s.port();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private CourierClient.Builder client(String... addresses) {
    return CourierClient.builder().addresses(addresses).loadBalancer(LoadBalancers.roundRobin())
        .warmup(Duration.ZERO).timeout(Duration.ofSeconds(5));
  }

  private static int total(List<DirectoryImpl> impls) {
    return impls.stream().mapToInt(i -> i.calls.get()).sum();
  }

  @Test
  void failfastSurfacesTheFirstFailureWhereFailoverWouldHaveRetried() throws Exception {
    String dead = "127.0.0.1:" + freePort();
    String live = start("a");
    int failedFast = 0;
    try (CourierClient c = client(dead, live).clusterPolicy(ClusterPolicy.failfast()).build()) {
      Directory d = c.stub(Directory.class);
      for (int i = 0; i < 10; i++) {
        try {
          assertThat(d.who(0)).isEqualTo("a");
        } catch (RpcException e) {
          assertThat(e.reason()).isEqualTo(ErrorReason.CONNECT_FAILED);
          assertThat(e.attempt()).isEqualTo(1);
          failedFast++;
        }
      }
    }
    assertThat(failedFast).isEqualTo(1); // then the dead one backs off, out of the picks
    try (CourierClient c = client(dead, live).build()) { // failover, the default
      Directory d = c.stub(Directory.class);
      for (int i = 0; i < 10; i++) {
        assertThat(d.who(0)).isEqualTo("a");
      }
    }
  }

  @Test
  void failsafeReturnsTheDefaultValueInsteadOfFailing() throws Exception {
    start("a");
    try (CourierClient c = client("127.0.0.1:" + servers.get(0).port())
        .clusterPolicy(Directory.class, ClusterPolicy.failsafe()).build()) {
      Directory d = c.stub(Directory.class);
      assertThat(d.broken()).isZero();
      assertThat(d.who(0)).isEqualTo("a"); // success is untouched
    }
    String dead = "127.0.0.1:" + freePort();
    try (CourierClient c = client(dead).clusterPolicy(ClusterPolicy.failsafe()).build()) {
      Directory d = c.stub(Directory.class);
      assertThat(d.who(0)).isNull();
      assertThat(d.whoAsync(0).get(5, TimeUnit.SECONDS)).isNull();
    }
    assertThat(impls.get(0).calls.get()).isEqualTo(2);
  }

  @Test
  void failbackDeliversInTheBackgroundOnceTheProviderIsUp() throws Exception {
    int port = freePort();
    try (CourierClient c = client("127.0.0.1:" + port)
        .clusterPolicy(Directory.class, ClusterPolicy.failback(6, Duration.ofMillis(100)))
        .build()) {
      Directory d = c.stub(Directory.class);
      d.notify("sync"); // nobody listens yet: returns normally, retried later
      d.post("one-way");
      start("a", port);
      DirectoryImpl impl = impls.get(0);
      assertThat(List.of(impl.events.poll(10, TimeUnit.SECONDS),
          impl.events.poll(10, TimeUnit.SECONDS))).containsExactlyInAnyOrder("sync", "one-way");
      assertThat(impl.events.poll(300, TimeUnit.MILLISECONDS)).isNull(); // each exactly once
    }
  }

  @Test
  void failbackDoesNotRepeatACallThatRan() throws Exception {
    String a = start("a");
    impls.get(0).failing = true;
    try (CourierClient c = client(a).clusterPolicy(ClusterPolicy.failback(3, Duration.ofMillis(50)))
        .build()) {
      Directory d = c.stub(Directory.class);
      d.notify("x"); // runs and throws on the server: the caller is not told, nothing is resent
      Thread.sleep(500);
      assertThat(impls.get(0).calls.get()).isEqualTo(1);
      assertThat(d.who(0)).isEqualTo("a"); // a method with a result keeps failover
    }
  }

  @Test
  void policiesThatDoNotFitAMethodAreRefusedForThatMethod() throws Exception {
    String a = start("a");
    try (CourierClient c = client(a).clusterPolicy(Directory.class, "take",
        ClusterPolicy.hedged(Duration.ofMillis(10), 2)).build()) {
      assertThatThrownBy(() -> c.stub(Directory.class))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("hedged(10 ms, 2) for Directory.take(long)")
          .hasMessageContaining("must be marked @Idempotent");
    }
    try (CourierClient c = client(a).clusterPolicy(Directory.class, "who",
        ClusterPolicy.failback()).build()) {
      assertThatThrownBy(() -> c.stub(Directory.class))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("must return nothing, not java.lang.String");
    }
    assertThatThrownBy(() -> CourierClient.builder().clusterPolicy(Directory.class, "nope",
        ClusterPolicy.failfast())).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("method: nope (expected: a method of " + Directory.class.getName() + ")");
    assertThatThrownBy(() -> ClusterPolicy.hedged(Duration.ZERO, 2))
        .hasMessage("delay: PT0S (expected: > 0)");
    assertThatThrownBy(() -> ClusterPolicy.forking(1))
        .hasMessage("copies: 1 (expected: >= 2)");
  }

  @Test
  void forkingAnswersFromTheFastestAndCancelsTheRest() throws Exception {
    String a = start("slow");
    String b = start("fast");
    impls.get(0).extraDelayMillis = 2_000;
    // the fast one takes a little time too, so that both copies surely start before the winner
    // answers (a copy cancelled before it starts is never run, which is right but not seen here)
    impls.get(1).extraDelayMillis = 200;
    try (CourierClient c = client(a, b).clusterPolicy(ClusterPolicy.forking(2)).build()) {
      Directory d = c.stub(Directory.class);
      assertThat(d.who(0)).isEqualTo("fast");
      assertThat(d.whoAsync(0).get(5, TimeUnit.SECONDS)).isEqualTo("fast");
      assertThat(impls.get(0).calls.get()).isEqualTo(2); // both got every copy
      assertThat(impls.get(1).calls.get()).isEqualTo(2);
      // a client-wide copying policy leaves non-idempotent methods to failover: one execution
      assertThat(d.take(0)).isIn("slow", "fast");
      assertThat(total(impls)).isEqualTo(5);
    }
  }

  @Test
  void hedgedSendsACopyOnlyWhenTheFirstIsLate() throws Exception {
    String a = start("a");
    String b = start("b");
    try (CourierClient c = client(a, b).clusterPolicy(Directory.class,
        ClusterPolicy.hedged(Duration.ofMillis(200), 2)).build()) {
      Directory d = c.stub(Directory.class);
      for (int i = 0; i < 10; i++) {
        d.who(0);
      }
      assertThat(total(impls)).isEqualTo(10); // all answered in time: no copies
      impls.get(0).extraDelayMillis = 3_000;
      impls.get(1).extraDelayMillis = 3_000;
      long t = System.nanoTime();
      String first = d.who(0); // both slow: a copy goes to the other after 200 ms
      assertThat(total(impls)).isEqualTo(12);
      assertThat(first).isIn("a", "b");
      impls.get(1).extraDelayMillis = 0;
      impls.get(0).extraDelayMillis = 0;
      long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
      assertThat(elapsed).isGreaterThanOrEqualTo(3_000);
      impls.get(0).extraDelayMillis = 3_000; // only a is slow now
      int before = total(impls);
      for (int i = 0; i < 4; i++) {
        assertThat(d.who(0)).isEqualTo("b"); // a's calls are hedged to b, which answers
      }
      assertThat(total(impls) - before).isBetween(6, 8); // a's two calls each got a copy
    }
  }

  @Test
  void aHedgedCallThatFailedOnTheServerIsNotCopied() throws Exception {
    String a = start("a");
    String b = start("b");
    try (CourierClient c = client(a, b).clusterPolicy(Directory.class,
        ClusterPolicy.hedged(Duration.ofMillis(500), 3)).build()) {
      Directory d = c.stub(Directory.class);
      RpcException e = catchThrowableOfType(d::broken, RpcException.class);
      assertThat(e.reason()).isEqualTo(ErrorReason.APPLICATION_ERROR);
      Thread.sleep(700);
      assertThat(total(impls)).isEqualTo(1);
    }
  }

  @Test
  void broadcastCallsEveryProviderAndReportsWhoFailed() throws Exception {
    String[] all = {start("a"), start("b"), start("c")};
    try (CourierClient c = client(all).clusterPolicy(Directory.class, "refresh",
        ClusterPolicy.broadcast()).build()) {
      Directory d = c.stub(Directory.class);
      d.refresh();
      assertThat(impls).allSatisfy(i -> assertThat(i.calls.get()).isEqualTo(1));
      impls.get(1).failing = true;
      RpcException e = catchThrowableOfType(d::refresh, RpcException.class);
      assertThat(e.reason()).isEqualTo(ErrorReason.APPLICATION_ERROR);
      assertThat(e.getMessage()).contains("broadcast to 3 providers, 1 failed; first: ")
          .contains("cannot refresh b");
      assertThat(impls).allSatisfy(i -> assertThat(i.calls.get()).isEqualTo(2));
      d.who(0); // other methods: one provider
      assertThat(total(impls)).isEqualTo(7);
    }
  }

  /** Accepts connections, reads a little, then drops them: the request was sent, no answer. */
  private String dropper() throws IOException {
    ServerSocket ss = new ServerSocket(0);
    Thread t = new Thread(() -> {
      while (!ss.isClosed()) {
        try (Socket s = ss.accept(); InputStream in = s.getInputStream()) {
          in.read(new byte[64]);
        } catch (IOException closed) {
          // closed by the test, or the peer went first
        }
      }
    }, "dropper");
    t.setDaemon(true);
    t.start();
    others.add(ss);
    return "127.0.0.1:" + ss.getLocalPort();
  }

  @Test
  void onlyIdempotentCallsAreResentAfterTheirConnectionWasLost() throws Exception {
    String dropper = dropper();
    String live = start("a");
    try (CourierClient c = client(dropper, live).ejectAfterFailures(0).build()) {
      Directory d = c.stub(Directory.class);
      for (int i = 0; i < 6; i++) {
        assertThat(d.who(0)).isEqualTo("a"); // lost on the dropper, resent to a
      }
      int lost = 0;
      for (int i = 0; i < 6; i++) {
        try {
          assertThat(d.take(0)).isEqualTo("a");
        } catch (RpcException e) {
          assertThat(e.reason()).isEqualTo(ErrorReason.CONNECTION_CLOSED);
          assertThat(e.isRetryable()).isFalse();
          lost++;
        }
      }
      assertThat(lost).isEqualTo(3); // every call round robin sent to the dropper
    }
    assertThat(impls.get(0).calls.get()).isEqualTo(9);
  }

  @Test
  void aMethodPolicyWinsOverItsServicesWhichWinsOverTheClients() throws Exception {
    String dead = "127.0.0.1:" + freePort();
    String live = start("a");
    try (CourierClient c = client(dead, live)
        .clusterPolicy(ClusterPolicy.failsafe())
        .clusterPolicy(Directory.class, ClusterPolicy.failfast())
        .clusterPolicy(Directory.class, "take", ClusterPolicy.failover(2)).build()) {
      Directory d = c.stub(Directory.class);
      // round robin: one of two calls starts on the dead one; the method's failover resends it
      assertThat(d.take(0)).isEqualTo("a");
      assertThat(d.take(0)).isEqualTo("a");
    }
    try (CourierClient c = client(dead, live)
        .clusterPolicy(ClusterPolicy.failsafe())
        .clusterPolicy(Directory.class, ClusterPolicy.failfast()).build()) {
      Directory d = c.stub(Directory.class);
      RpcException e = catchThrowableOfType(() -> {
        for (int i = 0; i < 2; i++) {
          d.who(0);
        }
      }, RpcException.class);
      assertThat(e.reason()).isEqualTo(ErrorReason.CONNECT_FAILED); // not failsafe's null
    }
  }
}
