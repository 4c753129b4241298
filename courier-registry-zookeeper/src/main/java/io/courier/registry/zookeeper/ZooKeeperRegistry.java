package io.courier.registry.zookeeper;

import io.courier.internal.registry.InstanceCodec;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.RetryUntilElapsed;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Providers are ephemeral nodes {@code <root>/<service>/providers/<host:port>}: they live as long
 * as the provider's ZooKeeper session, and Curator's {@link PersistentNode} creates them again
 * after the session expires. Subscriptions are {@link CuratorCache}s on the providers node; entries
 * that do not decode as an instance of that service at that address are skipped. With the
 * ensemble unreachable, {@code lookup} fails within about a second and {@code unregister} and
 * {@code close} return within about a second, finishing in the background. Thread-safe.
 */
final class ZooKeeperRegistry implements Registry {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperRegistry.class);

  /** How long lookup, unregister and close wait on an unreachable ensemble. */
  static final long OPERATION_WAIT_MILLIS = 1_000;
  /** How long a connected lookup may take before it is given up (the connection was lost). */
  static final long LOOKUP_READ_MILLIS = 1_500;

  private final CuratorFramework client;
  private final String root;
  private final Map<String, PersistentNode> registered = new ConcurrentHashMap<>();
  private final List<CuratorCache> caches = new CopyOnWriteArrayList<>();
  private final ExecutorService notifier;
  // runs what may block on an unreachable ensemble (deletes, closing), so callers wait a bounded
  // time and the rest completes, or fails, in the background
  private final ExecutorService background;
  private final long registrationWaitMillis;
  private final String name;
  private final AtomicBoolean closed = new AtomicBoolean();

  ZooKeeperRegistry(String connectString, String root, int sessionTimeoutMillis) {
    this.root = root;
    this.name = "ZooKeeper " + connectString + root;
    this.registrationWaitMillis = Math.min(sessionTimeoutMillis, 5_000);
    this.client = CuratorFrameworkFactory.builder()
        .connectString(connectString)
        .sessionTimeoutMs(sessionTimeoutMillis)
        .connectionTimeoutMs(Math.min(sessionTimeoutMillis, 5_000))
        // operations give up after 3 s; registrations are re-created on reconnection anyway,
        // and what callers wait for (lookup, unregister, close) is bounded more tightly below
        .retryPolicy(new RetryUntilElapsed(3_000, 100))
        .build();
    this.notifier = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "courier-registry-zookeeper");
      t.setDaemon(true);
      return t;
    });
    this.background = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "courier-registry-zookeeper-background");
      t.setDaemon(true);
      return t;
    });
    client.start();
  }

  CuratorFramework curator() {
    return client;
  }

  private String providers(String service) {
    return root + "/" + service + "/providers";
  }

  @Override
  public void register(ServiceInstance instance) {
    String path = providers(instance.service()) + "/" + instance.address();
    PersistentNode node = new PersistentNode(client, CreateMode.EPHEMERAL, false, path,
        InstanceCodec.encode(instance));
    PersistentNode old = registered.put(path, node);
    if (old != null) {
      closeQuietly(old);
    }
    node.start();
    try {
      if (!node.waitForInitialCreate(registrationWaitMillis, TimeUnit.MILLISECONDS)) {
        // the registry is unreachable: keep serving, the node is created once it is back
        log.warn("[COURIER-R01] {} not registered yet after {} ms; retrying in the background",
            instance, registrationWaitMillis);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void unregister(ServiceInstance instance) {
    PersistentNode node = registered.remove(providers(instance.service()) + "/"
        + instance.address());
    if (node != null) {
      // with the ensemble unreachable the delete would block for seconds: wait a little, then
      // let it go on in the background (the node goes with the session if it never succeeds)
      boundedWait(background.submit(() -> closeQuietly(node)), OPERATION_WAIT_MILLIS,
          "unregistering " + instance);
    }
  }

  /** Waits for {@code task} at most {@code millis}; true when it completed. */
  private static boolean boundedWait(Future<?> task, long millis, String what) {
    try {
      task.get(millis, TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      log.debug("{} did not complete within {} ms; it goes on in the background", what, millis);
    } catch (ExecutionException e) {
      log.debug("{} failed: {}", what, e.getCause().toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  /** True when connected, waiting at most {@code millis} for a connection. */
  private boolean connected(long millis) {
    if (client.getZookeeperClient().isConnected()) {
      return true;
    }
    try {
      return client.blockUntilConnected((int) millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void closeQuietly(PersistentNode node) {
    try {
      node.close(); // deletes the node
    } catch (Exception e) {
      log.debug("closing a registration failed: {}", e.toString());
    }
  }

  @Override
  public Subscription subscribe(String service, Listener listener) {
    String path = providers(service);
    CuratorCache cache = CuratorCache.build(client, path);
    Runnable deliver = () -> {
      List<ServiceInstance> list = new ArrayList<>();
      cache.stream()
          .filter(d -> d.getPath().startsWith(path + "/"))
          .sorted(Comparator.comparing(ChildData::getPath))
          .forEach(d -> {
            ServiceInstance i = InstanceCodec.decode(d.getData(), service,
                d.getPath().substring(path.length() + 1));
            if (i != null) {
              list.add(i);
            }
          });
      listener.onInstances(List.copyOf(list));
    };
    // events while the cache fills up describe a partial list: deliver from the first full one
    AtomicBoolean initialized = new AtomicBoolean();
    CuratorCacheListener l = CuratorCacheListener.builder()
        .forAll((type, before, after) -> {
          if (initialized.get()) {
            deliver.run();
          }
        })
        .forInitialized(() -> {
          initialized.set(true);
          deliver.run();
        })
        .build();
    cache.listenable().addListener(l, notifier);
    caches.add(cache);
    cache.start();
    return () -> {
      caches.remove(cache);
      cache.close();
    };
  }

  @Override
  public List<ServiceInstance> lookup(String service) {
    // fail within about a second rather than after Curator's retries, so that a consumer can
    // start from its cache file at once
    if (!connected(OPERATION_WAIT_MILLIS)) {
      throw new IllegalStateException("cannot look up " + service + " in " + name
          + ": not connected (waited " + OPERATION_WAIT_MILLIS + " ms)");
    }
    Future<List<ServiceInstance>> read = background.submit(() -> read(service));
    try {
      return read.get(LOOKUP_READ_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      read.cancel(true);
      throw new IllegalStateException("cannot look up " + service + " in " + name
          + ": no answer within " + LOOKUP_READ_MILLIS + " ms (connection lost?)", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot look up " + service + " in " + name + ": "
          + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      read.cancel(true);
      throw new IllegalStateException("interrupted while looking up " + service + " in " + name,
          e);
    }
  }

  @Override
  public List<String> services() {
    if (!connected(OPERATION_WAIT_MILLIS)) {
      throw new IllegalStateException("cannot list the services in " + name
          + ": not connected (waited " + OPERATION_WAIT_MILLIS + " ms)");
    }
    Future<List<String>> read = background.submit(this::readServices);
    try {
      return read.get(LOOKUP_READ_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      read.cancel(true);
      throw new IllegalStateException("cannot list the services in " + name + ": no answer"
          + " within " + LOOKUP_READ_MILLIS + " ms (connection lost?)", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot list the services in " + name + ": "
          + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      read.cancel(true);
      throw new IllegalStateException("interrupted while listing the services in " + name, e);
    }
  }

  /** The children of the root with at least one provider node. */
  private List<String> readServices() throws Exception {
    List<String> children;
    try {
      children = client.getChildren().forPath(root.isEmpty() ? "/" : root);
    } catch (KeeperException.NoNodeException none) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String child : children) {
      try {
        if (!client.getChildren().forPath(providers(child)).isEmpty()) {
          out.add(child);
        }
      } catch (KeeperException.NoNodeException none) {
        // not a service, or its last provider left between the two reads
      }
    }
    out.sort(null);
    return List.copyOf(out);
  }

  private List<ServiceInstance> read(String service) throws Exception {
    String path = providers(service);
    List<ServiceInstance> out = new ArrayList<>();
    List<String> children;
    try {
      children = client.getChildren().forPath(path);
    } catch (KeeperException.NoNodeException none) {
      return List.of();
    }
    children.sort(null);
    for (String child : children) {
      try {
        ServiceInstance i = InstanceCodec.decode(client.getData().forPath(path + "/" + child),
            service, child);
        if (i != null) {
          out.add(i);
        }
      } catch (KeeperException.NoNodeException gone) {
        // left between the two reads
      }
    }
    return List.copyOf(out);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    caches.forEach(CuratorCache::close);
    caches.clear();
    // ending the session removes every ephemeral registration at once; while the ensemble is
    // unreachable the session cannot be closed there and expires instead. Closing waits for a
    // reconnection attempt then, so it is bounded and finishes in the background.
    // the nodes first: a node left open on a closed client sees its deletion and tries to create
    // itself again on the closed client, recursing until the stack overflows
    List<PersistentNode> nodes = new ArrayList<>(registered.values());
    registered.clear();
    if (!nodes.isEmpty()) {
      boundedWait(background.submit(() -> nodes.forEach(ZooKeeperRegistry::closeQuietly)),
          OPERATION_WAIT_MILLIS, "unregistering from " + name);
    }
    boundedWait(background.submit(client::close), OPERATION_WAIT_MILLIS, "closing " + name);
    notifier.shutdown();
    background.shutdown();
  }
}
