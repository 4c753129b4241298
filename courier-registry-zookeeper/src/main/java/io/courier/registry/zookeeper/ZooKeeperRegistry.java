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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
 * after the session expires. Subscriptions are {@link CuratorCache}s on the providers node.
 * Thread-safe.
 */
final class ZooKeeperRegistry implements Registry {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperRegistry.class);

  private final CuratorFramework client;
  private final String root;
  private final Map<String, PersistentNode> registered = new ConcurrentHashMap<>();
  private final List<CuratorCache> caches = new CopyOnWriteArrayList<>();
  private final ExecutorService notifier;
  private final long registrationWaitMillis;

  ZooKeeperRegistry(String connectString, String root, int sessionTimeoutMillis) {
    this.root = root;
    this.registrationWaitMillis = Math.min(sessionTimeoutMillis, 5_000);
    this.client = CuratorFrameworkFactory.builder()
        .connectString(connectString)
        .sessionTimeoutMs(sessionTimeoutMillis)
        .connectionTimeoutMs(Math.min(sessionTimeoutMillis, 5_000))
        // operations give up after 3 s; registrations are re-created on reconnection anyway,
        // and a stopping provider must not hang on an unreachable registry
        .retryPolicy(new RetryUntilElapsed(3_000, 100))
        .build();
    this.notifier = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "courier-registry-zookeeper");
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
      closeQuietly(node);
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
            ServiceInstance i = InstanceCodec.decode(d.getData());
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
    String path = providers(service);
    List<ServiceInstance> out = new ArrayList<>();
    try {
      List<String> children = client.getChildren().forPath(path);
      children.sort(null);
      for (String child : children) {
        try {
          ServiceInstance i = InstanceCodec.decode(client.getData().forPath(path + "/" + child));
          if (i != null) {
            out.add(i);
          }
        } catch (KeeperException.NoNodeException gone) {
          // left between the two reads
        }
      }
    } catch (KeeperException.NoNodeException none) {
      return List.of();
    } catch (Exception e) {
      throw new IllegalStateException("cannot look up " + service + " in ZooKeeper: " + e, e);
    }
    return List.copyOf(out);
  }

  @Override
  public void close() {
    caches.forEach(CuratorCache::close);
    caches.clear();
    // ending the session removes every ephemeral registration at once, even while the
    // registry is unreachable (then it expires there); the nodes need no deletes of their own
    client.close();
    registered.values().forEach(ZooKeeperRegistry::closeQuietly);
    registered.clear();
    notifier.shutdown();
  }
}
