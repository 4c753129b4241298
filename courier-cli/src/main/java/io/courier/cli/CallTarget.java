package io.courier.cli;

/**
 * The {@code <service>.<method>} operand of {@code call} and {@code bench}: the method is what
 * follows the last dot, as service names have dots of their own ({@code demo.Shop.add}).
 */
record CallTarget(String service, String method) {

  static CallTarget parse(String prefix, String operand) throws UsageException {
    int dot = operand.lastIndexOf('.');
    if (dot <= 0 || dot == operand.length() - 1) {
      throw new UsageException(prefix + ": " + operand
          + " (expected: <service>.<method>, e.g. demo.Shop.add)");
    }
    return new CallTarget(operand.substring(0, dot), operand.substring(dot + 1));
  }

  @Override
  public String toString() {
    return service + "." + method;
  }
}
