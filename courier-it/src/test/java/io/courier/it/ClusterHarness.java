package io.courier.it;

import io.courier.client.CourierClient;
import io.courier.core.Registries;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import io.courier.registry.embedded.EmbeddedZooKeeper;
import io.courier.registry.etcd.EtcdServer;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every cluster fault test runs on: a registry, provider JVMs with their ledgers, and
 * consumers with a provider cache in a temporary directory. The registry is an embedded ZooKeeper
 * in the test JVM, or a real etcd server as a child process for a class whose
 * {@link #registryKind()} says so; either runs on free loopback ports and can be stopped and
 * started again on the same ports and data. Everything is torn down after each test, and a test
 * fails when a buffer leaked in the test JVM or a provider's log reports one.
 */
abstract class ClusterHarness {

  /** Buffers the consumers' leak detector (paranoid in the build) saw collected unreleased. */
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  static {
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

  /** The registries a cluster can run on. */
  enum RegistryKind {
    /** An embedded ZooKeeper in the test JVM. */
    ZOOKEEPER,
    /** A real etcd server (the {@code etcd} binary on the PATH), a child of the test JVM. */
    ETCD
  }

  /** The service name {@link LedgerService} registers under. */
  static final String SERVICE = "it.Ledger";

  @TempDir
  Path dir;

  EmbeddedZooKeeper zk;
  int zkPort;
  EtcdServer etcd;
  /** The registry's URI, without options: {@code zookeeper://...} or {@code etcd://...}. */
  String registryUri;
  final List<ProviderProcess> providers = new CopyOnWriteArrayList<>();
  /** Call ids of every driver of the test: unique across drivers, as the ledgers need. */
  final AtomicLong callIds = new AtomicLong();
  /** The start of the test's time axis. */
  final long originNanos = System.nanoTime();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  /** The registry of this class's clusters: ZooKeeper unless a subclass says otherwise. */
  RegistryKind registryKind() {
    return RegistryKind.ZOOKEEPER;
  }

  /**
   * Whether providers of this class run in network namespaces of their own
   * ({@link #startProviderIn}). The ZooKeeper registry then listens on the test side of a link
   * of its own rather than on loopback, so that they reach it.
   */
  boolean usesNetworkNamespaces() {
    return false;
  }

  /** Network namespaces of the test, deleted after its providers are gone. */
  final List<NetNamespace> namespaces = new CopyOnWriteArrayList<>();
  /** The address ZooKeeper listens on. */
  String registryHost = "127.0.0.1";

  @BeforeEach
  void startCluster() throws IOException {
    switch (registryKind()) {
      case ZOOKEEPER -> {
        Files.createDirectories(dir.resolve("zk"));
        if (usesNetworkNamespaces()) {
          registryHost = namespace().outside;
        }
        zk = EmbeddedZooKeeper.start(registryHost, 0, dir.resolve("zk"));
        zkPort = zk.port();
        registryUri = zk.uri();
      }
      case ETCD -> {
        etcd = EtcdServer.start(dir.resolve("etcd"));
        registryUri = etcd.uri();
      }
    }
  }

  @AfterEach
  void stopCluster() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception ignored) {
        // cleanup
      }
    }
    providers.forEach(ProviderProcess::destroy);
    if (zk != null) {
      zk.close();
    }
    if (etcd != null) {
      etcd.close();
    }
    namespaces.forEach(NetNamespace::close);
    System.gc();
    Thread.sleep(50);
    for (int i = 0; i < 64; i++) { // allocations poll the detector's queue of collected buffers
      PooledByteBufAllocator.DEFAULT.directBuffer(16).release();
    }
    if (!LEAKS.isEmpty()) {
      List<String> leaks = List.copyOf(LEAKS);
      LEAKS.clear();
      throw new AssertionError(leaks.size() + " buffers leaked in the test JVM:\n"
          + String.join("\n----\n", leaks));
    }
    for (ProviderProcess p : providers) {
      if (Files.exists(p.log) && Files.readString(p.log).contains("LEAK:")) {
        throw new AssertionError(p + " leaked buffers; see " + p.log + ":\n"
            + Files.readString(p.log));
      }
    }
  }

  /**
   * Stops the registry (a crash as consumers and providers see it: connections refused). etcd is
   * sent SIGTERM, as an operator's stop would, and is waited for.
   */
  void stopRegistry() {
    if (registryKind() == RegistryKind.ETCD) {
      etcd.stop();
      return;
    }
    zk.close();
    zk = null;
  }

  /**
   * Starts the registry again on the same port(s) with the same data (ZooKeeper sessions and etcd
   * leases survive, unless they expire) and waits until it serves.
   */
  void restartRegistry() throws InterruptedException {
    if (registryKind() == RegistryKind.ETCD) {
      etcd.start(); // waits until etcd reports itself healthy
      return;
    }
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        zk = EmbeddedZooKeeper.start(registryHost, zkPort, dir.resolve("zk"));
        return;
      } catch (RuntimeException portNotFreeYet) {
        if (System.nanoTime() - end > 0) {
          throw portNotFreeYet;
        }
        Thread.sleep(200);
      }
    }
  }

  /** Starts a provider JVM registering in the registry. */
  ProviderProcess startProvider(String name) throws IOException {
    return startProvider(name, registryUri);
  }

  /**
   * Starts a provider JVM registering in {@code uri} (for example with a ZooKeeper session timeout
   * or an etcd lease TTL).
   */
  ProviderProcess startProvider(String name, String uri) throws IOException {
    ProviderProcess p = ProviderProcess.start(name, uri, dir);
    providers.add(p);
    return p;
  }

  /** Starts a provider JVM as {@code launch} says, registering in the registry. */
  ProviderProcess startProvider(String name, ProviderProcess.Launch launch) throws IOException {
    ProviderProcess p = ProviderProcess.start(name, registryUri, dir, launch);
    providers.add(p);
    return p;
  }

  /** Starts a provider JVM in a network namespace of its own, returned with it. */
  ProviderProcess startProviderIn(String name, NetNamespace ns) throws IOException {
    return startProvider(name, ProviderProcess.Launch.in(ns));
  }

  /** A new network namespace linked to the test's; deleted after the test. */
  NetNamespace namespace() {
    NetNamespace ns = NetNamespace.create();
    namespaces.add(ns);
    return ns;
  }

  /**
   * A consumer on the registry with its provider cache in the test's directory, a 2 s timeout
   * and no warm-up (so that a provider that joins gets calls at once), customized by
   * {@code config}; closed after the test.
   */
  CourierClient consumer(UnaryOperator<CourierClient.Builder> config) {
    CourierClient c = config.apply(CourierClient.builder()
        .registry(registryUri)
        .registryCacheDir(dir.resolve("cache"))
        .timeout(Duration.ofSeconds(2))
        .warmup(Duration.ZERO)
        .ioThreads(2))
        .build();
    closeables.add(c);
    return c;
  }

  /** Closes {@code c} after the test (before the providers are stopped); returns it. */
  <T extends AutoCloseable> T closeLater(T c) {
    closeables.add(c);
    return c;
  }

  /** A registry client of the test's own, to watch what the registry lists; closed after. */
  Registry watcher() {
    Registry r = Registries.open(registryUri);
    closeables.add(r);
    return r;
  }

  /** When a provider left a subscriber's list, and when it came back (nanoTime; 0: not yet). */
  static final class Listing {
    final java.util.concurrent.atomic.AtomicLong goneNanos =
        new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong backNanos =
        new java.util.concurrent.atomic.AtomicLong();
  }

  /** Subscribes {@code watcher} to the service; records when {@code address} leaves, returns. */
  static Listing watchListing(Registry watcher, String address) {
    Listing l = new Listing();
    watcher.subscribe(SERVICE, instances -> {
      boolean listed = instances.stream().map(ServiceInstance::address)
          .anyMatch(address::equals);
      long now = System.nanoTime();
      if (!listed) {
        l.goneNanos.compareAndSet(0, now);
      } else if (l.goneNanos.get() != 0) {
        l.backNanos.compareAndSet(0, now);
      }
    });
    return l;
  }

  /** The addresses the registry lists for the service now. */
  static List<String> listed(Registry r) {
    return r.lookup(SERVICE).stream().map(ServiceInstance::address).toList();
  }

  /** A driver over the given consumers' stubs, stopped after the test. */
  LoadDriver load(List<CourierClient> consumers, int callers, int ratePerSecond,
      Duration timeout, long sleepMicros) {
    List<LedgerService> stubs = consumers.stream().map(c -> c.stub(LedgerService.class)).toList();
    LoadDriver d = new LoadDriver(stubs, callers, ratePerSecond, timeout, sleepMicros, callIds,
        originNanos);
    closeables.add(d);
    return d;
  }

  /** Waits, polling, until {@code condition} holds; fails after {@code limit}. */
  static void await(Duration limit, String what, BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out after " + limit.toSeconds() + " s waiting for "
            + what);
      }
      Thread.sleep(10);
    }
  }

  /** Stops every provider still running gracefully, so that the ledgers are final. */
  void stopProviders() throws Exception {
    for (ProviderProcess p : providers) {
      if (p.process.isAlive()) {
        p.resume();
        p.stop();
      }
    }
  }
}
