package io.courier.registry.etcd;

import io.courier.registry.Registry;
import io.courier.registry.RegistryProvider;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code etcd://host:port[,host:port...][/root][?ttl=seconds]}: the root defaults to
 * {@code /courier}, the lease TTL (how long a dead provider stays listed) to 10 seconds. Talks
 * to etcd v3 over plain-text gRPC.
 */
public final class EtcdRegistryProvider implements RegistryProvider {

  private static final String FORM = "etcd://host:port[,host:port...][/root][?ttl=seconds]";

  @Override
  public String scheme() {
    return "etcd";
  }

  @Override
  public Registry open(URI uri) {
    String hosts = uri.getRawAuthority();
    if (hosts == null || hosts.isEmpty()) {
      throw new IllegalArgumentException("registry: " + uri + " (expected: " + FORM + ")");
    }
    List<String> endpoints = new ArrayList<>();
    for (String h : hosts.split(",")) {
      int colon = h.lastIndexOf(':');
      if (colon <= 0 || colon == h.length() - 1 || !validPort(h.substring(colon + 1))) {
        throw new IllegalArgumentException("registry: " + uri + " (endpoint '" + h
            + "' has no valid port; expected: " + FORM + ")");
      }
      endpoints.add(h);
    }
    String path = uri.getPath();
    String root = path == null || path.isEmpty() || path.equals("/") ? "/courier"
        : path.replaceAll("/+$", "");
    long ttl = 10;
    String query = uri.getQuery();
    if (query != null) {
      for (String kv : query.split("&")) {
        if (kv.startsWith("ttl=")) {
          ttl = parseTtl(uri, kv.substring("ttl=".length()));
        } else {
          throw new IllegalArgumentException("registry: " + uri + " (unknown option '" + kv
              + "'; expected: ttl=<seconds>)");
        }
      }
    }
    return new EtcdRegistry(endpoints, root, ttl);
  }

  private static boolean validPort(String s) {
    try {
      int p = Integer.parseInt(s);
      return p > 0 && p <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static long parseTtl(URI uri, String s) {
    long ttl;
    try {
      ttl = Long.parseLong(s);
    } catch (NumberFormatException e) {
      ttl = -1;
    }
    if (ttl < 2 || ttl > 3600) {
      throw new IllegalArgumentException("ttl: " + s + " in " + uri
          + " (expected: 2 to 3600 seconds)");
    }
    return ttl;
  }
}
