package io.courier.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * The {@code courier} command line: {@code courier <command> [options]}, one subcommand per
 * tool ({@code registry}, {@code chaos}).
 *
 * <pre>{@code
 * $ courier registry --port 2181
 * Courier registry at zookeeper://127.0.0.1:2181/courier (data in ...); Ctrl-C stops it
 * }</pre>
 *
 * <p>Exit status: {@link #EXIT_OK} on success, {@link #EXIT_FAILURE} when a command fails (for
 * example its port is taken, or a call fails), {@link #EXIT_USAGE} for an unknown command or
 * option or a malformed value, {@link #EXIT_UNAVAILABLE} when a server or registry cannot be
 * reached; the message goes to standard error and names what is valid.
 */
public final class CourierCli {

  /** Exit status of a command that did its work. */
  public static final int EXIT_OK = 0;

  /** Exit status of a command that could not do its work; standard error says why. */
  public static final int EXIT_FAILURE = 1;

  /** Exit status of a command line that is not valid; standard error says what is. */
  public static final int EXIT_USAGE = 2;

  /**
   * Exit status of a command that could not reach a server or registry (connection refused or
   * timed out, TLS handshake failed, no provider registered); standard error says which.
   */
  public static final int EXIT_UNAVAILABLE = 3;

  /** Every command, in the order {@code courier --help} lists them. */
  static final List<Command> COMMANDS = List.of(new RegistryCommand(), new ListCommand(),
      new DescribeCommand(), new CallCommand(), new BenchCommand(), new ChaosCommand());

  private CourierCli() {}

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs the command line without exiting the JVM. A long-running command (such as
   * {@code registry}) returns only once stopped.
   *
   * @param args the arguments after {@code courier}
   * @param out where results and help go
   * @param err where errors go
   * @return the exit status: {@link #EXIT_OK}, {@link #EXIT_FAILURE}, {@link #EXIT_USAGE} or
   *     {@link #EXIT_UNAVAILABLE}
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    List<String> list = Arrays.asList(args);
    if (list.isEmpty()) {
      err.print(help());
      return EXIT_USAGE;
    }
    String first = list.get(0);
    switch (first) {
      case "-h", "--help", "help" -> {
        if (list.size() > 1 && first.equals("help")) {
          return run(new String[] {list.get(1), "--help"}, out, err);
        }
        out.print(help());
        return EXIT_OK;
      }
      case "-V", "--version" -> {
        out.println("courier " + version());
        return EXIT_OK;
      }
      default -> {
        // a command
      }
    }
    if (first.startsWith("-")) {
      return usage(err, "courier: unknown option " + first + " (valid: --help, --version;"
          + " options of a command go after it, as in 'courier registry --port 2181')");
    }
    Command command = COMMANDS.stream().filter(c -> c.name().equals(first)).findFirst()
        .orElse(null);
    if (command == null) {
      return usage(err, "courier: unknown command '" + first + "' (commands: " + names() + ")");
    }
    try {
      Arguments parsed = Arguments.parse(command, list.subList(1, list.size()));
      if (parsed.help()) {
        out.print(help(command));
        return EXIT_OK;
      }
      return command.run(parsed, out, err);
    } catch (UsageException e) {
      err.println(e.getMessage());
      err.println("Run 'courier " + command.name() + " --help' for its options.");
      return EXIT_USAGE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("courier " + command.name() + ": interrupted");
      return EXIT_FAILURE;
    } catch (Exception e) {
      err.println("courier " + command.name() + ": " + e);
      return EXIT_FAILURE;
    }
  }

  private static int usage(PrintStream err, String message) {
    err.println(message);
    err.println("Run 'courier --help' for usage.");
    return EXIT_USAGE;
  }

  private static String names() {
    return COMMANDS.stream().map(Command::name).collect(Collectors.joining(", "));
  }

  /** The help of {@code courier} itself. */
  static String help() {
    StringBuilder b = new StringBuilder();
    b.append("Usage: courier <command> [options]\n\n");
    b.append("The Courier command line.\n\n");
    b.append("Commands:\n");
    int width = COMMANDS.stream().mapToInt(c -> c.name().length()).max().orElse(0);
    for (Command c : COMMANDS) {
      b.append("  ").append(pad(c.name(), width)).append("  ").append(c.summary()).append('\n');
    }
    b.append("\nOptions:\n");
    b.append("  -h, --help     show this help\n");
    b.append("  -V, --version  print the version\n");
    b.append("\nRun 'courier <command> --help' for a command's options.\n");
    b.append("Exit status: 0 success, 1 failure, 2 invalid command line,"
        + " 3 server or registry unreachable.\n");
    return b.toString();
  }

  /** The help of one command, from what it declares. */
  static String help(Command c) {
    StringBuilder b = new StringBuilder();
    b.append("Usage: courier ").append(c.name()).append(" [options]");
    if (!c.operands().isEmpty()) {
      b.append(' ').append(c.operands());
    }
    b.append("\n\n").append(c.description()).append("\n\nOptions:\n");
    List<Option> options = c.options();
    int width = Math.max("-h, --help".length(),
        options.stream().mapToInt(o -> o.synopsis().length()).max().orElse(0));
    for (Option o : options) {
      b.append("  ").append(pad(o.synopsis(), width)).append("  ").append(o.description());
      if (o.defaultValue() != null) {
        b.append(" (default: ").append(o.defaultValue()).append(')');
      }
      b.append('\n');
    }
    b.append("  ").append(pad("-h, --help", width)).append("  show this help\n");
    return b.toString();
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(Math.max(0, width - s.length()));
  }

  /** This build's version, for example {@code 0.1.0}. */
  static String version() {
    Properties p = new Properties();
    try (InputStream in = CourierCli.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // reported as unknown below
    }
    return p.getProperty("version", "(unknown version)");
  }
}
