package io.courier.cli;

import io.courier.client.CourierClient;
import io.courier.core.CallIds;
import io.courier.core.reflect.MethodInfo;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code courier describe <service>}: the methods a server serves under a service name, as its
 * reflection service describes them.
 */
final class DescribeCommand implements Command {

  @Override
  public String name() {
    return "describe";
  }

  @Override
  public String summary() {
    return "show a service's methods: call IDs, parameter and result types, kinds";
  }

  @Override
  public String description() {
    return "Asks a server (directly, or one the registry names) for the methods of <service>:\n"
        + "for each its signature, call ID (hex and decimal), kind (unary, one-way, server or\n"
        + "bidirectional streaming), the annotations that change how it is called\n"
        + "(@Idempotent, @NonBlocking, @Timeout, @MaxConcurrentCalls) and parameter names, which\n"
        + "are the keys of named arguments in 'courier call'. An unknown service is an error that lists the services served.\n\n"
        + "Example: courier describe demo.Shop --address 127.0.0.1:9000\n\n"
        + "Exit status: 0 described; 1 the server does not serve it; 2 invalid command line;\n"
        + "3 the server or registry could not be reached.";
  }

  @Override
  public String operands() {
    return "<service>";
  }

  @Override
  public List<Option> options() {
    List<Option> options = new ArrayList<>(Target.options("5s"));
    options.add(Option.flag("json", "print the description as JSON"));
    return options;
  }

  @Override
  public int run(Arguments args, PrintStream out, PrintStream err) throws Exception {
    String prefix = "courier describe";
    if (args.operands().size() != 1) {
      throw new UsageException(prefix + ": " + (args.operands().isEmpty() ? "which service?"
          : "unexpected argument '" + args.operands().get(1) + "'")
          + " (expected: one service name, e.g. demo.Shop)");
    }
    String service = args.operands().get(0);
    try (CourierClient client = Target.client(name(), args)) {
      List<MethodInfo> methods;
      try {
        methods = client.generic(service).methods();
      } catch (RuntimeException e) {
        return Target.failed(prefix, "cannot describe " + service, e, args, err);
      }
      out.print(args.has("json") ? json(service, methods) : text(service, methods));
      return CourierCli.EXIT_OK;
    }
  }

  static String text(String service, List<MethodInfo> methods) {
    StringBuilder b = new StringBuilder();
    b.append(service).append(": ").append(methods.size())
        .append(methods.size() == 1 ? " method\n" : " methods\n");
    for (MethodInfo m : methods) {
      b.append("\n  ").append(shortType(m.resultType())).append(' ').append(m.name()).append('(');
      for (int i = 0; i < m.parameterTypes().size(); i++) {
        if (i > 0) {
          b.append(", ");
        }
        b.append(shortType(m.parameterTypes().get(i))).append(' ')
            .append(m.parameterNames().get(i));
      }
      b.append(")\n");
      b.append("    call ID    ").append(hex(m.callId())).append(" (").append(m.callId())
          .append(")\n");
      b.append("    kind       ").append(kind(m.kind())).append('\n');
      if (!m.annotations().isEmpty()) {
        b.append("    declared   ").append(String.join(" ", m.annotations())).append('\n');
      }
      b.append("    signature  ").append(m.signature()).append('\n');
    }
    return b.toString();
  }

  static String json(String service, List<MethodInfo> methods) {
    List<Map<String, Object>> list = new ArrayList<>();
    for (MethodInfo m : methods) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("name", m.name());
      o.put("callId", m.callId());
      o.put("callIdHex", hex(m.callId()));
      o.put("kind", kind(m.kind()));
      o.put("signature", m.signature());
      o.put("annotations", m.annotations());
      List<Map<String, String>> params = new ArrayList<>();
      for (int i = 0; i < m.parameterTypes().size(); i++) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("name", m.parameterNames().get(i));
        p.put("type", m.parameterTypes().get(i));
        params.add(p);
      }
      o.put("parameters", params);
      o.put("resultType", m.resultType());
      list.add(o);
    }
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("service", service);
    root.put("methods", list);
    return Json.write(root) + "\n";
  }

  /** A call ID as the demo prints it: {@code 0x} and eight hex digits. */
  static String hex(int callId) {
    return CallIds.toHex(callId);
  }

  static String kind(String kind) {
    return switch (kind) {
      case "SYNC", "ASYNC" -> "unary";
      case "ONE_WAY" -> "one-way";
      case "SERVER_STREAMING" -> "server streaming";
      case "BIDI_STREAMING" -> "bidirectional streaming";
      default -> kind.toLowerCase(Locale.ROOT);
    };
  }

  /** A type name without the packages of {@code java.lang} and {@code java.util}. */
  static String shortType(String type) {
    return type.replaceAll("\\bjava\\.(lang|util)\\.(?=[A-Z])", "");
  }
}
