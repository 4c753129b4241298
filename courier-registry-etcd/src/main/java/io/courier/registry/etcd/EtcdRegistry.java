package io.courier.registry.etcd;

import io.courier.internal.registry.InstanceCodec;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Providers are keys {@code <root>/<service>/providers/<host:port>} attached to one lease per
 * registry, kept alive while the registry is open: when the process dies, the lease expires after
 * its TTL and the keys go with it. When the lease is lost (revoked, expired during a pause or an
 * outage, its keep-alive failing) or a key is deleted, the registry stores every registration
 * again, under the old lease if it still lives, under a new one otherwise. Subscriptions read the
 * providers prefix, then watch it from the next revision; after any watch failure (an outage, a
 * compaction) they read it again. Thread-safe.
 *
 * <p>Threads: all lease and registration work runs on one thread, all listener calls on another;
 * callers wait for etcd a bounded time ({@link #OPERATION_WAIT_MILLIS}), so nothing hangs while
 * etcd is unreachable.
 *
 * <p>Reconnecting: while etcd is unreachable, the gRPC channel under the jetcd client waits
 * longer and longer between connection attempts (up to two minutes), and calls made in between
 * fail at once without trying; jetcd offers no way to shorten or reset that wait. So when calls
 * have kept failing, without one answer, for {@link #RECONNECT_AFTER_MILLIS}, the registry
 * replaces the client with a new one (a new channel, which tries at once), moves the lease
 * keep-alive, the registrations and every subscription's watch onto it, and closes the old one;
 * it does so again every {@link #RECONNECT_AFTER_MILLIS} for as long as the failures go on. Once
 * etcd is back, the registry is back within about its own retry interval, however long the
 * outage was.
 */
final class EtcdRegistry implements Registry {

  private static final Logger log = LoggerFactory.getLogger(EtcdRegistry.class);

  /** How long lookup, unregister and each step of close wait for etcd. */
  static final long OPERATION_WAIT_MILLIS = 1_500;
  /** How long register waits for the entry to be stored before leaving it to the background. */
  static final long REGISTRATION_WAIT_MILLIS = 3_000;
  private static final long MIN_RETRY_MILLIS = 200;
  private static final long MAX_RETRY_MILLIS = 2_000;
  /**
   * How long calls to etcd must have failed, without one answer in between, before the client
   * is replaced by a new one; also the shortest time between two replacements.
   */
  static final long RECONNECT_AFTER_MILLIS = 4_000;
  /**
   * Failures further apart than this do not make one outage: the registry's retries fail at
   * least every {@link #MAX_RETRY_MILLIS} plus {@link #OPERATION_WAIT_MILLIS} while it lasts.
   */
  private static final long FAILURE_GAP_MILLIS = 6_000;

  private final String[] endpoints;
  private final String root;
  private final long ttlSeconds;
  private final String name;
  private final Map<String, ServiceInstance> registered = new ConcurrentHashMap<>();
  private final Set<String> pendingDeletes = ConcurrentHashMap.newKeySet();
  private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService leaseThread;
  private final ScheduledExecutorService notifier;
  private volatile boolean closed;

  // the connection: replaced, and the replaced clients closed, under connectionLock
  private final Object connectionLock = new Object();
  private volatile Client client;
  private final Set<Client> retired = new HashSet<>();
  private long failingSinceNanos; // 0 while the last call to etcd was answered
  private long lastFailureNanos;
  private volatile int reconnects;

  // owned by leaseThread
  private volatile long leaseId; // 0: none granted yet
  private CloseableClient keepAlive;
  private long interruptedAtNanos; // 0 unless the heartbeat is being restored
  private String interruption;
  private ScheduledFuture<?> retry;
  private long retryMillis = MIN_RETRY_MILLIS;

  EtcdRegistry(List<String> endpoints, String root, long ttlSeconds) {
    this.root = root;
    this.ttlSeconds = ttlSeconds;
    this.name = "etcd " + String.join(",", endpoints) + root;
    this.endpoints = endpoints.stream().map(e -> "http://" + e).toArray(String[]::new);
    this.client = connect();
    this.leaseThread = Executors.newSingleThreadScheduledExecutor(daemon("lease"));
    this.notifier = Executors.newSingleThreadScheduledExecutor(daemon("notifier"));
    long auditMillis = Math.max(1_000, ttlSeconds * 1_000 / 3);
    leaseThread.scheduleWithFixedDelay(this::audit, auditMillis, auditMillis,
        TimeUnit.MILLISECONDS);
  }

  /** A new jetcd client; its channel connects on the first call. */
  private Client connect() {
    return Client.builder()
        .endpoints(endpoints)
        .connectTimeout(Duration.ofMillis(OPERATION_WAIT_MILLIS))
        // fail calls while disconnected instead of queueing them: a queued put or delete
        // that this registry has given up on must not run later, out of turn
        .waitForReady(false)
        // this registry retries on its own terms (and re-reads state when it does)
        .retryMaxAttempts(0)
        // detect a dead connection (a host gone, a partition) without waiting for TCP
        .keepaliveTime(Duration.ofSeconds(5))
        .keepaliveTimeout(Duration.ofSeconds(3))
        .keepaliveWithoutCalls(true)
        .build();
  }

  private static ThreadFactory daemon(String role) {
    return r -> {
      Thread t = new Thread(r, "courier-registry-etcd-" + role);
      t.setDaemon(true);
      return t;
    };
  }

  /** The lease the registrations are attached to now; 0 before the first registration. */
  long leaseId() {
    return leaseId;
  }

  /** How many times the client has been replaced by a new one so far. */
  int reconnects() {
    return reconnects;
  }

  private String prefix(String service) {
    return root + "/" + service + "/providers/";
  }

  private String key(ServiceInstance instance) {
    return prefix(instance.service()) + instance.address();
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private <T> T await(CompletableFuture<T> call) throws Exception {
    try {
      T result = call.get(OPERATION_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      answered();
      return result;
    } catch (TimeoutException e) {
      call.cancel(true);
      unanswered();
      throw new TimeoutException("no answer within " + OPERATION_WAIT_MILLIS + " ms");
    } catch (ExecutionException e) {
      unanswered();
      throw e.getCause() instanceof Exception c ? c : e;
    }
  }

  // ---- the connection ----

  /** Records that etcd answered a call: whatever failed before, the connection works. */
  private void answered() {
    synchronized (connectionLock) {
      failingSinceNanos = 0;
    }
  }

  /**
   * Records that a call to etcd failed. When calls have failed for {@link
   * #RECONNECT_AFTER_MILLIS} without an answer, has the lease thread replace the client.
   */
  private void unanswered() {
    long now = System.nanoTime();
    boolean due;
    synchronized (connectionLock) {
      if (failingSinceNanos == 0
          || now - lastFailureNanos > TimeUnit.MILLISECONDS.toNanos(FAILURE_GAP_MILLIS)) {
        failingSinceNanos = now;
      }
      lastFailureNanos = now;
      due = now - failingSinceNanos >= TimeUnit.MILLISECONDS.toNanos(RECONNECT_AFTER_MILLIS);
    }
    if (due && !closed) {
      try {
        leaseThread.execute(this::reconnect);
      } catch (RejectedExecutionException e) {
        // closing
      }
    }
  }

  /**
   * Replaces the client by a new one when calls are still failing, then moves the lease, the
   * registrations and the subscriptions onto it and closes the old one. Runs on leaseThread.
   */
  private void reconnect() {
    Client old;
    long failingMillis;
    synchronized (connectionLock) {
      long now = System.nanoTime();
      if (closed || failingSinceNanos == 0
          || now - failingSinceNanos < TimeUnit.MILLISECONDS.toNanos(RECONNECT_AFTER_MILLIS)) {
        return; // answered meanwhile, or already replaced by an earlier request
      }
      failingMillis = (now - failingSinceNanos) / 1_000_000;
      failingSinceNanos = 0; // the new client gets its own time to connect
      old = client;
      client = connect();
      retired.add(old);
      reconnects++;
    }
    log.debug("calls to {} failed for {} ms; connecting again with a new client", name,
        failingMillis);
    // the keep-alive is a stream of the old client: restore() starts one on the new client
    stopKeepAlive();
    if (leaseId != 0 || !registered.isEmpty()) {
      restore();
    }
    try {
      notifier.execute(() -> {
        for (Subscriber s : subscribers) {
          s.resync();
        }
        retire(old);
      });
    } catch (RejectedExecutionException e) {
      retire(old); // closing
    }
  }

  /** Closes a replaced client, unless close() has taken it over. */
  private void retire(Client old) {
    synchronized (connectionLock) {
      if (!retired.remove(old)) {
        return;
      }
    }
    // closing a client shuts its channel down at once, but does not wait on the caller's thread
    Thread closer = new Thread(old::close, "courier-registry-etcd-close");
    closer.setDaemon(true);
    closer.start();
  }

  // ---- registration (every method below up to subscriptions runs on leaseThread) ----

  @Override
  public void register(ServiceInstance instance) {
    checkOpen();
    String key = key(instance);
    registered.put(key, instance);
    pendingDeletes.remove(key);
    long start = System.nanoTime();
    Future<Boolean> stored = leaseThread.submit(() -> store(key));
    boolean done = false;
    try {
      done = stored.get(REGISTRATION_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // reported below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!done && registered.containsKey(key) && !closed) {
      log.warn("[COURIER-R01] {} not registered in {} yet after {} ms; retrying in the background",
          instance, name, (System.nanoTime() - start) / 1_000_000);
    }
  }

  private boolean store(String key) {
    ServiceInstance instance = registered.get(key);
    if (closed || instance == null) {
      return false;
    }
    if (leaseId == 0 || interruptedAtNanos != 0) {
      return restore();
    }
    try {
      put(key, instance, leaseId);
      return true;
    } catch (Exception e) {
      interrupted(leaseId, "storing " + instance + " failed: " + e);
      return false;
    }
  }

  private void put(String key, ServiceInstance instance, long lease) throws Exception {
    await(client.getKVClient().put(bytes(key), ByteSequence.from(InstanceCodec.encode(instance)),
        PutOption.builder().withLeaseId(lease).build()));
  }

  /** Called from any thread when the heartbeat of {@code lease} may be broken. */
  private void interrupted(long lease, String reason) {
    if (closed) {
      return;
    }
    try {
      leaseThread.execute(() -> {
        if (closed || lease != leaseId) {
          return; // a stale report about a lease no longer in use
        }
        if (interruptedAtNanos == 0) {
          interruptedAtNanos = System.nanoTime();
          interruption = reason;
        }
        stopKeepAlive();
        restore();
      });
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  /**
   * Makes every registration stored under a living lease: the current one if etcd still has
   * it, a new one otherwise. On failure, tries again later.
   */
  private boolean restore() {
    if (retry != null) {
      retry.cancel(false);
      retry = null;
    }
    if (closed) {
      return false;
    }
    try {
      long lease = leaseId;
      if (lease != 0 && keepAlive == null) {
        long ttl = await(client.getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT)).getTTL();
        if (ttl <= 0) {
          lease = 0; // expired or revoked: its keys are gone
        }
      }
      if (lease == 0) {
        lease = await(client.getLeaseClient().grant(ttlSeconds)).getID();
      }
      boolean renewed = lease != leaseId;
      leaseId = lease;
      if (keepAlive == null) {
        startKeepAlive(lease);
      }
      for (Map.Entry<String, ServiceInstance> e : registered.entrySet()) {
        put(e.getKey(), e.getValue(), lease);
      }
      deletePending();
      if (interruptedAtNanos != 0) {
        long gapMillis = (System.nanoTime() - interruptedAtNanos) / 1_000_000;
        log.warn("[COURIER-R02] heartbeat to {} interrupted ({}); {} registration(s) stored again"
            + " under {} lease {}, {} ms after the interruption was noticed", name, interruption,
            registered.size(),
            renewed ? "a new" : "the same", Long.toHexString(lease), gapMillis);
        interruptedAtNanos = 0;
      }
      retryMillis = MIN_RETRY_MILLIS;
      return true;
    } catch (Exception e) {
      log.debug("restoring registrations in {} failed, retrying in {} ms: {}", name, retryMillis,
          e.toString());
      if (interruptedAtNanos == 0 && leaseId != 0) {
        interruptedAtNanos = System.nanoTime();
        interruption = e.toString();
      }
      stopKeepAlive();
      retry = leaseThread.schedule(this::restore, retryMillis, TimeUnit.MILLISECONDS);
      retryMillis = Math.min(retryMillis * 2, MAX_RETRY_MILLIS);
      return false;
    }
  }

  private void startKeepAlive(long lease) {
    keepAlive = client.getLeaseClient().keepAlive(lease,
        new StreamObserver<LeaseKeepAliveResponse>() {
          @Override
          public void onNext(LeaseKeepAliveResponse response) {
            answered();
          }

          @Override
          public void onError(Throwable t) {
            interrupted(lease, "keep-alive failed: " + t.getMessage());
          }

          @Override
          public void onCompleted() {
            interrupted(lease, "no keep-alive answer within the TTL");
          }
        });
  }

  private void stopKeepAlive() {
    if (keepAlive != null) {
      keepAlive.close();
      keepAlive = null;
    }
  }

  private void deletePending() throws Exception {
    for (String key : List.copyOf(pendingDeletes)) {
      if (!registered.containsKey(key)) {
        await(client.getKVClient().delete(bytes(key)));
      }
      pendingDeletes.remove(key);
    }
  }

  /** Stores again any registration whose key was deleted or overwritten; retries deletes. */
  private void audit() {
    if (closed || leaseId == 0 || interruptedAtNanos != 0 || keepAlive == null) {
      return;
    }
    try {
      deletePending();
      for (Map.Entry<String, ServiceInstance> e : registered.entrySet()) {
        byte[] data = InstanceCodec.encode(e.getValue());
        List<KeyValue> kvs = await(client.getKVClient().get(bytes(e.getKey()))).getKvs();
        if (kvs.isEmpty() || kvs.get(0).getLease() != leaseId
            || !Arrays.equals(kvs.get(0).getValue().getBytes(), data)) {
          long start = System.nanoTime();
          put(e.getKey(), e.getValue(), leaseId);
          log.warn("[COURIER-R02] registration {} was {} in {}; stored again after {} ms",
              e.getValue(), kvs.isEmpty() ? "deleted" : "overwritten", name,
              (System.nanoTime() - start) / 1_000_000);
        }
      }
    } catch (Exception e) {
      log.debug("checking registrations in {} failed: {}", name, e.toString());
    }
  }

  @Override
  public void unregister(ServiceInstance instance) {
    String key = key(instance);
    if (registered.remove(key) == null || closed) {
      return;
    }
    pendingDeletes.add(key);
    Future<?> deleted = leaseThread.submit(() -> {
      try {
        deletePending();
      } catch (Exception e) {
        // retried by the audit, or gone with the lease
        log.debug("unregistering {} from {} failed: {}", instance, name, e.toString());
      }
    });
    boundedWait(deleted, OPERATION_WAIT_MILLIS, "unregistering " + instance);
  }

  private static void boundedWait(Future<?> task, long millis, String what) {
    try {
      task.get(millis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.debug("{} did not complete within {} ms; it goes on in the background", what, millis);
    } catch (ExecutionException e) {
      log.debug("{} failed: {}", what, e.getCause().toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- lookup and subscriptions ----

  @Override
  public List<ServiceInstance> lookup(String service) {
    checkOpen();
    String prefix = prefix(service);
    try {
      GetResponse r = await(client.getKVClient().get(bytes(prefix),
          GetOption.builder().isPrefix(true).build()));
      return decode(service, prefix, r.getKvs());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while looking up " + service + " in " + name,
          e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot look up " + service + " in " + name + ": " + e, e);
    }
  }

  @Override
  public List<String> services() {
    checkOpen();
    String all = root + "/";
    try {
      GetResponse r = await(client.getKVClient().get(bytes(all),
          GetOption.builder().isPrefix(true).withKeysOnly(true).build()));
      TreeSet<String> names = new TreeSet<>();
      for (KeyValue kv : r.getKvs()) {
        // <root>/<service>/providers/<host:port>
        String rest = kv.getKey().toString(StandardCharsets.UTF_8).substring(all.length());
        int slash = rest.indexOf("/providers/");
        if (slash > 0 && rest.indexOf('/') == slash) {
          names.add(rest.substring(0, slash));
        }
      }
      return List.copyOf(names);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing the services in " + name, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot list the services in " + name + ": " + e, e);
    }
  }

  private static List<ServiceInstance> decode(String service, String prefix, List<KeyValue> kvs) {
    Map<String, ServiceInstance> sorted = new TreeMap<>();
    for (KeyValue kv : kvs) {
      String entry = kv.getKey().toString(StandardCharsets.UTF_8).substring(prefix.length());
      ServiceInstance i = InstanceCodec.decode(kv.getValue().getBytes(), service, entry);
      if (i != null) {
        sorted.put(entry, i);
      }
    }
    return List.copyOf(sorted.values());
  }

  @Override
  public Subscription subscribe(String service, Listener listener) {
    checkOpen();
    Subscriber s = new Subscriber(service, listener);
    subscribers.add(s);
    notifier.execute(s::resync);
    return s;
  }

  /** One subscription; its state is only touched on the notifier thread. */
  private final class Subscriber implements Subscription {
    private final String service;
    private final String prefix;
    private final Listener listener;
    private final TreeMap<String, ServiceInstance> current = new TreeMap<>();
    private List<ServiceInstance> delivered;
    private Watch.Watcher watcher;
    private ScheduledFuture<?> pendingResync;
    private int generation;
    private long retryMillis = MIN_RETRY_MILLIS;
    private boolean broken;
    private volatile boolean closed;

    Subscriber(String service, Listener listener) {
      this.service = service;
      this.prefix = prefix(service);
      this.listener = listener;
    }

    private boolean stopped() {
      return closed || EtcdRegistry.this.closed;
    }

    /** Reads the whole prefix, then watches from the next revision (on the current client). */
    void resync() {
      if (pendingResync != null) {
        pendingResync.cancel(false);
        pendingResync = null;
      }
      if (stopped()) {
        return;
      }
      stopWatching();
      int gen = ++generation;
      client.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build())
          .orTimeout(OPERATION_WAIT_MILLIS, TimeUnit.MILLISECONDS)
          .whenCompleteAsync((r, t) -> read(gen, r, t), notifier);
    }

    private void read(int gen, GetResponse r, Throwable t) {
      if (stopped() || gen != generation) {
        return;
      }
      if (t != null) {
        unanswered();
        failed(gen, "reading " + prefix + " failed: " + t);
        return;
      }
      answered();
      current.clear();
      for (KeyValue kv : r.getKvs()) {
        apply(kv, true);
      }
      deliver();
      if (broken) {
        log.info("subscription to {} in {} restored", service, name);
        broken = false;
      }
      retryMillis = MIN_RETRY_MILLIS;
      WatchOption from = WatchOption.builder().isPrefix(true)
          .withRevision(r.getHeader().getRevision() + 1).build();
      watcher = client.getWatchClient().watch(bytes(prefix), from, Watch.listener(
          w -> execute(() -> events(gen, w)),
          e -> execute(() -> failed(gen, "watch failed: " + e)),
          () -> execute(() -> failed(gen, "watch ended"))));
    }

    private void execute(Runnable task) {
      try {
        notifier.execute(task);
      } catch (RejectedExecutionException e) {
        // closing
      }
    }

    private void apply(KeyValue kv, boolean put) {
      String entry = kv.getKey().toString(StandardCharsets.UTF_8).substring(prefix.length());
      ServiceInstance i = put
          ? InstanceCodec.decode(kv.getValue().getBytes(), service, entry) : null;
      if (i == null) {
        current.remove(entry);
      } else {
        current.put(entry, i);
      }
    }

    private void events(int gen, WatchResponse w) {
      if (stopped() || gen != generation) {
        return;
      }
      answered();
      // one response holds whole revisions: the list after it is a consistent one
      for (WatchEvent e : w.getEvents()) {
        apply(e.getKeyValue(), e.getEventType() == WatchEvent.EventType.PUT);
      }
      deliver();
    }

    private void failed(int gen, String why) {
      if (stopped() || gen != generation) {
        return;
      }
      stopWatching();
      generation++;
      if (!broken) {
        broken = true;
        log.warn("[COURIER-R03] subscription to {} in {} interrupted ({}); reading the list again"
            + " until etcd answers", service, name, why);
      } else {
        log.debug("subscription to {} still interrupted: {}", service, why);
      }
      pendingResync = notifier.schedule(this::resync, retryMillis, TimeUnit.MILLISECONDS);
      retryMillis = Math.min(retryMillis * 2, MAX_RETRY_MILLIS);
    }

    private void deliver() {
      List<ServiceInstance> list = List.copyOf(current.values());
      if (list.equals(delivered)) {
        return;
      }
      delivered = list;
      try {
        listener.onInstances(list);
      } catch (RuntimeException e) {
        log.warn("[COURIER-R04] the listener of {} threw; the next change is delivered anyway",
            service, e);
      }
    }

    private void stopWatching() {
      if (watcher != null) {
        watcher.close();
        watcher = null;
      }
    }

    @Override
    public void close() {
      closed = true;
      subscribers.remove(this);
      execute(this::stopWatching);
    }
  }

  // ---- closing ----

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(name + " registry is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    new ArrayList<>(subscribers).forEach(Subscriber::close);
    // revoking the lease removes every registration at once; with etcd unreachable it cannot,
    // and the keys expire with the lease after its TTL instead
    Future<?> revoked = leaseThread.submit(() -> {
      if (retry != null) {
        retry.cancel(false);
      }
      stopKeepAlive();
      long lease = leaseId;
      if (lease != 0) {
        try {
          await(client.getLeaseClient().revoke(lease));
        } catch (Exception e) {
          log.debug("revoking lease {} in {} failed: {}", Long.toHexString(lease), name,
              e.toString());
        }
      }
    });
    boundedWait(revoked, OPERATION_WAIT_MILLIS + 200, "revoking the lease in " + name);
    registered.clear();
    leaseThread.shutdownNow();
    notifier.shutdownNow();
    List<Client> clients;
    synchronized (connectionLock) {
      clients = new ArrayList<>(retired);
      retired.clear();
      clients.add(client);
    }
    Thread closer = new Thread(() -> clients.forEach(Client::close),
        "courier-registry-etcd-close");
    closer.setDaemon(true);
    closer.start();
    try {
      closer.join(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
