package io.courier.cli;

import java.io.PrintStream;
import java.util.List;

/**
 * One subcommand of {@code courier}: its name, what it does, the options it accepts and how it
 * runs. The dispatcher ({@link CourierCli}) parses the options a command declares, answers
 * {@code --help} for it, and reports usage errors, so a command only reads its
 * {@link Arguments}.
 *
 * <p>To add a command, implement this and list it in {@link CourierCli#COMMANDS}.
 */
interface Command {

  /** The word that selects the command, for example {@code registry}. */
  String name();

  /** One line for the list of commands in {@code courier --help}. */
  String summary();

  /** A paragraph shown under the usage line in {@code courier <name> --help}. */
  String description();

  /** The options the command accepts ({@code --help} is always accepted as well). */
  List<Option> options();

  /**
   * How operands (arguments that are not options) appear in the usage line, for example
   * {@code <service> <method> [args...]}; empty when the command takes none, and then any operand
   * is a usage error.
   */
  default String operands() {
    return "";
  }

  /**
   * Runs the command.
   *
   * @return the exit status: {@link CourierCli#EXIT_OK} or {@link CourierCli#EXIT_FAILURE}
   * @throws UsageException when an option's value is malformed (exit status 2)
   */
  int run(Arguments args, PrintStream out, PrintStream err) throws Exception;
}
