package io.courier.registry.zookeeper;

import io.courier.registry.Registry;
import io.courier.registry.RegistryProvider;
import java.net.URI;

/**
 * {@code zookeeper://host:port[,host:port...][/root][?sessionTimeout=ms]}: the root path
 * defaults to {@code /courier}, the session timeout (how long a dead provider stays listed) to
 * 10 seconds.
 */
public final class ZooKeeperRegistryProvider implements RegistryProvider {

  @Override
  public String scheme() {
    return "zookeeper";
  }

  @Override
  public Registry open(URI uri) {
    String hosts = uri.getRawAuthority();
    if (hosts == null || hosts.isEmpty()) {
      throw new IllegalArgumentException("registry: " + uri
          + " (expected: zookeeper://host:port[,host:port...][/root])");
    }
    String path = uri.getPath();
    String root = path == null || path.isEmpty() || path.equals("/") ? "/courier"
        : path.replaceAll("/+$", "");
    int sessionTimeout = 10_000;
    String query = uri.getQuery();
    if (query != null) {
      for (String kv : query.split("&")) {
        if (kv.startsWith("sessionTimeout=")) {
          sessionTimeout = Integer.parseInt(kv.substring("sessionTimeout=".length()));
        } else {
          throw new IllegalArgumentException("registry: " + uri + " (unknown option '" + kv
              + "'; expected: sessionTimeout=<ms>)");
        }
      }
    }
    return new ZooKeeperRegistry(hosts, root, sessionTimeout);
  }
}
