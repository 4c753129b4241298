package io.courier.cli;

import io.courier.core.Registries;
import io.courier.registry.Registry;
import io.courier.registry.ServiceInstance;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
        + "A service named but not registered is shown with no instances.\n\n"
        + "Example: courier list --registry zookeeper://127.0.0.1:2181/courier\n\n"
        + "Exit status: 0 listed; 2 invalid command line; 3 the registry could not be read.";
  }

  @Override
  public String operands() {
    return "[<service>...]";
  }

  @Override
  public List<Option> options() {
    return List.of(
        Option.value("registry", "<uri>", null,
            "the registry, e.g. zookeeper://127.0.0.1:2181/courier (required)"),
        Option.flag("json", "print the listing as JSON"));
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
    out.print(args.has("json") ? json(listing) : text(uri, listing));
    return CourierCli.EXIT_OK;
  }

  static String text(String uri, Map<String, List<ServiceInstance>> listing) {
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
        b.append('\n');
      }
    }
    return b.toString();
  }

  static String json(Map<String, List<ServiceInstance>> listing) {
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
