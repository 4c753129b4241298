package io.courier.transport.netty;

import io.courier.ErrorReason;
import io.courier.RpcException;
import io.courier.cluster.Candidate;
import io.courier.observe.CallObserver;
import io.netty.channel.ChannelFuture;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One server address and the connections to it: {@code connectionsPerEndpoint} slots, each holding
 * at most one live multiplexed connection. A slot connects on first use, reconnects in the
 * background with exponential back-off and jitter after an unexpected close, and moves to a new
 * connection after GOAWAY while the old one finishes its calls. Thread-safe.
 */
public final class Endpoint implements Candidate {

  private static final long EWMA_DECAY_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final long MIN_SHED_PENALTY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
  private static final long MAX_SHED_PENALTY_NANOS = TimeUnit.SECONDS.toNanos(1);


  private final NettyClient client;
  final String host;
  final int port;
  /** The socket file of a Unix domain socket endpoint; null for TCP. */
  final String socketPath;
  private final String display;
  private final Slot[] slots;
  /** The connection for large requests, made on first use; null until then. */
  private volatile Slot bulk;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile long latencyEwmaNanos;
  private volatile long lastSampleNanos;
  private volatile long upSinceNanos;
  private volatile int weight = 100;
  private volatile long failingUntilNanos;
  private volatile long ejectedUntilNanos;
  private volatile int consecutiveFailures; // written under the lock
  private int ejections; // guarded by this

  Endpoint(NettyClient client, String host, int port, int connections) {
    this(client, host, port, null, connections);
  }

  /** An endpoint on the Unix domain socket at {@code socketPath}. */
  Endpoint(NettyClient client, String socketPath, int connections) {
    this(client, socketPath, -1, socketPath, connections);
  }

  private Endpoint(NettyClient client, String host, int port, String socketPath,
      int connections) {
    this.client = client;
    this.host = host;
    this.port = port;
    this.socketPath = socketPath;
    this.display = socketPath != null ? NettyClient.UNIX_SCHEME + socketPath : host + ":" + port;
    this.slots = new Slot[connections];
    for (int i = 0; i < connections; i++) {
      slots[i] = new Slot();
    }
  }

  NettyClient client() {
    return client;
  }

  /** The slot the next call uses (round robin over the connections). */
  Slot pick() {
    return slots.length == 1 ? slots[0]
        : slots[(next.getAndIncrement() & Integer.MAX_VALUE) % slots.length];
  }

  /**
   * The slot for requests of at least the bulk-lane threshold: a connection of their own, so
   * that a large body being written does not hold up the small calls behind it.
   */
  Slot bulk() {
    Slot b = bulk;
    if (b == null) {
      synchronized (this) {
        b = bulk;
        if (b == null) {
          b = new Slot();
          bulk = b;
        }
      }
    }
    return b;
  }

  private Slot[] allSlots() {
    Slot b = bulk;
    if (b == null) {
      return slots;
    }
    Slot[] all = java.util.Arrays.copyOf(slots, slots.length + 1);
    all[slots.length] = b;
    return all;
  }

  void onGoAway(ClientConnectionHandler h) {
    for (Slot s : allSlots()) {
      s.forget(h, false);
    }
  }

  void onClosed(ClientConnectionHandler h) {
    for (Slot s : allSlots()) {
      s.forget(h, true);
    }
  }

  void close() {
    for (Slot s : allSlots()) {
      ClientConnectionHandler h = s.current;
      if (h != null && h.channel() != null) {
        h.channel().close();
      }
    }
  }

  @Override
  public String toString() {
    return display;
  }

  @Override
  public String address() {
    return display;
  }

  @Override
  public int weight() {
    return weight;
  }

  /** Sets the weight announced by the registry. */
  void weight(int weight) {
    this.weight = weight;
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * The latency average, decayed for the time since the last sample: an endpoint that was slow
   * once and then stopped being picked would otherwise keep its peak forever and never be tried
   * again.
   */
  @Override
  public long latencyEwmaNanos() {
    long ewma = latencyEwmaNanos;
    long last = lastSampleNanos;
    if (ewma == 0 || last == 0) {
      return ewma;
    }
    long idle = System.nanoTime() - last;
    return idle <= 0 ? ewma : (long) (ewma * Math.exp(-(double) idle / EWMA_DECAY_NANOS));
  }

  @Override
  public long upSinceNanos() {
    return upSinceNanos;
  }

  /**
   * Whether the endpoint may be picked: it is neither backing off after failed connects nor
   * ejected for consecutive failures.
   */
  boolean available() {
    long now = System.nanoTime();
    long failing = failingUntilNanos;
    long ejected = ejectedUntilNanos;
    return (failing == 0 || now - failing >= 0) && (ejected == 0 || now - ejected >= 0);
  }

  /** An attempt here got an answer from the server (even an error answer): healthy. */
  void succeeded() {
    if (consecutiveFailures == 0 && ejectedUntilNanos == 0) {
      return; // the common case: healthy, nothing to reset, no lock on the call path
    }
    forgive();
  }

  private synchronized void forgive() {
    consecutiveFailures = 0;
    if (ejectedUntilNanos != 0 && System.nanoTime() - ejectedUntilNanos >= 0) {
      ejections = 0; // back from ejection and answering: forgive
      ejectedUntilNanos = 0;
    }
  }

  /**
   * An attempt here failed for want of an answer (connect failure, lost connection, deadline).
   * After {@code threshold} in a row the endpoint leaves the pick set for a back-off that doubles
   * with each ejection, from 1 s up to 30 s, and comes back with a fresh latency average and a
   * new warm-up. Failures reported while it is ejected are calls sent
   * before the ejection, ending late: the same outage, so they neither extend the ejection nor
   * count towards the next one.
   */
  synchronized void failed(int threshold) {
    if (threshold <= 0 || ejected()) {
      return;
    }
    if (++consecutiveFailures < threshold) {
      return;
    }
    consecutiveFailures = 0;
    long backoff = Math.min(30_000L, 1_000L << Math.min(5, ejections));
    ejections++;
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
    ejectedUntilNanos = until;
    CallObserver o = client.observer();
    if (o != null) {
      o.endpointEjected(display);
    }
    // It comes back as if new: the latency peak of its outage is forgotten (peak-EWMA would
    // otherwise shun it for tens of seconds after it recovered), and its share warms up again so
    // that one that is still failing gets few calls.
    latencyEwmaNanos = 0;
    lastSampleNanos = 0;
    upSinceNanos = until;
  }

  /** Whether the endpoint is ejected right now (for tests and diagnostics). */
  boolean ejected() {
    long ejected = ejectedUntilNanos;
    return ejected != 0 && System.nanoTime() - ejected < 0;
  }

  void callStarted() {
    inFlight.incrementAndGet();
  }

  void callEnded() {
    inFlight.decrementAndGet();
  }

  /**
   * The endpoint refused a call for overload. Such a refusal comes back at once, and its latency
   * would make a saturated endpoint look like the fastest; instead the average is raised as if
   * the call had taken twice the average (at least 10 ms, at most 1 s), so the balancer sends the
   * endpoint less until the raise decays (2 s) or its answers say otherwise.
   */
  void shed() {
    long ewma = latencyEwmaNanos;
    recordLatency(Math.min(MAX_SHED_PENALTY_NANOS, Math.max(MIN_SHED_PENALTY_NANOS, 2 * ewma)));
  }

  /**
   * Adds a latency sample to the peak-sensitive moving average: a sample above the average
   * replaces it at once; one below pulls it down with a 2-second decay.
   */
  void recordLatency(long sampleNanos) {
    // Unlocked on purpose: two racing samples may lose one, which an average can afford, and the
    // call path takes no lock.
    long now = System.nanoTime();
    long ejected = ejectedUntilNanos;
    if (ejected != 0 && now - ejected < 0) {
      return; // a call of the outage ending late: not a measure of the endpoint once it is back
    }
    long ewma = latencyEwmaNanos;
    if (sampleNanos > ewma || lastSampleNanos == 0) {
      latencyEwmaNanos = sampleNanos;
    } else {
      double w = Math.exp(-(double) (now - lastSampleNanos) / EWMA_DECAY_NANOS);
      latencyEwmaNanos = (long) (ewma * w + sampleNanos * (1 - w));
    }
    lastSampleNanos = now;
  }

  /** One connection position of the endpoint. */
  final class Slot {
    volatile ClientConnectionHandler current;
    private CompletableFuture<ClientConnectionHandler> connecting;
    private int failures;
    private long retryAtNanos;
    private String lastFailure;
    private ErrorReason lastReason = ErrorReason.CONNECT_FAILED;
    private boolean reconnectScheduled;

    /** The slot's connection if it can take calls now, else null (then use {@link #get()}). */
    ClientConnectionHandler ready() {
      ClientConnectionHandler h = current;
      return h != null && h.usable() ? h : null;
    }

    /** The slot's connection, connecting if needed; fails fast while backing off. */
    synchronized CompletableFuture<ClientConnectionHandler> get() {
      ClientConnectionHandler h = current;
      if (h != null && h.usable()) {
        return CompletableFuture.completedFuture(h);
      }
      if (connecting != null) {
        return connecting;
      }
      long wait = retryAtNanos - System.nanoTime();
      if (failures > 0 && wait > 0) {
        return CompletableFuture.failedFuture(new RpcException(lastReason,
            "cannot reach " + display + " (" + failures + " failed attempts, last: "
                + lastFailure + "); next attempt in " + TimeUnit.NANOSECONDS.toMillis(wait)
                + " ms"));
      }
      return start();
    }

    private CompletableFuture<ClientConnectionHandler> start() {
      CompletableFuture<ClientConnectionHandler> cf = new CompletableFuture<>();
      connecting = cf;
      ChannelFuture f;
      try {
        f = socketPath != null
            ? client.bootstrap(Endpoint.this).connect(new DomainSocketAddress(socketPath))
            : client.bootstrap(Endpoint.this).connect(host, port);
      } catch (RuntimeException e) {
        connecting = null;
        cf.completeExceptionally(new RpcException(ErrorReason.CONNECT_FAILED,
            "cannot connect to " + display + ": " + e, e));
        return cf;
      }
      f.addListener(connected -> {
        SslHandler ssl = connected.isSuccess() ? f.channel().pipeline().get(SslHandler.class)
            : null;
        if (ssl == null) {
          connected(f, connected, cf);
        } else {
          // usable once the TLS session is up, not when TCP is
          ssl.handshakeFuture().addListener(handshake -> connected(f, handshake, cf));
        }
      });
      return cf;
    }

    /** Completes a connection attempt: {@code done} is the connect, or the TLS handshake. */
    private void connected(ChannelFuture f, Future<?> done,
        CompletableFuture<ClientConnectionHandler> cf) {
      RpcException failure;
      synchronized (this) {
        connecting = null;
        if (done.isSuccess()) {
          ClientConnectionHandler h =
              f.channel().pipeline().get(ClientConnectionHandler.class);
          current = h;
          if (failures > 0 || upSinceNanos == 0) {
            upSinceNanos = System.nanoTime(); // (re)joined: warm-up starts now
          }
          failures = 0;
          lastFailure = null;
          lastReason = ErrorReason.CONNECT_FAILED;
          failingUntilNanos = 0;
          if (client.isClosed()) {
            f.channel().close();
          }
          cf.complete(h);
          return;
        }
        failures++;
        retryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis());
        failingUntilNanos = retryAtNanos;
        if (f.isSuccess() && TlsContexts.isTlsFailure(done.cause())) {
          f.channel().close();
          String why = TlsContexts.describeClientFailure(display, done.cause(),
              client.tlsConfig());
          failure = new RpcException(ErrorReason.TLS_HANDSHAKE_FAILED, why, done.cause());
          lastFailure = why;
          lastReason = ErrorReason.TLS_HANDSHAKE_FAILED;
        } else {
          f.channel().close();
          failure = new RpcException(ErrorReason.CONNECT_FAILED,
              "cannot connect to " + display + ": " + done.cause(), done.cause());
          lastFailure = String.valueOf(done.cause());
          lastReason = ErrorReason.CONNECT_FAILED;
        }
        scheduleReconnect();
      }
      cf.completeExceptionally(failure);
    }

    private long backoffMillis() {
      ClientConfig c = client.config();
      long base = c.backoffInitialMillis() << Math.min(20, Math.max(0, failures - 1));
      base = Math.min(base, c.backoffMaxMillis());
      double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
      return Math.max(1, (long) (base * jitter));
    }

    /** Must hold the lock. Reconnects in the background after the back-off. */
    private void scheduleReconnect() {
      if (reconnectScheduled || client.isClosed()) {
        return;
      }
      reconnectScheduled = true;
      long delay = Math.max(0, retryAtNanos - System.nanoTime());
      client.group().schedule(() -> {
        synchronized (this) {
          reconnectScheduled = false;
          ClientConnectionHandler h = current;
          if (client.isClosed() || connecting != null || h != null && h.usable()) {
            return;
          }
          start();
        }
      }, delay, TimeUnit.NANOSECONDS);
    }

    synchronized void forget(ClientConnectionHandler h, boolean closed) {
      if (current != h) {
        return;
      }
      current = null;
      if (closed && !client.isClosed()) {
        // an unexpected close: reconnect in the background after the initial back-off
        retryAtNanos = System.nanoTime()
            + TimeUnit.MILLISECONDS.toNanos(client.config().backoffInitialMillis());
        scheduleReconnect();
      }
    }
  }
}
