package io.courier.cli;

import io.courier.client.CourierClient;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * {@code courier call <service>.<method> '<json args>'}: calls one method by name through the
 * server's reflection service and prints its JSON result.
 */
final class CallCommand implements Command {

  @Override
  public String name() {
    return "call";
  }

  @Override
  public String summary() {
    return "call a method with JSON arguments and print its JSON result";
  }

  @Override
  public String description() {
    return "Calls <service>.<method> once, with the arguments as a JSON array ('[1, 2]') or an\n"
        + "object of named arguments ('{\"a\": 1, \"b\": 2}'); no arguments for a method without\n"
        + "parameters. The server decodes them into the method's parameter types. Prints the\n"
        + "result as JSON (null for a void or one-way method).\n\n"
        + "Example: courier call demo.Shop.add '[1, 2]' --address 127.0.0.1:9000\n\n"
        + "Exit status: 0 the call succeeded; 1 it failed (the status, reason and message go to\n"
        + "standard error); 2 invalid command line or arguments that are not JSON; 3 the server\n"
        + "or registry could not be reached (" + String.join(", ", Target.unreachableReasons())
        + ").";
  }

  @Override
  public String operands() {
    return "<service>.<method> ['<json args>']";
  }

  @Override
  public List<Option> options() {
    return Target.options("5s");
  }

  @Override
  public int run(Arguments args, PrintStream out, PrintStream err) throws Exception {
    String prefix = "courier call";
    Invocation call = Invocation.of(prefix, args);
    try (CourierClient client = Target.client(name(), args)) {
      String result;
      try {
        result = client.generic(call.target().service())
            .invokeJson(call.target().method(), call.arguments()).get();
      } catch (ExecutionException e) {
        return Target.failed(prefix, call.target() + " failed", e.getCause(), args, err);
      } catch (RuntimeException e) {
        return Target.failed(prefix, call.target() + " failed", e, args, err);
      }
      out.println(result);
      return CourierCli.EXIT_OK;
    }
  }

  /** The operands of {@code call} and {@code bench}: what to call, and with which arguments. */
  record Invocation(CallTarget target, String arguments) {

    static Invocation of(String prefix, Arguments args) throws UsageException {
      List<String> operands = new ArrayList<>(args.operands());
      if (operands.isEmpty()) {
        throw new UsageException(prefix + ": which method? (expected: <service>.<method>"
            + " ['<json args>'], e.g. demo.Shop.add '[1, 2]')");
      }
      if (operands.size() > 2) {
        throw new UsageException(prefix + ": unexpected argument '" + operands.get(2)
            + "' (the arguments are one JSON text: quote it, as in '[1, 2]')");
      }
      CallTarget target = CallTarget.parse(prefix, operands.get(0));
      String json = operands.size() > 1 ? operands.get(1) : "";
      Json.checkArguments(prefix, json);
      return new Invocation(target, json);
    }
  }
}
