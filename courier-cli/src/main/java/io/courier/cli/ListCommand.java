package io.courier.cli;

import io.courier.RpcException;
import io.courier.client.CourierClient;
import io.courier.core.Registries;
import io.courier.core.reflect.ServerReflection;
import io.courier.core.reflect.ServiceInfo;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** {@code courier list}: the services a registry holds and their instances. */
final class ListCommand implements Command {

  @Override
  public String name() {
    return "list";
  }

  @Override
  public String summary() {
    return "list the services in a registry and their instances";
  }

  @Override
  public String description() {
    return "Lists the services registered in the registry, or only those named, each with its\n"
        + "instances: address, protocol, serializers, weight, version, tags and metadata.\n"
        + "A service named but not registered is shown with no instances. With --probe, each\n"
        + "instance is also asked what it serves (with --timeout, and the token and TLS\n"
        + "options when the servers need them): health=up, down (and why) or wrong-service\n"
        + "(it answers but does not serve the service: a stale registration).\n\n"
        + "Example: courier list --registry zookeeper://127.0.0.1:2181/courier\n\n"
        + "Exit status: 0 listed; 2 invalid command line; 3 the registry could not be read.";
  }

  @Override
  public String operands() {
    return "[<service>...]";
  }

  @Override
  public List<Option> options() {
    List<Option> options = new ArrayList<>(List.of(
        Option.value("registry", "<uri>", null,
            "the registry, e.g. zookeeper://127.0.0.1:2181/courier (required)"),
        Option.flag("json", "print the listing as JSON"),
        Option.flag("probe", "call each instance to tell whether it is up and serves the"
            + " service")));
    options.addAll(Target.connectionOptions("2s"));
    return options;
  }

  @Override
  public int run(Arguments args, PrintStream out, PrintStream err) throws Exception {
    String prefix = "courier list";
    if (!args.has("registry")) {
      throw new UsageException(prefix + ": --registry <uri> is required");
    }
    String uri = args.value("registry");
    Registry registry;
    try {
      registry = Registries.open(uri);
    } catch (IllegalArgumentException e) {
      throw new UsageException(prefix + ": --registry: " + e.getMessage());
    }
    Map<String, List<ServiceInstance>> listing = new TreeMap<>();
    try (registry) {
      List<String> names = args.operands().isEmpty() ? registry.services() : args.operands();
      for (String service : names) {
        listing.put(service, registry.lookup(service));
      }
    } catch (UnsupportedOperationException e) {
      err.println(prefix + ": " + e.getMessage() + "; name the services to look up, as in"
          + " 'courier list --registry " + uri + " demo.Shop'");
      return CourierCli.EXIT_FAILURE;
    } catch (RuntimeException e) {
      err.println(prefix + ": cannot read the registry " + uri + ": " + e.getMessage());
      return CourierCli.EXIT_UNAVAILABLE;
    }
    Map<ServiceInstance, Health> health = args.has("probe") ? probe(args, listing) : Map.of();
    out.print(args.has("json") ? json(listing, health) : text(uri, listing, health));
    return CourierCli.EXIT_OK;
  }

  /**
   * What a probe found: {@code up} (the instance answered and serves the service),
   * {@code wrong-service} (it answered without serving it: a stale registration, or another
   * server on that port) or {@code down}; with the probe's time or the failure.
   */
  record Health(String state, String detail) {

    @Override
    public String toString() {
      return state + " (" + detail + ")";
    }
  }

  /** Asks every instance, at most 16 at once, what it serves. */
  private static Map<ServiceInstance, Health> probe(Arguments args,
      Map<String, List<ServiceInstance>> listing) throws UsageException, InterruptedException {
    // the options are checked once, before any probe; each probe builds a client of its own
    try {
      Target.builder("list", args).address("127.0.0.1:1").build().close();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new UsageException("courier list: " + e.getMessage());
    }
    List<ServiceInstance> all = listing.values().stream().flatMap(List::stream).toList();
    Map<ServiceInstance, Health> health = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(16, all.size())),
        r -> {
          Thread t = new Thread(r, "courier-list-probe");
          t.setDaemon(true);
          return t;
        });
    try {
      for (ServiceInstance i : all) {
        pool.execute(() -> health.put(i, probe(args, i)));
      }
    } finally {
      pool.shutdown();
    }
    pool.awaitTermination(1, TimeUnit.HOURS);
    return health;
  }

  private static Health probe(Arguments args, ServiceInstance instance) {
    try (CourierClient client = Target.builder("list", args).address(instance.address())
        .build()) {
      // the time includes connecting (and, for the first probes, this JVM's warm-up)
      long start = System.nanoTime();
      List<ServiceInfo> served = client.stub(ServerReflection.class).services();
      String took = BenchCommand.millis(System.nanoTime() - start);
      boolean serves = served.stream().anyMatch(s -> s.name().equals(instance.service()));
      return serves ? new Health("up", "answered in " + took)
          : new Health("wrong-service", "answered in " + took + " without serving "
              + instance.service());
    } catch (RpcException e) {
      return new Health("down", Target.describe(e));
    } catch (UsageException | RuntimeException e) {
      return new Health("down", e.getMessage());
    }
  }

  static String text(String uri, Map<String, List<ServiceInstance>> listing,
      Map<ServiceInstance, Health> health) {
    if (listing.isEmpty()) {
      return "No services registered in " + uri + "\n";
    }
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, List<ServiceInstance>> e : listing.entrySet()) {
      int n = e.getValue().size();
      b.append(e.getKey()).append("  (").append(n).append(n == 1 ? " instance)\n"
          : " instances)\n");
      for (ServiceInstance i : e.getValue()) {
        b.append("  ").append(i.address())
            .append("  ").append(i.protocol())
            .append("  serializers=").append(String.join(",", i.serializers()))
            .append("  weight=").append(i.weight());
        if (i.version() != null && !i.version().isEmpty()) {
          b.append("  version=").append(i.version());
        }
        if (!i.tags().isEmpty()) {
          b.append("  tags=").append(String.join(",", i.tags()));
        }
        for (Map.Entry<String, String> m : new TreeMap<>(i.metadata()).entrySet()) {
          b.append("  ").append(m.getKey()).append('=').append(m.getValue());
        }
        Health h = health.get(i);
        if (h != null) {
          b.append("  health=").append(h);
        }
        b.append('\n');
      }
    }
    return b.toString();
  }

  static String json(Map<String, List<ServiceInstance>> listing,
      Map<ServiceInstance, Health> health) {
    List<Map<String, Object>> services = new ArrayList<>();
    for (Map.Entry<String, List<ServiceInstance>> e : listing.entrySet()) {
      List<Map<String, Object>> instances = new ArrayList<>();
      for (ServiceInstance i : e.getValue()) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("address", i.address());
        o.put("host", i.host());
        o.put("port", i.port());
        o.put("protocol", i.protocol());
        o.put("serializers", i.serializers());
        o.put("weight", i.weight());
        o.put("version", i.version());
        o.put("tags", i.tags().stream().sorted().toList());
        o.put("metadata", new TreeMap<>(i.metadata()));
        Health h = health.get(i);
        if (h != null) {
          o.put("health", h.state());
          o.put("healthDetail", h.detail());
        }
        instances.add(o);
      }
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("service", e.getKey());
      s.put("instances", instances);
      services.add(s);
    }
    return Json.write(Map.of("services", services)) + "\n";
  }
}
