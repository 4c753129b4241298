package io.courier.cli;

import io.courier.registry.embedded.EmbeddedZooKeeper;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code courier registry}: runs the embedded ZooKeeper server, prints the registry URI that
 * providers and consumers are given, and runs until Ctrl-C or SIGTERM.
 */
final class RegistryCommand implements Command {

  static final String DEFAULT_HOST = "127.0.0.1";
  static final String DEFAULT_PORT = "2181";
  static final String DEFAULT_DATA_DIR = "./courier-registry-data";

  @Override
  public String name() {
    return "registry";
  }

  @Override
  public String summary() {
    return "run a registry (an embedded ZooKeeper server) for development";
  }

  @Override
  public String description() {
    return "Runs a ZooKeeper server in this process and prints the registry URI to give\n"
        + "providers (CourierServer.builder().registry(uri)) and consumers\n"
        + "(CourierClient.builder().registry(uri)). Runs until Ctrl-C or SIGTERM, then stops\n"
        + "cleanly (exit status 0). ZooKeeper's data stays in the data directory across\n"
        + "restarts; delete it to start empty. In production, give Courier the URI of a\n"
        + "ZooKeeper ensemble instead.";
  }

  @Override
  public List<Option> options() {
    return List.of(
        Option.value("host", "<address>", DEFAULT_HOST, "address to listen on"),
        Option.value("port", "<port>", DEFAULT_PORT, "port to listen on; 0 for any free port"),
        Option.value("data-dir", "<dir>", DEFAULT_DATA_DIR,
            "where ZooKeeper keeps its data; created if missing"));
  }

  @Override
  public int run(Arguments args, PrintStream out, PrintStream err) throws Exception {
    String host = args.value("host");
    int port = args.intValue("port", 0, 65535);
    Path dataDir = Path.of(args.value("data-dir"));
    EmbeddedZooKeeper zk;
    try {
      zk = EmbeddedZooKeeper.start(host, port, dataDir);
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof BindException) {
        err.println("courier registry: cannot listen on " + host + ":" + port + ": "
            + (port == 0 ? e.getCause().getMessage() : "the port is already in use")
            + " (another registry running? choose another port with --port)");
      } else {
        err.println("courier registry: " + e.getMessage());
      }
      return CourierCli.EXIT_FAILURE;
    }
    AtomicBoolean closed = new AtomicBoolean();
    Runnable close = () -> {
      if (closed.compareAndSet(false, true)) {
        zk.close();
      }
    };
    StopSignal stop = new StopSignal();
    Thread hook = new Thread(close, "courier-registry-shutdown");
    try {
      // any other end of the JVM (SIGHUP, a fatal error) still closes the server cleanly
      Runtime.getRuntime().addShutdownHook(hook);
      stop.install();
      out.println("Courier registry at " + uri(host, zk.port()) + " (data in "
          + dataDir.toAbsolutePath().normalize() + "); Ctrl-C stops it");
      out.flush();
      stop.await();
    } finally {
      close.run();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down: the hook has nothing left to do
    }
    out.println("Courier registry stopped");
    return CourierCli.EXIT_OK;
  }

  /**
   * The URI others connect to: the bound address, or this machine's address when bound to all
   * interfaces (a client cannot connect to {@code 0.0.0.0} from another host).
   */
  static String uri(String host, int port) {
    String h = host;
    if (h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]")) {
      try {
        h = InetAddress.getLocalHost().getHostAddress();
      } catch (UnknownHostException e) {
        h = DEFAULT_HOST;
      }
    }
    if (h.indexOf(':') >= 0 && !h.startsWith("[")) {
      h = "[" + h + "]"; // an IPv6 literal
    }
    return "zookeeper://" + h + ":" + port + "/courier";
  }
}
