package io.courier.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A command's arguments, parsed against the options it declares: {@code --name value},
 * {@code --name=value}, flags, {@code -h}/{@code --help}, and operands ({@code --} ends the
 * options). Immutable.
 */
final class Arguments {

  private final String command;
  private final Map<String, Option> declared;
  private final Map<String, String> given;
  private final List<String> operands;
  private final boolean help;

  private Arguments(String command, Map<String, Option> declared, Map<String, String> given,
      List<String> operands, boolean help) {
    this.command = command;
    this.declared = declared;
    this.given = given;
    this.operands = operands;
    this.help = help;
  }

  /**
   * Parses {@code args} for {@code command}.
   *
   * @throws UsageException for an unknown option, a missing value, a repeated option, or an
   *     operand the command does not take
   */
  static Arguments parse(Command command, List<String> args) throws UsageException {
    String prefix = "courier " + command.name();
    Map<String, Option> declared = new LinkedHashMap<>();
    for (Option o : command.options()) {
      declared.put(o.name(), o);
    }
    Map<String, String> given = new HashMap<>();
    List<String> operands = new ArrayList<>();
    boolean help = false;
    boolean optionsEnded = false;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (optionsEnded || !a.startsWith("-") || a.equals("-")) {
        operands.add(a);
        continue;
      }
      if (a.equals("--")) {
        optionsEnded = true;
        continue;
      }
      if (a.equals("-h") || a.equals("--help")) {
        help = true;
        continue;
      }
      int eq = a.indexOf('=');
      String name = a.startsWith("--") ? a.substring(2, eq < 0 ? a.length() : eq) : null;
      Option o = name == null ? null : declared.get(name);
      if (o == null) {
        throw new UsageException(prefix + ": unknown option " + (eq < 0 ? a : a.substring(0, eq))
            + " (valid: " + valid(declared) + ")");
      }
      String value;
      if (o.isFlag()) {
        if (eq >= 0) {
          throw new UsageException(prefix + ": --" + name + " takes no value");
        }
        value = "true";
      } else if (eq >= 0) {
        value = a.substring(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args.get(++i);
      } else {
        throw new UsageException(prefix + ": --" + name + " needs a value " + o.valueName());
      }
      if (given.putIfAbsent(name, value) != null) {
        throw new UsageException(prefix + ": --" + name + " is given more than once");
      }
    }
    if (!help && !operands.isEmpty() && command.operands().isEmpty()) {
      throw new UsageException(prefix + ": unexpected argument '" + operands.get(0)
          + "' (this command takes options only: " + valid(declared) + ")");
    }
    return new Arguments(command.name(), declared, given, List.copyOf(operands), help);
  }

  private static String valid(Map<String, Option> declared) {
    List<String> names = declared.keySet().stream().map(n -> "--" + n)
        .collect(Collectors.toCollection(ArrayList::new));
    names.add("--help");
    return String.join(", ", names);
  }

  /** Whether {@code --help} (or {@code -h}) was given. */
  boolean help() {
    return help;
  }

  /** The operands, in order. */
  List<String> operands() {
    return operands;
  }

  /** Whether the option was given. */
  boolean has(String name) {
    return given.containsKey(declared(name).name());
  }

  /** The option's value as given, else its default (null when it has none). */
  String value(String name) {
    Option o = declared(name);
    String v = given.get(name);
    return v != null ? v : o.defaultValue();
  }

  /**
   * The option's value as an integer in {@code [min, max]}.
   *
   * @throws UsageException when it is not one, naming the option and what is expected
   */
  int intValue(String name, int min, int max) throws UsageException {
    String v = value(name);
    try {
      int n = Integer.parseInt(v);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException("courier " + command + ": --" + name + ": " + v + " (expected: "
        + min + " to " + max + ")");
  }

  private Option declared(String name) {
    Option o = declared.get(name);
    if (o == null) {
      throw new IllegalArgumentException("option: " + name + " (expected: one of "
          + declared.keySet() + ")");
    }
    return o;
  }
}
