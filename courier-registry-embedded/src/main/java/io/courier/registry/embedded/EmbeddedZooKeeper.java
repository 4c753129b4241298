package io.courier.registry.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.server.NIOServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * A standalone ZooKeeper server inside this JVM: the registry that needs nothing installed.
 * Courier's clients talk to it exactly as to any ZooKeeper ensemble, so what runs on a laptop runs
 * in production with only the URI changed.
 *
 * <pre>{@code
 * try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start("127.0.0.1", 2181, Path.of("zk-data"))) {
 *   String uri = zk.uri();   // zookeeper://127.0.0.1:2181/courier
 * }
 * }</pre>
 */
public final class EmbeddedZooKeeper implements AutoCloseable {

  private final ZooKeeperServer server;
  private final NIOServerCnxnFactory factory;
  private final String host;

  private EmbeddedZooKeeper(ZooKeeperServer server, NIOServerCnxnFactory factory, String host) {
    this.server = server;
    this.factory = factory;
    this.host = host;
  }

  /**
   * Starts a server.
   *
   * @param host the address to bind, for example {@code 127.0.0.1}
   * @param port the port; 0 for any free port
   * @param dataDir where snapshots and the transaction log go; created if missing
   */
  public static EmbeddedZooKeeper start(String host, int port, Path dataDir) {
    try {
      Files.createDirectories(dataDir);
      ZooKeeperServer server = new ZooKeeperServer(dataDir.toFile(), dataDir.toFile(), 500);
      if (System.getProperty("zookeeper.maxCnxns") == null) {
        System.setProperty("zookeeper.maxCnxns", "10000"); // a limit, and no startup warning
      }
      NIOServerCnxnFactory factory = new NIOServerCnxnFactory();
      factory.configure(new InetSocketAddress(host, port), 1_000);
      factory.startup(server);
      return new EmbeddedZooKeeper(server, factory, host);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded ZooKeeper on " + host + ":" + port
          + " with data in " + dataDir + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the embedded ZooKeeper", e);
    }
  }

  /** The port the server listens on. */
  public int port() {
    return factory.getLocalPort();
  }

  /** {@code host:port}, a ZooKeeper connect string. */
  public String connectString() {
    return host + ":" + port();
  }

  /** The registry URI Courier's servers and clients use: {@code zookeeper://host:port/courier}. */
  public String uri() {
    return "zookeeper://" + connectString() + "/courier";
  }

  /** Stops the server. */
  @Override
  public void close() {
    factory.shutdown();
    server.shutdown();
  }
}
