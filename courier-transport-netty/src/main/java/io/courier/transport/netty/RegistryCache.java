package io.courier.transport.netty;

import io.courier.registry.ServiceInstance;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last provider list a consumer saw for each service, kept in a file per service so that a
 * consumer can start while the registry is down. Plain {@code key=value} text; written atomically
 * (temporary file, then move). Thread-safe per service (one notifier thread writes).
 */
final class RegistryCache {

  private static final Logger log = LoggerFactory.getLogger(RegistryCache.class);

  private final Path dir;

  RegistryCache(Path dir) {
    this.dir = dir;
  }

  private Path file(String service) {
    return dir.resolve(service.replaceAll("[^A-Za-z0-9._-]", "_") + ".providers");
  }

  void save(String service, List<ServiceInstance> instances) {
    Properties p = new Properties();
    p.setProperty("service", service);
    p.setProperty("count", Integer.toString(instances.size()));
    for (int i = 0; i < instances.size(); i++) {
      ServiceInstance s = instances.get(i);
      p.setProperty(i + ".host", s.host());
      p.setProperty(i + ".port", Integer.toString(s.port()));
      p.setProperty(i + ".weight", Integer.toString(s.weight()));
      p.setProperty(i + ".serializers", String.join(",", s.serializers()));
    }
    try {
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, ".providers", ".tmp");
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        p.store(w, "last providers seen for " + service);
      }
      try {
        Files.move(tmp, file(service), StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file(service), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      log.warn("[COURIER-C05] cannot write the provider cache {}: {}", file(service),
          e.toString());
    }
  }

  /** The cached providers of a service; empty when there is no (readable) cache. */
  List<ServiceInstance> load(String service) {
    Path f = file(service);
    if (!Files.isRegularFile(f)) {
      return List.of();
    }
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
      p.load(r);
      int n = Integer.parseInt(p.getProperty("count", "0"));
      List<ServiceInstance> out = new ArrayList<>();
      for (int i = 0; i < n && i < 10_000; i++) {
        String ser = p.getProperty(i + ".serializers", "");
        out.add(ServiceInstance.builder(service, p.getProperty(i + ".host"),
                Integer.parseInt(p.getProperty(i + ".port")))
            .weight(Integer.parseInt(p.getProperty(i + ".weight", "100")))
            .serializers(ser.isEmpty() ? List.of() : Arrays.asList(ser.split(",")))
            .build());
      }
      return out;
    } catch (IOException | RuntimeException e) {
      log.warn("[COURIER-C05] cannot read the provider cache {}: {}", f, e.toString());
      return List.of();
    }
  }
}
