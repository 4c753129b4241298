package io.courier.cli;

/**
 * One option a command accepts, as written on the command line ({@code --port 2181} or
 * {@code --port=2181}; a flag has no value).
 *
 * @param name the long name without dashes, for example {@code port}
 * @param valueName how the value is shown in help, for example {@code <port>}; null for a flag
 * @param defaultValue the value when the option is absent, shown in help; null for none
 * @param description one line for the help
 */
record Option(String name, String valueName, String defaultValue, String description) {

  /** An option that takes a value. */
  static Option value(String name, String valueName, String defaultValue, String description) {
    return new Option(name, valueName, defaultValue, description);
  }

  /** An option without a value, off unless given. */
  static Option flag(String name, String description) {
    return new Option(name, null, null, description);
  }

  boolean isFlag() {
    return valueName == null;
  }

  /** {@code --name <value>} or {@code --name}, as in the help. */
  String synopsis() {
    return "--" + name + (isFlag() ? "" : " " + valueName);
  }
}
